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
// A job is a number of chunks that the members claim one at a time, the
// caller included, so a member that the operating system has descheduled
// (other processes on the machine) delays a job by at most the chunk it
// holds: the others take the rest. Which member runs a chunk must not
// change the result; the callers give every chunk its own output.
//
// Spinning only pays while the team has the processors to itself, so it is
// bounded: a worker that has waited spinWait for a job, and a caller that
// has waited spinWait for the last chunks, block instead (the next job pays
// the wake-up). Spinners yield (runtime.Gosched) to other goroutines. The
// team must be closed.
type team struct {
	n        int
	gen      atomic.Uint64 // job generation; a new job increments it
	job      atomic.Pointer[teamJob]
	stop     atomic.Bool
	sleepers atomic.Int64 // workers blocked in cond
	mu       sync.Mutex
	cond     sync.Cond
	wg       sync.WaitGroup
}

// teamJob is one run: chunks 0..n-1 of f.
type teamJob struct {
	n       int64
	f       func(chunk int)
	next    atomic.Int64 // next unclaimed chunk
	left    atomic.Int64 // chunks not finished
	waiting atomic.Bool  // the caller is blocked in cond
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
		go t.worker()
	}
	return t
}

func (t *team) worker() {
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
		t.work(t.job.Load())
	}
}

// work claims and runs chunks of j until none is left.
func (t *team) work(j *teamJob) {
	for {
		c := j.next.Add(1) - 1
		if c >= j.n {
			return
		}
		j.f(int(c))
		if j.left.Add(-1) == 0 && j.waiting.Load() {
			t.mu.Lock()
			t.cond.Broadcast()
			t.mu.Unlock()
		}
	}
}

// run calls f(c) for every chunk c in [0, chunks), spread over the members,
// and returns when all have returned. Not for concurrent use.
func (t *team) run(chunks int, f func(chunk int)) {
	if t.n == 1 || chunks <= 1 {
		for c := 0; c < chunks; c++ {
			f(c)
		}
		return
	}
	j := &teamJob{n: int64(chunks), f: f}
	j.left.Store(int64(chunks))
	t.job.Store(j)
	t.gen.Add(1)
	if t.sleepers.Load() > 0 {
		t.mu.Lock()
		t.cond.Broadcast()
		t.mu.Unlock()
	}
	t.work(j)
	t0 := time.Now()
	for j.left.Load() != 0 && time.Since(t0) < spinWait {
		runtime.Gosched()
	}
	if j.left.Load() != 0 {
		t.mu.Lock()
		j.waiting.Store(true)
		for j.left.Load() != 0 {
			t.cond.Wait()
		}
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
