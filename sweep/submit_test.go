package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/awd"
)

// fakeSbatch writes a stand-in for sbatch that logs its arguments, one
// call per line, to the returned file and prints the job ids 101, 102, ...
func fakeSbatch(t *testing.T) (cmd, calls string) {
	t.Helper()
	dir := t.TempDir()
	cmd, calls = filepath.Join(dir, "sbatch"), filepath.Join(dir, "calls")
	script := fmt.Sprintf("#!/bin/sh\nn=$(cat %[1]s/n 2>/dev/null || echo 100)\nn=$((n+1))\necho $n > %[1]s/n\necho \"$*\" >> %[2]s\necho $n\n", dir, calls)
	if err := os.WriteFile(cmd, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return cmd, calls
}

// submitFake submits sub to a stand-in sbatch (fakeSbatch) and returns its
// calls, as written and one per line.
func submitFake(t *testing.T, sub *Submission) ([]byte, []string) {
	t.Helper()
	sbatch, calls := fakeSbatch(t)
	if err := Submit(context.Background(), sub, sbatch); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(calls)
	return b, strings.Split(strings.TrimSpace(string(b)), "\n")
}

// fakeSqueue puts a stand-in squeue that runs script (sh) in place of
// squeue until the test ends, and returns its path.
func fakeSqueue(t *testing.T, script string) string {
	t.Helper()
	fake := filepath.Join(t.TempDir(), "squeue")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := squeue
	t.Cleanup(func() { squeue = old })
	squeue = fake
	return fake
}

// statusSubmitted records sub as submitted and returns the sweep's status
// as WriteStatus writes it while a stand-in squeue runs queue (sh).
func statusSubmitted(t *testing.T, s *Sweep, sub *Submission, queue string) string {
	t.Helper()
	if err := writeJSON(filepath.Join(sub.Dir, "submission.json"), sub); err != nil {
		t.Fatal(err)
	}
	fakeSqueue(t, queue)
	var b strings.Builder
	if err := WriteStatus(&b, s, false); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSlurmArraysSplit: a resource shape with more tasks than one array
// may hold (Slurm's default MaxArraySize 1001: indices 0..1000) is written
// as several arrays of at most 1000 tasks, each with its own task list
// naming its own jobs, and the collect job depends on all of them.
func TestSlurmArraysSplit(t *testing.T) {
	seeds := make([]string, 251)
	for i := range seeds {
		seeds[i] = fmt.Sprint(i + 1)
	}
	s := prepare(t, strings.Replace(minimal, "seeds: [1, 2]", "seeds: ["+strings.Join(seeds, ", ")+"]", 1))
	if len(s.Jobs) != 1004 {
		t.Fatalf("%d jobs, want 1004", len(s.Jobs))
	}
	sub, err := WriteSlurm(s, s.Jobs, SlurmOptions{Awd: "/usr/bin/awd", MaxParallel: 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Arrays) != 2 || len(sub.Arrays[0].Jobs) != 1000 || len(sub.Arrays[1].Jobs) != 4 {
		t.Fatalf("arrays: %d, want 2 of 1000 and 4 tasks", len(sub.Arrays))
	}
	seen := map[string]bool{}
	for i, a := range sub.Arrays {
		script, _ := os.ReadFile(a.Script)
		// One after the other, each with max_parallel (8), or fewer when
		// it has fewer tasks.
		if want := fmt.Sprintf("#SBATCH --array=0-%d%%%d\n", len(a.Jobs)-1, min(8, len(a.Jobs))); !strings.Contains(string(script), want) {
			t.Errorf("array %d lacks %q:\n%s", i+1, want, script)
		}
		if !strings.Contains(string(script), "--tasks '"+a.Tasks+"'") {
			t.Errorf("array %d does not read its own task list %s:\n%s", i+1, a.Tasks, script)
		}
		for k := range a.Jobs {
			id, err := TaskJob(a.Tasks, k)
			if err != nil || id != a.Jobs[k] {
				t.Fatalf("array %d task %d: %q %v, want %q", i+1, k, id, err, a.Jobs[k])
			}
			seen[id] = true
		}
	}
	if len(seen) != len(s.Jobs) {
		t.Errorf("the arrays run %d distinct jobs, want %d", len(seen), len(s.Jobs))
	}

	// A smaller limit; the collect job waits for every array.
	sub, err = WriteSlurm(s, s.Jobs[:8], SlurmOptions{Awd: "/usr/bin/awd", MaxArrayTasks: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Arrays) != 3 || len(sub.Arrays[2].Jobs) != 2 {
		t.Fatalf("8 tasks at most 3 per array: %d arrays", len(sub.Arrays))
	}
	b, lines := submitFake(t, sub)
	if len(lines) != 4 || !strings.HasPrefix(lines[3], "--parsable --dependency=afterok:101:102:103 ") || sub.CollectID != "104" {
		t.Errorf("sbatch calls (collect %s):\n%s", sub.CollectID, b)
	}
}

// TestSlurmTimeWritten: the time of a job is written as sbatch reads it:
// a value with blanks around (time: " 1:00:00") without them (the blank
// after --time= ended the #SBATCH line's argument there), and every form
// of no limit (unlimited, INFINITE, 0) as UNLIMITED, one array for all.
func TestSlurmTimeWritten(t *testing.T) {
	src := strings.Replace(minimal, "  - loss: [ce, mse]\n    classes: [2, 3]\n",
		"  - {loss: ce, classes: 2, time: \" 1:00:00\"}\n  - {loss: ce, classes: 3, time: unlimited}\n"+
			"  - {loss: mse, classes: 2, time: INFINITE}\n  - {loss: mse, classes: 3, time: \"0\"}\n", 1)
	s := prepare(t, src)
	sub, err := WriteSlurm(s, s.Jobs, SlurmOptions{Awd: "/usr/bin/awd"})
	if err != nil {
		t.Fatal(err)
	}
	var times []string
	for _, a := range sub.Arrays {
		script, err := os.ReadFile(a.Script)
		if err != nil {
			t.Fatal(err)
		}
		want := "#SBATCH --time=" + a.Time + "\n"
		if !strings.Contains(string(script), want) {
			t.Errorf("%s lacks %q:\n%s", a.Script, want, script)
		}
		times = append(times, fmt.Sprintf("%s x%d", a.Time, len(a.Jobs)))
	}
	if got, want := strings.Join(times, ", "), "1:00:00 x2, UNLIMITED x6"; got != want {
		t.Errorf("arrays' times %s, want %s", got, want)
	}
}

// TestSlurmMemoryWritten: a memory given with blanks around it (taken by
// the check) is written without them; sbatch would cut "--mem= 4G" short.
func TestSlurmMemoryWritten(t *testing.T) {
	src := strings.Replace(minimal, "  - loss: [ce, mse]\n    classes: [2, 3]\n",
		"  - {loss: ce, classes: 2, memory: \" 4G \"}\n  - {loss: mse, classes: 3, memory: 3000M}\n", 1)
	s := prepare(t, src)
	sub, err := WriteSlurm(s, s.Jobs, SlurmOptions{Awd: "/usr/bin/awd"})
	if err != nil {
		t.Fatal(err)
	}
	var mems []string
	for _, a := range sub.Arrays {
		script, err := os.ReadFile(a.Script)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(script), "#SBATCH --mem="+a.Memory+"\n") || strings.Contains(string(script), "--mem= ") {
			t.Errorf("%s: memory %q written as:\n%s", a.Script, a.Memory, script)
		}
		mems = append(mems, a.Memory)
	}
	if got, want := strings.Join(mems, ", "), "4G, 3000M"; got != want {
		t.Errorf("arrays' memory %s, want %s", got, want)
	}
}

// TestRunTaskDuplicate: a Slurm task whose job another process runs, or
// whose job is done, exits without error (its dependents still run) and
// says so in its output and the job's log; a task whose job fails still
// fails.
func TestRunTaskDuplicate(t *testing.T) {
	s := prepare(t, minimal)
	j := s.Jobs[0]
	log := filepath.Join(s.JobDir(j.ID), logFile)
	lk, err := lock(filepath.Join(s.JobDir(j.ID), lockFile))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := RunTask(context.Background(), s, j.ID, fakeExec, &out); err != nil {
		t.Errorf("task of a job running elsewhere: %v", err)
	}
	b, _ := os.ReadFile(log)
	if !strings.Contains(out.String(), "job is running in another process; left to that process") || !strings.Contains(string(b), "left to that process") {
		t.Errorf("output %q, log:\n%s", out.String(), b)
	}
	lk.Close()
	if n := starts(t, s)[j.ID]; n != 0 {
		t.Errorf("the duplicate task ran the job %d times", n)
	}
	if err := RunTask(context.Background(), s, j.ID, fakeExec, io.Discard); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := RunTask(context.Background(), s, j.ID, fakeExec, &out); err != nil || !strings.Contains(out.String(), "done already") {
		t.Errorf("task of a done job: %v, %q", err, out.String())
	}
	if n := starts(t, s)[j.ID]; n != 1 {
		t.Errorf("job started %d times, want 1", n)
	}
	t.Setenv("SWEEP_TEST_FAIL", s.Jobs[1].ID)
	if err := RunTask(context.Background(), s, s.Jobs[1].ID, fakeExec, io.Discard); err == nil || !strings.Contains(err.Error(), "loss is NaN") {
		t.Errorf("task of a failing job: %v", err)
	}
}

// TestStatusListing: a failed job's long error does not widen the JOB
// column, a submission written but never submitted (--dry-run) says so,
// and a damaged submission.json is skipped with a note instead of failing
// the status.
func TestStatusListing(t *testing.T) {
	s := prepare(t, minimal)
	rec := &JobState{State: StateFailed, Host: "h", Attempt: 1, Error: strings.Repeat("very long error ", 10)}
	if err := s.writeState(s.Jobs[0].ID, rec); err != nil {
		t.Fatal(err)
	}
	bad, err := WriteSlurm(s, s.Jobs[:2], SlurmOptions{Awd: "/usr/bin/awd"})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(bad.Dir, "submission.json"), []byte(`{"schema_version": 1, "arr`), 0o644)
	dry, err := WriteSlurm(s, s.Jobs[:2], SlurmOptions{Awd: "/usr/bin/awd"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteStatus(&b, s, false); err != nil {
		t.Fatalf("status with a damaged submission: %v", err)
	}
	out := b.String()
	width := 0
	for _, j := range s.Jobs {
		width = max(width, len(j.ID))
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "pending  ") && strings.Index(line, " -")+1 != len("pending  ")+width+2 {
			t.Errorf("JOB column not %d wide:\n%s", width, out)
			break
		}
	}
	// Every job row, before and after the failed job's detail line, has
	// the header's columns.
	lines := strings.Split(out, "\n")
	header := lines[0]
	rows := 0
	for _, line := range lines[1:] {
		state, _, _ := strings.Cut(line, " ")
		if !slices.Contains(orderedStates, state) || strings.HasPrefix(line, " ") {
			continue
		}
		rows++
		for _, col := range []string{"JOB", "ATTEMPTS", "SECONDS"} {
			if i := strings.Index(header, col); i >= len(line) || line[i-1] != ' ' || line[i] == ' ' {
				t.Errorf("row %q: no cell under %s:\n%s", line, col, out)
			}
		}
	}
	if rows != len(s.Jobs) {
		t.Errorf("%d job rows, want %d:\n%s", rows, len(s.Jobs), out)
	}
	if !strings.Contains(out, "\n"+strings.Repeat(" ", strings.Index(header, "JOB")+2)+"very long error") {
		t.Errorf("the detail is not under the JOB column:\n%s", out)
	}
	for _, want := range []string{"very long error", "last Slurm submission: " + dry.Dir + " (written, not submitted", "note: submission " + bad.Dir + " skipped: "} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

// TestReset: a job whose folder cannot be resumed fails with an error that
// names `awd sweep reset` (not awd run's --fresh); Reset refuses a job
// that runs, and makes the next start of a failed or done job run it from
// scratch, once.
func TestReset(t *testing.T) {
	s := prepare(t, minimal)
	j := s.Jobs[0]
	damaged := func(ctx context.Context, j *Job, dir string, fresh bool, log io.Writer) error {
		if fresh {
			return fakeExec(ctx, j, dir, fresh, log)
		}
		return &awd.FolderError{Err: errors.New("resume: checkpoints/last.npz: damaged"), Remedy: awd.StartOver}
	}
	err := RunJob(context.Background(), s, j.ID, damaged)
	want := "run `awd sweep reset " + s.Dir + " " + j.ID + "` to start the job over"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "Fresh") || !errors.As(err, new(*awd.FolderError)) {
		t.Fatalf("error of an unresumable job: %v", err)
	}
	if st := s.Status(j); st.State != StateFailed || !strings.Contains(st.Detail, want) {
		t.Errorf("status: %s %q", st.State, st.Detail)
	}
	if err := RunJob(context.Background(), s, j.ID, damaged); err == nil {
		t.Fatal("the retry resumed the damaged folder")
	}

	lk, err := lock(filepath.Join(s.JobDir(j.ID), lockFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(j.ID); !errors.Is(err, ErrJobRunning) {
		t.Errorf("reset of a running job: %v", err)
	}
	lk.Close()
	if err := s.Reset(j.ID); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(j); st.State != StateInterrupted || !strings.Contains(st.Detail, "the next start runs it from scratch") {
		t.Errorf("after reset: %s %q", st.State, st.Detail)
	}
	if err := RunJob(context.Background(), s, j.ID, damaged); err != nil {
		t.Fatalf("the start after the reset: %v", err)
	}
	if st := s.Status(j); st.State != StateDone {
		t.Fatalf("after the fresh start: %s %q", st.State, st.Detail)
	}
	// A done job reset runs again, from scratch; afterwards it resumes.
	if err := s.Reset(j.ID); err != nil {
		t.Fatal(err)
	}
	var freshes []bool
	record := func(ctx context.Context, j *Job, dir string, fresh bool, log io.Writer) error {
		freshes = append(freshes, fresh)
		return fakeExec(ctx, j, dir, fresh, log)
	}
	if err := RunJob(context.Background(), s, j.ID, record); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset("nope"); err == nil || !strings.Contains(err.Error(), `no job "nope"`) {
		t.Errorf("reset of an unknown job: %v", err)
	}
	// A job another host runs (per its record: its lock is not visible
	// here, and there is no squeue to contradict it) is not reset.
	t.Setenv("PATH", t.TempDir())
	elsewhere := &JobState{State: StateRunning, Host: "node-7", PID: 4242, Attempt: 1}
	if err := s.writeState(s.Jobs[1].ID, elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(s.Jobs[1].ID); !errors.Is(err, ErrJobRunning) || !strings.Contains(err.Error(), "process 4242 on node-7") {
		t.Errorf("reset of a job another host runs: %v", err)
	}
	if rec, _ := s.readState(s.Jobs[1].ID); rec.State != StateRunning || rec.Restart {
		t.Errorf("the refused reset changed the record: %+v", rec)
	}
	// ...unless the host is known to be gone: ResetStale clears the record
	// (nothing else could), but not a lock held here.
	lk, err = lock(filepath.Join(s.JobDir(s.Jobs[1].ID), lockFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ResetStale(s.Jobs[1].ID); !errors.Is(err, ErrJobRunning) {
		t.Errorf("stale reset of a job whose lock is held here: %v", err)
	}
	lk.Close()
	if err := s.ResetStale(s.Jobs[1].ID); err != nil {
		t.Errorf("stale reset of a job of a gone host: %v", err)
	}
	if rec, _ := s.readState(s.Jobs[1].ID); rec.State != StateInterrupted || !rec.Restart {
		t.Errorf("after the stale reset: %+v", rec)
	}
	// A job that never started has nothing to reset.
	if err := s.Reset(s.Jobs[2].ID); !errors.Is(err, ErrNeverStarted) || !strings.Contains(err.Error(), "nothing to reset") {
		t.Errorf("reset of a job that never started: %v", err)
	}
	if st := s.Status(s.Jobs[2]); st.State != StatePending {
		t.Errorf("a job that never started after its reset: %s %q", st.State, st.Detail)
	}
	if len(freshes) != 1 || !freshes[0] || starts(t, s)[j.ID] != 2 {
		t.Errorf("done job reset: fresh starts %v, %d starts", freshes, starts(t, s)[j.ID])
	}
	if b, _ := os.ReadFile(filepath.Join(s.JobDir(j.ID), logFile)); !strings.Contains(string(b), "reset: the next start runs the job from scratch") {
		t.Errorf("log:\n%s", b)
	}
}

// TestShardArraysWaitForTheirOwnTraining: the analysis shards of a sharded
// job run in an array of their own that waits (afterok) for that job's
// training task alone, not for whole arrays that also hold other jobs: a
// failure elsewhere in the grid would otherwise keep every sharded job's
// analysis from ever running. The dry run's commands, run by bash, make
// the same sbatch calls as Submit.
func TestShardArraysWaitForTheirOwnTraining(t *testing.T) {
	src := strings.Replace(minimal, "  - loss: [ce, mse]\n    classes: [2, 3]\n",
		"  - {loss: ce, classes: 2}\n  - {loss: mse, classes: 2, shards: 2}\n", 1)
	s := prepare(t, src)
	sub, err := WriteSlurm(s, s.Jobs, SlurmOptions{Awd: "/usr/bin/awd", MaxParallel: 3})
	if err != nil {
		t.Fatal(err)
	}
	b, call := submitFake(t, sub)
	if len(call) != len(sub.Arrays)+1 {
		t.Fatalf("%d sbatch calls for %d arrays and the collect job:\n%s", len(call), len(sub.Arrays), b)
	}
	shardArrays := 0
	for i, a := range sub.Arrays {
		if a.Phase == 0 {
			if strings.Contains(call[i], "--dependency") {
				t.Errorf("array %d (%v) waits: %s", i+1, a.Jobs, call[i])
			}
			continue
		}
		shardArrays++
		id, _, _ := strings.Cut(a.Jobs[0], " ")
		for _, line := range a.Jobs {
			if !strings.HasPrefix(line, id+" "+StepShard+" ") {
				t.Errorf("array %d runs %q beside the shards of %s", i+1, line, id)
			}
		}
		if a.After == nil || sub.Arrays[a.After.Array].Jobs[a.After.Task] != id+" "+StepTrain {
			t.Fatalf("array %d (shards of %s) waits for %+v, not its training", i+1, id, a.After)
		}
		// max_parallel also has it wait for the training arrays to end
		// (TestMaxParallelHoldsForTheSubmission).
		want := fmt.Sprintf("--parsable --dependency=afterok:%s_%d,afterany:", sub.Arrays[a.After.Array].ID, a.After.Task)
		if !strings.HasPrefix(call[i], want) {
			t.Errorf("array %d (shards of %s): sbatch %s, want %s...", i+1, id, call[i], want)
		}
	}
	if shardArrays != 2 {
		t.Errorf("%d arrays of shards, want one per sharded job (2)", shardArrays)
	}

	// The dry run's commands, as printed, make the same calls.
	sbatch2, calls2 := fakeSbatch(t)
	script := "set -e\nPATH=" + filepath.Dir(sbatch2) + ":$PATH\n" + strings.Join(sub.SbatchCommands(), "\n") + "\n"
	if out, err := exec.Command("bash", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("the dry run's commands: %v\n%s\n%s", err, script, out)
	}
	b2, _ := os.ReadFile(calls2)
	if string(b2) != string(b) {
		t.Errorf("the dry run's commands call\n%s\nSubmit calls\n%s", b2, b)
	}
}

// TestMaxParallelHoldsForTheSubmission: slurm.max_parallel bounds the
// tasks of a whole submission that run at a time, not those of each
// array. A sweep of several resource shapes and sharded jobs submits
// several arrays; each had --array=...%max_parallel, so several times
// max_parallel tasks ran at once. Read back from the stand-in sbatch's
// calls and the scripts: the throttles (%N) of every set of arrays that
// may run at once (none waits, afterany, for another) add up to at most
// max_parallel, and to max_parallel where the tasks allow it.
func TestMaxParallelHoldsForTheSubmission(t *testing.T) {
	src := strings.Replace(minimal, "  - loss: [ce, mse]\n    classes: [2, 3]\n",
		"  - {loss: ce, classes: 2}\n  - {loss: ce, classes: 3, memory: 8G}\n"+
			"  - {loss: mse, classes: 2, shards: 2}\n  - {loss: mse, classes: 3, shards: 3, time: \"2:00:00\"}\n", 1)
	s := prepare(t, src)
	for _, p := range []int{1, 2, 3, 5, 8, 100} {
		t.Run(fmt.Sprintf("max_parallel=%d", p), func(t *testing.T) {
			sub, err := WriteSlurm(s, s.Jobs, SlurmOptions{Awd: "/usr/bin/awd", MaxParallel: p})
			if err != nil {
				t.Fatal(err)
			}
			n := len(sub.Arrays)
			if n != 7 {
				t.Fatalf("%d arrays, want 3 resource shapes and the shards of 4 jobs", n)
			}
			b, calls := submitFake(t, sub)
			// after[i][k]: array i starts after array k ended.
			after := make([][]bool, n)
			throttle := make([]int, n)
			phaseTasks := map[int]int{}
			for i, a := range sub.Arrays {
				after[i] = make([]bool, n)
				script, err := os.ReadFile(a.Script)
				if err != nil {
					t.Fatal(err)
				}
				m := regexp.MustCompile(`#SBATCH --array=0-(\d+)%(\d+)\n`).FindStringSubmatch(string(script))
				if m == nil {
					t.Fatalf("array %d is not throttled:\n%s", i+1, script)
				}
				throttle[i], _ = strconv.Atoi(m[2])
				if throttle[i] < 1 {
					t.Errorf("array %d: %%%d", i+1, throttle[i])
				}
				phaseTasks[a.Phase] += len(a.Jobs)
				fields := strings.Fields(calls[i])
				for _, f := range fields {
					dep, ok := strings.CutPrefix(f, "--dependency=")
					if !ok {
						continue
					}
					for _, d := range strings.Split(dep, ",") {
						ids, ok := strings.CutPrefix(d, "afterany:")
						if !ok {
							continue
						}
						for _, id := range strings.Split(ids, ":") {
							k, _ := strconv.Atoi(id)
							k -= 101 // the stand-in's ids: 101, 102, ...
							if k < 0 || k >= i {
								t.Fatalf("array %d waits for %s, not an array before it:\n%s", i+1, id, b)
							}
							after[i][k] = true
						}
					}
				}
				// A shard array that waits for other arrays and whose
				// training failed is cancelled, not left pending for
				// ever: the arrays after it in its lane would never run.
				if a.After != nil && !strings.Contains(string(script), "#SBATCH --kill-on-invalid-dep=yes\n") {
					t.Errorf("array %d waits for its training but is not cancelled when that fails:\n%s", i+1, script)
				}
			}
			for k := range n { // transitive: after array j, which is after k
				for i := range n {
					for j := range n {
						after[i][j] = after[i][j] || after[i][k] && after[k][j]
					}
				}
			}
			// The largest sum of throttles over a set of arrays that may
			// run at once: none of them after another.
			most, which := 0, ""
			for set := 1; set < 1<<n; set++ {
				sum, names := 0, ""
				for i := range n {
					if set&(1<<i) == 0 {
						continue
					}
					for k := range i {
						if set&(1<<k) != 0 && after[i][k] {
							sum = -1 << 30
						}
					}
					sum += throttle[i]
					names += fmt.Sprintf(" array%d%%%d", i+1, throttle[i])
				}
				if sum > most {
					most, which = sum, names
				}
			}
			if want := min(p, max(phaseTasks[0], phaseTasks[1])); most != want {
				t.Errorf("up to %d tasks at a time (%s), want %d:\n%s", most, which, want, b)
			}
			// The dry run's commands, as printed, make the same calls.
			sbatch2, calls2 := fakeSbatch(t)
			script := "set -e\nPATH=" + filepath.Dir(sbatch2) + ":$PATH\n" + strings.Join(sub.SbatchCommands(), "\n") + "\n"
			if out, err := exec.Command("bash", "-c", script).CombinedOutput(); err != nil {
				t.Fatalf("the dry run's commands: %v\n%s\n%s", err, script, out)
			}
			if b2, _ := os.ReadFile(calls2); string(b2) != string(b) {
				t.Errorf("the dry run's commands call\n%s\nSubmit calls\n%s", b2, b)
			}
		})
	}
}

// TestCollectWaitsForEarlierTasks: a submission leaves out the jobs whose
// tasks Slurm still holds from an earlier one (squeue, a stand-in here);
// its collect job waits for those arrays to end too (afterany), as well as
// for its own (afterok), so that it does not write the tables without
// their jobs (the earlier collect job may never run: a failed task of its
// arrays holds it back). Arrays Slurm no longer holds are not waited for.
func TestCollectWaitsForEarlierTasks(t *testing.T) {
	s := prepare(t, minimal)
	for i, id := range []string{"77", "78"} {
		first, err := WriteSlurm(s, s.Jobs[2*i:2*i+2], SlurmOptions{Awd: "/usr/bin/awd"})
		if err != nil {
			t.Fatal(err)
		}
		first.Arrays[0].ID = id
		if err := writeJSON(filepath.Join(first.Dir, "submission.json"), first); err != nil {
			t.Fatal(err)
		}
	}
	fakeSqueue(t, "echo '77 1 RUNNING'")

	sub, err := WriteSlurm(s, s.Jobs[4:], SlurmOptions{Awd: "/usr/bin/awd"})
	if err != nil {
		t.Fatal(err)
	}
	_, lines := submitFake(t, sub)
	if want := "--parsable --dependency=afterok:101,afterany:77 " + sub.Collect; lines[len(lines)-1] != want {
		t.Errorf("the collect job: sbatch %s, want %s", lines[len(lines)-1], want)
	}
	cmds := sub.SbatchCommands()
	if last := cmds[len(cmds)-1]; !strings.Contains(last, "--dependency=afterok:$ARRAY1,afterany:77 ") {
		t.Errorf("the dry run's collect command: %s", last)
	}
}

// TestStatusShardsRunningInSlurm: a trained sharded job whose shard tasks
// Slurm runs (squeue, a stand-in here) is counted running, not queued (its
// shard steps record no state of their own); one whose shard tasks all
// wait in the queue is queued.
func TestStatusShardsRunningInSlurm(t *testing.T) {
	s := prepare(t, strings.Replace(minimal, "    classes: [2, 3]\n", "    classes: 2\n    shards: 2\n", 1))
	for _, j := range s.Jobs[:2] {
		if err := s.writeState(j.ID, &JobState{State: StateAnalysing, Attempt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	sub, err := WriteSlurm(s, s.Jobs[:2], SlurmOptions{Awd: "/usr/bin/awd"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Arrays) != 2 || sub.Arrays[0].Phase != 1 {
		t.Fatalf("arrays %+v, want the shards of 2 trained jobs", sub.Arrays)
	}
	sub.Arrays[0].ID, sub.Arrays[1].ID = "88", "89"
	out := statusSubmitted(t, s, sub, "echo '88 0 PENDING'\necho '88 1 RUNNING'\necho '89 0 PENDING'\necho '89 1 PENDING'")
	for _, want := range []string{"running  " + s.Jobs[0].ID, "Slurm task 88_1 RUNNING", "queued   " + s.Jobs[1].ID, ": 1 running, 1 queued, 2 pending"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

// TestCollectResourcesCoverReductions: the collect job finishes the
// analyses of the sharded jobs, so it asks for the largest memory, time and
// threads of their shard arrays (a fixed 2G made Slurm kill the reduction
// of a large layer); without sharded jobs it keeps 2G, 1:00:00, one CPU.
func TestCollectResourcesCoverReductions(t *testing.T) {
	for _, tc := range []struct {
		cells, want string
	}{
		{"  - {loss: ce, classes: 2}\n  - {loss: mse, classes: 2, shards: 2, memory: 24G, time: 6:00:00, threads: 8}\n  - {loss: mse, classes: 3, shards: 2, memory: 16000M, threads: 4}\n",
			"#SBATCH --cpus-per-task=8\n#SBATCH --mem=24G\n#SBATCH --time=6:00:00\n"},
		{"  - {loss: ce, classes: 2, memory: 64G, threads: 8}\n", "#SBATCH --cpus-per-task=1\n#SBATCH --mem=2G\n#SBATCH --time=1:00:00\n"},
		// No limit (any form of it) is the largest time.
		{"  - {loss: mse, classes: 2, shards: 2, time: 30-00:00:00}\n  - {loss: mse, classes: 3, shards: 2, time: unlimited}\n",
			"#SBATCH --mem=4G\n#SBATCH --time=UNLIMITED\n"},
		{"  - {loss: mse, classes: 2, shards: 2, time: Infinite}\n  - {loss: mse, classes: 3, shards: 2, time: 30-00:00:00}\n",
			"#SBATCH --mem=4G\n#SBATCH --time=UNLIMITED\n"},
		{"  - {loss: mse, classes: 2, shards: 2, time: \"0\"}\n  - {loss: mse, classes: 3, shards: 2, time: 30-00:00:00}\n",
			"#SBATCH --mem=4G\n#SBATCH --time=UNLIMITED\n"},
	} {
		src := strings.Replace(minimal, "  - loss: [ce, mse]\n    classes: [2, 3]\n", tc.cells, 1)
		s := prepare(t, src)
		sub, err := WriteSlurm(s, s.Jobs, SlurmOptions{Awd: "/usr/bin/awd"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(sub.Collect)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.ReplaceAll(string(b), "#SBATCH --ntasks=1\n", "")
		if !strings.Contains(got, tc.want) {
			t.Errorf("cells\n%scollect.sbatch:\n%s\nwant\n%s", tc.cells, b, tc.want)
		}
	}
}
