package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// level1Lengths: every length 0..70 (all loop stages and remainders) and a
// few large ones.
func level1Lengths() []int {
	var ns []int
	for n := 0; n <= 70; n++ {
		ns = append(ns, n)
	}
	return append(ns, 127, 1000, 4099)
}

// level1Offsets are slice starts: aligned and every unaligned one 1..7.
var level1Offsets = []int{0, 1, 2, 3, 4, 5, 6, 7}

// guarded returns a slice of n random values at offset off inside a buffer
// whose other entries are sentinels, and the buffer.
func guarded(rng *rand.Rand, n, off int) (s, buf []float64) {
	buf = make([]float64, off+n+9)
	for i := range buf {
		buf[i] = sentinel
	}
	s = buf[off : off+n]
	for i := range s {
		s[i] = 2*rng.Float64() - 1
	}
	return s, buf
}

// checkGuard requires the buffer outside [off, off+n) to be untouched.
func checkGuard(t *testing.T, name string, buf []float64, off, n int) {
	t.Helper()
	for i, v := range buf {
		if (i < off || i >= off+n) && v != sentinel {
			t.Fatalf("%s: wrote outside the slice at buf[%d] = %v", name, i, v)
		}
	}
}

func TestDdot(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, n := range level1Lengths() {
			for _, off := range level1Offsets {
				x, _ := guarded(rng, n, off)
				y, _ := guarded(rng, n, (off+3)%8)
				var want, mag float64
				for i := range x {
					p := x[i] * y[i]
					want += p
					mag += math.Abs(p)
				}
				got := Ddot(x, y)
				if tol := 2 * float64(n+1) * eps64 * mag; !sameFloat(got, want, tol) {
					t.Fatalf("n=%d off=%d: Ddot = %v, want %v (tol %.3g)", n, off, got, want, tol)
				}
			}
		}
	})
}

func TestDaxpyDscal(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(23, 24))
		for _, n := range level1Lengths() {
			for _, off := range level1Offsets {
				alpha := 2*rng.Float64() - 1
				name := fmt.Sprintf("n=%d off=%d", n, off)
				x, _ := guarded(rng, n, (off+5)%8)
				y, ybuf := guarded(rng, n, off)
				y0 := append([]float64(nil), y...)
				Daxpy(alpha, x, y)
				checkGuard(t, "Daxpy "+name, ybuf, off, n)
				for i := range y {
					p := alpha * x[i]
					want := y0[i] + p
					if tol := 2 * eps64 * (math.Abs(y0[i]) + math.Abs(p)); !sameFloat(y[i], want, tol) {
						t.Fatalf("Daxpy %s: y[%d] = %v, want %v", name, i, y[i], want)
					}
				}
				y1 := append([]float64(nil), y...)
				Dscal(alpha, y)
				checkGuard(t, "Dscal "+name, ybuf, off, n)
				for i := range y {
					want := alpha * y1[i]
					if y[i] != want {
						t.Fatalf("Dscal %s: x[%d] = %v, want %v", name, i, y[i], want)
					}
				}
			}
		}
	})
}

func TestDrot(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(25, 26))
		for _, n := range level1Lengths() {
			for _, off := range level1Offsets {
				theta := 2 * math.Pi * rng.Float64()
				c, s := math.Cos(theta), math.Sin(theta)
				name := fmt.Sprintf("n=%d off=%d", n, off)
				x, xbuf := guarded(rng, n, off)
				y, ybuf := guarded(rng, n, 7-off)
				x0, y0 := append([]float64(nil), x...), append([]float64(nil), y...)
				Drot(x, y, c, s)
				checkGuard(t, "Drot x "+name, xbuf, off, n)
				checkGuard(t, "Drot y "+name, ybuf, 7-off, n)
				for i := range x {
					wx, wy := c*x0[i]+s*y0[i], c*y0[i]-s*x0[i]
					mag := math.Abs(c*x0[i]) + math.Abs(s*y0[i]) + math.Abs(c*y0[i]) + math.Abs(s*x0[i])
					tol := 2 * eps64 * mag
					if !sameFloat(x[i], wx, tol) || !sameFloat(y[i], wy, tol) {
						t.Fatalf("Drot %s: (x,y)[%d] = (%v,%v), want (%v,%v)", name, i, x[i], y[i], wx, wy)
					}
				}
			}
		}
	})
}

// TestLevel1Specials: NaN and Inf propagate as in reference BLAS (which has
// no shortcuts: dscal with alpha = 0 still multiplies, so 0*Inf is NaN). A
// special in x or in y, or a special scalar, reaches exactly the outputs the
// pure-Go loop gives, with the same sign of Inf; finite outputs agree within
// the rounding of one fused multiply-add.
func TestLevel1Specials(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	specials := []float64{nan, inf, -inf}
	forEachLevel(t, func(t *testing.T) {
		for _, n := range []int{1, 3, 4, 7, 8, 9, 16, 31, 32, 33, 70} {
			for _, pos := range []int{0, n / 2, n - 1} {
				for _, sp := range specials {
					for _, inY := range []bool{false, true} {
						x, y := make([]float64, n), make([]float64, n)
						for i := range x {
							x[i], y[i] = 1, 1
						}
						if inY {
							y[pos] = sp
						} else {
							x[pos] = sp
						}
						name := fmt.Sprintf("n=%d pos=%d special=%v inY=%v", n, pos, sp, inY)
						if got := Ddot(x, y); !sameFloat(got, sp, 0) {
							t.Fatalf("Ddot %s = %v, want %v", name, got, sp)
						}
						checkSpecial(t, "Daxpy "+name, x, y,
							func(x, y []float64) { Daxpy(2, x, y) }, func(x, y []float64) { daxpyGeneric(2, x, y) })
						for _, alpha := range []float64{0, -1.5} {
							checkSpecial(t, fmt.Sprintf("Dscal(%v) %s", alpha, name), x, nil,
								func(x, _ []float64) { Dscal(alpha, x) }, func(x, _ []float64) { dscalGeneric(alpha, x) })
						}
						c, s := 0.6, 0.8
						checkSpecial(t, "Drot "+name, x, y,
							func(x, y []float64) { Drot(x, y, c, s) }, func(x, y []float64) { drotGeneric(x, y, c, s) })
					}
				}
			}
			// Special scalars spread over every element.
			x, y := make([]float64, n), make([]float64, n)
			for i := range x {
				x[i], y[i] = float64(i%3)-1, 0.5 // x holds -1, 0, 1
			}
			for _, sp := range specials {
				name := fmt.Sprintf("n=%d scalar=%v", n, sp)
				checkSpecial(t, "Daxpy alpha "+name, x, y,
					func(x, y []float64) { Daxpy(sp, x, y) }, func(x, y []float64) { daxpyGeneric(sp, x, y) })
				checkSpecial(t, "Dscal alpha "+name, x, nil,
					func(x, _ []float64) { Dscal(sp, x) }, func(x, _ []float64) { dscalGeneric(sp, x) })
				checkSpecial(t, "Drot c "+name, x, y,
					func(x, y []float64) { Drot(x, y, sp, 0.5) }, func(x, y []float64) { drotGeneric(x, y, sp, 0.5) })
				checkSpecial(t, "Drot s "+name, x, y,
					func(x, y []float64) { Drot(x, y, 0.5, sp) }, func(x, y []float64) { drotGeneric(x, y, 0.5, sp) })
			}
		}
	})
}

// checkSpecial runs op and the pure-Go ref on copies of x and y (y may be
// nil) and requires the same outputs: the same NaNs and signed infinities,
// finite values within 2 eps of their size (one fused rounding apart).
func checkSpecial(t *testing.T, name string, x, y []float64, op, ref func(x, y []float64)) {
	t.Helper()
	gx, gy := append([]float64(nil), x...), append([]float64(nil), y...)
	wx, wy := append([]float64(nil), x...), append([]float64(nil), y...)
	if y == nil {
		gy, wy = nil, nil
	}
	op(gx, gy)
	ref(wx, wy)
	for _, p := range [][2][]float64{{gx, wx}, {gy, wy}} {
		for i, w := range p[1] {
			if !sameFloat(p[0][i], w, 2*eps64*math.Abs(w)) {
				t.Fatalf("%s: element %d = %v, want %v", name, i, p[0][i], w)
			}
		}
	}
}

// TestLevel1SignedZeros: on zero inputs every product is an exact zero, so
// the kernels must give the pure-Go loop's results bit for bit, signs of
// zero included (a vector kernel that forms a product as 0 + a*b would turn
// -0 into +0). Lengths reach every loop stage at every width.
func TestLevel1SignedZeros(t *testing.T) {
	negz := math.Copysign(0, -1)
	zeros := []float64{0, negz}
	scalars := []float64{1, -1, 0, negz, 0.6}
	bits := func(s []float64) []uint64 {
		b := make([]uint64, len(s))
		for i, v := range s {
			b[i] = math.Float64bits(v)
		}
		return b
	}
	forEachLevel(t, func(t *testing.T) {
		for _, n := range []int{1, 2, 5, 8, 9, 16, 17, 33, 70} {
			x, y := make([]float64, n), make([]float64, n)
			for i := range x {
				x[i], y[i] = zeros[i%2], zeros[(i/2)%2] // all four sign pairs
			}
			if got := Ddot(x, y); math.Float64bits(got) != math.Float64bits(ddotGeneric(x, y)) {
				t.Fatalf("n=%d: Ddot of zeros = %v, want %v", n, got, ddotGeneric(x, y))
			}
			for _, a := range scalars {
				for _, b := range scalars {
					name := fmt.Sprintf("n=%d a=%v b=%v", n, a, b)
					gx, gy := append([]float64(nil), x...), append([]float64(nil), y...)
					wx, wy := append([]float64(nil), x...), append([]float64(nil), y...)
					Drot(gx, gy, a, b)
					drotGeneric(wx, wy, a, b)
					if !slices.Equal(bits(gx), bits(wx)) || !slices.Equal(bits(gy), bits(wy)) {
						t.Fatalf("Drot %s: (%v, %v), want (%v, %v)", name, gx, gy, wx, wy)
					}
				}
				name := fmt.Sprintf("n=%d alpha=%v", n, a)
				gx, gy := append([]float64(nil), x...), append([]float64(nil), y...)
				wx, wy := append([]float64(nil), x...), append([]float64(nil), y...)
				Daxpy(a, gx, gy)
				daxpyGeneric(a, wx, wy)
				if !slices.Equal(bits(gy), bits(wy)) {
					t.Fatalf("Daxpy %s: %v, want %v", name, gy, wy)
				}
				Dscal(a, gx)
				dscalGeneric(a, wx)
				if !slices.Equal(bits(gx), bits(wx)) {
					t.Fatalf("Dscal %s: %v, want %v", name, gx, wx)
				}
			}
		}
	})
}

// TestLevel1Inc checks the strided forms against the unit-stride ones on
// gathered copies.
func TestLevel1Inc(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(27, 28))
		for _, n := range []int{0, 1, 5, 17, 40} {
			for _, inc := range [][2]int{{1, 1}, {2, 1}, {1, 3}, {3, 2}} {
				ix, iy := inc[0], inc[1]
				x, y := randSlice(rng, max(1, (n-1)*ix+1)), randSlice(rng, max(1, (n-1)*iy+1))
				gx, gy := make([]float64, n), make([]float64, n)
				for i := 0; i < n; i++ {
					gx[i], gy[i] = x[i*ix], y[i*iy]
				}
				name := fmt.Sprintf("n=%d inc=%v", n, inc)
				var mag float64
				for i := range gx {
					mag += math.Abs(gx[i] * gy[i])
				}
				if got, want := DdotInc(n, x, ix, y, iy), Ddot(gx, gy); !sameFloat(got, want, 4*float64(n+1)*eps64*mag) {
					t.Fatalf("DdotInc %s = %v, want %v", name, got, want)
				}
				DaxpyInc(n, 0.5, x, ix, y, iy)
				Daxpy(0.5, gx, gy)
				DrotInc(n, x, ix, y, iy, 0.6, 0.8)
				Drot(gx, gy, 0.6, 0.8)
				for i := 0; i < n; i++ {
					if !sameFloat(x[i*ix], gx[i], 8*eps64) || !sameFloat(y[i*iy], gy[i], 8*eps64) {
						t.Fatalf("DaxpyInc/DrotInc %s: element %d = (%v,%v), want (%v,%v)", name, i, x[i*ix], y[i*iy], gx[i], gy[i])
					}
				}
			}
		}
	})
}

func BenchmarkDdot(b *testing.B) {
	for _, n := range []int{256, 4096} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			forEachLevelB(b, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 1))
				x, y := randSlice(rng, n), randSlice(rng, n)
				b.SetBytes(int64(16 * n))
				for b.Loop() {
					Ddot(x, y)
				}
				b.ReportMetric(2*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		})
	}
}

func BenchmarkDaxpy(b *testing.B) {
	for _, n := range []int{256, 4096} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			forEachLevelB(b, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 1))
				x, y := randSlice(rng, n), randSlice(rng, n)
				b.SetBytes(int64(24 * n))
				for b.Loop() {
					Daxpy(1e-9, x, y)
				}
			})
		})
	}
}

// memBoundLengths are the scal and rot benchmark lengths: a short vector,
// one whose operands stay in a 48 KiB L1d (rot: 2*2048*8 = 32 KiB) and one
// that stays in a 1 MiB L2 but not in L1 (rot: 512 KiB). Wider vectors can
// only help while the data comes from L1 or L2; from memory both widths wait
// on the same bytes. Each runs aligned (off=0: the slices start on a 64-byte
// line) and one element in (off=1: every 512-bit access splits a line, as in
// the eigensolver's row and column views).
var memBoundLengths = []int{256, 2048, 32768}

// benchMemBound runs f on slices of length n at offsets 0 and 1, once per level.
func benchMemBound(b *testing.B, slices int, f func(b *testing.B, s [][]float64)) {
	for _, n := range memBoundLengths {
		for _, off := range []int{0, 1} {
			b.Run(fmt.Sprintf("n=%d/off=%d", n, off), func(b *testing.B) {
				forEachLevelB(b, func(b *testing.B) {
					rng := rand.New(rand.NewPCG(1, 1))
					s := make([][]float64, slices)
					for i := range s {
						s[i] = randSlice(rng, n+off)[off:]
					}
					f(b, s)
				})
			})
		}
	}
}

func BenchmarkDscal(b *testing.B) {
	benchMemBound(b, 1, func(b *testing.B, s [][]float64) {
		x := s[0]
		b.SetBytes(int64(16 * len(x)))
		// alpha = 1 keeps x unchanged, so no run drifts into subnormals or
		// overflow; the multiply costs the same.
		for b.Loop() {
			Dscal(1, x)
		}
		b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

func BenchmarkDrot(b *testing.B) {
	benchMemBound(b, 2, func(b *testing.B, s [][]float64) {
		x, y := s[0], s[1]
		b.SetBytes(int64(32 * len(x)))
		// (0.6, 0.8) is a rotation: |x|^2+|y|^2 is kept, nothing drifts.
		for b.Loop() {
			Drot(x, y, 0.6, 0.8)
		}
		b.ReportMetric(6*float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
