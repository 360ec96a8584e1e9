package awd

import (
	"context"
	"fmt"
	"sync"
)

// Progress receives the progress of the long stages (per-sample pass and
// accumulation, eigensolve, statistics, suppression). awd knows nothing of
// terminals: the CLI implements it with progress bars, tests pass nil.
//
// The library calls its methods one at a time (never concurrently, though
// possibly from different goroutines) and none after the call it was given
// to has returned, so an implementation needs no locking of its own. A
// panic in a method stops that call: it returns an error that names the
// method and the panic's value, and the Progress is not called again.
type Progress interface {
	// Start begins a stage of total steps.
	Start(stage string, total int)
	// Add reports n more steps done.
	Add(n int)
	// Finish ends the current stage.
	Finish()
}

type nopProgress struct{}

func (nopProgress) Start(string, int) {}
func (nopProgress) Add(int)           {}
func (nopProgress) Finish()           {}

func orNop(p Progress) Progress {
	if p == nil {
		return nopProgress{}
	}
	return p
}

// guardedProgress stands between awd and a caller's Progress for one call
// of the library. It hands the caller's methods one call at a time, and
// none after the library call has returned (a cancelled eigensolve or
// statistics step finishes in the background). A panic in them, which on
// one of awd's goroutines would end the whole program beyond the caller's
// recover, is caught instead: it cancels the call's context with an error
// that says so, and the Progress is not called again.
type guardedProgress struct {
	mu     sync.Mutex
	p      Progress
	err    error // the panic, once there was one
	closed bool  // the library call returned
	cancel context.CancelCauseFunc
}

// guardProgress wraps prog for a library call: the returned context is
// cancelled if prog panics, and stop, deferred by the caller with the
// call's error, ends the guard and returns the panic's error in place of
// err when there was one. A nil prog, or one already guarded by an outer
// call, is returned as it is (nil as a no-op) with ctx unchanged.
func guardProgress(ctx context.Context, prog Progress) (context.Context, Progress, func(err error) error) {
	if prog == nil {
		return ctx, nopProgress{}, func(err error) error { return err }
	}
	if _, ok := prog.(*guardedProgress); ok {
		return ctx, prog, func(err error) error { return err }
	}
	ctx, cancel := context.WithCancelCause(ctx)
	g := &guardedProgress{p: prog, cancel: cancel}
	stop := func(err error) error {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.closed = true
		cancel(nil)
		if g.err != nil {
			return g.err
		}
		return err
	}
	return ctx, g, stop
}

func (g *guardedProgress) call(method string, f func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil || g.closed {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			g.err = fmt.Errorf("progress: the Progress's %s panicked (%v), so awd stopped: fix the Progress, or pass nil for none", method, v)
			g.cancel(g.err)
		}
	}()
	f()
}

func (g *guardedProgress) Start(stage string, total int) {
	g.call("Start", func() { g.p.Start(stage, total) })
}

func (g *guardedProgress) Add(n int) { g.call("Add", func() { g.p.Add(n) }) }

func (g *guardedProgress) Finish() { g.call("Finish", g.p.Finish) }
