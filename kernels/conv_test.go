package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSconvTile checks every level's SconvTile against the loop of its doc
// comment in float64, on 3x3 taps of a padded image with kc from 1 to 13
// (the unrolled loop and its tail), pixel strides above kc, each
// epilogue, and a tile whose two segments are the same pixels. Entries of
// c outside the tile must stay untouched.
func TestSconvTile(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		segs, nr := SconvShape()
		rng := rand.New(rand.NewPCG(1, 2))
		for _, kc := range []int{1, 2, 3, 4, 5, 8, 13} {
			for _, epi := range []ConvEpilogue{ConvStore, ConvBiasReLU, ConvMask} {
				for _, same := range []bool{false, true} {
					name := fmt.Sprintf("kc=%d/epi=%d/same=%v", kc, epi, same)
					as := kc + rng.IntN(3) // pixel stride of a
					cs := nr + rng.IntN(5) // pixel stride of c
					const wp, hp = 12, 9   // padded image
					var taps []int
					for ky := 0; ky < 3; ky++ {
						for kx := 0; kx < 3; kx++ {
							taps = append(taps, ((ky-1)*wp+kx-1)*as)
						}
					}
					a := randSlice32(rng, wp*hp*as)
					b := randSlice32(rng, len(taps)*kc*nr)
					bias := randSlice32(rng, nr)
					// segment starts: pixel (row 1..hp-2, column 1..wp-8)
					pix := func() int { return (1+rng.IntN(hp-2))*wp + 1 + rng.IntN(wp-ConvSeg-1) }
					p0, p1 := pix(), pix()
					if same {
						p1 = p0
					}
					q0, q1 := rng.IntN(5), 5+ConvSeg*cs+rng.IntN(5)
					if same {
						q1 = q0
					}
					clen := q1 + ConvSeg*cs + nr
					mask := randSlice32(rng, clen)
					mask[q0] = 0
					mask[q0+1] = float32(math.NaN())
					c := make([]float32, clen)
					for i := range c {
						c[i] = -7
					}
					SconvTile(a, p0*as, p1*as, as, taps, kc, b, c, q0, q1, cs, epi, bias, mask)
					want := make([]float64, clen)
					tol := make([]float64, clen)
					written := make([]bool, clen)
					for i := range want {
						want[i] = -7
					}
					pa, pc := [2]int{p0 * as, p1 * as}, [2]int{q0, q1}
					for s := 0; s < segs; s++ {
						for i := 0; i < ConvSeg; i++ {
							for j := 0; j < nr; j++ {
								var sum, abs float64
								if epi == ConvBiasReLU {
									sum, abs = float64(bias[j]), math.Abs(float64(bias[j]))
								}
								for ti, off := range taps {
									for p := 0; p < kc; p++ {
										x := float64(a[pa[s]+i*as+off+p]) * float64(b[(ti*kc+p)*nr+j])
										sum += x
										abs += math.Abs(x)
									}
								}
								k := pc[s] + i*cs + j
								switch {
								case epi == ConvBiasReLU:
									sum = max(sum, 0)
								case epi == ConvMask && !(mask[k] > 0):
									sum = 0
								}
								want[k], tol[k], written[k] = sum, 2*float64(len(taps)*kc+1)*eps32*abs, true
							}
						}
					}
					for k := range c {
						if written[k] && !sameFloat(float64(c[k]), want[k], tol[k]) || !written[k] && c[k] != -7 {
							t.Fatalf("%s: c[%d] = %g, want %g (tol %g, in tile %v)", name, k, c[k], want[k], tol[k], written[k])
						}
					}
				}
			}
		}
	})
}

// TestSconvGrad checks every level's SconvGrad against its doc comment's
// loop in float64: runs of 1 to 9 pixels (the unrolled loop and its
// tail), pixel strides above the tile, adding and storing, no runs, and a
// zero stride (column sums, the bias gradient).
func TestSconvGrad(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		mr, nr := SconvGradShape()
		rng := rand.New(rand.NewPCG(3, 4))
		for _, kc := range []int{1, 2, 3, 4, 5, 7, 9} {
			for _, nruns := range []int{0, 1, 3} {
				for _, add := range []bool{false, true} {
					for _, ones := range []bool{false, true} {
						name := fmt.Sprintf("kc=%d/runs=%d/add=%v/ones=%v", kc, nruns, add, ones)
						as, bs := mr+rng.IntN(4), nr+rng.IntN(4)
						const pixels = 40
						a := randSlice32(rng, pixels*as+mr)
						aoff := rng.IntN(3)
						if ones {
							as = 0
							for i := range a {
								a[i] = 1
							}
						}
						b := randSlice32(rng, pixels*bs+nr)
						boff := rng.IntN(3)
						runs := make([]int, nruns)
						for r := range runs {
							runs[r] = rng.IntN(pixels - kc)
						}
						ldc := nr + rng.IntN(3)
						c := randSlice32(rng, (mr-1)*ldc+nr+2)
						c0 := append([]float32(nil), c...)
						SconvGrad(a, aoff, as, b, boff, bs, NewConvRuns(runs), kc, c, ldc, add)
						for k := range c {
							i, j := k/ldc, k%ldc
							if i >= mr || j >= nr {
								if c[k] != c0[k] {
									t.Fatalf("%s: c[%d] outside the tile changed", name, k)
								}
								continue
							}
							var sum, abs float64
							for _, r := range runs {
								for p := r; p < r+kc; p++ {
									x := float64(a[aoff+p*as+i]) * float64(b[boff+p*bs+j])
									sum += x
									abs += math.Abs(x)
								}
							}
							if add {
								sum += float64(c0[k])
								abs += math.Abs(float64(c0[k]))
							}
							if tol := 2 * float64(nruns*kc+1) * eps32 * abs; !sameFloat(float64(c[k]), sum, tol) {
								t.Fatalf("%s: c[%d][%d] = %g, want %g (tol %g)", name, i, j, c[k], sum, tol)
							}
						}
					}
				}
			}
		}
	})
}

// TestSconvPanics: out-of-range segments, runs and tiles panic instead of
// reading or writing past a slice.
func TestSconvPanics(t *testing.T) {
	segs, nr := SconvShape()
	mr, gnr := SconvGradShape()
	a := make([]float32, 100)
	b := make([]float32, 9*4*nr)
	c := make([]float32, 8*nr)
	for name, f := range map[string]func(){
		"tile a":    func() { SconvTile(a, 95, 0, 1, []int{0}, 4, b, c, 0, 0, nr, ConvStore, nil, nil) },
		"tile tap":  func() { SconvTile(a, 0, 0, 1, []int{-1}, 4, b, c, 0, 0, nr, ConvStore, nil, nil) },
		"tile c":    func() { SconvTile(a, 0, 0, 1, []int{0}, 4, b, c, 2*nr, 2*nr, nr, ConvStore, nil, nil) },
		"tile bias": func() { SconvTile(a, 0, 0, 1, []int{0}, 4, b, c, 0, 0, nr, ConvBiasReLU, nil, nil) },
		"tile mask": func() { SconvTile(a, 0, 0, 1, []int{0}, 4, b, c, 0, 0, nr, ConvMask, nil, nil) },
		"tile b":    func() { SconvTile(a, 0, 0, 1, []int{0, 1}, 4, b[:4*nr], c, 0, 0, nr, ConvStore, nil, nil) },
		"grad run":  func() { SconvGrad(a, 0, 1, a, 0, 1, NewConvRuns([]int{0, 99, 3}), 4, c, gnr, false) },
		"grad tile": func() { SconvGrad(a, 0, 1, a, 0, 1, NewConvRuns([]int{0}), 4, c[:(mr-1)*gnr], gnr, false) },
		"grad neg":  func() { NewConvRuns([]int{3, -1}) },
	} {
		if segs == 1 && name == "tile c" {
			// the second segment is ignored; put the first one out of range
			f = func() { SconvTile(a, 0, 0, 1, []int{0}, 4, b, c, len(c), 0, nr, ConvStore, nil, nil) }
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkSconvTile runs SconvTile as a 3x3 convolution of C channels does
// over a 7 x 7 padded image (MNIST's last layers: C = 128 in and out),
// every tile of every 32-channel block, image and weights in cache.
func BenchmarkSconvTile(b *testing.B) {
	for _, C := range []int{32, 128} {
		b.Run(fmt.Sprintf("C=%d", C), func(b *testing.B) {
			forEachLevelB(b, func(b *testing.B) {
				segs, nr := SconvShape()
				const w, wp = 7, 9
				rng := rand.New(rand.NewPCG(15, 16))
				a := randSlice32(rng, (wp*wp+ConvSeg)*C)
				var taps []int
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						taps = append(taps, ((ky-1)*wp+kx-1)*C)
					}
				}
				wts := randSlice32(rng, 9*C*nr)
				bias := randSlice32(rng, nr)
				out := make([]float32, wp*wp*C)
				rows := w / segs
				call := func() {
					for o := 0; o < C; o += nr {
						for y := 0; y < rows; y++ {
							p0, p1 := (1+segs*y)*wp+1, (2+segs*y)*wp+1
							SconvTile(a, p0*C, p1*C, C, taps, C, wts, out, p0*C+o, p1*C+o, C, ConvBiasReLU, bias, nil)
						}
					}
				}
				fpc := 2 * float64(C/nr*rows*segs*ConvSeg*nr*9*C)
				for b.Loop() {
					call()
				}
				b.ReportMetric(fpc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				reportPeakFraction(b, "%peak32", 2, fpc, call)
			})
		})
	}
}

// BenchmarkSconvGrad runs SconvGrad as the weight gradient of a 3x3
// convolution with C channels in and out does on four 7 x 7 images (one
// block of images, in cache): every tile of one tap.
func BenchmarkSconvGrad(b *testing.B) {
	const C = 128
	forEachLevelB(b, func(b *testing.B) {
		mr, nr := SconvGradShape()
		const w, wp, imgs = 7, 9, 4
		rng := rand.New(rand.NewPCG(17, 18))
		x := randSlice32(rng, (imgs*wp*wp+mr)*C)
		dy := randSlice32(rng, (imgs*wp*wp+mr)*C)
		var runs []int
		for s := 0; s < imgs; s++ {
			for y := 0; y < w; y++ {
				runs = append(runs, (s*wp+y+1)*wp+1)
			}
		}
		c := make([]float32, C*C)
		cr := NewConvRuns(runs)
		tiles := (C + mr - 1) / mr
		call := func() {
			for ct := 0; ct < tiles; ct++ {
				for o := 0; o < C; o += nr {
					SconvGrad(x, ct*mr, C, dy, o, C, cr, w, c[min(ct*mr, C-mr)*C+o:], C, true)
				}
			}
		}
		fpc := 2 * float64(tiles*mr*C*len(runs)*w)
		for b.Loop() {
			call()
		}
		b.ReportMetric(fpc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		reportPeakFraction(b, "%peak32", 2, fpc, call)
	})
}

// TestSmaxPool checks SmaxPool and SmaxPoolBack against their doc comments'
// loops (exactly: they only compare and copy), with ties, NaNs and values
// at or below zero, for 1 to 3 output pixels of 16 to 48 channels.
func TestSmaxPool(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(19, 20))
		for _, c := range []int{16, 32, 48} {
			for _, n := range []int{1, 2, 3} {
				in := randSlice32(rng, 3+4*n*c+5)
				for i := range in {
					switch rng.IntN(8) {
					case 0:
						in[i] = 0.25 // ties
					case 1:
						in[i] = float32(math.NaN())
					}
				}
				r0, r1 := 3, 3+2*n*c
				out, which := make([]float32, 2+n*c), make([]int32, 1+n*c)
				SmaxPool(in, r0, r1, out, 2, which, 1, n, c)
				for x := 0; x < n; x++ {
					for ch := 0; ch < c; ch++ {
						v := [4]float32{in[r0+2*x*c+ch], in[r0+(2*x+1)*c+ch], in[r1+2*x*c+ch], in[r1+(2*x+1)*c+ch]}
						m, k := v[0], int32(0)
						for d := 1; d < 4; d++ {
							if v[d] > m {
								m, k = v[d], int32(d)
							}
						}
						got := out[2+x*c+ch]
						if which[1+x*c+ch] != k || math.Float32bits(got) != math.Float32bits(m) {
							t.Fatalf("c=%d x=%d ch=%d: %v: got %g at %d, want %g at %d", c, x, ch, v, got, which[1+x*c+ch], m, k)
						}
					}
				}
				g := randSlice32(rng, 2+n*c)
				dst := randSlice32(rng, len(in))
				keep := append([]float32(nil), dst...)
				SmaxPoolBack(g, 2, out, which, 1, dst, r0, r1, n, c)
				for i := range dst {
					want := keep[i]
					for x := 0; x < n; x++ {
						for ch := 0; ch < c; ch++ {
							for d, j := range [4]int{r0 + 2*x*c + ch, r0 + (2*x+1)*c + ch, r1 + 2*x*c + ch, r1 + (2*x+1)*c + ch} {
								if j != i {
									continue
								}
								want = 0
								if which[1+x*c+ch] == int32(d) && out[2+x*c+ch] > 0 {
									want = g[2+x*c+ch]
								}
							}
						}
					}
					if math.Float32bits(dst[i]) != math.Float32bits(want) {
						t.Fatalf("c=%d n=%d: dst[%d] = %g, want %g", c, n, i, dst[i], want)
					}
				}
			}
		}
	})
}
