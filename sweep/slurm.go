package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/awd-toolkit/awd/internal/atomicfile"
)

// SlurmOptions configures WriteSlurm.
type SlurmOptions struct {
	Awd         string   // the awd binary as the nodes see it (absolute)
	Partition   string   // --partition; "" the cluster's default
	MaxParallel int      // tasks of the submission at a time, split among the arrays (shareMaxParallel); 0 none
	Sbatch      []string // more #SBATCH options
	// CollectMemory and CollectTime are the collect job's resources.
	CollectMemory, CollectTime string
	// MaxArrayTasks is the most tasks of one job array; 0 is
	// DefaultMaxArrayTasks. A resource shape with more tasks is split into
	// several arrays, each with its own task list.
	MaxArrayTasks int
}

// DefaultMaxArrayTasks is the most tasks WriteSlurm puts into one job
// array: Slurm's default MaxArraySize of 1001 allows the indices 0..1000,
// and sbatch rejects a larger --array.
const DefaultMaxArrayTasks = 1000

// SlurmOptionsOf returns the options of cfg's slurm section; awd is used
// when the config names no binary.
func SlurmOptionsOf(cfg *Config, awd string) SlurmOptions {
	return SlurmOptions{Awd: cfg.Slurm.Awd.Or(awd), Partition: cfg.Slurm.Partition.V,
		MaxParallel: cfg.Slurm.MaxParallel.V, Sbatch: cfg.Slurm.Sbatch.V}
}

// Array is one job array of a submission: the tasks of one resource shape
// and phase (0: jobs and the training of sharded jobs; 1: the analysis
// shards of one sharded job, after the task that trains it, if any).
type Array struct {
	Script  string   `json:"script"`
	Tasks   string   `json:"tasks"` // one task per line ("ID", "ID train", "ID shard i/n"); task i runs line i+1
	Jobs    []string `json:"jobs"`  // the lines
	Phase   int      `json:"phase"`
	Threads int      `json:"threads"`
	Memory  string   `json:"memory"`
	Time    string   `json:"time"`
	// After is the task this array waits for (--dependency=afterok on
	// that one task): the training of the job whose shards it runs.
	After *TaskRef `json:"after,omitempty"`
	// Throttle is the most tasks of this array that run at a time
	// (--array=...%N; 0 none), its share of slurm.max_parallel.
	Throttle int `json:"throttle,omitempty"`
	// Waits are the arrays (indices into Submission.Arrays) that end
	// before this one starts (--dependency=afterany), so that the
	// throttles of the arrays that may run at once add up to at most
	// slurm.max_parallel.
	Waits []int  `json:"waits,omitempty"`
	ID    string `json:"slurm_id,omitempty"` // set by Submit
}

// TaskRef is task Task of array Array (an index into Submission.Arrays).
type TaskRef struct {
	Array int `json:"array"`
	Task  int `json:"task"`
}

// Submission is one `awd sweep --slurm`: its folder slurm/NNN holds the
// array scripts, their task lists, the collect script, submission.json and
// the Slurm output of every task.
type Submission struct {
	SchemaVersion int     `json:"schema_version"`
	Dir           string  `json:"dir"`
	Arrays        []Array `json:"arrays"`
	Collect       string  `json:"collect"`
	// CollectWaits are the array jobs of earlier submissions that Slurm
	// still held when this one was written: the collect job waits for
	// them to end too (afterany).
	CollectWaits []string  `json:"collect_waits,omitempty"`
	CollectID    string    `json:"collect_slurm_id,omitempty"`
	Submitted    time.Time `json:"submitted,omitzero"`
}

// sbatchOutput is the value of an #SBATCH --output line for the file
// name (a Slurm pattern, %A, %a, %j) in the folder dir. sbatch reads an
// #SBATCH line's argument up to a blank or an unquoted '#' (the rest is a
// comment); double quotes group, and a backslash escapes the next
// character (Slurm 22.05 honours it inside quotes only). So the path is
// double-quoted with its '"' and '\' escaped, and its '%' doubled (Slurm
// expands % in --output): a folder with a blank, a quote or '#' in its
// path was cut there.
func sbatchOutput(dir, name string) string {
	return sbatchQuote(strings.ReplaceAll(dir, "%", "%%") + string(filepath.Separator) + name)
}

// sbatchQuote double-quotes s for an #SBATCH line, its '"' and '\\'
// escaped (sbatchOutput).
func sbatchQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// sbatchUnsafe are the characters that end or change an #SBATCH line's
// argument when unquoted (sbatchOutput).
const sbatchUnsafe = " \t#\"'\\"

// sbatchOption is an option of the sweep file (slurm.partition,
// slurm.sbatch) as an #SBATCH line's argument: the value of --name=value
// quoted when it holds a blank, '#', a quote or a backslash, which would
// otherwise cut it short ("--comment=a b" became --comment=a). Config
// refuses such characters in an option without '='.
func sbatchOption(o string) string {
	name, value, ok := strings.Cut(o, "=")
	if !ok || !strings.ContainsAny(value, sbatchUnsafe) {
		return o
	}
	return name + "=" + sbatchQuote(value)
}

// shellQuote quotes s for bash.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ShellWord is s as one word of a command that a message or a table's
// provenance gives to be run: as it is when it holds only characters no
// shell reads specially, quoted otherwise (a sweep folder "out dir" is
// 'out dir'), so that the command runs when pasted.
func ShellWord(s string) string {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./:=@%+,", r))
	}) {
		return shellQuote(s)
	}
	return s
}

// WriteSlurm writes the scripts that run jobs as Slurm job arrays, one
// array per resource shape (threads, memory, time; several when the shape
// has more than opt.MaxArrayTasks tasks), one task per job, and
// the collect job that writes the tables once every task succeeded.
// opt.MaxParallel bounds the tasks of all the arrays together
// (shareMaxParallel). It writes them into a new folder slurm/NNN of the
// sweep and submits nothing.
func WriteSlurm(s *Sweep, jobs []*Job, opt SlurmOptions) (*Submission, error) {
	if len(jobs) == 0 {
		return nil, errors.New("slurm: no job to submit")
	}
	if !filepath.IsAbs(opt.Awd) {
		return nil, fmt.Errorf("slurm: the awd binary %q must be an absolute path", opt.Awd)
	}
	absDir, err := filepath.Abs(s.Dir)
	if err != nil {
		return nil, err
	}
	root := filepath.Join(absDir, "slurm")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	// Under the sweep's lock no other submission is being written: the
	// temporary files in earlier submissions' folders were left by a
	// killed one.
	lk, err := lockWait(filepath.Join(absDir, lockFile))
	if err != nil {
		return nil, fmt.Errorf("slurm: %w", err)
	}
	defer lk.Close()
	if old, err := filepath.Glob(filepath.Join(root, "[0-9][0-9][0-9]*")); err == nil {
		for _, d := range old {
			atomicfile.RemoveTemporaries(d, nil)
		}
	}
	// The next free number; Mkdir fails when another submission took it.
	var dir string
	for n := 1; ; n++ {
		dir = filepath.Join(root, fmt.Sprintf("%03d", n))
		if err := os.Mkdir(dir, 0o755); err == nil {
			break
		} else if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
	}
	sub := &Submission{SchemaVersion: SchemaVersion, Dir: dir}
	// The shards of a job wait for its own training task only: on an
	// array of other jobs too, one failure anywhere in the grid would
	// keep every sharded job's analysis from running (afterok is never
	// satisfied).
	type shape struct {
		phase        int
		threads      int
		memory, time string
		job          string // phase 1: the sharded job
	}
	var shapes []shape
	byShape := map[shape][]string{}
	add := func(j *Job, phase int, line string) {
		k := shape{phase, j.Threads, j.Memory, j.Time, ""}
		if phase == 1 {
			k.job = j.ID
		}
		if _, ok := byShape[k]; !ok {
			shapes = append(shapes, k)
		}
		byShape[k] = append(byShape[k], line)
	}
	for _, j := range jobs {
		if j.Shards <= 1 {
			add(j, 0, j.ID)
			continue
		}
		if rec := s.Status(j).Record; rec == nil || rec.State != StateAnalysing {
			add(j, 0, j.ID+" "+StepTrain)
		}
		for i := 1; i <= j.Shards; i++ {
			add(j, 1, fmt.Sprintf("%s %s %d/%d", j.ID, StepShard, i, j.Shards))
		}
	}
	slices.SortStableFunc(shapes, func(a, b shape) int { return a.phase - b.phase })
	common := func(b *bytes.Buffer) {
		if opt.Partition != "" {
			fmt.Fprintf(b, "#SBATCH %s\n", sbatchOption("--partition="+opt.Partition))
		}
		for _, o := range opt.Sbatch {
			fmt.Fprintf(b, "#SBATCH %s\n", sbatchOption(o))
		}
	}
	maxTasks := opt.MaxArrayTasks
	if maxTasks <= 0 {
		maxTasks = DefaultMaxArrayTasks
	}
	type chunk struct {
		shape
		lines []string
	}
	var chunks []chunk
	for _, sh := range shapes {
		for lines := byShape[sh]; len(lines) > 0; {
			n := min(len(lines), maxTasks)
			chunks = append(chunks, chunk{sh, lines[:n]})
			lines = lines[n:]
		}
	}
	phases, sizes := make([]int, len(chunks)), make([]int, len(chunks))
	for i, ch := range chunks {
		phases[i], sizes[i] = ch.phase, len(ch.lines)
	}
	throttles, waits := shareMaxParallel(phases, sizes, opt.MaxParallel)
	trainedBy := map[string]TaskRef{} // job id -> its training task
	for i, ch := range chunks {
		sh := ch.shape
		a := Array{Phase: sh.phase, Threads: sh.threads, Memory: sh.memory, Time: sh.time,
			Script: filepath.Join(dir, fmt.Sprintf("array%d.sbatch", i+1)),
			Tasks:  filepath.Join(dir, fmt.Sprintf("tasks%d.txt", i+1))}
		if t, ok := trainedBy[sh.job]; ok && sh.phase == 1 {
			a.After = &t
		}
		var list bytes.Buffer
		for k, line := range ch.lines {
			a.Jobs = append(a.Jobs, line)
			list.WriteString(line + "\n")
			if id, ok := strings.CutSuffix(line, " "+StepTrain); ok {
				trainedBy[id] = TaskRef{Array: i, Task: k}
			}
		}
		a.Throttle, a.Waits = throttles[i], waits[i]
		throttle := ""
		if a.Throttle > 0 {
			throttle = "%" + strconv.Itoa(a.Throttle)
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "#!/bin/bash\n")
		fmt.Fprintf(&b, "#SBATCH --job-name=awd-%s\n", s.Manifest.Name)
		fmt.Fprintf(&b, "#SBATCH --array=0-%d%s\n", len(a.Jobs)-1, throttle)
		fmt.Fprintf(&b, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n", sh.threads)
		fmt.Fprintf(&b, "#SBATCH --mem=%s\n#SBATCH --time=%s\n", sh.memory, sh.time)
		fmt.Fprintf(&b, "#SBATCH --output=%s\n", sbatchOutput(dir, fmt.Sprintf("array%d-%%A_%%a.out", i+1)))
		if a.After != nil && a.Throttle > 0 {
			// When its training fails, the array is cancelled rather
			// than left pending for ever (DependencyNeverSatisfied), so
			// that the arrays that wait for it to end (shareMaxParallel)
			// still run.
			fmt.Fprintf(&b, "#SBATCH --kill-on-invalid-dep=yes\n")
		}
		common(&b)
		if sh.phase == 1 {
			fmt.Fprintf(&b, "# Analysis shards of job %s", sh.job)
			if a.After != nil {
				fmt.Fprintf(&b, ": submitted with --dependency=afterok on task %d of array%d, its training", a.After.Task, a.After.Array+1)
			}
			fmt.Fprintf(&b, ".\n")
		}
		if a.Throttle > 0 {
			fmt.Fprintf(&b, "# slurm.max_parallel %d holds for the whole submission: at most %d tasks of this array run at a time", opt.MaxParallel, a.Throttle)
			if len(a.Waits) > 0 {
				fmt.Fprintf(&b, ",\n# and it starts once the arrays %s ended (--dependency=afterany)", arrayNames(a.Waits))
			}
			fmt.Fprintf(&b, ".\n")
		}
		fmt.Fprintf(&b, "# Task i runs line i+1 of %s (a job, or a step of a sharded job); the job's own log,\n", filepath.Base(a.Tasks))
		fmt.Fprintf(&b, "# state and results are in %s/jobs/<id>/.\n", absDir)
		fmt.Fprintf(&b, "exec %s sweep run-job %s --tasks %s\n", shellQuote(opt.Awd), shellQuote(absDir), shellQuote(a.Tasks))
		if err := atomicfile.WriteBytes(a.Tasks, list.Bytes()); err != nil {
			return nil, err
		}
		if err := writeScript(a.Script, b.Bytes()); err != nil {
			return nil, err
		}
		sub.Arrays = append(sub.Arrays, a)
	}
	// A submission leaves out the jobs whose tasks Slurm still holds from
	// an earlier one; its collect job waits for those tasks too, or it
	// writes the tables without their jobs, and the earlier collect job
	// may never run (afterok: a failed task of its arrays holds it back).
	prev, _, err := s.submissions()
	if err != nil {
		return nil, err
	}
	sub.CollectWaits = heldArrays(prev)
	var b bytes.Buffer
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=awd-%s-collect\n", s.Manifest.Name)
	mem, tm, cpus := collectResources(sub.Arrays, opt)
	fmt.Fprintf(&b, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n", cpus)
	fmt.Fprintf(&b, "#SBATCH --mem=%s\n#SBATCH --time=%s\n", mem, tm)
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", sbatchOutput(dir, "collect-%j.out"))
	common(&b)
	fmt.Fprintf(&b, "# Submitted with --dependency=afterok on the arrays: runs once every task succeeded,\n")
	if len(sub.CollectWaits) > 0 {
		fmt.Fprintf(&b, "# and after the arrays %s of earlier submissions ended (afterany),\n", strings.Join(sub.CollectWaits, ", "))
	}
	fmt.Fprintf(&b, "# reduces the analysis shards of sharded jobs and writes the tables.\n")
	fmt.Fprintf(&b, "exec %s sweep collect %s\n", shellQuote(opt.Awd), shellQuote(absDir))
	sub.Collect = filepath.Join(dir, "collect.sbatch")
	if err := writeScript(sub.Collect, b.Bytes()); err != nil {
		return nil, err
	}
	return sub, writeJSON(filepath.Join(dir, "submission.json"), sub)
}

// shareMaxParallel makes maxParallel (0: no throttle) bound the tasks of a
// whole submission that run at a time, not those of each array: Slurm's
// throttle (--array=...%N) holds per array, and a sweep submits one array
// per resource shape and phase (phases[i], with sizes[i] tasks), so with
// %maxParallel on each, several times maxParallel tasks ran at once.
//
// The arrays of each phase are dealt out, in order, to lanes (each array
// to the lane with the fewest tasks so far): as many as maxParallel over
// the arrays' mean size, at least 1, at most maxParallel and the number of
// arrays. An array waits for the one before it in its lane to end
// (afterany), and the first arrays of phase 1's lanes wait for every
// array of phase 0, so that at any time one array per lane of one phase
// runs. maxParallel is split among the lanes, at least 1 each, in
// proportion to their tasks and no more than a lane's largest array can
// use; the throttles of the arrays that may run at once thus add up to at
// most maxParallel.
func shareMaxParallel(phases, sizes []int, maxParallel int) (throttles []int, waits [][]int) {
	throttles, waits = make([]int, len(phases)), make([][]int, len(phases))
	if maxParallel <= 0 {
		return throttles, waits
	}
	var before []int // the arrays of the phases before
	for _, phase := range []int{0, 1} {
		var idx []int
		for i, p := range phases {
			if p == phase {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			continue
		}
		total := 0
		for _, i := range idx {
			total += sizes[i]
		}
		// As many lanes as the arrays' mean size fits into max_parallel:
		// one lane for arrays of max_parallel tasks or more (each runs
		// max_parallel of them at a time, one array after another),
		// more for small ones (the shards of a job).
		p := min(maxParallel, total)
		n := min(max(1, (p*len(idx)+total-1)/total), p, len(idx))
		last := make([]int, n) // each lane's last array, -1 none yet
		tasks, most := make([]int, n), make([]int, n)
		for l := range last {
			last[l] = -1
		}
		lane := make([]int, len(idx))
		for k, i := range idx {
			l := 0
			for m := range tasks {
				if last[m] < 0 { // an empty lane first
					l = m
					break
				}
				if tasks[m] < tasks[l] {
					l = m
				}
			}
			if last[l] >= 0 {
				waits[i] = []int{last[l]}
			} else {
				waits[i] = slices.Clone(before)
			}
			last[l], lane[k] = i, l
			tasks[l] += sizes[i]
			most[l] = max(most[l], sizes[i])
		}
		share := make([]int, n)
		for l := range share {
			share[l] = 1
		}
		for left := p - n; left > 0; left-- {
			best := -1
			for l := range share {
				// The lane with the most tasks per unit of its share
				// (tasks/share, compared as cross products).
				if share[l] < most[l] && (best < 0 || tasks[l]*share[best] > tasks[best]*share[l]) {
					best = l
				}
			}
			if best < 0 {
				break // every lane's share covers its largest array
			}
			share[best]++
		}
		for k, i := range idx {
			throttles[i] = min(share[lane[k]], sizes[i])
		}
		before = append(before, idx...)
	}
	return throttles, waits
}

// arrayNames names arrays by their scripts' numbers: "array1, array3".
func arrayNames(idx []int) string {
	var names []string
	for _, i := range idx {
		names = append(names, fmt.Sprintf("array%d", i+1))
	}
	return strings.Join(names, ", ")
}

// dependency is the --dependency option of array i, with ids the job ids
// of the arrays before it ("" when it depends on none): afterok on the
// training task of a shard array, afterany on the arrays it waits for.
func (sub *Submission) dependency(i int, ids []string) string {
	a := sub.Arrays[i]
	var deps []string
	if a.After != nil {
		deps = append(deps, fmt.Sprintf("afterok:%s_%d", ids[a.After.Array], a.After.Task))
	}
	if len(a.Waits) > 0 {
		var w []string
		for _, k := range a.Waits {
			w = append(w, ids[k])
		}
		deps = append(deps, "afterany:"+strings.Join(w, ":"))
	}
	if len(deps) == 0 {
		return ""
	}
	return "--dependency=" + strings.Join(deps, ",")
}

// collectResources are the collect job's memory, time and CPUs: opt's, or
// 2G, 1:00:00 and one CPU, raised to the largest of the analysis-shard
// arrays'. The collect job finishes every sharded job's analysis (its
// d x d matrices and H's eigensolve, with the job's threads): at d = 10^4
// that is several GB, which the fixed 2G made Slurm kill.
func collectResources(arrays []Array, opt SlurmOptions) (mem, tm string, cpus int) {
	mem, tm, cpus = cmpOr(opt.CollectMemory, "2G"), cmpOr(opt.CollectTime, "1:00:00"), 1
	for _, a := range arrays {
		if a.Phase != 1 {
			continue
		}
		if m, err := parseMemory(a.Memory); err == nil {
			if have, err := parseMemory(mem); err != nil || m > have {
				mem = a.Memory
			}
		}
		if t, err := parseSlurmTime(a.Time); err == nil {
			if have, err := parseSlurmTime(tm); err != nil || t > have {
				tm = a.Time
			}
		}
		cpus = max(cpus, a.Threads)
	}
	return mem, tm, cpus
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func writeScript(path string, b []byte) error {
	if err := atomicfile.WriteBytes(path, b); err != nil {
		return err
	}
	return os.Chmod(path, 0o755)
}

// SbatchCommands returns the commands Submit runs, for --dry-run, as bash
// lines that run as they are: each array's id is kept in a variable
// (ARRAY1, ARRAY2, ...) for the dependencies of the arrays of analysis
// shards (on their job's training task, ${ARRAY1}_3), of the arrays that
// wait for others to end (shareMaxParallel) and of the collect job (on
// every array).
func (sub *Submission) SbatchCommands() []string {
	var cmds, all, vars []string
	for i := range sub.Arrays {
		vars = append(vars, fmt.Sprintf("${ARRAY%d}", i+1))
	}
	for i, a := range sub.Arrays {
		dep := sub.dependency(i, vars)
		if dep != "" {
			dep += " "
		}
		cmds = append(cmds, fmt.Sprintf("ARRAY%d=$(sbatch --parsable %s%s | cut -d';' -f1)", i+1, dep, shellQuote(a.Script)))
		all = append(all, fmt.Sprintf("$ARRAY%d", i+1))
	}
	return append(cmds, "sbatch --parsable "+sub.collectDependency(all)+" "+shellQuote(sub.Collect))
}

// collectDependency is the collect job's --dependency option: afterok on
// the arrays ids, afterany on the earlier arrays Slurm still held.
func (sub *Submission) collectDependency(ids []string) string {
	dep := "--dependency=afterok:" + strings.Join(ids, ":")
	if len(sub.CollectWaits) > 0 {
		dep += ",afterany:" + strings.Join(sub.CollectWaits, ":")
	}
	return dep
}

// Submit submits the arrays with sbatch, then the collect job with
// --dependency=afterok on all of them, and records the ids in the
// submission's submission.json. sbatch is the command to run ("sbatch").
func Submit(ctx context.Context, sub *Submission, sbatch string) error {
	var ids []string
	for i, a := range sub.Arrays {
		args := []string{a.Script}
		waits := slices.Clone(a.Waits)
		if a.After != nil {
			waits = append(waits, a.After.Array)
		}
		for _, k := range waits {
			if k < 0 || k >= i {
				return fmt.Errorf("slurm: array %d waits for array %d, submitted after it; write the submission again with awd sweep --slurm", i+1, k+1)
			}
		}
		if dep := sub.dependency(i, ids); dep != "" {
			args = append([]string{dep}, args...)
		}
		id, err := runSbatch(ctx, sbatch, args...)
		if err != nil {
			return err
		}
		sub.Arrays[i].ID = id
		ids = append(ids, id)
		if err := writeJSON(filepath.Join(sub.Dir, "submission.json"), sub); err != nil {
			return err
		}
	}
	id, err := runSbatch(ctx, sbatch, sub.collectDependency(ids), sub.Collect)
	if err != nil {
		return fmt.Errorf("%w (the arrays %s are submitted)", err, strings.Join(ids, ", "))
	}
	sub.CollectID = id
	sub.Submitted = time.Now().UTC()
	return writeJSON(filepath.Join(sub.Dir, "submission.json"), sub)
}

// runSbatch runs sbatch --parsable ARGS and returns the job id it prints
// ("1234" or "1234;cluster").
func runSbatch(ctx context.Context, sbatch string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, sbatch, append([]string{"--parsable"}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("sbatch %s: %s", strings.Join(args, " "), msg)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(stdout.String()), ";")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("sbatch %s: printed %q, not a job id", strings.Join(args, " "), stdout.String())
	}
	return id, nil
}

// Submissions reads the sweep's submissions, oldest first, skipping those
// whose submission.json is damaged.
func (s *Sweep) Submissions() ([]*Submission, error) {
	subs, _, err := s.submissions()
	return subs, err
}

// submissions is Submissions, with a note for every submission skipped
// because its submission.json cannot be read.
func (s *Sweep) submissions() (subs []*Submission, notes []string, err error) {
	dirs, err := filepath.Glob(filepath.Join(s.Dir, "slurm", "[0-9][0-9][0-9]*"))
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(dirs)
	for _, d := range dirs {
		var sub Submission
		if err := readJSON(filepath.Join(d, "submission.json"), &sub); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				notes = append(notes, fmt.Sprintf("submission %s skipped: %v", d, err))
			}
			continue
		}
		subs = append(subs, &sub)
	}
	return subs, notes, nil
}

// SlurmLog returns the Slurm output file of a task recorded as "A_a" (array
// job A, task a) when a submission of this sweep has array A, or of the
// collect job that reduced a sharded job.
func SlurmLog(subs []*Submission, task string) string {
	a, t, ok := strings.Cut(task, "_")
	if !ok {
		for _, sub := range subs {
			if sub.CollectID == task && task != "" {
				return filepath.Join(sub.Dir, "collect-"+task+".out") // a sharded job's reduction
			}
		}
		return ""
	}
	for _, sub := range subs {
		for i, arr := range sub.Arrays {
			if arr.ID == a {
				return filepath.Join(sub.Dir, fmt.Sprintf("array%d-%s_%s.out", i+1, a, t))
			}
		}
	}
	return ""
}

// TaskJob returns line index+1 of a task list: a job id, or a job id and
// a step of a sharded job ("ID train", "ID shard i/n").
func TaskJob(tasks string, index int) (string, error) {
	b, err := os.ReadFile(tasks)
	if err != nil {
		return "", fmt.Errorf("task list: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if index < 0 || index >= len(lines) || lines[index] == "" {
		return "", fmt.Errorf("task list %s has %d jobs, no task %d", tasks, len(lines), index)
	}
	return lines[index], nil
}
