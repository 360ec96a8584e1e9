package sweep

import (
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteStatus lists every job with its state, attempts, run time and log
// (and its Slurm output when a submission of the sweep ran it), failed
// jobs with their error (a job whose job.json cannot be read, in
// Sweep.Unreadable, among them), then the counts; failedOnly keeps the
// failed and interrupted jobs.
func WriteStatus(w io.Writer, s *Sweep, failedOnly bool) error {
	subs, notes, err := s.submissions()
	if err != nil {
		return err
	}
	sts := s.allStatuses()
	inQueue := queued(subs)
	for i, st := range sts {
		if q, ok := inQueue[st.Job.ID]; ok && st.State != StateDone && st.State != StateRunning {
			sts[i].State, sts[i].Detail = StateQueued, "Slurm "+q
			// A task that runs a step that records no state (a shard
			// of a trained job) runs: it is not waiting in the queue.
			if strings.HasSuffix(q, " "+slurmRunning) {
				sts[i].State = StateRunning
			}
		}
	}
	// The job rows are aligned alone: a detail line in the tabwriter
	// would end its columns' block, and the rows after it would align
	// apart. The details are put under their rows afterwards.
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tJOB\tATTEMPTS\tSECONDS\tLOG")
	var details []string // per row
	for _, st := range sts {
		if failedOnly && st.State != StateFailed && st.State != StateInterrupted {
			continue
		}
		att, sec := "-", "-"
		log := st.Log
		if r := st.Record; r != nil {
			att = fmt.Sprint(r.Attempt)
			if r.Seconds > 0 {
				sec = fmt.Sprintf("%.0f", r.Seconds)
			}
			if sl := SlurmLog(subs, r.Slurm); sl != "" {
				log += " (Slurm: " + sl + ")"
			}
		}
		if st.State == StatePending || st.State == StateQueued {
			log = ""
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st.State, st.Job.ID, att, sec, log)
		detail := ""
		if st.Detail != "" && st.State != StateDone {
			detail = firstLine(st.Detail)
		}
		details = append(details, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	lines := strings.SplitAfter(table.String(), "\n")
	indent := strings.Repeat(" ", strings.Index(lines[0], "JOB")+2) // under the JOB column
	if _, err := io.WriteString(w, lines[0]); err != nil {
		return err
	}
	for i, d := range details {
		fmt.Fprint(w, lines[i+1])
		if d != "" {
			fmt.Fprintf(w, "%s%s\n", indent, d)
		}
	}
	c := Count(sts)
	var parts []string
	states := slices.Clone(orderedStates)
	for _, k := range states {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[k], k))
		}
	}
	fmt.Fprintf(w, "\n%s: %d jobs: %s\n", s.Manifest.Name, len(sts), strings.Join(parts, ", "))
	if c[StateFailed]+c[StateInterrupted] > 0 {
		fmt.Fprintf(w, "run `awd sweep %s` again (or with --slurm) to retry the failed and interrupted jobs\n", ShellWord(s.Manifest.Config))
	}
	if len(subs) > 0 {
		last := subs[len(subs)-1]
		var ids []string
		submitted := last.CollectID != ""
		for _, a := range last.Arrays {
			ids = append(ids, cmpOr(a.ID, "not submitted"))
			submitted = submitted || a.ID != ""
		}
		if !submitted {
			fmt.Fprintf(w, "last Slurm submission: %s (written, not submitted: --dry-run, or sbatch failed)\n", last.Dir)
		} else {
			fmt.Fprintf(w, "last Slurm submission: %s (arrays %s, collect %s)\n", last.Dir, strings.Join(ids, ", "), cmpOr(last.CollectID, "not submitted"))
		}
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// allStatuses is Statuses with the jobs whose job.json cannot be read
// (withUnreadable): every job of the manifest, in its order.
func (s *Sweep) allStatuses() []Status { return withUnreadable(s, s.Statuses()) }

// withUnreadable adds to sts, in the manifest's order, a failed status for
// every job whose job.json cannot be read (Sweep.Unreadable), as a job whose
// state.json cannot be read is failed: its detail says what is wrong and
// what writes it anew.
func withUnreadable(s *Sweep, sts []Status) []Status {
	if len(s.Unreadable) == 0 {
		return sts
	}
	byID := map[string]Status{}
	for _, st := range sts {
		byID[st.Job.ID] = st
	}
	for _, u := range s.Unreadable {
		byID[u.ID] = Status{Job: &Job{ID: u.ID}, State: StateFailed, Detail: u.Err.Error(), Log: filepath.Join(s.JobDir(u.ID), logFile)}
	}
	out := make([]Status, 0, len(byID))
	for _, id := range s.Manifest.Jobs {
		if st, ok := byID[id]; ok {
			out = append(out, st)
			delete(byID, id)
		}
	}
	return out
}

// Queued asks Slurm which jobs of the sweep it still holds (a task of one
// of the sweep's submissions, queued or running) and returns, per job id,
// "task A_a PENDING" (or RUNNING, ...); empty when squeue cannot tell.
// notes name the submissions it skipped because their submission.json
// cannot be read: Slurm may still hold their tasks.
func (s *Sweep) Queued() (jobs map[string]string, notes []string) {
	subs, notes, err := s.submissions()
	if err != nil {
		return map[string]string{}, []string{err.Error()}
	}
	return queued(subs), notes
}

// StateQueued is shown for a job that is not done and that Slurm holds in
// its queue (a task of one of the sweep's submissions).
const StateQueued = "queued"

// squeue is the command queued asks.
var squeue = "squeue"

// queued asks Slurm which tasks of the sweep's submissions it still holds
// and returns, per job id, "task A_a PENDING" (or RUNNING, ...). It is
// empty when squeue is missing or fails (the jobs left Slurm's memory).
func queued(subs []*Submission) map[string]string {
	arrays := map[string]*Array{}
	var ids []string
	for _, sub := range subs {
		for i := range sub.Arrays {
			if a := &sub.Arrays[i]; a.ID != "" {
				arrays[a.ID] = a
				ids = append(ids, a.ID)
			}
		}
	}
	out := map[string]string{}
	if len(ids) == 0 {
		return out
	}
	lines, _ := runSqueue(ids)
	for _, f := range lines {
		a, ok := arrays[f[0]]
		k, err := strconv.Atoi(f[1])
		if !ok || err != nil || k < 0 || k >= len(a.Jobs) {
			continue
		}
		id, _, _ := strings.Cut(a.Jobs[k], " ")
		// A job with several tasks held (its shards) is shown by one
		// that runs, if any.
		if prev, ok := out[id]; !ok || !strings.HasSuffix(prev, " "+slurmRunning) {
			out[id] = fmt.Sprintf("task %s_%d %s", f[0], k, f[2])
		}
	}
	return out
}

// slurmRunning is the state squeue gives a task that runs.
const slurmRunning = "RUNNING"

// heldArrays returns the array jobs of the submissions of which Slurm
// still holds a task (squeue), in submission order; none when squeue
// cannot tell.
func heldArrays(subs []*Submission) []string {
	var ids []string
	for _, sub := range subs {
		for _, a := range sub.Arrays {
			if a.ID != "" {
				ids = append(ids, a.ID)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	lines, _ := runSqueue(ids)
	held := map[string]bool{}
	for _, f := range lines {
		held[f[0]] = true
	}
	var out []string
	for _, id := range ids {
		if held[id] && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// runSqueue asks squeue about the Slurm jobs ids (array jobs: every task)
// and returns a line per job or task it holds: the (array) job id, the
// array task id ("N/A" for a job that is no array) and the state. ok is
// false when squeue is missing or fails for another reason than not
// knowing the jobs (Slurm forgets a job some minutes after it ended).
func runSqueue(ids []string) (lines [][3]string, ok bool) {
	var stderr strings.Builder
	cmd := exec.Command(squeue, "-h", "-r", "-j", strings.Join(ids, ","), "-o", "%F %K %T")
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, strings.Contains(stderr.String(), "Invalid job id")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			lines = append(lines, [3]string{f[0], f[1], f[2]})
		}
	}
	return lines, true
}

// slurmHolds asks squeue which of the Slurm tasks ("A_a": task a of array
// job A; or a job id) it still holds, queued or running, and returns their
// states. ok is false when squeue cannot tell.
func slurmHolds(tasks []string) (held map[string]string, ok bool) {
	var ids []string
	for _, t := range tasks {
		if id, _, _ := strings.Cut(t, "_"); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	lines, ok := runSqueue(ids)
	if !ok {
		return nil, false
	}
	held = map[string]string{}
	for _, f := range lines {
		if f[1] == "N/A" {
			held[f[0]] = f[2]
		} else {
			held[f[0]+"_"+f[1]] = f[2]
		}
	}
	return held, true
}
