package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
)

// Executor runs one job's Spec with dir as its run folder, writing its
// progress to log; it must leave dir/results.json when it succeeds and be
// resumable from what it left in dir when it was killed. RunJob's executor
// in the CLI is awd.Run.
type Executor func(ctx context.Context, j *Job, dir string, log io.Writer) error

var errLocked = errors.New("locked")

// ErrJobRunning is returned by RunJob when another process runs the job.
var ErrJobRunning = errors.New("job is running in another process")

// RunJob runs job id of the sweep in this process, as the local pool's
// workers and the Slurm array tasks do: it takes the job's lock, returns at
// once when the job is done, sets GOMAXPROCS and the linear-algebra threads
// to the job's thread count, records the state (running, then done with the
// results' checksum, or failed with the error) and appends the executor's
// output to the job's log. The returned error is the executor's.
func RunJob(ctx context.Context, s *Sweep, id string, exec Executor) (err error) {
	j, err := s.Job(id)
	if err != nil {
		return err
	}
	dir := s.JobDir(id)
	lk, err := lock(filepath.Join(dir, lockFile))
	if errors.Is(err, errLocked) {
		rec, _ := s.readState(id)
		if rec != nil {
			return fmt.Errorf("job %s: %w (process %d on %s)", id, ErrJobRunning, rec.PID, rec.Host)
		}
		return fmt.Errorf("job %s: %w", id, ErrJobRunning)
	}
	if err != nil {
		return fmt.Errorf("job %s: %w", id, err)
	}
	defer lk.Close()
	if st := s.Status(j); st.State == StateDone {
		return nil
	}
	logf, err := os.OpenFile(filepath.Join(dir, logFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("job %s: log: %w", id, err)
	}
	defer logf.Close()

	runtime.GOMAXPROCS(j.Threads)
	linalg.SetThreads(j.Threads)
	host, _ := os.Hostname()
	rec := &JobState{State: StateRunning, Host: host, PID: os.Getpid(), Slurm: slurmTaskID(), Node: os.Getenv("SLURMD_NODENAME"),
		Threads: j.Threads, Build: BuildCommit(), Go: runtime.Version(), CPU: kernels.CPUName(), Kernels: kernels.Current().String(),
		Attempt: 1, Started: time.Now().UTC()}
	if prev, err := s.readState(id); err == nil {
		rec.Attempt = prev.Attempt + 1
	}
	if err := s.writeState(id, rec); err != nil {
		return fmt.Errorf("job %s: %w", id, err)
	}
	fmt.Fprintf(logf, "=== %s attempt %d on %s (pid %d%s), %d threads\n", rec.Started.Format(time.RFC3339), rec.Attempt, host, rec.PID, slurmNote(rec.Slurm), j.Threads)

	runErr := os.MkdirAll(s.RunDir(id), 0o755)
	if runErr == nil {
		runErr = runProtected(ctx, exec, j, s.RunDir(id), logf)
	}
	rec.Ended = time.Now().UTC()
	rec.Seconds = rec.Ended.Sub(rec.Started).Seconds()
	if runErr == nil {
		rec.ResultsSHA256, runErr = fileSHA256(s.ResultsPath(id))
		if runErr != nil {
			runErr = fmt.Errorf("the run left no readable %s: %w", ResultsFile, runErr)
		}
	}
	if runErr != nil {
		rec.State, rec.Error = StateFailed, runErr.Error()
		if ctx.Err() != nil {
			// Stopped, not failed: the next start resumes it.
			rec.State, rec.Error = StateRunning, ""
		}
	} else {
		rec.State = StateDone
	}
	if err := s.writeState(id, rec); err != nil && runErr == nil {
		runErr = err
	}
	fmt.Fprintf(logf, "=== %s %s after %.1fs%s\n", rec.Ended.Format(time.RFC3339), map[bool]string{true: "done", false: "failed"}[runErr == nil], rec.Seconds, errNote(runErr))
	if runErr != nil {
		return fmt.Errorf("job %s: %w", id, runErr)
	}
	return nil
}

// BuildCommit is the VCS commit the running binary was built from, with
// "-dirty" when the tree had local changes, or "unknown" (go run, tests).
func BuildCommit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// runProtected turns a panic of the executor into an error, so that the
// job is recorded as failed with the reason.
func runProtected(ctx context.Context, exec Executor, j *Job, dir string, log io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return exec(ctx, j, dir, log)
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
