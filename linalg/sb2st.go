package linalg

import (
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/awd-toolkit/awd/kernels"
)

// band is a symmetric n x n band matrix of half-bandwidth b with room for
// the bulges of dsb2st: column c of its lower triangle, A(c:c+ld, c), is
// stored contiguously at ab[c*ld:], ld = 2b. So A(r, c) = ab[c*(ld-1) + r]
// for c <= r < c+ld: with stride ld-1 the storage reads like a row-major
// matrix whose row c is the lower triangle's column c, and any block of
// the band is a Dense view (rows = columns of A) with that stride.
type band struct {
	n, b, ld int
	ab       []float64
}

// newBand returns a zero band matrix; its storage comes from the warm
// cache (release returns it).
func newBand(n, b int) band {
	ab := getWarm(n * 2 * b)
	clear(ab)
	return band{n: n, b: b, ld: 2 * b, ab: ab}
}

func (s band) release() { putWarm(s.ab) }

// cols returns the columns c0..c0+rows-1 of A, rows r0..r0+cols-1 of each,
// as the rows of a Dense (the entries must lie in the stored band).
func (s band) cols(c0, rows, r0, cols int) Dense {
	l := s.ld - 1
	off := c0*l + r0
	return Dense{Rows: rows, Cols: cols, Stride: l, Data: s.ab[off : off+(rows-1)*l+cols]}
}

// dsb2st reduces the band matrix to symmetric tridiagonal form (LAPACK's
// DSYTRD_SB2ST without vectors; the bulge-chasing of Lang and of Haidar,
// Ltaief and Dongarra) and returns its diagonal d and off-diagonal e.
//
// Sweep i annihilates A(i+2:i+b+1, i) with a reflector H of length b, which
// applied from both sides to the diagonal block D = A(i+1:i+b+1, i+1:i+b+1)
// and from the right to the block B below it fills B (the bulge, up to 2b-1
// below the diagonal). The next reflector annihilates B's first column
// below its first entry; applied from the left to B's other columns, from
// both sides to the next diagonal block and from the right to the block
// below that, it moves the bulge b rows down, and so on to the end of the
// matrix. The fill left in B's other columns is annihilated by the next
// sweeps. Each block step costs about 12 b^2 flops on data that fits in
// cache, and there are about n/b per sweep: 6 b n^2 flops in all. The
// band's storage goes back to the warm cache.
func dsb2st(s band) (d, e []float64) {
	n := s.n
	tm := startTeam(min(Threads(), 8))
	defer tm.close()
	sweepsInParallel(tm, s)
	d = make([]float64, n)
	e = make([]float64, max(n-1, 0))
	for c := 0; c < n; c++ {
		d[c] = s.ab[c*s.ld]
		if c < n-1 {
			e[c] = s.ab[c*s.ld+1]
		}
	}
	s.release()
	return d, e
}

// Scheduling of the sweeps. Block step k of sweep i touches the columns
// i+1+(k-1)b .. i+(k+1)b of the band (and column i for k = 0), so it may
// run once sweep i-1 has finished its step k+2: the steps of sweep i-1
// that remain touch only columns beyond. Every entry then sees the same
// operations in the same order as when the sweeps run one after the other,
// so the result does not depend on the schedule.
//
// The members of the team form a pipeline over the band: with T members,
// member t runs the t-th of T equal parts of every sweep's steps, sweep
// after sweep, and hands the sweep's state to member t+1. So each member
// works on its own stretch of the band, which stays in its cache, and only
// the blocks at the hand-over points pass between processors. (Giving
// whole sweeps to alternate members instead moved every block between
// processors on each sweep and ran slower on two than on one.)
const sweepLag = 3

func sweepsInParallel(tm *team, s band) {
	nsweep := max(s.n-2, 0)
	if nsweep == 0 {
		return
	}
	stages := tm.n
	if nsweep < 4*sweepLag || s.n < 8*s.b {
		stages = 1
	}
	const finished = math.MaxInt32
	progress := make([]atomic.Int32, nsweep) // block steps done per sweep
	handed := make([]atomic.Int64, stages)   // sweeps handed to each stage
	state := make([]sweeper, nsweep)         // sweep positions at hand-over
	tm.run(stages, func(t int) {
		sw := newSweeper(s)
		for i := 0; i < nsweep; i++ {
			if t == 0 {
				sw.start(i)
			} else {
				awaitAtLeast64(&handed[t], int64(i+1))
				sw.i, sw.c, sw.p, sw.e, sw.done = state[i].i, state[i].c, state[i].p, state[i].e, state[i].done
			}
			steps := max((s.n-1-i+s.b-1)/s.b, 1)
			first, end := steps*t/stages, steps*(t+1)/stages
			for k := first; k < end && !sw.done; k++ {
				if i > 0 && stages > 1 {
					awaitAtLeast32(&progress[i-1], int32(k+sweepLag))
				}
				sw.step()
				if sw.done {
					progress[i].Store(finished)
				} else {
					progress[i].Store(int32(k + 1))
				}
			}
			if t+1 < stages {
				state[i].i, state[i].c, state[i].p, state[i].e, state[i].done = sw.i, sw.c, sw.p, sw.e, sw.done
				handed[t+1].Store(int64(i + 1))
			}
		}
	})
}

// awaitAtLeast32 and awaitAtLeast64 return once the counter reaches v. They
// spin (yielding to other goroutines) for up to spinWait, as the team's
// members do, and then sleep between looks: a member the operating system
// has descheduled in favour of another process must not have its partner
// spin away the processor it needs.
func awaitAtLeast32(c *atomic.Int32, v int32) {
	await(func() bool { return c.Load() >= v })
}

func awaitAtLeast64(c *atomic.Int64, v int64) {
	await(func() bool { return c.Load() >= v })
}

func await(ready func() bool) {
	if ready() {
		return
	}
	t0 := time.Now()
	for !ready() {
		if time.Since(t0) < spinWait {
			runtime.Gosched()
		} else {
			time.Sleep(awaitSleep)
		}
	}
}

// awaitSleep is the pause between looks once spinning has stopped paying.
const awaitSleep = 20 * time.Microsecond

// sweeper is one sweep of dsb2st, run a block step at a time.
type sweeper struct {
	s                band
	i, c, p, e       int
	done             bool
	v, w, u, scratch []float64
}

func newSweeper(s band) sweeper {
	b := s.b
	return sweeper{s: s, v: make([]float64, b), w: make([]float64, b), u: make([]float64, b), scratch: make([]float64, b)}
}

// start sets the sweeper to the beginning of sweep i.
func (sw *sweeper) start(i int) {
	// The column to annihilate: A(p:e, c), with the diagonal block D =
	// A(p:e, p:e) and the block below it, B = A(e:e2, p:e).
	sw.i, sw.c, sw.p, sw.e = i, i, i+1, min(i+1+sw.s.b, sw.s.n)
	sw.done = false
}

// step runs the sweep's next block step; done is set after the last.
func (sw *sweeper) step() {
	s, c, p, e := sw.s, sw.c, sw.p, sw.e
	h := s.cols(c, 1, p, e-p).Data
	beta, tau := dlarfg(h[0], h[1:])
	v := sw.v[:e-p]
	v[0] = 1
	copy(v[1:], h[1:])
	h[0] = beta
	clear(h[1:])
	if c != sw.i {
		// The reflector from B's first column, from the left to the
		// others: rows 1.. of the block below c's diagonal block.
		if bt := s.cols(c+1, p-c-1, p, e-p); tau != 0 && bt.Rows > 0 {
			t := sw.scratch[:bt.Rows]
			dotRows(t, bt.Data, bt.Stride, v, sw.u)
			kernels.Dscal(-tau, t)
			gerRows(bt.Data, bt.Stride, v, t)
		}
	}
	if tau != 0 {
		symTwoSided(s.cols(p, e-p, p, e-p), v, tau, sw.w)
	}
	e2 := min(e+s.b, s.n)
	if e2 == e {
		sw.done = true
		return
	}
	if tau != 0 {
		// B = B H: u = B v, B -= tau u v^T (B's columns are bt's rows).
		bt := s.cols(p, e-p, e, e2-e)
		uu := sw.u[:e2-e]
		clear(uu)
		axpyRows(uu, bt.Data, bt.Stride, v)
		t := sw.scratch[:len(v)]
		for q, vq := range v {
			t[q] = -tau * vq
		}
		gerRows(bt.Data, bt.Stride, uu, t)
	}
	sw.c, sw.p, sw.e = p, e, e2
}

// symTwoSided applies H = I - tau v v^T from both sides to the symmetric
// matrix whose upper triangle is stored in the rows of a: A = H A H, as
//
//	w = tau A v,  w -= (tau/2)(w.v) v,  A -= v w^T + w v^T,
//
// with w (at least len(v) long) as workspace. Cost about 4 m^2 flops.
func symTwoSided(a Dense, v []float64, tau float64, w []float64) {
	m := len(v)
	w = w[:m]
	clear(w)
	symvUpper(a, v, w)
	kernels.Dscal(tau, w)
	alpha := -0.5 * tau * kernels.Ddot(w, v)
	kernels.Daxpy(alpha, v, w)
	syr2Upper(a, v, w)
}

// syr2Upper computes A -= v w^T + w v^T on the upper triangle stored in the
// rows of a: each four rows' 4 x 4 triangle directly, the rectangle right
// of it in one pass (kernels.Dger4).
func syr2Upper(a Dense, v, w []float64) {
	m := len(v)
	r := 0
	for ; r+4 <= m; r += 4 {
		for k := 0; k < 4; k++ {
			row := a.Data[(r+k)*a.Stride:]
			for c := r + k; c < r+4; c++ {
				row[c] -= v[r+k]*w[c] + w[r+k]*v[c]
			}
		}
		if r+4 < m {
			cx := [4]float64{-v[r], -v[r+1], -v[r+2], -v[r+3]}
			cy := [4]float64{-w[r], -w[r+1], -w[r+2], -w[r+3]}
			kernels.Dger4(a.Data[r*a.Stride+r+4:], a.Stride, w[r+4:m], v[r+4:m], &cx, &cy)
		}
	}
	for ; r < m; r++ {
		rr := a.Data[r*a.Stride+r : r*a.Stride+m]
		kernels.Daxpy(-v[r], w[r:], rr)
		kernels.Daxpy(-w[r], v[r:], rr)
	}
}

// gerRows computes r[p*stride : p*stride+len(x)] += coef[p] x for every p,
// four rows per pass over x (kernels.Dger4).
func gerRows(r []float64, stride int, x, coef []float64) {
	n := len(x)
	p := 0
	for ; p+4 <= len(coef); p += 4 {
		c := [4]float64{coef[p], coef[p+1], coef[p+2], coef[p+3]}
		kernels.Dger4(r[p*stride:], stride, x, nil, &c, nil)
	}
	for ; p < len(coef); p++ {
		kernels.Daxpy(coef[p], x, r[p*stride:p*stride+n])
	}
}
