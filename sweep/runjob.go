package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
)

// Executor runs one job's Spec with dir as its run folder, writing its
// progress to log; it must leave dir/results.json when it succeeds and be
// resumable from what it left in dir when it was killed. With fresh it
// starts over, replacing what dir holds (awd.RunOptions.Fresh). RunJob's
// executor in the CLI is awd.Run.
type Executor func(ctx context.Context, j *Job, dir string, fresh bool, log io.Writer) error

var errLocked = errors.New("locked")

// ErrJobRunning is returned by RunJob when another process runs the job.
var ErrJobRunning = errors.New("job is running in another process")

// ErrNeverStarted is returned by Reset for a job that never started: its
// first start runs it from scratch anyway.
var ErrNeverStarted = errors.New("the job never started")

// RunJob runs job id of the sweep in this process, as the local pool's
// workers do: RunStep with the whole job.
func RunJob(ctx context.Context, s *Sweep, id string, exec Executor) error {
	return RunStep(ctx, s, id, "", exec)
}

// Steps of a job (RunStep): the whole job, or for a sharded job (Shards >
// 1, see shard.go) its training, one shard of its analyses, or the
// reduction of the shards.
const (
	StepAll    = ""
	StepTrain  = "train"
	StepShard  = "shard" // "shard i/n"
	StepReduce = "reduce"
)

// parseStep reads "", "train", "shard i/n" or "reduce" for job j.
func parseStep(step string, j *Job) (kind string, i int, err error) {
	switch step {
	case StepAll, StepTrain, StepReduce:
		if step != StepAll && j.Shards <= 1 {
			return "", 0, fmt.Errorf("job %s: step %q: the job is not sharded", j.ID, step)
		}
		return step, 0, nil
	}
	var n int
	if _, err := fmt.Sscanf(step, "shard %d/%d", &i, &n); err != nil || n != j.Shards || i < 1 || i > n {
		return "", 0, fmt.Errorf("job %s: step %q: want train, reduce or shard i/%d", j.ID, step, j.Shards)
	}
	return StepShard, i, nil
}

// RunStep runs one step of job id in this process, as the local pool's
// workers and the Slurm array tasks do: it takes the job's lock (a shard
// step its shard's), returns at once when the job is done, sets GOMAXPROCS
// and the linear-algebra threads to the job's thread count, records the
// state (running, then done with the results' checksum, analysing after a
// sharded job's training, interrupted when ctx ends first, or failed with
// the error) and appends the output
// to the job's log. exec runs the training (awd.Run in the CLI).
func RunStep(ctx context.Context, s *Sweep, id, step string, exec Executor) error {
	j, err := s.Job(id)
	if err != nil {
		return err
	}
	kind, shard, err := parseStep(step, j)
	if err != nil {
		return err
	}
	name := lockFile
	if kind == StepShard {
		name = shardLock(shard)
	}
	lk, err := lock(filepath.Join(s.JobDir(id), name))
	if errors.Is(err, errLocked) {
		if rec, _ := s.readState(id); rec != nil {
			return fmt.Errorf("job %s: %w (process %d on %s)", id, ErrJobRunning, rec.PID, rec.Host)
		}
		return fmt.Errorf("job %s: %w", id, ErrJobRunning)
	}
	if err != nil {
		return fmt.Errorf("job %s: %w", id, err)
	}
	defer lk.Close()
	s.cleanJob(id, shard)
	if st := s.Status(j); st.State == StateDone {
		return nil
	}
	logf, err := os.OpenFile(filepath.Join(s.JobDir(id), logFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("job %s: log: %w", id, err)
	}
	defer logf.Close()
	runtime.GOMAXPROCS(j.Threads)
	linalg.SetThreads(j.Threads)
	if kind == StepShard {
		fmt.Fprintf(logf, "=== %s shard %d/%d on %s (pid %d%s)\n", time.Now().UTC().Format(time.RFC3339), shard, j.Shards, hostname(), os.Getpid(), slurmNote(slurmTaskID()))
		t0, cpu0 := time.Now(), cpuSeconds()
		err := s.checkTrained(j)
		if err == nil {
			err = s.runShard(ctx, j, shard, j.Shards, true, logf)
		}
		if err == nil {
			// The reduction adds it to the job's seconds: the tables'
			// wall time per job includes its analyses.
			err = writeJSON(s.shardTimePath(j.ID, shard, j.Shards), shardTime{SchemaVersion: SchemaVersion,
				Seconds: time.Since(t0).Seconds(), CPUSeconds: cpuSeconds() - cpu0})
		}
		if errors.Is(err, errRetraining) {
			fmt.Fprintf(logf, "=== shard %d/%d refused: %v\n", shard, j.Shards, err)
			return fmt.Errorf("shard %d/%d: %w", shard, j.Shards, err)
		}
		if err != nil {
			stopped := ctx.Err() != nil
			if stopped {
				fmt.Fprintf(logf, "=== shard %d/%d stopped: %v\n", shard, j.Shards, err)
			} else {
				fmt.Fprintf(logf, "=== shard %d/%d failed: %v\n", shard, j.Shards, err)
			}
			// Recorded either way: status shows the job failed or
			// interrupted, and collect does not reduce it silently.
			if rerr := s.recordShardFailure(j, shard, err, stopped); rerr != nil {
				fmt.Fprintf(logf, "=== %v\n", rerr)
			}
			return fmt.Errorf("job %s: shard %d/%d: %w", id, shard, j.Shards, err)
		}
		return nil
	}
	if kind == StepReduce {
		// Only a job trained with its shards to merge is reduced: a
		// reduction of a job reset meanwhile (a collect reduces the jobs
		// of its snapshot one after another) would record it analysing
		// and drop its reset.
		if rec, err := s.readState(id); err != nil || rec.State != StateAnalysing || rec.Restart {
			what := "never started"
			if rec != nil {
				what = rec.State
				if rec.Restart {
					what += ", to start over from scratch"
				}
			}
			err := fmt.Errorf("job %s: nothing to reduce: the job is %s, not trained with shards to merge; its training and shards run first", id, what)
			fmt.Fprintf(logf, "=== reduction refused: %v\n", err)
			return err
		}
	}
	return s.recordRun(ctx, j, kind, exec, logf)
}

// RunTask runs one line of a Slurm task list ("ID", "ID train", "ID shard
// i/n") as RunStep does, except that a job (or shard) that another process
// runs, or that is done already, is no failure: a line in the job's log
// and in out says so and RunTask returns nil, so that the task's
// dependents (the shard arrays, the collect job) are not held back by a
// duplicate task.
func RunTask(ctx context.Context, s *Sweep, line string, exec Executor, out io.Writer) error {
	id, step, _ := strings.Cut(line, " ")
	j, err := s.Job(id)
	if err != nil {
		return err
	}
	what := "task " + strings.TrimSpace(id+" "+step) + slurmNote(slurmTaskID())
	if st := s.Status(j); st.State == StateDone {
		s.note(id, out, "%s: the job is done already; nothing to do", what)
		return nil
	}
	err = RunStep(ctx, s, id, step, exec)
	if errors.Is(err, ErrJobRunning) {
		s.note(id, out, "%s: %v; left to that process", what, err)
		return nil
	}
	return err
}

// note writes a line to out and appends it, dated, to job id's log.
func (s *Sweep) note(id string, out io.Writer, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintln(out, msg)
	if f, err := os.OpenFile(filepath.Join(s.JobDir(id), logFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprintf(f, "=== %s %s\n", time.Now().UTC().Format(time.RFC3339), msg)
		f.Close()
	}
}

// shardLock is the name of the lock of shard i's step in the job's folder.
func shardLock(i int) string { return fmt.Sprintf("%s-shard%d", lockFile, i) }

// loadAverage is the 1-minute load average (0 where /proc/loadavg is
// missing).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var l float64
	fmt.Sscan(string(b), &l)
	return l
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// recordRun runs the whole job, or a sharded job's training or reduction,
// recording its state before and after.
func (s *Sweep) recordRun(ctx context.Context, j *Job, kind string, exec Executor, logf io.Writer) error {
	id := j.ID
	rec := &JobState{State: StateRunning, Host: hostname(), PID: os.Getpid(), Slurm: slurmTaskID(), Node: os.Getenv("SLURMD_NODENAME"),
		Threads: j.Threads, Build: BuildCommit(), Go: runtime.Version(), CPU: kernels.CPUName(), Kernels: kernels.Current().String(),
		Attempt: 1, Started: time.Now().UTC()}
	rec.Load[0] = loadAverage()
	cpu0 := cpuSeconds()
	if prev, err := s.readState(id); err == nil {
		rec.Attempt = prev.Attempt + 1
		// A job recorded done is run again only because its results
		// changed or vanished since (Status): what its folder holds can
		// no longer be trusted, so it starts over, and so does the next
		// start until one succeeds.
		rec.Restart = kind != StepReduce && (prev.State == StateDone || prev.Restart)
		if kind == StepReduce {
			rec.Attempt, rec.Started, rec.Seconds, rec.CPUSeconds = prev.Attempt, prev.Started, prev.Seconds, prev.CPUSeconds
		}
	}
	if err := s.writeState(id, rec); err != nil {
		return fmt.Errorf("job %s: %w", id, err)
	}
	fmt.Fprintf(logf, "=== %s %s attempt %d on %s (pid %d%s), %d threads\n", time.Now().UTC().Format(time.RFC3339), map[string]string{"": "job", StepTrain: "training", StepReduce: "reduction"}[kind],
		rec.Attempt, rec.Host, rec.PID, slurmNote(rec.Slurm), j.Threads)
	if rec.Restart {
		fmt.Fprintf(logf, "=== the job starts over from scratch (reset, or its %s changed after it was done)\n", ResultsFile)
	}
	t0 := time.Now()
	runErr := s.execute(ctx, j, kind, rec.Restart, exec, logf)
	if rec.Restart && s.ownedSince(j, rec.Started) {
		// The start over cleared the run folder (its owner file is this
		// start's): it is over, whatever happened next. The next start
		// resumes the new training instead of throwing it away again; a
		// training longer than Slurm's time limit would never end.
		rec.Restart = false
	}
	rec.Ended = time.Now().UTC()
	rec.Seconds += time.Since(t0).Seconds()
	rec.CPUSeconds += cpuSeconds() - cpu0
	rec.Load[1] = loadAverage()
	switch {
	case runErr == nil && kind == StepTrain:
		rec.State = StateAnalysing
	case runErr == nil:
		if rec.ResultsSHA256, runErr = fileSHA256(s.ResultsPath(j)); runErr != nil {
			runErr = fmt.Errorf("the run left no readable %s: %w", ResultsFile, runErr)
		} else {
			rel, _ := filepath.Rel(s.JobDir(id), s.ResultsPath(j))
			rec.State, rec.Results = StateDone, filepath.ToSlash(rel)
		}
	}
	if runErr == nil && kind == StepReduce {
		// The shard steps ran in processes of their own, which record
		// no state: their time is the job's too.
		sec, cpu := s.shardSeconds(j)
		rec.Seconds, rec.CPUSeconds = rec.Seconds+sec, rec.CPUSeconds+cpu
	}
	if runErr == nil {
		rec.Restart = false // the folder is the new start's
	} else {
		// awd.Run names its remedies in the library's terms; a sweep's job
		// has no folder of its own choosing, reads the config's data_dir
		// and starts over with awd sweep reset.
		reset := fmt.Sprintf("`awd sweep reset %s %s`", ShellWord(s.Dir), id)
		runErr = awd.SayRemedy(runErr, func(r awd.Remedy) string {
			switch r {
			case awd.SameData:
				return "set the config's data_dir to the folder of the run's data, or run " + reset + " to start the job over"
			case awd.SameSettings:
				return "give the job its settings back in the config (a sharded job's training has no analyses, an unsharded job's run has them), or run " + reset + " to start the job over"
			case awd.Wait:
				return "wait for it to end, then start the sweep again (it retries the failed jobs)"
			}
			return "run " + reset + " to start the job over"
		})
	}
	if runErr != nil {
		rec.State, rec.Error = StateFailed, runErr.Error()
		if errors.As(runErr, new(*reduceError)) {
			// Trained, its shards saved: it stays analysing with the
			// error, so that status shows it failed, every collect
			// retries the reduction and names the job until it
			// succeeds, and a submission runs only its shards again.
			// (A start over is done already: its training cleared the
			// run folder, see ownedSince above.)
			rec.State = StateAnalysing
		}
		if ctx.Err() != nil {
			// Stopped (Ctrl-C, or Slurm's SIGTERM at the time limit),
			// not failed: the next start resumes it. A stopped reduction
			// leaves the job trained, its shards kept.
			rec.State, rec.Error = StateInterrupted, ""
			if kind == StepReduce {
				rec.State = StateAnalysing
			}
		}
	}
	if err := s.writeState(id, rec); err != nil && runErr == nil {
		runErr = err
	}
	end := map[bool]string{true: rec.State, false: "failed"}[runErr == nil]
	if runErr != nil && rec.State != StateFailed {
		end = "stopped"
	}
	fmt.Fprintf(logf, "=== %s %s after %.1fs%s\n", rec.Ended.Format(time.RFC3339), end, time.Since(t0).Seconds(), errNote(runErr))
	if runErr != nil {
		return fmt.Errorf("job %s: %w", id, runErr)
	}
	return nil
}

// ownedSince reports whether job j's run folder has an owner file created
// at or after t: a fresh start of awd.Run since t cleared the folder.
func (s *Sweep) ownedSince(j *Job, t time.Time) bool {
	b, err := os.ReadFile(filepath.Join(s.RunDir(j.ID), awd.OwnerFile))
	if err != nil {
		return false
	}
	var o awd.Owner
	return json.Unmarshal(b, &o) == nil && !o.Created.Before(t)
}

// reduceError is the error of a sharded job's reduction.
type reduceError struct{ err error }

func (e *reduceError) Error() string { return e.err.Error() }
func (e *reduceError) Unwrap() error { return e.err }

// Reset marks job id so that its next start runs it from scratch (its run
// folder cleared as --fresh would), the remedy for a job whose checkpoints
// or results are damaged: a done job is done no more. It removes the job's
// results at once, of every shard count (removeResults), so that nothing
// reads them in the meantime, and until the job's training ran again its
// shard steps refuse to analyse the checkpoints it keeps (checkTrained).
// It refuses a job that Status calls
// running (its lock held here, or the record of another host that says
// so and that Slurm does not contradict), or one of whose shards' locks
// another process holds, and a job that never started (ErrNeverStarted).
func (s *Sweep) Reset(id string) error { return s.reset(id, false) }

// ResetStale is Reset for a job whose record says it runs in a process of
// another host that is gone (a node that crashed outside Slurm, whose
// record nothing else can clear): that record does not stop it. A lock
// held on this file system still does.
func (s *Sweep) ResetStale(id string) error { return s.reset(id, true) }

func (s *Sweep) reset(id string, stale bool) error {
	j, err := s.Job(id)
	if err != nil {
		return err
	}
	// Before the job's lock is taken here: Status would see it held.
	if st := s.Status(j); st.State == StateRunning && !stale {
		return fmt.Errorf("job %s: %w (%s); stop it before resetting it (a record of a host that is gone: awd sweep reset --stale)", id, ErrJobRunning, cmpOr(st.Detail, "its lock is held"))
	}
	lk, err := lock(filepath.Join(s.JobDir(id), lockFile))
	if errors.Is(err, errLocked) {
		return fmt.Errorf("job %s: %w; stop it before resetting it", id, ErrJobRunning)
	}
	if err != nil {
		return fmt.Errorf("job %s: %w", id, err)
	}
	defer lk.Close()
	for i := 1; i <= j.Shards; i++ {
		if locked(filepath.Join(s.JobDir(id), shardLock(i))) {
			return fmt.Errorf("job %s: shard %d/%d is running in another process; stop it before resetting the job", id, i, j.Shards)
		}
	}
	rec, err := s.readState(id)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("job %s: %w; nothing to reset", id, ErrNeverStarted)
	}
	if err != nil {
		rec = &JobState{Threads: j.Threads} // state.json damaged: replaced
	}
	rec.State, rec.Error, rec.Restart, rec.ResetAt = StateInterrupted, "", true, time.Now().UTC()
	if err := s.writeState(id, rec); err != nil {
		return fmt.Errorf("job %s: %w", id, err)
	}
	// After the record: a shard step that starts now is refused.
	if err := s.removeResults(j); err != nil {
		return fmt.Errorf("job %s: reset, but its results are not all removed: %w", id, err)
	}
	s.note(id, io.Discard, "reset: the next start runs the job from scratch")
	return nil
}

// execute runs the whole job (a sharded one: training, every shard,
// reduction), or a sharded job's training or reduction. With fresh the job
// starts over: its results of every shard count (removeResults) and its
// run folder (awd.Run's fresh start).
func (s *Sweep) execute(ctx context.Context, j *Job, kind string, fresh bool, exec Executor, log io.Writer) error {
	if err := os.MkdirAll(s.RunDir(j.ID), 0o755); err != nil {
		return err
	}
	if fresh && kind != StepReduce {
		if err := s.removeResults(j); err != nil {
			return err
		}
	}
	if j.Shards <= 1 {
		return runProtected(ctx, exec, j, s.RunDir(j.ID), fresh, log)
	}
	if kind != StepReduce {
		// Shard steps that failed, or ran, before this training are
		// stale: their shards run again after it.
		for _, pat := range []string{"shard_*_of_*.failed", "shard_*_of_*.time"} {
			if old, err := filepath.Glob(filepath.Join(s.JobDir(j.ID), shardsDir, pat)); err == nil {
				for _, f := range old {
					os.Remove(f)
				}
			}
		}
		jt := *j
		jt.Spec = j.trainOnly()
		if err := runProtected(ctx, exec, &jt, s.RunDir(j.ID), fresh, log); err != nil {
			return err
		}
		if kind == StepTrain {
			return nil
		}
		for i := 1; i <= j.Shards; i++ {
			if err := s.runShard(ctx, j, i, j.Shards, false, log); err != nil {
				return fmt.Errorf("shard %d/%d: %w", i, j.Shards, err)
			}
		}
	}
	if err := s.reduce(ctx, j, log); err != nil {
		return &reduceError{err}
	}
	return nil
}

// ReduceReady reduces the trained sharded jobs whose shards are all saved
// (the Slurm collect job does this before it writes the tables), a
// reduction that failed before among them, and returns an error naming
// each job whose results are missing: its reduction failed; it could not
// be reduced because a shard step failed, was stopped by a signal or has
// not saved its shard; it was recorded done and its results file is gone
// or changed since; or it is not done at all (never started, running,
// failed, interrupted or reset), or its job.json is missing or damaged
// (Sweep.Unreadable, of OpenForStatus: the error names the file and what
// writes it anew, as for a state.json that does not read). A collect thus
// fails for as long as such a job is not mended, not only the first time.
func ReduceReady(ctx context.Context, s *Sweep) []error {
	var errs []error
	for _, st := range s.allStatuses() {
		j, rec := st.Job, st.Record
		switch {
		case rec == nil && st.State == StateRunning:
			errs = append(errs, fmt.Errorf("job %s: %s: %s", j.ID, st.State, cmpOr(firstLine(st.Detail), "another process holds its lock")))
			continue
		case rec == nil && st.State == StatePending:
			errs = append(errs, fmt.Errorf("job %s: not run yet", j.ID))
			continue
		case rec == nil: // a job.json or state file that does not read: as status says
			errs = append(errs, fmt.Errorf("job %s: %s: %s", j.ID, st.State, firstLine(st.Detail)))
			continue
		case rec.State == StateDone && st.State != StateDone:
			errs = append(errs, fmt.Errorf("job %s: no results: %s", j.ID, firstLine(st.Detail)))
			continue
		case rec.State != StateAnalysing:
			if st.State != StateDone {
				errs = append(errs, fmt.Errorf("job %s: %s: %s", j.ID, st.State, cmpOr(firstLine(st.Detail), "no results")))
			}
			continue
		case st.State == StateRunning:
			errs = append(errs, fmt.Errorf("job %s: not reduced: another process holds its lock (%s)", j.ID, cmpOr(st.Detail, "its reduction runs")))
			continue
		}
		if fails, stopped := s.shardFailures(j); len(fails)+len(stopped) > 0 {
			errs = append(errs, fmt.Errorf("job %s: not reduced: %s", j.ID, firstLine(st.Detail)))
			continue
		}
		if missing := s.missingShard(j); missing != "" {
			errs = append(errs, fmt.Errorf("job %s: not reduced: %s", j.ID, missing))
			continue
		}
		if err := RunStep(ctx, s, j.ID, StepReduce, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Commit names the commit the binary was built from when the build has no
// VCS stamp (a worktree, -buildvcs=false): set it with
// -ldflags "-X github.com/awd-toolkit/awd/sweep.Commit=$(git rev-parse HEAD)".
var Commit string

// BuildCommit is the VCS commit the running binary was built from, with
// "-dirty" when the tree had local changes, or Commit, or "unknown".
func BuildCommit() string {
	if rev := awd.VCSRevision(); rev != "" {
		return rev
	}
	if Commit != "" {
		return Commit
	}
	return "unknown"
}

// runProtected turns a panic of the executor into an error, so that the
// job is recorded as failed with the reason.
func runProtected(ctx context.Context, exec Executor, j *Job, dir string, fresh bool, log io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return exec(ctx, j, dir, fresh, log)
}

func slurmTaskID() string {
	if a, t := os.Getenv("SLURM_ARRAY_JOB_ID"), os.Getenv("SLURM_ARRAY_TASK_ID"); a != "" && t != "" {
		return a + "_" + t
	}
	return os.Getenv("SLURM_JOB_ID")
}

func slurmNote(id string) string {
	if id == "" {
		return ""
	}
	return ", Slurm " + id
}

func errNote(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}
