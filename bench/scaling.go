package bench

import (
	"sync"
	"time"

	"github.com/awd-toolkit/awd/kernels"
)

// Amdahl's law, the scaling model of bench/README.md: a job whose serial
// part takes the fraction s of its one-thread time T1 runs on p threads in
// T1 (s + (1-s)/p) at best.

// SerialFraction returns the s that explains a one-thread time t1 and a
// p-thread time tp: from tp/t1 = s + (1-s)/p, s = (p tp/t1 - 1)/(p - 1),
// clamped to [0, 1].
func SerialFraction(t1, tp float64, p int) float64 {
	if p < 2 || t1 <= 0 {
		return 1
	}
	s := (float64(p)*tp/t1 - 1) / float64(p-1)
	return min(max(s, 0), 1)
}

// AmdahlSpeedup is the speed-up on q threads of a job with serial fraction
// s: 1/(s + (1-s)/q).
func AmdahlSpeedup(s float64, q int) float64 {
	return 1 / (s + (1-s)/float64(q))
}

// bandwidthLen is the length of each of a goroutine's two arrays: 2 x 32
// MiB, beyond every cache of the machines measured.
const bandwidthLen = 4 << 20

// Bandwidth returns the memory bandwidth in GB/s that t goroutines reach
// together, each running y += a x (kernels.Daxpy: 16 bytes read and 8
// written per element) over its own arrays of bandwidthLen float64: the
// best rate over repetitions for about d.
func Bandwidth(t int, d time.Duration) float64 {
	xs, ys := make([][]float64, t), make([][]float64, t)
	for g := range t {
		xs[g], ys[g] = make([]float64, bandwidthLen), make([]float64, bandwidthLen)
		for i := range xs[g] {
			xs[g][i], ys[g][i] = 1, 1 // touch every page before timing
		}
	}
	best := 0.0
	for start := time.Now(); time.Since(start) < d; {
		var wg sync.WaitGroup
		t0 := time.Now()
		for g := range t {
			wg.Go(func() { kernels.Daxpy(1e-9, xs[g], ys[g]) })
		}
		wg.Wait()
		el := time.Since(t0).Seconds()
		best = max(best, float64(t)*24*bandwidthLen/el/1e9)
	}
	return best
}
