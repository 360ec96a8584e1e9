package linalg

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// team is a fixed set of goroutines that spin between jobs, for the many
// short parallel steps of one long computation (the tridiagonal reduction
// runs thousands of symmetric products of a few hundred microseconds).
// Starting a goroutine per step costs the wake-up of an idle thread, which
// on this project's virtual machines takes 50-100 us, a third of a step;
// a spinning worker picks the next job up within a microsecond.
//
// Spinning only pays while the team has the processors to itself, so it is
// bounded: a worker that has waited spinWait for a job, and a caller that
// has waited spinWait for the workers, block instead (and the next job
// pays the wake-up). Spinners yield (runtime.Gosched) to other goroutines.
// The team must be closed.
type team struct {
	n        int
	gen      atomic.Uint64 // job generation; a new job increments it
	done     atomic.Int64  // workers that finished the current job
	stop     atomic.Bool
	sleepers atomic.Int64 // workers blocked in cond
	waiting  atomic.Bool  // the caller is blocked in cond
	mu       sync.Mutex
	cond     sync.Cond
	job      func(w int)
	wg       sync.WaitGroup
}

// spinWait bounds the spinning of idle team members.
const spinWait = 100 * time.Microsecond

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
		t0 := time.Now()
		for t.gen.Load() == seen && !t.stop.Load() && time.Since(t0) < spinWait {
			runtime.Gosched()
		}
		if t.gen.Load() == seen && !t.stop.Load() {
			t.mu.Lock()
			t.sleepers.Add(1)
			for t.gen.Load() == seen && !t.stop.Load() {
				t.cond.Wait()
			}
			t.sleepers.Add(-1)
			t.mu.Unlock()
		}
		if t.stop.Load() {
			return
		}
		seen = t.gen.Load()
		t.job(w)
		if t.done.Add(1) == int64(t.n-1) && t.waiting.Load() {
			t.mu.Lock()
			t.cond.Broadcast()
			t.mu.Unlock()
		}
	}
}

// run calls f(w) for every member w, f(0) on the calling goroutine, and
// returns when all have returned. Not for concurrent use.
func (t *team) run(f func(w int)) {
	if t.n == 1 {
		f(0)
		return
	}
	t.job = f
	t.done.Store(0)
	t.gen.Add(1)
	if t.sleepers.Load() > 0 {
		t.mu.Lock()
		t.cond.Broadcast()
		t.mu.Unlock()
	}
	f(0)
	all := int64(t.n - 1)
	t0 := time.Now()
	for t.done.Load() != all && time.Since(t0) < spinWait {
		runtime.Gosched()
	}
	if t.done.Load() != all {
		t.mu.Lock()
		t.waiting.Store(true)
		for t.done.Load() != all {
			t.cond.Wait()
		}
		t.waiting.Store(false)
		t.mu.Unlock()
	}
}

// close stops the workers and waits for them.
func (t *team) close() {
	t.mu.Lock()
	t.stop.Store(true)
	t.cond.Broadcast()
	t.mu.Unlock()
	t.wg.Wait()
}
