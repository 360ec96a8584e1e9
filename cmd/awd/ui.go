package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/awd-toolkit/awd/awd"
)

// ui shows a command's progress on stderr: progress bars with an ETA for
// the long stages, only on a terminal (so that logs of redirected runs hold
// no carriage-return frames), and one line per notable event unless quiet.
type ui struct {
	w          io.Writer
	quiet      bool
	bars       bool
	epochLines bool // a line per training epoch (train, without bars)
	bar        *progressbar.ProgressBar
}

func newUI(w io.Writer, quiet bool) *ui {
	return &ui{w: w, quiet: quiet, bars: !quiet && isTerminal(w)}
}

// Start opens a bar for a stage of total steps (a spinner when it has no
// steps to count).
func (u *ui) Start(stage string, total int) {
	u.Finish()
	if !u.bars {
		return
	}
	if total <= 1 {
		total = -1
	}
	u.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(u.w), progressbar.OptionSetDescription(fmt.Sprintf("%-11s", stage)),
		progressbar.OptionSetWidth(30), progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish(), progressbar.OptionSetPredictTime(true))
}

func (u *ui) Add(n int) {
	if u.bar != nil {
		u.bar.Add(n)
	}
}

func (u *ui) Finish() {
	if u.bar != nil {
		u.bar.Finish()
		u.bar = nil
	}
}

// logf prints one line (clearing a bar first), quiet or not: these are
// the few events a log of the run must show (resuming, each analysis).
func (u *ui) logf(format string, args ...any) {
	if u.bar != nil {
		u.bar.Clear()
	}
	fmt.Fprintf(u.w, format+"\n", args...)
}

// epoch prints a training epoch when asked to.
func (u *ui) epoch(l awd.EpochLog) {
	if u.epochLines {
		fmt.Fprintf(u.w, "epoch %d: train loss %.6g acc %.4f, test loss %.6g acc %.4f, lr %.4g, %.1fs\n",
			l.Epoch, float64(l.TrainLoss), float64(l.TrainAcc), float64(l.TestLoss), float64(l.TestAcc), l.LR, l.Seconds)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// signalContext is cancelled by Ctrl-C or SIGTERM (what Slurm sends at the
// time limit), so a long stage stops within a second and the files already
// written stay valid and resumable. A command still running stopGrace
// after the signal, or at a second signal, exits at once (stopNow): a step
// that cannot see the cancellation (opening a FIFO or a file on a hung
// network mount blocks in the kernel) would otherwise outlive the signal,
// and Slurm's time limit with it.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
		case <-done:
			return
		}
		cancel()
		why := fmt.Sprintf("still running %v after the signal", stopGrace)
		select {
		case <-done:
			return
		case <-sig:
			why = "a second signal"
		case <-time.After(stopGrace):
		}
		stopNow(why)
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(sig)
			close(done)
			cancel()
		})
	}
}

// stopGrace is how long an interrupted command may take to stop before it
// exits anyway; every stage that sees the cancellation stops within about
// a second.
const stopGrace = 10 * time.Second

// stopNow ends an interrupted command that did not stop by itself. Every
// file awd writes is written atomically (a temporary file renamed into
// place; a killed writer's temporary files are removed by the next
// start), so the folder is left as a stop, or kill -9, leaves it.
func stopNow(why string) {
	fmt.Fprintf(os.Stderr, "awd: interrupted, exiting at once (%s); the output folder is consistent: the same command resumes it\n", why)
	os.Exit(1)
}
