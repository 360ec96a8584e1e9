// Package bench measures awd's GEMM and SYRK against gonum's pure-Go BLAS
// and the machine's FMA peak, in one process, so that every figure is a
// ratio to a reference measured in the same run (this machine kind's speed
// drifts by 30% from hour to hour). `awd bench` and the Go benchmarks in
// this package share it. The cgo comparison with OpenBLAS lives in
// bench/openblas behind the openblas build tag.
//
// Flop counts: GEMM 2*m*n*k; SYRK of an N x d matrix (C = A^T A, d x d)
// N*d*(d+1), the entries of one triangle times 2N.
package bench

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
)

// UseThreads makes linalg and gonum (which splits its Dgemm over GOMAXPROCS)
// run on t goroutines, and returns a function that restores the previous
// settings.
func UseThreads(t int) (restore func()) {
	prevMax := runtime.GOMAXPROCS(t)
	prev := linalg.SetThreads(t)
	return func() {
		linalg.SetThreads(prev)
		runtime.GOMAXPROCS(prevMax)
	}
}

// Peak returns the FMA peak of the current kernel level on t goroutines in
// GFLOP/s: the best rate of kernels.PeakLoop run concurrently by t
// goroutines, over repetitions of about 2 ms each for about d in all. Short
// repetitions are rarely interrupted on a shared machine, so their best is
// the machine's rate rather than its share.
func Peak(t int, d time.Duration) float64 {
	const rep = 2 * time.Millisecond
	iters := 1 << 10
	for {
		start := time.Now()
		kernels.PeakLoop(iters)
		if el := time.Since(start); el > rep/4 || iters > 1<<40 {
			iters = max(int(float64(iters)*float64(rep)/float64(max(el, 1))), 1)
			break
		}
		iters *= 2
	}
	best := 0.0
	flops := make([]float64, t)
	for start := time.Now(); time.Since(start) < d; {
		var wg sync.WaitGroup
		t0 := time.Now()
		for g := range t {
			wg.Go(func() { flops[g] = kernels.PeakLoop(iters) })
		}
		wg.Wait()
		el := time.Since(t0).Seconds()
		var sum float64
		for _, f := range flops {
			sum += f
		}
		best = max(best, sum/el/1e9)
	}
	return best
}

// Rate returns the best rate in GFLOP/s of f, which performs flops
// floating-point operations, over repeated calls until d has passed (at
// least one call), after one warm-up call when warm is set. Best-of is the
// rule Peak uses too, so the fraction of peak compares like with like on a
// noisy shared machine.
func Rate(flops float64, d time.Duration, warm bool, f func()) float64 {
	if warm {
		f()
	}
	best := 0.0
	start := time.Now()
	for r := 0; r == 0 || time.Since(start) < d; r++ {
		t0 := time.Now()
		f()
		best = max(best, flops/time.Since(t0).Seconds()/1e9)
	}
	return best
}

// RatePair is Rate for two implementations of the same work, called in
// turn (a, b, a, b, ...) after one warm-up call of each, until about 2d has
// passed (at least one timed call each): a busy moment of a shared machine
// then slows both, not just the one that happened to run during it, so
// their ratio stays fair. It returns the best rate of each in GFLOP/s.
func RatePair(flops float64, d time.Duration, fa, fb func()) (ra, rb float64) {
	fa()
	fb()
	rate := func(f func()) float64 {
		t0 := time.Now()
		f()
		return flops / time.Since(t0).Seconds() / 1e9
	}
	start := time.Now()
	for r := 0; r == 0 || time.Since(start) < 2*d; r++ {
		ra = max(ra, rate(fa))
		rb = max(rb, rate(fb))
	}
	return ra, rb
}

// Rand returns an r x c matrix of uniform values in [-1, 1) from seed.
func Rand(r, c int, seed uint64) linalg.Dense {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	a := linalg.NewDense(r, c)
	for i := range a.Data {
		a.Data[i] = 2*rng.Float64() - 1
	}
	return a
}

// Rand32 is Rand in float32.
func Rand32(r, c int, seed uint64) linalg.Dense32 {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	a := linalg.NewDense32(r, c)
	for i := range a.Data {
		a.Data[i] = float32(2*rng.Float64() - 1)
	}
	return a
}

// GemmFlops is the flop count of an m x k by k x n product.
func GemmFlops(m, n, k int) float64 { return 2 * float64(m) * float64(n) * float64(k) }

// SyrkFlops is the flop count of A^T A's triangle for an N x d matrix A.
func SyrkFlops(N, d int) float64 { return float64(N) * float64(d) * float64(d+1) }

// Gemm holds the operands of an n x n x n product C = A B.
type Gemm struct {
	N       int
	A, B, C linalg.Dense
}

// NewGemm returns random n x n operands.
func NewGemm(n int) *Gemm {
	return &Gemm{N: n, A: Rand(n, n, 1), B: Rand(n, n, 2), C: linalg.NewDense(n, n)}
}

// Flops is the product's flop count.
func (g *Gemm) Flops() float64 { return GemmFlops(g.N, g.N, g.N) }

// Ours runs linalg.Gemm.
func (g *Gemm) Ours() { linalg.Gemm(false, false, 1, g.A, g.B, 0, g.C) }

// Gonum runs gonum's native Dgemm on the same operands.
func (g *Gemm) Gonum() {
	n := g.N
	gonum.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, g.A.Data, n, g.B.Data, n, 0, g.C.Data, n)
}

// Gemm32 holds the operands of an n x n x n float32 product.
type Gemm32 struct {
	N       int
	A, B, C linalg.Dense32
}

// NewGemm32 returns random n x n float32 operands.
func NewGemm32(n int) *Gemm32 {
	return &Gemm32{N: n, A: Rand32(n, n, 1), B: Rand32(n, n, 2), C: linalg.NewDense32(n, n)}
}

// Flops is the product's flop count.
func (g *Gemm32) Flops() float64 { return GemmFlops(g.N, g.N, g.N) }

// Ours runs linalg.Gemm32.
func (g *Gemm32) Ours() { linalg.Gemm32(false, false, 1, g.A, g.B, 0, g.C) }

// Gonum runs gonum's native Sgemm on the same operands.
func (g *Gemm32) Gonum() {
	n := g.N
	gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, g.A.Data, n, g.B.Data, n, 0, g.C.Data, n)
}

// Syrk holds the operands of C = A^T A for an N x d matrix A, the shape of
// awd's accumulation (N samples of d features).
type Syrk struct {
	N, D int
	A, C linalg.Dense
}

// NewSyrk returns a random N x d matrix and a d x d result.
func NewSyrk(N, d int) *Syrk {
	return &Syrk{N: N, D: d, A: Rand(N, d, 3), C: linalg.NewDense(d, d)}
}

// Flops is the update's flop count.
func (s *Syrk) Flops() float64 { return SyrkFlops(s.N, s.D) }

// Ours runs linalg.Syrk on the lower triangle.
func (s *Syrk) Ours() { linalg.Syrk(linalg.Lower, true, 1, s.A, 0, s.C, false) }

// Gonum runs gonum's native Dsyrk on the same operands.
func (s *Syrk) Gonum() {
	gonum.Implementation{}.Dsyrk(blas.Lower, blas.Trans, s.D, s.N, 1, s.A.Data, s.D, 0, s.C.Data, s.D)
}
