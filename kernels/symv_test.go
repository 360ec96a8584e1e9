package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDsymv4 checks Dsymv4 at every level against the sums written out, on
// every length 0..70 and a few large ones, unaligned starts and strides, and
// that it writes y only in [0, n).
func TestDsymv4(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(41, 42))
		for _, n := range level1Lengths() {
			for _, off := range []int{0, 1, 3, 7} {
				for _, pad := range []int{0, 5} {
					lda := n + pad
					a := randSlice(rng, off+3*lda+n)[off:]
					x, _ := guarded(rng, n, (off+2)%8)
					y, ybuf := guarded(rng, n, off)
					y0 := append([]float64(nil), y...)
					alpha := [4]float64{rng.Float64(), -rng.Float64(), 2, 0.5}
					dot := [4]float64{1, -2, 0, 3}
					want := dot
					var mag [4]float64
					for k := range 4 {
						for c := range n {
							want[k] += a[k*lda+c] * x[c]
							mag[k] += math.Abs(a[k*lda+c] * x[c])
						}
					}
					Dsymv4(a, lda, x, y, &alpha, &dot, nil, 0)
					checkGuard(t, "Dsymv4 y", ybuf, off, n)
					for k := range 4 {
						if tol := 2 * float64(n+1) * eps64 * (mag[k] + 3); !sameFloat(dot[k], want[k], tol) {
							t.Fatalf("n=%d off=%d lda=%d: dot[%d] = %v, want %v", n, off, lda, k, dot[k], want[k])
						}
					}
					for c := range n {
						w, m := y0[c], math.Abs(y0[c])
						for k := range 4 {
							w += alpha[k] * a[k*lda+c]
							m += math.Abs(alpha[k] * a[k*lda+c])
						}
						if tol := 8 * eps64 * m; !sameFloat(y[c], w, tol) {
							t.Fatalf("n=%d off=%d lda=%d: y[%d] = %v, want %v", n, off, lda, c, y[c], w)
						}
					}
				}
			}
		}
	})
}

// TestDsymv4Specials: a NaN or Inf in a row reaches that row's dot product
// and y, as in the written-out sums.
func TestDsymv4Specials(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		for _, n := range []int{1, 8, 19, 64} {
			for _, bad := range []float64{math.NaN(), math.Inf(1)} {
				lda := n
				a := make([]float64, 4*lda)
				for i := range a {
					a[i] = 1
				}
				c := n / 2
				a[2*lda+c] = bad
				x := make([]float64, n)
				y := make([]float64, n)
				for i := range x {
					x[i] = 1
				}
				alpha := [4]float64{1, 1, 1, 1}
				var dot [4]float64
				Dsymv4(a, lda, x, y, &alpha, &dot, nil, 0)
				if !sameFloat(dot[2], bad, 0) || !sameFloat(y[c], bad, 0) {
					t.Fatalf("n=%d bad=%v: dot[2] = %v, y[%d] = %v", n, bad, dot[2], c, y[c])
				}
				if dot[0] != float64(n) || (c > 0 && y[0] != 4) {
					t.Fatalf("n=%d bad=%v: clean entries dot[0] = %v, y[0] = %v", n, bad, dot[0], y[0])
				}
			}
		}
	})
}

// TestDger4 checks Dger4, rank 1 and 2, at every level against the sums
// written out, on every length 0..70 and a few large ones, unaligned starts
// and strides, and that it writes only the four rows' first n entries.
func TestDger4(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(43, 44))
		for _, n := range level1Lengths() {
			for _, off := range []int{0, 1, 3, 7} {
				for _, pad := range []int{0, 5} {
					for _, rank := range []int{1, 2} {
						lda := n + pad
						a := randSlice(rng, off+3*lda+n+pad)[off:]
						a0 := append([]float64(nil), a...)
						x, _ := guarded(rng, n, (off+2)%8)
						var y []float64
						if rank == 2 {
							y, _ = guarded(rng, n, (off+5)%8)
						}
						cx := [4]float64{rng.Float64(), -rng.Float64(), 2, 0}
						cy := [4]float64{0.5, rng.Float64(), -1, 3}
						Dger4(a, lda, x, y, &cx, &cy)
						for i := range a {
							k, c := i/max(lda, 1), i%max(lda, 1)
							want, mag := a0[i], math.Abs(a0[i])
							if lda > 0 && k < 4 && c < n {
								want += cx[k] * x[c]
								mag += math.Abs(cx[k] * x[c])
								if rank == 2 {
									want += cy[k] * y[c]
									mag += math.Abs(cy[k] * y[c])
								}
							}
							if !sameFloat(a[i], want, 4*eps64*mag) {
								t.Fatalf("rank %d n=%d off=%d lda=%d: a[%d] = %v, want %v", rank, n, off, lda, i, a[i], want)
							}
						}
					}
				}
			}
		}
	})
}

// TestDger4Specials: a NaN or Inf in x reaches every row's entry in its
// column, and only there.
func TestDger4Specials(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		for _, n := range []int{1, 8, 19, 64} {
			for _, bad := range []float64{math.NaN(), math.Inf(1)} {
				a := make([]float64, 4*n)
				x := make([]float64, n)
				y := make([]float64, n)
				for i := range x {
					x[i], y[i] = 1, 1
				}
				c := n / 2
				y[c] = bad
				cx, cy := [4]float64{1, 1, 1, 1}, [4]float64{1, 1, 1, 1}
				Dger4(a, n, x, y, &cx, &cy)
				for k := range 4 {
					if !sameFloat(a[k*n+c], bad, 0) || (c > 0 && a[k*n] != 2) {
						t.Fatalf("n=%d bad=%v: row %d: a[c] = %v, a[0] = %v", n, bad, k, a[k*n+c], a[k*n])
					}
				}
			}
		}
	})
}
