package main

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

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/awd/figures"
	"github.com/awd-toolkit/awd/sweep"
)

// sweepHelp is the help of awd sweep.
const sweepHelp = `sweep runs every job of a sweep file: a grid of runs (data set, model, loss,
K classes, P, B, epochs, k, ...) times its seeds, each job in its own process
with its own thread count, into the sweep folder the file names (out:).
examples/sweeps/ has the paper's grids; README.md ("Sweeps") documents the
file.

Here (the default) a pool of local.workers processes runs the jobs and prints
one line per started and finished job with the counts and the time left.
Jobs that are done are skipped, so a stopped or killed sweep started again
resumes (an interrupted job from its last epoch) and failed jobs are retried.
At the end the tables are written to the sweep folder's tables/.

With --slurm it writes a job array (one task per job that is not done,
resources from the file; one array per resource shape) and a
collect job that runs after it succeeded (--dependency=afterok) and writes
the tables, submits both with sbatch and prints their ids; the analysis
shards of a sharded job run in an array of their own after that job's
training task. slurm.max_parallel bounds the tasks of the whole submission
that run at a time: each array gets a share of it (--array=...%N, at least
1), and arrays wait for others to end (--dependency=afterany) so that the
shares of those that may run together add up to at most max_parallel; the
shards run after the training arrays ended. Tasks of an earlier submission
that Slurm still runs come on top. --dry-run writes the scripts and prints
the sbatch commands (bash lines that submit them as they are) without
submitting. Submitting
again resubmits only the jobs that are not done, not running and not still
queued in Slurm (squeue), and its collect job also waits for the arrays of
earlier submissions that Slurm still holds; a task whose job another
process runs, or that is done, exits 0 and says so, so the jobs after it
still run.

  awd sweep status SWEEP    done, running, failed and pending jobs with their logs
                            (a job whose job.json or state.json is missing or
                            damaged is failed, with the file; the others are
                            still listed)
  awd sweep collect SWEEP   write the tables now (SWEEP: the folder or the file),
                            removing the figures it drew of configurations no
                            longer in the sweep file;
                            exits 1 naming the jobs whose results are missing
                            (not done yet, failed, reset, a failed reduction,
                            a done job's vanished results, a missing or
                            damaged job.json, with what writes it anew; then
                            no figure is removed)
  awd sweep reset SWEEP JOB...
                            start these jobs over from scratch on their next start
                            (a job whose checkpoints or results are damaged: its
                            error says so); refused while the job runs`

func init() {
	var o options
	cmd := &cobra.Command{
		Use:   "sweep CONFIG.yaml",
		Short: "run a grid of training-and-analysis jobs (the paper's Table 1 and 3) here or on Slurm",
		Long:  sweepHelp,
		Args:  argCount(1, 1),
		RunE:  func(cmd *cobra.Command, args []string) error { return sweepCommand(cmd, &o, args[0]) },
	}
	addFlags(cmd, &o, nil, "slurm", "dry-run", "workers")
	cmd.AddCommand(sweepSubcommands()...)
	rootCmd.AddCommand(cmd)
}

// sweepSubcommands are awd sweep status, collect, reset and the hidden
// run-job.
func sweepSubcommands() []*cobra.Command {
	var so options
	status := &cobra.Command{
		Use:   "status SWEEP",
		Short: "list the jobs of a sweep (folder or file): state, attempts, seconds, log",
		Args:  argCount(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// A job whose job.json is missing or damaged is a row of the
			// status, not the end of it.
			s, err := openSweepWith(sweep.OpenForStatus, args[0], cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return sweep.WriteStatus(cmd.OutOrStdout(), s, so.failed)
		},
	}
	addFlags(status, &so, nil, "failed")

	var ro options
	runJob := &cobra.Command{
		Use:    "run-job SWEEP [JOB]",
		Short:  "run one job of a sweep in this process (what the workers and Slurm tasks call)",
		Hidden: true,
		Args:   argCount(1, 2),
		RunE:   func(cmd *cobra.Command, args []string) error { return runJobCommand(args, ro.tasks) },
	}
	addFlags(runJob, &ro, nil, "tasks")

	collect := &cobra.Command{
		Use:   "collect SWEEP",
		Short: "write the tables of a sweep (folder or file) into its tables/ folder",
		Args:  argCount(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// A job whose job.json is missing or damaged is named in the
			// error, after the tables of the others.
			s, err := openSweepWith(sweep.OpenForStatus, args[0], cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			files, err := collectSweep(s)
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return err
		},
	}
	var rs options
	reset := &cobra.Command{
		Use:   "reset SWEEP JOB...",
		Short: "make jobs of a sweep (folder or file) start over from scratch on their next start",
		Args: func(cmd *cobra.Command, args []string) error {
			switch len(args) {
			case 0:
				return errors.New("sweep reset: name the sweep and the jobs to reset: `awd sweep reset SWEEP JOB...`")
			case 1:
				return fmt.Errorf("sweep reset: name the jobs to reset: `awd sweep reset %s JOB...` (`awd sweep status %s` lists their ids)", sweep.ShellWord(args[0]), sweep.ShellWord(args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openSweep(args[0], cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return resetJobs(cmd.OutOrStdout(), s, args[1:], rs.stale)
		},
	}
	addFlags(reset, &rs, nil, "stale")
	return []*cobra.Command{status, runJob, collect, reset}
}

// resetJobs is `awd sweep reset SWEEP JOB...`: every job given is reset
// (sweep.Reset); those that cannot be are named in the error, those that
// never started (nothing to reset) in a line.
func resetJobs(out io.Writer, s *sweep.Sweep, ids []string, stale bool) error {
	var errs []string
	reset := s.Reset
	if stale {
		reset = s.ResetStale
	}
	for _, id := range ids {
		if err := reset(id); errors.Is(err, sweep.ErrNeverStarted) {
			fmt.Fprintf(out, "job %s: never started; nothing to reset (its first start runs it from scratch)\n", id)
			continue
		} else if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		fmt.Fprintf(out, "job %s: reset; its next start runs it from scratch\n", id)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d jobs not reset: %s", len(errs), len(ids), strings.Join(errs, "; "))
	}
	fmt.Fprintf(out, "run `awd sweep %s` (or with --slurm) to run them\n", sweep.ShellWord(s.Manifest.Config))
	return nil
}

// sweepCommand is `awd sweep CONFIG`: here, or on Slurm.
func sweepCommand(cmd *cobra.Command, o *options, path string) error {
	cfg, err := sweep.Load(path)
	if err != nil {
		return err
	}
	if o.dryRun && !o.slurm {
		return errors.New("--dry-run: only with --slurm")
	}
	if o.workers != 0 && o.slurm {
		return errors.New("--workers: only without --slurm (on Slurm, slurm.max_parallel of the sweep file limits the tasks that run at a time)")
	}
	s, err := sweep.Prepare(cfg)
	if err != nil {
		return err
	}
	for _, f := range s.Repaired {
		fmt.Fprintf(cmd.ErrOrStderr(), "note: %s was damaged (not JSON, or no schema_version) and is written anew from the config\n", f)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("the awd binary: %w", err)
	}
	if o.slurm {
		return submitSweep(cmd, cfg, s, self, o.dryRun)
	}
	workers := o.workers
	if workers == 0 {
		workers = cfg.Workers(s.Jobs)
	}
	return runSweep(cmd, s, self, workers)
}

// runJobCommand is `awd sweep run-job SWEEP [JOB] [--tasks FILE]`.
func runJobCommand(args []string, tasks string) error {
	s, err := sweep.Open(args[0])
	if err != nil {
		return err
	}
	var line string
	switch {
	case len(args) == 2 && tasks == "":
		line = args[1]
	case len(args) == 1 && tasks != "":
		if line, err = sweep.TaskFromEnv(tasks); err != nil {
			return err
		}
	default:
		return errors.New("run-job: give a job id or --tasks (with SLURM_ARRAY_TASK_ID), not both")
	}
	ctx, stop := signalContext()
	defer stop()
	if tasks != "" {
		// A Slurm task: a duplicate of a task that runs elsewhere or
		// finished exits 0, so the arrays' dependents still run.
		return sweep.RunTask(ctx, s, line, runSweepJob, os.Stderr)
	}
	id, step, _ := strings.Cut(line, " ")
	return sweep.RunStep(ctx, s, id, step, runSweepJob)
}

// collectSweep reduces the sharded jobs whose shards are all done, then
// writes the sweep's tables and its gamma-over-training figures
// (tables/figures/gamma_epochs_*.png and .svg), and removes the figures it
// drew before of configurations no longer in the sweep
// (sweep.RecordFigures). It fails, after writing
// them, while a job's results are missing (sweep.ReduceReady: a job not
// done, or whose reduction failed or cannot run, or whose job.json cannot
// be read, in s.Unreadable; the figures of a collect with such jobs are
// not complete, so RecordFigures removes none), naming every such job:
// each collect does until the jobs are mended, so that a
// script or the Slurm collect job never takes tables without them for
// complete.
func collectSweep(s *sweep.Sweep) ([]string, error) {
	ctx, stop := signalContext()
	defer stop()
	rerrs := sweep.ReduceReady(ctx, s)
	release, err := s.LockTables()
	if err != nil {
		return nil, err
	}
	defer release()
	files, series, err := sweep.Collect(s)
	if err != nil {
		return files, err
	}
	dir := filepath.Join(s.Dir, sweep.TablesDir, sweep.FiguresDir)
	drawn := map[string]string{}
	for _, se := range series {
		fs, err := figures.DrawSeedSeries(figures.SeedSeries{Title: se.Label, Epochs: se.Epochs, Gamma: se.Gamma}, dir, "gamma_epochs_"+slug(se.Label))
		files = append(files, fs...)
		for _, f := range fs {
			drawn[filepath.Base(f)] = se.Protocol
		}
		if err != nil {
			_, rerr := s.RecordFigures(drawn, false)
			return files, errors.Join(err, rerr)
		}
	}
	// The figures of configurations gone from the sweep would read as
	// current beside the new ones.
	if _, err := s.RecordFigures(drawn, true); err != nil {
		return files, err
	}
	if len(rerrs) > 0 {
		msgs := make([]string, len(rerrs))
		for i, e := range rerrs {
			msgs[i] = e.Error()
		}
		return files, fmt.Errorf("%d jobs have no results, the tables leave them out (`awd sweep status %s` lists them; run the sweep again to mend them): %s", len(rerrs), sweep.ShellWord(s.Dir), strings.Join(msgs, "; "))
	}
	return files, nil
}

// slug makes a file name of a label: "mnist mlp CE K=3" -> "mnist-mlp-ce-k3".
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '(' || r == '-':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// openSweep opens a sweep folder, or the folder a sweep file names.
func openSweep(arg string, notes io.Writer) (*sweep.Sweep, error) {
	return openSweepWith(sweep.Open, arg, notes)
}

// openSweepWith is openSweep with open reading the folder.
func openSweepWith(open func(string) (*sweep.Sweep, error), arg string, notes io.Writer) (*sweep.Sweep, error) {
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		cfg, err := sweep.Load(arg)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(cfg.Dir(), awd.SweepManifest)); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("the sweep of %s has not run yet (its folder %s holds no %s): `awd sweep %s` prepares and runs it, `awd sweep --slurm %s` submits it",
				arg, cfg.Dir(), awd.SweepManifest, sweep.ShellWord(arg), sweep.ShellWord(arg))
		}
		s, err := open(cfg.Dir())
		if err != nil {
			return nil, err
		}
		// The folder holds the grid of the file as it was last run: an
		// edit since is not in it until `awd sweep FILE` prepares it.
		if jobs, err := cfg.Expand(); err == nil && !sameJobs(jobs, s.Manifest.Jobs) {
			fmt.Fprintf(notes, "note: %s was edited since the sweep last ran (%d jobs in the file, %d in %s): this shows the folder's jobs; `awd sweep %s` runs the edited grid\n",
				arg, len(jobs), len(s.Manifest.Jobs), s.Dir, sweep.ShellWord(arg))
		}
		return s, nil
	}
	return open(arg)
}

// sameJobs reports whether jobs are the jobs of the ids (a manifest's).
func sameJobs(jobs []*sweep.Job, ids []string) bool {
	var a []string
	for _, j := range jobs {
		a = append(a, j.ID)
	}
	b := slices.Clone(ids)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// runSweep runs the sweep's jobs here, each as `awd sweep run-job` with its
// output appended to the job's log, then writes the tables.
func runSweep(cmd *cobra.Command, s *sweep.Sweep, self string, workers int) error {
	stderr := cmd.ErrOrStderr()
	ctx, stop := signalContext()
	defer stop()
	sum, err := sweep.Run(ctx, s, sweep.LocalOptions{
		Workers: workers,
		Out:     stderr,
		Command: func(j *sweep.Job) *exec.Cmd {
			c := exec.Command(self, "sweep", "run-job", s.Dir, j.ID)
			if f, err := os.OpenFile(filepath.Join(s.JobDir(j.ID), "job.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
				c.Stdout, c.Stderr = f, f // closed by the GC; the child keeps its own copy
			}
			return c
		},
	})
	if err != nil {
		return err
	}
	if sum.Done+sum.Skipped > 0 {
		_, err := collectSweep(s)
		switch {
		case err != nil && len(sum.Failed)+len(sum.Interrupted)+len(sum.Elsewhere) == 0:
			return err
		case err != nil:
			// Jobs failed here or run in other processes, which the
			// collect names too: the lines below about them, the
			// collect's with the tables.
			fmt.Fprintf(stderr, "tables and figures: %s (%v)\n", filepath.Join(s.Dir, sweep.TablesDir), err)
		default:
			fmt.Fprintf(stderr, "tables and figures: %s\n", filepath.Join(s.Dir, sweep.TablesDir))
		}
	}
	if n := len(sum.Elsewhere); n > 0 {
		fmt.Fprintf(stderr, "%d jobs are running in other processes (`awd sweep status %s`)\n", n, sweep.ShellWord(s.Dir))
	}
	if n := len(sum.Failed); n > 0 {
		also := ""
		if m := len(sum.Interrupted); m > 0 {
			also = fmt.Sprintf(", %d interrupted", m)
		}
		return fmt.Errorf("%d of %d jobs failed%s: `awd sweep status --failed %s` lists them with their logs; run the sweep again to retry", n, len(s.Jobs), also, sweep.ShellWord(s.Dir))
	}
	if n := len(sum.Interrupted); n > 0 {
		return fmt.Errorf("%d of %d jobs interrupted (stopped by a signal): run the sweep again to resume them (`awd sweep status %s` lists them)", n, len(s.Jobs), sweep.ShellWord(s.Dir))
	}
	return nil
}

// submitSweep writes (and unless dryRun submits) the Slurm job arrays of
// the jobs that are neither done nor running nor still queued in Slurm (a
// task of an earlier submission, per squeue), and the collect job.
func submitSweep(cmd *cobra.Command, cfg *sweep.Config, s *sweep.Sweep, self string, dryRun bool) error {
	if !cfg.Slurm.Awd.Set {
		const build = "build awd (go build -o ~/bin/awd ./cmd/awd) and run the sweep with that binary, or set slurm.awd in the sweep file to a path the nodes see"
		switch goRunBinary(self) {
		case goRunTemp:
			return fmt.Errorf("the awd binary %s is go run's temporary build, deleted when it exits, so the Slurm tasks would not find it: %s", self, build)
		case goRunCached:
			fmt.Fprintf(cmd.ErrOrStderr(), "note: the Slurm tasks run %s, go run's build in Go's build cache, which go clean -cache or the cache's trimming of files unused for days removes while tasks may still wait: %s\n", self, build)
		}
	}
	out := cmd.OutOrStdout()
	var todo []*sweep.Job
	running, queued := 0, 0
	inQueue, notes := s.Queued()
	for _, n := range notes {
		fmt.Fprintf(cmd.ErrOrStderr(), "note: %s; the jobs of its tasks that Slurm may still hold are submitted again\n", n)
	}
	for _, st := range s.Statuses() {
		switch st.State {
		case sweep.StateDone:
		case sweep.StateRunning:
			running++
		default:
			if _, ok := inQueue[st.Job.ID]; ok {
				queued++
				continue
			}
			todo = append(todo, st.Job)
		}
	}
	if len(todo) == 0 {
		fmt.Fprintf(out, "sweep %s: nothing to submit (%d jobs, %d running, %d queued in Slurm)\n", s.Manifest.Name, len(s.Jobs), running, queued)
		return nil
	}
	if queued > 0 {
		fmt.Fprintf(out, "%d jobs still queued in Slurm are not submitted again (`awd sweep status %s`)\n", queued, sweep.ShellWord(s.Dir))
	}
	sub, err := sweep.WriteSlurm(s, todo, sweep.SlurmOptionsOf(cfg, self))
	if err != nil {
		return err
	}
	if m := cfg.Slurm.MaxParallel.V; m > 0 {
		fmt.Fprintf(out, "slurm.max_parallel %d: at most %d tasks of this submission run at a time (tasks of earlier submissions still in Slurm come on top)\n", m, m)
	}
	for _, a := range sub.Arrays {
		what := "jobs"
		if a.Phase == 1 {
			id, _, _ := strings.Cut(a.Jobs[0], " ")
			what = "analysis shards of " + id + ", trained already"
			if a.After != nil {
				what = fmt.Sprintf("analysis shards of %s, after its training (task %d of array %d)", id, a.After.Task, a.After.Array+1)
			}
		}
		fmt.Fprintf(out, "array of %d %s (%d threads, %s, %s%s): %s\n", len(a.Jobs), what, a.Threads, a.Memory, a.Time, throttleNote(a), a.Script)
	}
	fmt.Fprintf(out, "collect job: %s\n", sub.Collect)
	if len(sub.CollectWaits) > 0 {
		fmt.Fprintf(out, "  it also waits for the arrays %s of earlier submissions, which Slurm still holds\n", strings.Join(sub.CollectWaits, ", "))
	}
	if dryRun {
		fmt.Fprintln(out, "dry run; to submit:")
		for _, c := range sub.SbatchCommands() {
			fmt.Fprintln(out, "  "+c)
		}
		return nil
	}
	if err := sweep.Submit(cmd.Context(), sub, "sbatch"); err != nil {
		return err
	}
	var ids []string
	for _, a := range sub.Arrays {
		ids = append(ids, a.ID)
	}
	fmt.Fprintf(out, "submitted: array job %s, collect job %s (after the arrays succeed)\n", strings.Join(ids, ", "), sub.CollectID)
	fmt.Fprintf(out, "follow with `squeue` and `awd sweep status %s`\n", sweep.ShellWord(s.Dir))
	return nil
}

// throttleNote says how many tasks of array a run at a time and which
// arrays end before it starts, for the lines of `awd sweep --slurm`.
func throttleNote(a sweep.Array) string {
	if a.Throttle == 0 {
		return ""
	}
	note := fmt.Sprintf("; %d at a time", a.Throttle)
	if len(a.Waits) > 0 {
		var w []string
		for _, k := range a.Waits {
			w = append(w, strconv.Itoa(k+1))
		}
		note += ", once array " + strings.Join(w, ", ") + " ended"
	}
	return note
}

// runSweepJob runs one job's RunConfig with awd.Run into dir (the job's
// run folder), logging its events to the job's log.
func runSweepJob(ctx context.Context, j *sweep.Job, dir string, fresh bool, log io.Writer) error {
	u := newUI(log, true)
	u.epochLines = true
	_, err := awd.Run(ctx, j.Spec, dir, awd.RunOptions{Command: "sweep", Fresh: fresh, Log: u.logf, Epoch: u.epoch})
	return flagError(err)
}

// Kinds of binaries go run builds (goRunBinary).
const (
	goRunNot    = iota
	goRunTemp   // GOTMPDIR/go-buildNNN/bNNN/exe/NAME, removed when go run exits
	goRunCached // GOCACHE/XX/HASH-d/NAME (Go 1.24 on), removed when the cache is trimmed
)

// goRunBinary says whether path is an executable that go run built, and
// which kind.
func goRunBinary(path string) int {
	dir := filepath.Dir(path)
	switch {
	case filepath.Base(dir) == "exe" && strings.HasPrefix(filepath.Base(filepath.Dir(filepath.Dir(dir))), "go-build"):
		return goRunTemp
	case goCacheEntry.MatchString(filepath.Base(dir)) && len(filepath.Base(filepath.Dir(dir))) == 2:
		return goRunCached
	}
	return goRunNot
}

// goCacheEntry is the folder of an executable in Go's build cache.
var goCacheEntry = regexp.MustCompile(`^[0-9a-f]{64}-d$`)
