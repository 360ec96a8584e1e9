package awd

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
)

// panickyProgress panics in Add once a stage whose name starts with at
// has begun, and counts calls that overlap.
type panickyProgress struct {
	at       string
	stage    string
	inside   atomic.Int32
	overlaps atomic.Int32
}

func (p *panickyProgress) enter() func() {
	if p.inside.Add(1) > 1 {
		p.overlaps.Add(1)
	}
	return func() { p.inside.Add(-1) }
}

func (p *panickyProgress) Start(stage string, total int) {
	defer p.enter()()
	p.stage = stage
}

func (p *panickyProgress) Add(n int) {
	defer p.enter()()
	if strings.HasPrefix(p.stage, p.at) {
		panic("bar broke in " + p.stage)
	}
}

func (p *panickyProgress) Finish() { defer p.enter()() }

// TestProgressPanics: a Progress that panics in any stage, on either path,
// makes the analysis return an error that names the method and the panic,
// and is then called no more. The statistics of a cancellable call run on
// a goroutine of their own, where the panic used to end the whole program,
// out of the caller's reach.
func TestProgressPanics(t *testing.T) {
	model, sub := trained(t, "ce", 3, 40, 6, 1, 2)
	for _, mf := range []bool{false, true} {
		for _, stage := range []string{"per-sample", "accumulate", "eigensolve", "statistics", "suppress"} {
			if mf && (stage == "accumulate" || stage == "suppress") {
				continue // the matrix-free path has neither
			}
			if !mf && stage == "per-sample" {
				continue
			}
			name := stage
			if mf {
				name += "/matrix-free"
			}
			t.Run(name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cfg := smallConfig("ce", 10, 10)
				cfg.MatrixFree = mf
				if !mf {
					cfg.Interventions = Interventions
				}
				p := &panickyProgress{at: stage}
				r, err := Analyze(ctx, model, sub, cfg, p)
				if err == nil || !strings.Contains(err.Error(), "Progress's Add panicked (bar broke in "+stage) {
					t.Fatalf("error %v, want one saying the Progress's Add panicked in %s", err, stage)
				}
				if r != nil {
					t.Error("a Result came back with the error")
				}
				if n := p.overlaps.Load(); n > 0 {
					t.Errorf("%d calls of the Progress overlapped", n)
				}
			})
		}
	}
}
