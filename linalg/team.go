package linalg

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// team is a fixed set of goroutines that spin between jobs, for the many
// short parallel steps of one long computation (the tridiagonal reduction
// runs thousands of symmetric products of a few hundred microseconds).
// Starting a goroutine per step costs the wake-up of an idle thread, which
// on this project's virtual machines takes 50-100 us, a third of a step;
// a spinning worker picks the next job up within a microsecond. Workers
// yield (runtime.Gosched) while they spin, but a yielding spinner is the
// first goroutine its processor picks again, so the caller parks the team
// (park) before work that starts goroutines of its own, such as Gemm's; the
// next run wakes it. The team must be closed.
type team struct {
	n      int
	gen    atomic.Uint64 // job generation; a new job increments it
	done   atomic.Int64  // workers that finished the current job
	stop   atomic.Bool
	parked atomic.Bool // workers block in cond instead of spinning
	mu     sync.Mutex
	cond   sync.Cond
	job    func(w int)
	wg     sync.WaitGroup
}

// startTeam starts a team of n members, the caller being member 0 (n-1
// goroutines); n <= 1 gives a team that runs every job on the caller.
func startTeam(n int) *team {
	t := &team{n: max(n, 1)}
	t.cond.L = &t.mu
	for w := 1; w < t.n; w++ {
		t.wg.Add(1)
		go t.worker(w)
	}
	return t
}

func (t *team) worker(w int) {
	defer t.wg.Done()
	var seen uint64
	for {
		g := t.gen.Load()
		for ; g == seen; g = t.gen.Load() {
			if t.stop.Load() {
				return
			}
			if t.parked.Load() {
				t.mu.Lock()
				for t.parked.Load() && !t.stop.Load() {
					t.cond.Wait()
				}
				t.mu.Unlock()
				continue
			}
			runtime.Gosched()
		}
		seen = g
		t.job(w)
		t.done.Add(1)
	}
}

// run calls f(w) for every member w, f(0) on the calling goroutine, and
// returns when all have returned. Not for concurrent use.
func (t *team) run(f func(w int)) {
	if t.n == 1 {
		f(0)
		return
	}
	if t.parked.Load() {
		t.mu.Lock()
		t.parked.Store(false)
		t.cond.Broadcast()
		t.mu.Unlock()
	}
	t.job = f
	t.done.Store(0)
	t.gen.Add(1)
	f(0)
	for t.done.Load() != int64(t.n-1) {
		runtime.Gosched()
	}
}

// park makes the workers block until the next run instead of spinning.
func (t *team) park() { t.parked.Store(true) }

// close stops the workers and waits for them.
func (t *team) close() {
	t.mu.Lock()
	t.stop.Store(true)
	t.cond.Broadcast()
	t.mu.Unlock()
	t.wg.Wait()
}
