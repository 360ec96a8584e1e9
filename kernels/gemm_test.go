package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// gemmRef is the micro-kernel's sum in float64 with explicit products, and
// the bound sum|a b| + |c| that scales its rounding error.
func gemmRef(kc, mr, nr int, a, b []float64, c0 float64, i, j int) (ref, mag float64) {
	ref, mag = c0, math.Abs(c0)
	for p := 0; p < kc; p++ {
		prod := a[p*mr+i] * b[p*nr+j]
		ref += prod
		mag += math.Abs(prod)
	}
	return ref, mag
}

// ldcsFor are the C strides tried for a tile nr wide: tight, odd, and wide.
func ldcsFor(nr int) []int { return []int{nr, nr + 3, 2*nr + 5} }

// sentinel marks C entries the kernel must not touch.
const sentinel = -12345.5

func TestDgemmMicro(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mr, nr := DgemmShape()
		if mr*nr > maxTile {
			t.Fatalf("DgemmShape() = %d x %d exceeds maxTile %d", mr, nr, maxTile)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for kc := 0; kc <= 70; kc++ {
			for _, ldc := range ldcsFor(nr) {
				a, b := randSlice(rng, kc*mr), randSlice(rng, kc*nr)
				c := make([]float64, (mr-1)*ldc+nr+ldc) // one row of slack to catch overruns
				for k := range c {
					c[k] = sentinel
				}
				for i := 0; i < mr; i++ {
					for j := 0; j < nr; j++ {
						c[i*ldc+j] = 2*rng.Float64() - 1
					}
				}
				c0 := append([]float64(nil), c...)
				DgemmMicro(kc, a, b, c, ldc)
				checkTile(t, fmt.Sprintf("kc=%d ldc=%d", kc, ldc), kc, mr, nr, ldc, a, b, c0, c, eps64)
			}
		}
	})
}

// checkTile compares c against c0 + a*b inside the tile (tolerance
// 2*(kc+1)*eps*(|c0|+sum|a b|): one rounding per add, FMA or not) and
// requires everything outside it to be unchanged.
func checkTile(t *testing.T, name string, kc, mr, nr, ldc int, a, b, c0, c []float64, eps float64) {
	t.Helper()
	bad := 0
	for k := range c {
		i, j := k/ldc, k%ldc
		if i < mr && j < nr {
			ref, mag := gemmRef(kc, mr, nr, a, b, c0[k], i, j)
			if tol := 2 * float64(kc+1) * eps * mag; !sameFloat(c[k], ref, tol) {
				t.Errorf("%s: c[%d][%d] = %v, want %v (tol %.3g)", name, i, j, c[k], ref, tol)
				bad++
			}
		} else if c[k] != c0[k] {
			t.Errorf("%s: c[%d] (outside the tile) changed from %v to %v", name, k, c0[k], c[k])
			bad++
		}
		if bad > 5 {
			t.Fatalf("%s: too many errors", name)
		}
	}
}

func TestSgemmMicro(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mr, nr := SgemmShape()
		rng := rand.New(rand.NewPCG(3, 4))
		for kc := 0; kc <= 70; kc++ {
			for _, ldc := range ldcsFor(nr) {
				a, b := randSlice32(rng, kc*mr), randSlice32(rng, kc*nr)
				c := make([]float32, (mr-1)*ldc+nr+ldc)
				for k := range c {
					c[k] = sentinel
				}
				for i := 0; i < mr; i++ {
					for j := 0; j < nr; j++ {
						c[i*ldc+j] = float32(2*rng.Float64() - 1)
					}
				}
				c0 := append([]float32(nil), c...)
				SgemmMicro(kc, a, b, c, ldc)
				checkTile(t, fmt.Sprintf("kc=%d ldc=%d", kc, ldc), kc, mr, nr, ldc,
					widen(a), widen(b), widen(c0), widen(c), eps32)
			}
		}
	})
}

// TestGemmMicroStore: the storing micro-kernels give c = a*b whatever the
// tile held before (NaN here, which must not survive: BLAS's beta = 0) and
// leave everything outside the tile alone.
func TestGemmMicroStore(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for kc := 0; kc <= 70; kc++ {
			for _, f32 := range []bool{false, true} {
				mr, nr := DgemmShape()
				if f32 {
					mr, nr = SgemmShape()
				}
				for _, ldc := range ldcsFor(nr) {
					n := (mr-1)*ldc + nr + ldc
					c0 := make([]float64, n) // zero in the tile: c = 0 + a*b
					for k := range c0 {
						c0[k] = sentinel
					}
					for i := 0; i < mr; i++ {
						clear(c0[i*ldc : i*ldc+nr])
					}
					name := fmt.Sprintf("f32=%v kc=%d ldc=%d", f32, kc, ldc)
					if !f32 {
						a, b := randSlice(rng, kc*mr), randSlice(rng, kc*nr)
						c := nanTile(c0, mr, nr, ldc)
						DgemmMicroStore(kc, a, b, c, ldc)
						checkTile(t, name, kc, mr, nr, ldc, a, b, c0, c, eps64)
						continue
					}
					a, b := make([]float32, kc*mr), make([]float32, kc*nr)
					for k := range a {
						a[k] = float32(2*rng.Float64() - 1)
					}
					for k := range b {
						b[k] = float32(2*rng.Float64() - 1)
					}
					cw := nanTile(c0, mr, nr, ldc)
					c := make([]float32, n)
					for k, v := range cw {
						c[k] = float32(v)
					}
					SgemmMicroStore(kc, a, b, c, ldc)
					checkTile(t, name, kc, mr, nr, ldc, widen(a), widen(b), c0, widen(c), eps32)
				}
			}
		}
	})
}

// nanTile is a copy of c0 with NaN in the mr x nr tile.
func nanTile(c0 []float64, mr, nr, ldc int) []float64 {
	c := append([]float64(nil), c0...)
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			c[i*ldc+j] = math.NaN()
		}
	}
	return c
}

func widen(s []float32) []float64 {
	w := make([]float64, len(s))
	for i, v := range s {
		w[i] = float64(v)
	}
	return w
}

// TestGemmMicroSpecials: a NaN or Inf in A row i spreads over row i of C as
// the products NaN*x and Inf*x do; the other rows stay finite.
func TestGemmMicroSpecials(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mr, nr := DgemmShape()
		rng := rand.New(rand.NewPCG(5, 6))
		for _, kc := range []int{1, 5, 17} {
			for _, special := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				a, b := randSlice(rng, kc*mr), randSlice(rng, kc*nr)
				for j := range b {
					b[j] = 0.5 + rng.Float64() // positive, so Inf keeps its sign
				}
				row := mr - 1
				a[(kc-1)*mr+row] = special
				c := make([]float64, mr*nr)
				c0 := append([]float64(nil), c...)
				DgemmMicro(kc, a, b, c, nr)
				checkTile(t, fmt.Sprintf("kc=%d special=%v", kc, special), kc, mr, nr, nr, a, b, c0, c, eps64)
			}
		}
	})
}

func TestDsyrkMicro(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mr, nr := DgemmShape()
		rng := rand.New(rand.NewPCG(7, 8))
		for _, upper := range []bool{false, true} {
			kernel, name := DsyrkMicroLower, "lower"
			if upper {
				kernel, name = DsyrkMicroUpper, "upper"
			}
			for _, kc := range []int{0, 1, 3, 16, 33} {
				for off := -nr - 1; off <= nr+1; off++ {
					ldc := nr + 2
					a, b := randSlice(rng, kc*mr), randSlice(rng, kc*nr)
					c := randSlice(rng, (mr-1)*ldc+nr)
					// NaN outside the triangle (and in the gaps between rows)
					// must stay there untouched: those entries are never read.
					inside := func(i, j int) bool {
						if upper {
							return j >= i+off
						}
						return j <= i+off
					}
					for k := range c {
						if i, j := k/ldc, k%ldc; j >= nr || !inside(i, j) {
							c[k] = math.NaN()
						}
					}
					c0 := append([]float64(nil), c...)
					kernel(kc, a, b, c, ldc, off)
					for k := range c {
						i, j := k/ldc, k%ldc
						if j >= nr || !inside(i, j) {
							if !math.IsNaN(c[k]) {
								t.Fatalf("%s kc=%d off=%d: c[%d][%d] = %v outside the triangle, want it untouched (NaN)", name, kc, off, i, j, c[k])
							}
							continue
						}
						want, mag := gemmRef(kc, mr, nr, a, b, c0[k], i, j)
						if tol := 2 * float64(kc+1) * eps64 * mag; !sameFloat(c[k], want, tol) {
							t.Fatalf("%s kc=%d off=%d: c[%d][%d] = %v, want %v", name, kc, off, i, j, c[k], want)
						}
					}
				}
			}
		}
	})
}

func TestPeakLoop(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		if f := PeakLoop(0); f != 0 {
			t.Fatalf("PeakLoop(0) = %v flops", f)
		}
		f1, f2 := PeakLoop(10), PeakLoop(20)
		if f1 <= 0 || f2 != 2*f1 {
			t.Fatalf("PeakLoop(10), PeakLoop(20) = %v, %v flops: want positive and proportional", f1, f2)
		}
	})
}

// bestRate runs f (which returns the flops it did) reps times and returns
// the best rate in flop/s. On a shared, noisy machine the best of short runs
// is the rate without interference, for a kernel and for the peak loop alike,
// so their ratio is stable where ratios of averages are not.
func bestRate(reps int, f func() float64) float64 {
	best := 0.0
	for r := 0; r < reps; r++ {
		start := time.Now()
		flops := f()
		if rate := flops / time.Since(start).Seconds(); rate > best {
			best = rate
		}
	}
	return best
}

// bestReps short runs of about 10^7 flops (~0.1 ms) each give bestRate.
const (
	bestReps  = 200
	bestFlops = 1e7
)

// peakRate measures the current level's FMA peak in flop/s (one core).
func peakRate() float64 {
	iters := int(bestFlops / PeakLoop(1))
	return bestRate(bestReps, func() float64 { return PeakLoop(iters) })
}

// reportPeakFraction adds the %peak metric: the best short-run rate of call
// (flops per call given) over the best short-run rate of the peak loop.
func reportPeakFraction(b *testing.B, unit string, scale float64, flopsPerCall float64, call func()) {
	calls := max(1, int(bestFlops/flopsPerCall))
	rate := bestRate(bestReps, func() float64 {
		for k := 0; k < calls; k++ {
			call()
		}
		return float64(calls) * flopsPerCall
	})
	b.ReportMetric(100*rate/(scale*peakRate()), unit)
}

func BenchmarkPeakLoop(b *testing.B) {
	forEachLevelB(b, func(b *testing.B) {
		var flops float64
		for b.Loop() {
			flops += PeakLoop(1 << 12)
		}
		b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		b.ReportMetric(peakRate()/1e9, "best-GFLOP/s")
	})
}

// forEachLevelB is forEachLevel for benchmarks.
func forEachLevelB(b *testing.B, f func(b *testing.B)) {
	saved := Current()
	defer SetLevel(saved)
	for _, l := range testLevels() {
		if err := SetLevel(l); err != nil {
			b.Fatal(err)
		}
		b.Run("level="+l.String(), f)
	}
}

// benchKC is the micro-kernel depth of the benchmarks: a typical kc, with
// the A and B micro-panels in L1/L2 as the packed GEMM has them.
const benchKC = 128

func BenchmarkDgemmMicro(b *testing.B) {
	forEachLevelB(b, func(b *testing.B) {
		mr, nr := DgemmShape()
		rng := rand.New(rand.NewPCG(9, 10))
		a, bb := randSlice(rng, benchKC*mr), randSlice(rng, benchKC*nr)
		c := make([]float64, mr*nr)
		call := func() { DgemmMicro(benchKC, a, bb, c, nr) }
		fpc := 2 * float64(mr*nr*benchKC)
		for b.Loop() {
			call()
		}
		b.ReportMetric(fpc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		reportPeakFraction(b, "%peak", 1, fpc, call)
	})
}

func BenchmarkSgemmMicro(b *testing.B) {
	forEachLevelB(b, func(b *testing.B) {
		mr, nr := SgemmShape()
		rng := rand.New(rand.NewPCG(11, 12))
		a, bb := randSlice32(rng, benchKC*mr), randSlice32(rng, benchKC*nr)
		c := make([]float32, mr*nr)
		call := func() { SgemmMicro(benchKC, a, bb, c, nr) }
		fpc := 2 * float64(mr*nr*benchKC)
		for b.Loop() {
			call()
		}
		b.ReportMetric(fpc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		// The f32 peak is twice the f64 one: twice the lanes per FMA.
		reportPeakFraction(b, "%peak32", 2, fpc, call)
	})
}

// BenchmarkDgemmPanel runs the micro-kernel as the packed GEMM's inner loops
// do: one kc x nr B micro-panel (L1) against every mr-row micro-panel of an
// mc x kc A block (L2), writing the tiles of an mc x nr column of C.
func BenchmarkDgemmPanel(b *testing.B) {
	for _, kc := range []int{128, 256, 384} {
		b.Run(fmt.Sprintf("kc=%d", kc), func(b *testing.B) {
			forEachLevelB(b, func(b *testing.B) {
				mr, nr := DgemmShape()
				panels := (256*1024/2/8/kc + mr - 1) / mr // A block ~ half of a 256 KiB budget
				rng := rand.New(rand.NewPCG(13, 14))
				a, bb := randSlice(rng, panels*kc*mr), randSlice(rng, kc*nr)
				ldc := 1024
				c := make([]float64, panels*mr*ldc)
				call := func() {
					for ir := 0; ir < panels; ir++ {
						DgemmMicro(kc, a[ir*kc*mr:], bb, c[ir*mr*ldc:], ldc)
					}
				}
				fpc := 2 * float64(panels*mr*nr*kc)
				for b.Loop() {
					call()
				}
				b.ReportMetric(fpc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				reportPeakFraction(b, "%peak", 1, fpc, call)
			})
		})
	}
}

// randFloats is randSlice in T (float32 values rounded from it).
func randFloats[T float](rng *rand.Rand, n int) []T {
	s := make([]T, n)
	for i, v := range randSlice(rng, n) {
		s[i] = T(v)
	}
	return s
}

// The packers are checked value by value against the layout their doc
// comments state: a packed value is alpha*x rounded once, the same in Go and
// in assembly, so the comparison is exact. Sizes cover no panel, partial
// panels only, full ones and full ones plus a partial one; the destination
// has slack that must survive.

func TestDpackAT(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mr, _ := DgemmShape()
		testPackAT(t, mr, DpackAT)
	})
}

func TestSpackAT(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mr, _ := SgemmShape()
		testPackAT(t, mr, SpackAT)
	})
}

func testPackAT[T float](t *testing.T, mr int, pack func(dst, src []T, lds, kc, mc int, alpha T)) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, kc := range []int{0, 1, 5, 33} {
		for _, mc := range []int{0, 1, mr - 1, mr, mr + 3, 4 * mr, 5*mr + 2} {
			lds := mc + 3
			src := randFloats[T](rng, max(kc*lds, 1))
			alpha := T(0.37)
			n := (mc + mr - 1) / mr * mr * kc
			dst := randFloats[T](rng, n+5)
			tail := append([]T(nil), dst[n:]...)
			pack(dst, src, lds, kc, mc, alpha)
			for p := 0; p < kc; p++ {
				for i := 0; i < (mc+mr-1)/mr*mr; i++ {
					want := T(0)
					if i < mc {
						want = alpha * src[p*lds+i]
					}
					if got := dst[(i/mr)*mr*kc+p*mr+i%mr]; got != want {
						t.Fatalf("kc=%d mc=%d: step %d value %d = %v, want %v", kc, mc, p, i, got, want)
					}
				}
			}
			for i, v := range dst[n:] {
				if v != tail[i] {
					t.Fatalf("kc=%d mc=%d: wrote past the panels at %d", kc, mc, n+i)
				}
			}
		}
	}
}

func TestDpackB(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		_, nr := DgemmShape()
		testPackB(t, nr, DpackB)
	})
}

func TestSpackB(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		_, nr := SgemmShape()
		testPackB(t, nr, SpackB)
	})
}

func testPackB[T float](t *testing.T, nr int, pack func(dst, src []T, lds, kc, nc int)) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, kc := range []int{0, 1, 5, 33} {
		for _, nc := range []int{0, 1, nr - 1, nr, nr + 3, 4 * nr, 5*nr + 2} {
			lds := nc + 3
			src := randFloats[T](rng, max(kc*lds, 1))
			n := (nc + nr - 1) / nr * nr * kc
			dst := randFloats[T](rng, n+5)
			tail := append([]T(nil), dst[n:]...)
			pack(dst, src, lds, kc, nc)
			for p := 0; p < kc; p++ {
				for j := 0; j < (nc+nr-1)/nr*nr; j++ {
					want := T(0)
					if j < nc {
						want = src[p*lds+j]
					}
					if got := dst[(j/nr)*nr*kc+p*nr+j%nr]; got != want {
						t.Fatalf("kc=%d nc=%d: row %d value %d = %v, want %v", kc, nc, p, j, got, want)
					}
				}
			}
			for i, v := range dst[n:] {
				if v != tail[i] {
					t.Fatalf("kc=%d nc=%d: wrote past the panels at %d", kc, nc, n+i)
				}
			}
		}
	}
}

func TestDpackA(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mr, _ := DgemmShape()
		testPackA(t, mr, DpackA)
	})
}

func TestSpackA(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mr, _ := SgemmShape()
		testPackA(t, mr, SpackA)
	})
}

func testPackA[T float](t *testing.T, mr int, pack func(dst, src []T, lda, kc, mc int, alpha T)) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, kc := range []int{0, 1, 5, 33} {
		for _, mc := range []int{0, 1, mr - 1, mr, mr + 3, 4 * mr, 5*mr + 2} {
			lda := kc + 3
			src := randFloats[T](rng, max(mc*lda, 1))
			alpha := T(-0.37)
			n := (mc + mr - 1) / mr * mr * kc
			dst := randFloats[T](rng, n+5)
			tail := append([]T(nil), dst[n:]...)
			pack(dst, src, lda, kc, mc, alpha)
			for i := 0; i < (mc+mr-1)/mr*mr; i++ {
				for p := 0; p < kc; p++ {
					want := T(0)
					if i < mc {
						want = alpha * src[i*lda+p]
					}
					if got := dst[(i/mr)*mr*kc+p*mr+i%mr]; got != want {
						t.Fatalf("kc=%d mc=%d: row %d step %d = %v, want %v", kc, mc, i, p, got, want)
					}
				}
			}
			for i, v := range dst[n:] {
				if v != tail[i] {
					t.Fatalf("kc=%d mc=%d: wrote past the panels at %d", kc, mc, n+i)
				}
			}
		}
	}
}
