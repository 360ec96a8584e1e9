package sweep

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// LocalOptions configures Run.
type LocalOptions struct {
	Workers int // jobs at a time (at least 1)
	// Command returns the process that runs one job (`awd sweep run-job DIR
	// ID`); the pool starts it, waits for it, and reads the job's state.
	Command func(j *Job) *exec.Cmd
	Out     io.Writer // progress lines; nil discards them
}

// Summary is what Run did.
type Summary struct {
	Done    int // finished in this run
	Skipped int // already done before
	Failed  []Status
	// Interrupted are the jobs whose process was stopped by a signal (or
	// killed) that this Run did not send: they resume on the next Run.
	Interrupted []Status
	Elsewhere   []Status // running in another process (its lock is held)
	Seconds     float64
}

// Run runs every job of the sweep that is not done, at most Workers at a
// time, each in its own process (so that each has its own thread count),
// skipping jobs that are done or that another process runs. A job that was
// interrupted resumes from what its process left. Progress goes to
// opt.Out: one line per started and finished job with the counts and an
// estimate of the time left, from the seconds per unit of Cost of the jobs
// finished so far. Cancelling ctx stops the workers' processes (their jobs
// resume on the next Run).
func Run(ctx context.Context, s *Sweep, opt LocalOptions) (*Summary, error) {
	out := opt.Out
	if out == nil {
		out = io.Discard
	}
	workers := max(1, opt.Workers)
	sum := &Summary{}
	var todo []*Job
	for _, st := range s.Statuses() {
		switch st.State {
		case StateDone:
			sum.Skipped++
		case StateRunning:
			sum.Elsewhere = append(sum.Elsewhere, st)
		default:
			todo = append(todo, st.Job)
		}
	}
	total := len(s.Jobs)
	fmt.Fprintf(out, "sweep %s: %d jobs, %d done, %d running elsewhere, %d to run with %d workers\n",
		s.Manifest.Name, total, sum.Skipped, len(sum.Elsewhere), len(todo), workers)
	if len(todo) == 0 {
		return sum, nil
	}

	var mu sync.Mutex
	eta := newETA(todo, workers)
	t0 := time.Now()
	started := 0
	report := func(format string, a ...any) {
		fmt.Fprintf(out, "[%d/%d done, %d failed, %s elapsed%s] %s\n", sum.Skipped+sum.Done, total, len(sum.Failed),
			fmtDuration(time.Since(t0)), eta.String(), fmt.Sprintf(format, a...))
	}
	queue := make(chan *Job)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				mu.Lock()
				started++
				report("start %s (%d of %d in this run)", j.ID, started, len(todo))
				mu.Unlock()
				tj := time.Now()
				err := runCmd(ctx, opt.Command(j))
				st := s.Status(j)
				mu.Lock()
				switch {
				case st.State == StateDone:
					sum.Done++
					eta.finished(j, time.Since(tj))
					report("done  %s (%s)", j.ID, fmtDuration(time.Since(tj)))
				case ctx.Err() != nil:
					report("stopped %s: it resumes on the next run", j.ID)
				default:
					if st.State == StateRunning && st.Detail == "" {
						// The job's lock is held: another sweep (or a
						// Slurm task) runs it, and its process said so
						// only by its exit status.
						st.Detail = "running in another process, which holds the job's lock"
					}
					if st.Detail == "" && err != nil {
						st.Detail = err.Error()
					}
					switch st.State {
					case StateRunning:
						sum.Elsewhere = append(sum.Elsewhere, st)
						report("skip  %s: %s", j.ID, st.Detail)
					case StateInterrupted:
						// Its process was stopped by a signal of
						// someone else's: as status says, not failed.
						sum.Interrupted = append(sum.Interrupted, st)
						eta.finished(j, time.Since(tj))
						report("interrupted %s: %s (log %s)", j.ID, firstLine(st.Detail), st.Log)
					default:
						sum.Failed = append(sum.Failed, st)
						eta.finished(j, time.Since(tj))
						report("FAILED %s: %s (log %s)", j.ID, firstLine(st.Detail), st.Log)
					}
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, j := range todo {
		select {
		case queue <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(queue)
	wg.Wait()
	sum.Seconds = time.Since(t0).Seconds()
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("sweep stopped: %w (start it again to resume)", err)
	}
	return sum, nil
}

// runCmd runs cmd; when ctx ends it interrupts the process (a job stops
// within a second and stays resumable) and kills it 30 s later.
func runCmd(ctx context.Context, cmd *exec.Cmd) error {
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
			}
		case <-done:
		}
	}()
	err := cmd.Wait()
	close(done)
	return err
}

// Cost estimates a job's work, in arbitrary units, from its size: training
// epochs times samples (a CNN sample costs ~40 MLP samples) plus the
// analyses, N d^2 each.
func Cost(j *Job) float64 {
	n := float64(j.Spec.Data.PerClass * j.K())
	per := 1.0
	if j.Spec.Model.Kind == "cnn" {
		per = 40
	}
	d := 2500.0
	return n*float64(j.Spec.Train.Epochs)*per + float64(len(j.Spec.AnalyzeAt))*n*d*d/2e5
}

// eta estimates the time left from the jobs finished so far.
type eta struct {
	workers        int
	left, costDone float64
	busy           time.Duration
}

func newETA(todo []*Job, workers int) *eta {
	e := &eta{workers: workers}
	for _, j := range todo {
		e.left += Cost(j)
	}
	return e
}

func (e *eta) finished(j *Job, d time.Duration) {
	c := Cost(j)
	e.left -= c
	e.costDone += c
	e.busy += d
}

func (e *eta) String() string {
	if e.costDone == 0 || e.left <= 0 {
		return ""
	}
	sec := e.busy.Seconds() / e.costDone * e.left / float64(e.workers)
	return ", about " + fmtDuration(time.Duration(sec*float64(time.Second))) + " left"
}

func fmtDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%dh%02dm", h, m)
	}
	if m > 0 {
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i] + " ..."
		}
	}
	return s
}
