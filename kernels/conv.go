package kernels

// Direct convolution kernels for training the CNN in float32 (package nn).
// Activations are NHWC with a zero border of one pixel (each image stored as
// (h+2) x (w+2) pixels of C channels), so that a 3x3 tap of an output pixel
// is the same pixel shifted by a fixed offset and no im2col copy is made.
//
// SconvTile is the forward convolution and the input gradient: a tile of
// segs segments of ConvSeg pixels (each a run of pixels ConvSeg apart by
// the stride as) times nr output channels,
//
//	for s < segs, i < ConvSeg, j < nr:
//	    acc = (bias[j] if epi == ConvBiasReLU, else 0)
//	    for t, off := range taps: for p < kc:
//	        acc += a[seg_s + i*as + off + p] * b[(t*kc+p)*nr + j]
//	    c[cseg_s + i*cs + j] = epilogue(acc)
//
// with the input pixels' channels broadcast straight from a (never packed)
// and the weights b packed per tap and channel. SconvGrad is the weight
// gradient: a GEMM whose inner dimension runs over pixels, both operands
// read in place with their pixel strides,
//
//	for i < mr, j < nr:
//	    c[i*ldc+j] (+)= sum_r sum_{p < kc} a[aoff + (runs[r]+p)*as + i] * b[boff + (runs[r]+p)*bs + j]
//
// Each output sums its products in a fixed order (taps, then channels;
// runs, then pixels) that does not depend on how the caller splits the
// work, which keeps training bit-for-bit reproducible whatever the number of
// threads. The AVX-512 and AVX2 levels have them in assembly
// (zconv_amd64.s); elsewhere they are the Go loops above (HasSconv reports
// which).

// ConvSeg is the number of pixels in one segment of a SconvTile tile: 7,
// so that the rows of MNIST's 28, 14 and 7 pixel wide layers split into
// whole segments.
const ConvSeg = 7

// ConvEpilogue selects what SconvTile stores.
type ConvEpilogue uint8

const (
	// ConvStore stores the sums.
	ConvStore ConvEpilogue = iota
	// ConvBiasReLU starts the sums at bias and stores max(sum, 0): the
	// forward convolution with its bias and the ReLU after it.
	ConvBiasReLU
	// ConvMask stores the sum where mask (at the same index as c) is
	// above zero and 0 elsewhere (NaN in mask counts as not above): the
	// input gradient times the derivative of the ReLU that produced the
	// input.
	ConvMask
)

// SconvShape returns SconvTile's tile at the current level: segs segments
// of ConvSeg pixels by nr channels.
func SconvShape() (segs, nr int) { return sconvShape(current) }

// SconvGradShape returns SconvGrad's tile (mr x nr) at the current level.
func SconvGradShape() (mr, nr int) { return sconvGradShape(current) }

// HasSconv reports whether the current level runs SconvTile and SconvGrad in
// assembly (otherwise they are plain Go loops, and nn convolves through
// im2col and the GEMM instead).
func HasSconv() bool { return hasSconv(current) }

// SconvTile computes one tile of a convolution (see the package comment):
// segment s of the tile has its first pixel at a[a0] (s = 0) or a[a1]
// (s = 1; ignored when the level's tile has one segment), its outputs
// start at c[c0] and c[c1], and the tile's nr channels at bias[0] and
// b's packed rows. a's pixel stride is as, c's (and mask's) cs. Flops:
// 2*segs*ConvSeg*nr*len(taps)*kc.
func SconvTile(a []float32, a0, a1, as int, taps []int, kc int, b, c []float32, c0, c1, cs int,
	epi ConvEpilogue, bias, mask []float32) {
	l := current
	segs, nr := sconvShape(l)
	if kc < 1 || len(taps) < 1 || as < 0 || cs < 0 || epi > ConvMask {
		panic("kernels: SconvTile: bad kc, taps, strides or epilogue")
	}
	lo, hi := taps[0], taps[0]
	for _, t := range taps {
		lo, hi = min(lo, t), max(hi, t)
	}
	as0, cs0 := [2]int{a0, a1}, [2]int{c0, c1}
	for s := 0; s < segs; s++ {
		if as0[s]+lo < 0 || as0[s]+(ConvSeg-1)*as+hi+kc > len(a) {
			panic("kernels: SconvTile: a segment reads outside a")
		}
		if cs0[s] < 0 || cs0[s]+(ConvSeg-1)*cs+nr > len(c) || (epi == ConvMask && cs0[s]+(ConvSeg-1)*cs+nr > len(mask)) {
			panic("kernels: SconvTile: a segment writes outside c or reads outside mask")
		}
	}
	if len(b) < len(taps)*kc*nr || (epi == ConvBiasReLU && len(bias) < nr) {
		panic("kernels: SconvTile: b or bias too short")
	}
	sconvTile(l, a, a0, a1, as, taps, kc, b, c, c0, c1, cs, epi, bias, mask)
}

// ConvRuns lists the first pixels of the runs SconvGrad sums over, with
// their range found once (SconvGrad then checks its bounds in O(1)).
type ConvRuns struct {
	starts []int
	lo, hi int
}

// NewConvRuns returns the runs starting at the pixels starts (not copied:
// the caller must not change them while the ConvRuns is in use).
func NewConvRuns(starts []int) ConvRuns {
	r := ConvRuns{starts: starts}
	if len(starts) > 0 {
		r.lo, r.hi = starts[0], starts[0]
		for _, v := range starts {
			r.lo, r.hi = min(r.lo, v), max(r.hi, v)
		}
	}
	if r.lo < 0 {
		panic("kernels: NewConvRuns: a negative pixel")
	}
	return r
}

// SconvGrad adds (add set) or stores the product of the pixels listed by
// runs into an mr x nr tile of c (row stride ldc): see the package comment.
// Each run r covers the kc pixels starts[r], ..., starts[r]+kc-1; the
// operands' pixel strides are as and bs (as = 0 broadcasts a[aoff:aoff+mr]
// to every pixel: with ones there, the tile's rows are the column sums of
// b, a bias gradient). Flops: 2*mr*nr*kc*len(runs).
func SconvGrad(a []float32, aoff, as int, b []float32, boff, bs int, runs ConvRuns, kc int, c []float32, ldc int, add bool) {
	l := current
	mr, nr := sconvGradShape(l)
	if kc < 0 || as < 0 || bs < 0 || ldc < nr || len(c) < (mr-1)*ldc+nr {
		panic("kernels: SconvGrad: bad kc, strides or tile")
	}
	starts := runs.starts
	if len(starts) > 0 && kc > 0 {
		lo, hi := runs.lo, runs.hi
		if aoff+lo*as < 0 || aoff+(hi+kc-1)*as+mr > len(a) || boff+lo*bs < 0 || boff+(hi+kc-1)*bs+nr > len(b) {
			panic("kernels: SconvGrad: a run reads outside a or b")
		}
	} else {
		starts = nil
	}
	sconvGrad(l, a, aoff, as, b, boff, bs, starts, kc, c, ldc, add)
}

// sconvTileGeneric is SconvTile's Go loop for a tile of segs segments by nr
// channels.
func sconvTileGeneric(segs, nr int, a []float32, a0, a1, as int, taps []int, kc int, b, c []float32, c0, c1, cs int,
	epi ConvEpilogue, bias, mask []float32) {
	var acc [maxConvNR]float32
	for s := 0; s < segs; s++ {
		sa, sc := a0, c0
		if s == 1 {
			sa, sc = a1, c1
		}
		for i := 0; i < ConvSeg; i++ {
			row := acc[:nr]
			if epi == ConvBiasReLU {
				copy(row, bias[:nr])
			} else {
				clear(row)
			}
			for t, off := range taps {
				src := a[sa+i*as+off : sa+i*as+off+kc]
				for p, v := range src {
					w := b[(t*kc+p)*nr : (t*kc+p)*nr+nr]
					for j, x := range w {
						row[j] += v * x
					}
				}
			}
			dst := c[sc+i*cs : sc+i*cs+nr]
			switch epi {
			case ConvStore:
				copy(dst, row)
			case ConvBiasReLU:
				for j, v := range row {
					dst[j] = max(v, 0)
				}
			case ConvMask:
				m := mask[sc+i*cs : sc+i*cs+nr]
				for j, v := range row {
					if m[j] > 0 {
						dst[j] = v
					} else {
						dst[j] = 0
					}
				}
			}
		}
	}
}

// maxConvNR bounds nr of every level's SconvTile and SconvGrad.
const maxConvNR = 32

// sconvGradGeneric is SconvGrad's Go loop for an mr x nr tile.
func sconvGradGeneric(mr, nr int, a []float32, aoff, as int, b []float32, boff, bs int, runs []int, kc int, c []float32, ldc int, add bool) {
	var acc [maxConvNR * maxConvNR]float32
	t := acc[:mr*nr]
	for _, r := range runs {
		for p := r; p < r+kc; p++ {
			x := a[aoff+p*as : aoff+p*as+mr]
			y := b[boff+p*bs : boff+p*bs+nr]
			for i, v := range x {
				row := t[i*nr : i*nr+nr]
				for j, w := range y {
					row[j] += v * w
				}
			}
		}
	}
	for i := 0; i < mr; i++ {
		dst := c[i*ldc : i*ldc+nr]
		if add {
			for j, v := range t[i*nr : i*nr+nr] {
				dst[j] += v
			}
		} else {
			copy(dst, t[i*nr:i*nr+nr])
		}
	}
}

// SmaxPool is one output row of a 2x2, stride-2 max-pool of NHWC pixels of
// c channels: for x < n and ch < c, of the four values
//
//	in[r0+2x*c+ch], in[r0+(2x+1)*c+ch], in[r1+2x*c+ch], in[r1+(2x+1)*c+ch]
//
// (r0 and r1 start the two input rows) the first largest goes to
// out[o0+x*c+ch] and its position, 0 to 3, to which[w0+x*c+ch]. Values are
// compared with >, so a NaN never replaces another value and is never
// replaced. c must be a multiple of 16.
func SmaxPool(in []float32, r0, r1 int, out []float32, o0 int, which []int32, w0 int, n, c int) {
	if n <= 0 {
		return
	}
	if c <= 0 || c%16 != 0 || r0 < 0 || r1 < 0 || o0 < 0 || w0 < 0 || max(r0, r1)+2*n*c > len(in) || o0+n*c > len(out) || w0+n*c > len(which) {
		panic("kernels: SmaxPool: bad channels or offsets")
	}
	smaxPool(current, in, r0, r1, out, o0, which, w0, n, c)
}

// SmaxPoolBack is SmaxPool's gradient times the derivative of a ReLU below
// it: with v = g[o0+x*c+ch] where pooled[o0+x*c+ch] > 0 (0 elsewhere) and
// k = which[w0+x*c+ch], it writes v to the input position k of the four
// (in dst, at r0 and r1 as SmaxPool's in) and 0 to the other three.
func SmaxPoolBack(g []float32, o0 int, pooled []float32, which []int32, w0 int, dst []float32, r0, r1 int, n, c int) {
	if n <= 0 {
		return
	}
	if c <= 0 || c%16 != 0 || r0 < 0 || r1 < 0 || o0 < 0 || w0 < 0 || max(r0, r1)+2*n*c > len(dst) || o0+n*c > len(g) ||
		o0+n*c > len(pooled) || w0+n*c > len(which) {
		panic("kernels: SmaxPoolBack: bad channels or offsets")
	}
	smaxPoolBack(current, g, o0, pooled, which, w0, dst, r0, r1, n, c)
}

func smaxPoolGeneric(in []float32, r0, r1 int, out []float32, o0 int, which []int32, w0 int, n, c int) {
	for x := 0; x < n; x++ {
		for ch := 0; ch < c; ch++ {
			m, k := in[r0+2*x*c+ch], int32(0)
			for d, v := range [3]float32{in[r0+(2*x+1)*c+ch], in[r1+2*x*c+ch], in[r1+(2*x+1)*c+ch]} {
				if v > m {
					m, k = v, int32(d+1)
				}
			}
			out[o0+x*c+ch], which[w0+x*c+ch] = m, k
		}
	}
}

func smaxPoolBackGeneric(g []float32, o0 int, pooled []float32, which []int32, w0 int, dst []float32, r0, r1 int, n, c int) {
	for x := 0; x < n; x++ {
		for ch := 0; ch < c; ch++ {
			v := g[o0+x*c+ch]
			if !(pooled[o0+x*c+ch] > 0) {
				v = 0
			}
			k := which[w0+x*c+ch]
			for d, i := range [4]int{r0 + 2*x*c + ch, r0 + (2*x+1)*c + ch, r1 + 2*x*c + ch, r1 + (2*x+1)*c + ch} {
				if int32(d) == k {
					dst[i] = v
				} else {
					dst[i] = 0
				}
			}
		}
	}
}
