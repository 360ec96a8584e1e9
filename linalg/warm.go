package linalg

import (
	"sync"
	"time"
	"unsafe"

	"github.com/awd-toolkit/awd/internal/hugepage"
)

// The warm cache lends the solvers' large scratch buffers (tens to hundreds
// of megabytes for n in the thousands) and keeps them after their return,
// so that a run of calls reuses memory whose pages are mapped. A fresh
// buffer costs its page faults on first touch, measured here at about 3 ms
// per megabyte: a third of divide and conquer's time at n = 2500, paid or
// not depending on when the garbage collector last returned memory to the
// system. (A sync.Pool is emptied by every other collection, and these
// calls trigger several.) The contents of a lent buffer are arbitrary.
//
// How long the buffers are kept follows how long they were in use: twice
// the longest loan among the returns (warmKeep at least, warmKeepMax at
// most), counted from the last return. Calls that alternate with other
// work of about their own length (another solver, an epoch of training)
// then find their memory mapped, while the memory held idle is at most
// twice what the calls held while working. A fixed 2 s made every
// eigensolve of n = 2500 on one thread (2 s) fault in its 100 MB of
// buffers again after a reference solver's turn of the same length.
const (
	warmKeep    = 2 * time.Second
	warmKeepMax = time.Minute
	warmMax     = 8  // buffers kept at most
	warmLoans   = 16 // loans remembered (the newest) for their length
)

// warmSplitMin is the smallest rest (in numbers: 8 MiB) worth keeping when
// a buffer is lent for a smaller request; below it the whole buffer goes.
const warmSplitMin = 1 << 20

var warm struct {
	mu    sync.Mutex
	free  [][]float64
	timer *time.Timer
	until time.Time // when the kept buffers are dropped
	loans []loan    // the newest loans, oldest first
}

// loan records when a buffer was lent. The address is kept as a number so
// that a buffer its borrower keeps (a result handed to the caller) can be
// collected; its record ages out of loans.
type loan struct {
	p  uintptr
	at time.Time
}

// lend records the loan of b; warm.mu is held.
func lend(b []float64, now time.Time) {
	if len(b) == 0 {
		return
	}
	if len(warm.loans) == warmLoans {
		warm.loans = append(warm.loans[:0], warm.loans[1:]...)
	}
	warm.loans = append(warm.loans, loan{p: uintptr(unsafe.Pointer(&b[0])), at: now})
}

// keepFor is how long the cache keeps its buffers after the return of a
// buffer that was out for d (zero for one it did not lend).
func keepFor(d time.Duration) time.Duration {
	return min(max(warmKeep, 2*d), warmKeepMax)
}

// returned removes b's loan and says how long b was out (zero for a
// buffer the cache did not lend); warm.mu is held.
func returned(b []float64, now time.Time) time.Duration {
	p := uintptr(unsafe.Pointer(&b[:1][0]))
	for i := len(warm.loans) - 1; i >= 0; i-- {
		if warm.loans[i].p == p {
			at := warm.loans[i].at
			warm.loans = append(warm.loans[:i], warm.loans[i+1:]...)
			return now.Sub(at)
		}
	}
	return 0
}

// getWarm returns a buffer of length n: the smallest kept one that is
// large enough, or a new one.
func getWarm(n int) []float64 {
	b, _ := takeWarm(n)
	return b
}

// getWarmZero is getWarm for a buffer that must start zero: a kept one is
// cleared on every thread, a new one is zero already (the system clears
// fresh pages), and clearing it would fault in pages its user may never
// touch (divide and conquer leaves half of its n x n matrix zero).
func getWarmZero(n int) []float64 {
	b, fresh := takeWarm(n)
	if !fresh {
		parallelClear(b)
	}
	return b
}

// takeWarm is getWarm that also says whether the buffer is new.
func takeWarm(n int) (b []float64, fresh bool) {
	b, fresh = takeKept(n)
	if fresh {
		b = hugepage.Make[float64](n)
	}
	warm.mu.Lock()
	lend(b, time.Now())
	warm.mu.Unlock()
	return b, fresh
}

// takeKept lends the smallest kept buffer of length at least n, or says
// there is none (fresh).
func takeKept(n int) (b []float64, fresh bool) {
	warm.mu.Lock()
	best := -1
	for i, b := range warm.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(warm.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := warm.free[best]
		if cap(b)-n >= warmSplitMin {
			// Much larger than asked: lend the front, keep the back.
			warm.free[best] = b[n:cap(b):cap(b)]
			warm.mu.Unlock()
			return b[:n:n], false
		}
		last := len(warm.free) - 1
		warm.free[best] = warm.free[last]
		warm.free[last] = nil
		warm.free = warm.free[:last]
		warm.mu.Unlock()
		return b[:n], false
	}
	warm.mu.Unlock()
	return nil, true
}

// putWarm returns a buffer from getWarm to the cache (the smallest kept
// one makes room when it is full), which drops all its buffers keepFor
// the longest loan after the last return.
func putWarm(b []float64) {
	if cap(b) == 0 {
		return
	}
	warm.mu.Lock()
	defer warm.mu.Unlock()
	now := time.Now()
	if until := now.Add(keepFor(returned(b, now))); until.After(warm.until) {
		warm.until = until
	}
	if len(warm.free) == warmMax {
		small := 0
		for i, f := range warm.free {
			if cap(f) < cap(warm.free[small]) {
				small = i
			}
		}
		if cap(warm.free[small]) >= cap(b) {
			return
		}
		warm.free[small] = b
	} else {
		warm.free = append(warm.free, b)
	}
	if warm.timer == nil {
		warm.timer = time.AfterFunc(warm.until.Sub(now), dropWarm)
	} else {
		warm.timer.Reset(warm.until.Sub(now))
	}
}

func dropWarm() {
	warm.mu.Lock()
	clear(warm.free)
	warm.free = warm.free[:0]
	warm.until = time.Time{}
	warm.mu.Unlock()
}

// Scratch lends a buffer of n numbers from the warm cache, for work
// matrices that live no longer than a step (the statistics' d x k
// products, say): after the eigensolver has run, the cache holds its
// mapped buffers, and a fresh one would pay its page faults again. The
// contents are arbitrary: use it where every entry is written before it
// is read (a product with beta = 0). Give it back with Recycle.
func Scratch(n int) []float64 { return getWarm(n) }

// Recycle gives b to the warm cache, to be lent by Scratch or to the
// solvers, or dropped when the cache expires: twice the time a returned
// buffer was out after its return (at least 2 s, at most a minute), the
// latest such time over the returns. b is a buffer from Scratch, or any
// large buffer the caller has filled and will not touch again (the caller
// must hold no other reference to it).
func Recycle(b []float64) { putWarm(b) }

// DropScratch empties the warm cache now instead of when it expires (see
// Recycle): for a program about to need the memory for something else.
func DropScratch() { dropWarm() }

// touchMin is the size (in numbers: 8 MiB) from which clearing or copying
// a buffer is split over threads: on fresh memory the work is the page
// faults, which each thread takes for its own part.
const touchMin = 1 << 20

// inParts calls f on Threads() consecutive parts [i0, i1) of [0, n), in
// parallel when n is at least touchMin.
func inParts(n int, f func(i0, i1 int)) {
	p := Threads()
	if n < touchMin || p <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range p {
		wg.Go(func() { f(w*n/p, (w+1)*n/p) })
	}
	wg.Wait()
}

// parallelClear zeroes b, its parts in parallel when it is large.
func parallelClear(b []float64) {
	inParts(len(b), func(i0, i1 int) { clear(b[i0:i1]) })
}
