package nn

import (
	"runtime"
	"sync"
	"time"

	"github.com/awd-toolkit/awd/kernels"
)

// The float32 training path of the CNN where the kernels have direct
// convolutions in assembly (kernels.HasSconv): no im2col. Activations that
// a convolution reads are NHWC with a one-pixel zero border, (h+2) x (w+2)
// pixels per image, so that tap (ky, kx) of pixel q is pixel
// q + (ky-1)(w+2) + kx-1 and the three taps of a kernel row are three
// consecutive pixels, 3*C consecutive values. Per convolution, with weights
// W[ky][kx][c][o] (HWIO):
//
//	forward  y[q][o]  = relu(b[o] + sum_{ky} sum_{kx,c} x[q+(ky-1)(w+2)-1+kx][c] W[ky][kx][c][o])
//	input    dx[q][c] = [x[q][c] > 0] sum_{ky} sum_{kx',o} dy[q-(ky-1)(w+2)-1+kx'][o] W[ky][2-kx'][c][o]
//	weights  dW[ky][kx][c][o] = sum_q x[q+(ky-1)(w+2)-1+kx][c] dy[q][o]
//
// The first two are kernels.SconvTile over 7-pixel segments of the image
// rows (three taps of 3*C channels), the third kernels.SconvGrad over the
// rows of 3*C values (kx, c) of one kernel row ky: a GEMM whose inner
// dimension runs over the interior pixels. The ReLU after each convolution
// is the forward's epilogue; its derivative is applied where the gradient
// is made (the input gradient's mask, the max-pool's scatter), so no layer
// stores a ReLU output or mask of its own. Every output sums in an order
// fixed by the layer's shape alone: the split of images and tiles over
// goroutines does not change a bit.

// grid is the shape of one image's activations: h x w pixels of c channels.
type grid struct{ h, w, c int }

// wp is the padded row length in pixels.
func (g grid) wp() int { return g.w + 2 }

// img is the number of pixels of one padded image.
func (g grid) img() int { return (g.h + 2) * (g.w + 2) }

// pix is the pixel index of interior pixel (y, x) of image s.
func (g grid) pix(s, y, x int) int { return (s*(g.h+2)+y+1)*(g.w+2) + x + 1 }

// padded is the length of the buffer of b padded images: the kernels read
// up to two rows and 16 pixels past the last image (segments that run past
// a short row, the weight gradient's last rows of a tile).
func (g grid) padded(b int) int { return (b*g.img() + 2*g.wp() + 16) * g.c }

// gradChunk is how many images the weight gradient takes per SconvGrad
// call: their activations and gradients stay in L2 while every tile of the
// gradient passes over them. It is part of the summation order, so it is a
// constant.
const gradChunk = 4

// dconv is one convolution's direct-path state.
type dconv struct {
	in, out grid
	// stack: the input is read as rows stacked three high (x3, see
	// stackRows): one tap of 9*in values per pixel instead of three of
	// 3*in, which for the first layer's one or three channels fills the
	// weight gradient's tiles (9 of 14 rows used instead of 3).
	stack  bool
	taps   []int     // per kernel row (one when stacked): offset of its first value
	kc     int       // values per tap: 3*in (9*in stacked)
	tapsDX []int     // the input gradient's, over dy
	wf     []float32 // forward weights, per block of nr outputs: [taps*kc][nr]
	wdx    []float32 // input-gradient weights, per block of nr inputs: [ky][kx'][out][nr]
	x3     []float32 // stacked input: x3[q][ky*in+c] = x[q+(ky-1)(w+2)][c]
}

// wrow is the HWIO row, (ky*3+kx)*in + c, of row r of tap t of the
// forward's weights (and of the weight gradient's tiles).
func (c *dconv) wrow(t, r int) int {
	if !c.stack { // r = kx*in + c in kernel row t
		return t*c.kc + r
	}
	in := c.in.c // r = kx*3*in + ky*in + c
	kx, ky, ch := r/(3*in), r/in%3, r%in
	return (ky*3+kx)*in + ch
}

// direct is the state of a float32 net whose convolutions are direct.
type direct struct {
	segs, nr int // SconvTile's tile
	gmr, gnr int // SconvGrad's
	padIn    bool
	inGrid   grid
	x        []float32   // the padded input when the first layer is a conv
	act      [][]float32 // per layer output (a conv's ReLU shares its conv's)
	grad     [][]float32 // per layer: dLoss/d(output); for a conv and its ReLU, before the ReLU
	grids    []grid      // per layer output
	pad      []bool      // per layer: output padded
	conv     []*dconv
	ones     []float32
	stale    bool // weights changed since wf and wdx were packed
}

// newDirect returns the direct path for m's layers, or nil when m has no
// convolutions, the kernels have none in assembly, or the channel counts
// do not fit the kernels' tiles.
func newDirect(m *Model, capacity int) *direct {
	if m.Arch.Model != "cnn" || !kernels.HasSconv() {
		return nil
	}
	d := &direct{stale: true}
	d.segs, d.nr = kernels.SconvShape()
	d.gmr, d.gnr = kernels.SconvGradShape()
	L := len(m.layers)
	d.act, d.grad, d.grids = make([][]float32, L), make([][]float32, L), make([]grid, L)
	d.pad, d.conv = make([]bool, L), make([]*dconv, L)
	d.inGrid = grid{m.Arch.In[1], m.Arch.In[2], m.Arch.In[0]}
	d.padIn = m.layers[0].kind == kConv
	prev, prevPad := d.inGrid, d.padIn
	for i, l := range m.layers {
		g := prev
		switch l.kind {
		case kConv:
			// A conv is followed by its ReLU; every conv but the first
			// reads a ReLU output or a max-pool of one (the input
			// gradient's mask is that ReLU's derivative).
			if i+1 >= len(m.layers) || m.layers[i+1].kind != kReLU || l.out%d.nr != 0 || l.out%d.gnr != 0 || l.out%16 != 0 ||
				!prevPad || (i > 0 && (l.in%d.nr != 0 || !reluBelow(m, i))) {
				return nil
			}
			g = grid{l.h, l.w, l.out}
			d.pad[i] = true
		case kReLU:
			d.pad[i] = prevPad
		case kMaxPool:
			g = grid{l.h / 2, l.w / 2, l.in}
			d.pad[i] = i+1 < len(m.layers) && m.layers[i+1].kind == kConv
		case kAvgPool:
			g = grid{1, 1, l.in}
		case kLinear:
			g = grid{1, 1, l.out}
		}
		d.grids[i] = g
		prev, prevPad = g, d.pad[i]
	}
	for i, l := range m.layers {
		g := d.grids[i]
		size := capacity * g.h * g.w * g.c
		if d.pad[i] {
			size = g.padded(capacity)
		}
		switch {
		case l.kind == kReLU && m.layers[i-1].kind == kConv:
			d.act[i], d.grad[i] = d.act[i-1], d.grad[i-1]
		default:
			d.act[i], d.grad[i] = make([]float32, size), make([]float32, size)
		}
		if l.kind == kConv {
			in := d.inGrid
			if i > 0 {
				in = d.grids[i-1]
			}
			c := &dconv{in: in, out: g, stack: i == 0 && in.c < d.gmr, kc: 3 * in.c}
			for ky := 0; ky < 3; ky++ {
				c.taps = append(c.taps, ((ky-1)*in.wp()-1)*in.c)
				c.tapsDX = append(c.tapsDX, (-(ky-1)*g.wp()-1)*g.c)
			}
			if c.stack {
				c.taps, c.kc = []int{-3 * in.c}, 9*in.c
				c.x3 = make([]float32, grid{in.h, in.w, 3 * in.c}.padded(capacity))
			}
			c.wf = make([]float32, 9*in.c*l.out)
			c.wdx = make([]float32, 9*in.c*l.out)
			d.conv[i] = c
		}
	}
	if d.padIn {
		d.x = make([]float32, d.inGrid.padded(capacity))
	}
	d.ones = make([]float32, d.gmr)
	for i := range d.ones {
		d.ones[i] = 1
	}
	return d
}

// reluBelow reports whether the input of layer i is a ReLU output or a
// max-pool of one.
func reluBelow(m *Model, i int) bool {
	j := i - 1
	if m.layers[j].kind == kMaxPool {
		j--
	}
	return j >= 0 && m.layers[j].kind == kReLU
}

// pack lays out the convolutions' weights (HWIO in w) for SconvTile: the
// forward's per block of nr outputs, the input gradient's per block of nr
// inputs with the kernel's columns reversed.
func (d *direct) pack(n *net[float32]) {
	nr := d.nr
	for i, c := range d.conv {
		if c == nil {
			continue
		}
		l := n.m.layers[i]
		w := n.w[l.wi] // [9*in][out]
		rows := 9 * l.in
		for ob := 0; ob < l.out/nr; ob++ {
			dst := c.wf[ob*rows*nr : (ob+1)*rows*nr]
			for r := 0; r < rows; r++ {
				src := c.wrow(r/c.kc, r%c.kc) * l.out
				copy(dst[r*nr:(r+1)*nr], w[src+ob*nr:src+ob*nr+nr])
			}
		}
		if i == 0 {
			continue
		}
		// wdx[cb][ky][kx'][o][j] = W[ky][2-kx'][cb*nr+j][o]
		per := 9 * l.out * nr
		for cb := 0; cb < l.in/nr; cb++ {
			dst := c.wdx[cb*per : (cb+1)*per]
			for ky := 0; ky < 3; ky++ {
				for kx := 0; kx < 3; kx++ {
					src := w[((ky*3+2-kx)*l.in+cb*nr)*l.out:]
					blk := dst[(ky*3+kx)*l.out*nr:]
					for j := 0; j < nr; j++ {
						row := src[j*l.out : j*l.out+l.out]
						for o, v := range row {
							blk[o*nr+j] = v
						}
					}
				}
			}
		}
	}
	d.stale = false
}

// segments lists the first pixels of the 7-pixel segments that cover the
// interior of images [s0, s1) of g, row by row: at x = 0, 7, 14, ..., the
// last one moved back to end at the row's end (overlapping its neighbour:
// both compute the same values). A row shorter than 7 has one segment that
// runs on into the border and the next row, whose values there are
// computed again by that row's own segment (same values, same image).
func segments(g grid, s0, s1 int, dst []int) []int {
	dst = dst[:0]
	for s := s0; s < s1; s++ {
		for y := 0; y < g.h; y++ {
			for x := 0; x < g.w; x += kernels.ConvSeg {
				x0 := x
				if g.w >= kernels.ConvSeg {
					x0 = min(x, g.w-kernels.ConvSeg)
				}
				dst = append(dst, g.pix(s, y, x0))
			}
		}
	}
	return dst
}

// rowRuns lists the first interior pixel of every row of images [s0, s1).
func rowRuns(g grid, s0, s1 int, dst []int) []int {
	dst = dst[:0]
	for s := s0; s < s1; s++ {
		for y := 0; y < g.h; y++ {
			dst = append(dst, g.pix(s, y, 0))
		}
	}
	return dst
}

// tileGroupBytes bounds the input and output of the images that tiles
// takes at a time through every block of output channels: measured on Zen 5
// (1 MiB L2) with the weight blocks of a layer (up to 590 KB) in L2 too,
// 512 KB groups beat one image at a time (layers of 7 x 7: 5-15%) and one
// pass per block over all the images (the first layer, whose output is
// 14.7 MB a batch: 30%).
const tileGroupBytes = 512 << 10

// tiles runs SconvTile over the segments of images [s0, s1), pairing
// consecutive segments of an image when the tile has two (the last one
// alone with itself), for every block of nr output channels, a group of
// images (tileGroupBytes) at a time.
func (d *direct) tiles(g grid, s0, s1 int, a []float32, as int, taps []int, kc int, w []float32,
	c []float32, cs, channels int, epi kernels.ConvEpilogue, bias, mask []float32) {
	segs := make([]int, 0, (s1-s0)*g.h*(g.w/kernels.ConvSeg+1))
	per := len(taps) * kc * d.nr
	step := max(1, tileGroupBytes/(g.img()*(as+cs)*4))
	for s := s0; s < s1; s += step {
		segs = segments(g, s, min(s+step, s1), segs)
		for ob := 0; ob < channels/d.nr; ob++ {
			wb := w[ob*per : (ob+1)*per]
			var bb []float32
			if bias != nil {
				bb = bias[ob*d.nr:]
			}
			o := ob * d.nr
			for k := 0; k < len(segs); k += d.segs {
				p0, p1 := segs[k], segs[k]
				if d.segs == 2 && k+1 < len(segs) {
					p1 = segs[k+1]
				}
				kernels.SconvTile(a, p0*as, p1*as, as, taps, kc, wb, c, p0*cs+o, p1*cs+o, cs, epi, bb, mask)
			}
		}
	}
}

// zeroBorders clears the border pixels of images [s0, s1) of the padded
// buffer a: a row shorter than a segment leaves the forward's values there.
func zeroBorders(a []float32, g grid, s0, s1 int) {
	wp, c := g.wp(), g.c
	for s := s0; s < s1; s++ {
		base := s * g.img()
		clear(a[base*c : (base+wp+1)*c])
		for y := 1; y <= g.h; y++ {
			clear(a[(base+y*wp+g.w+1)*c : (base+(y+1)*wp+1)*c])
		}
		clear(a[(base+(g.h+1)*wp)*c : (base+(g.h+2)*wp)*c])
	}
}

// The batch runs in regions, each a parallel pass over the images (and, for
// a weight gradient, over its tiles) with one goroutine per processor: the
// forward of every convolution, ReLU and pool is one region (each image's
// layers depend on that image alone), and the backward one region per
// convolution, its weight gradient's tiles (which need every image's
// gradient) with the image-local work that follows it down to the next
// convolution: 6 meetings a batch instead of one per layer and pass.

// region runs f(w) for the workers w < p = min(GOMAXPROCS, n) (when the
// work, cost per item times n items, is large enough to share), worker 0
// on the calling goroutine, and returns p. prof, when not nil, gets the
// largest time any worker spent per part.
func region(n, cost int, prof *TrainProfile, f func(w, p int, t *partTimes)) {
	p := min(runtime.GOMAXPROCS(0), max(n, 1))
	if n*cost < 1<<15 {
		p = 1
	}
	times := make([]partTimes, p)
	var wg sync.WaitGroup
	for w := 1; w < p; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(w, p, &times[w])
		}()
	}
	f(0, p, &times[0])
	wg.Wait()
	if prof != nil {
		var worst partTimes
		for _, t := range times {
			worst.conv, worst.pool = max(worst.conv, t.conv), max(worst.pool, t.pool)
		}
		prof.Conv += worst.conv
		prof.Pool += worst.pool
	}
}

// partTimes is one worker's time in the convolutions and the pools.
type partTimes struct{ conv, pool time.Duration }

// span is worker w's share [lo, hi) of n items split over p.
func span(w, p, n int) (lo, hi int) { return w * n / p, (w + 1) * n / p }

// convForward computes layer i's convolution, bias and ReLU for images
// [lo, hi).
func (d *direct) convForward(n *net[float32], i, lo, hi int, in []float32) {
	c, l := d.conv[i], n.m.layers[i]
	out, bias := d.act[i], n.w[l.bi]
	a, as := c.input(in)
	if c.stack {
		stackRows(c.x3, in, c.in, lo, hi)
	}
	d.tiles(c.out, lo, hi, a, as, c.taps, c.kc, c.wf, out, c.out.c, c.out.c, kernels.ConvBiasReLU, bias, nil)
	if c.out.w < kernels.ConvSeg {
		// A segment that runs past a row leaves values in the borders
		// (of its own image: rows are at least 2 pixels, see newDirect).
		zeroBorders(out, c.out, lo, hi)
	}
}

// convInputGrad computes, for images [lo, hi), the gradient of layer i's
// input times the derivative of the ReLU below, into dx.
func (d *direct) convInputGrad(i, lo, hi int, in, dx []float32) {
	c := d.conv[i]
	d.tiles(c.in, lo, hi, d.grad[i], c.out.c, c.tapsDX, 3*c.out.c, c.wdx, dx, c.in.c, c.in.c, kernels.ConvMask, nil, in)
}

// input returns the buffer the forward and the weight gradient read, and
// its pixel stride: in itself, or its stacked rows.
func (c *dconv) input(in []float32) ([]float32, int) {
	if c.stack {
		return c.x3, 3 * c.in.c
	}
	return in, c.in.c
}

// stackRows writes, for the interior rows of images [s0, s1) of the padded
// images x (grid g) and every pixel of them borders included, the three
// rows above, at and below: x3[q][ky*c+ch] = x[q+(ky-1)(w+2)][ch].
func stackRows(x3, x []float32, g grid, s0, s1 int) {
	wp, c := g.wp(), g.c
	for s := s0; s < s1; s++ {
		for y := 0; y < g.h; y++ {
			q0 := g.pix(s, y, -1)
			above, at, below := x[(q0-wp)*c:(q0)*c], x[q0*c:(q0+wp)*c], x[(q0+wp)*c:(q0+2*wp)*c]
			dst := x3[q0*3*c : (q0+wp)*3*c]
			for k := 0; k < wp*c; k++ { // pixel k/c, channel k%c
				o := k/c*3*c + k%c
				dst[o], dst[o+c], dst[o+2*c] = above[k], at[k], below[k]
			}
		}
	}
}

// gradTiles is the number of tiles of layer i's weight and bias gradient:
// (tap, block of gmr of its kc rows, block of gnr outputs), and one bias
// tile per block of gnr outputs.
func (d *direct) gradTiles(n *net[float32], i int) int {
	c := d.conv[i]
	rt, ot := (c.kc+d.gmr-1)/d.gmr, n.m.layers[i].out/d.gnr
	return len(c.taps)*rt*ot + ot
}

// convWeightGrad computes the tiles w, w+p, w+2p, ... of layer i's weight
// and bias gradients from its pre-ReLU output gradient over b images,
// gradChunk images at a time (each tile sums the chunks in order). Taking
// every p-th tile gives the workers the same mix of full, partial and bias
// tiles.
func (d *direct) convWeightGrad(n *net[float32], i, b, w, p int, in []float32) {
	c, l := d.conv[i], n.m.layers[i]
	dy := d.grad[i]
	a, as := c.input(in)
	taps, rows := len(c.taps), c.kc
	rt, ot := (rows+d.gmr-1)/d.gmr, l.out/d.gnr
	gw, gb := n.g[l.wi], n.g[l.bi]
	runs := make([]int, 0, gradChunk*c.out.h)
	tmp := make([]float32, d.gmr*d.gnr)
	for s0 := 0; s0 < b; s0 += gradChunk {
		runs = rowRuns(c.out, s0, min(s0+gradChunk, b), runs)
		cr := kernels.NewConvRuns(runs)
		add := s0 > 0
		for t := w; t < taps*rt*ot+ot; t += p {
			if t >= taps*rt*ot { // bias: column sums of dy (rows of ones)
				ob := t - taps*rt*ot
				kernels.SconvGrad(d.ones, 0, 0, dy, ob*d.gnr, c.out.c, cr, c.out.w, tmp, d.gnr, false)
				g := gb[ob*d.gnr : (ob+1)*d.gnr]
				if add {
					for j, v := range tmp[:d.gnr] {
						g[j] += v
					}
				} else {
					copy(g, tmp[:d.gnr])
				}
				continue
			}
			tap, r := t/(rt*ot), t%(rt*ot)
			r0, ob := (r/ot)*d.gmr, r%ot
			o := ob * d.gnr
			// Rows r0.. of the tile are HWIO rows wrow(tap, r0..):
			// consecutive unless stacked; a tile that is not (or runs
			// past the tap's rows) goes through tmp.
			nrow := min(d.gmr, rows-r0)
			direct := !c.stack && nrow == d.gmr
			dst, ldc := gw[c.wrow(tap, r0)*l.out+o:], l.out
			if !direct {
				dst, ldc = tmp, d.gnr
				if add {
					for k := 0; k < nrow; k++ {
						copy(tmp[k*d.gnr:(k+1)*d.gnr], gw[c.wrow(tap, r0+k)*l.out+o:])
					}
				}
			}
			kernels.SconvGrad(a, c.taps[tap]+r0, as, dy, o, c.out.c, cr, c.out.w, dst, ldc, add)
			if !direct {
				for k := 0; k < nrow; k++ {
					row := c.wrow(tap, r0+k) * l.out
					copy(gw[row+o:row+o+d.gnr], tmp[k*d.gnr:(k+1)*d.gnr])
				}
			}
		}
	}
}

// at returns the index of interior pixel (y, x) of image s in a buffer of
// grid g, padded or not.
func at(g grid, padded bool, s, y, x int) int {
	if padded {
		return g.pix(s, y, x) * g.c
	}
	return ((s*g.h+y)*g.w + x) * g.c
}

// maxPool is the 2x2 stride-2 max-pool of layer i (its input: the padded
// output of the conv below, after the ReLU) for images [lo, hi), which
// records in n.arg the position (0-3) of each maximum.
func (d *direct) maxPool(n *net[float32], i, lo, hi int) {
	in, gi := d.act[i-1], d.grids[i-1]
	out, g, pad := d.act[i], d.grids[i], d.pad[i]
	which := n.arg[i]
	for s := lo; s < hi; s++ {
		for y := 0; y < g.h; y++ {
			kernels.SmaxPool(in, gi.pix(s, 2*y, 0)*g.c, gi.pix(s, 2*y+1, 0)*g.c, out, at(g, pad, s, y, 0),
				which, (s*g.h+y)*g.w*g.c, g.w, g.c)
		}
	}
}

// maxPoolBack sends the gradient of layer i's output (a max-pool) of
// images [lo, hi) to the maxima in the gradient of the conv below, times
// the ReLU's derivative there (zero where the maximum is not above zero),
// and zero to the other three pixels of each window. The pixels no window
// covers (the last row or column of an odd size) and the borders are never
// written: they keep the zeros they were allocated with.
func (d *direct) maxPoolBack(n *net[float32], i, lo, hi int) {
	gi, dst := d.grids[i-1], d.grad[i-1]
	src, pooled, g, pad := d.grad[i], d.act[i], d.grids[i], d.pad[i]
	which := n.arg[i]
	for s := lo; s < hi; s++ {
		for y := 0; y < g.h; y++ {
			kernels.SmaxPoolBack(src, at(g, pad, s, y, 0), pooled, which, (s*g.h+y)*g.w*g.c, dst,
				gi.pix(s, 2*y, 0)*g.c, gi.pix(s, 2*y+1, 0)*g.c, g.w, g.c)
		}
	}
}

// avgPool averages layer i's input over its pixels for images [lo, hi)
// (adaptive average pooling to 1 x 1).
func (d *direct) avgPool(i, lo, hi int) {
	gi, pad, in, out := d.grids[i-1], d.pad[i-1], d.act[i-1], d.act[i]
	inv := 1 / float32(gi.h*gi.w)
	for s := lo; s < hi; s++ {
		o := out[s*gi.c : (s+1)*gi.c]
		clear(o)
		for y := 0; y < gi.h; y++ {
			for x := 0; x < gi.w; x++ {
				for ch, v := range in[at(gi, pad, s, y, x):][:gi.c] {
					o[ch] += v
				}
			}
		}
		for ch := range o {
			o[ch] *= inv
		}
	}
}

// avgPoolBack spreads the gradient of layer i's output (the average pool)
// over its input's pixels for images [lo, hi).
func (d *direct) avgPoolBack(i, lo, hi int) {
	gi, pad, cur, dst := d.grids[i-1], d.pad[i-1], d.grad[i], d.grad[i-1]
	inv := 1 / float32(gi.h*gi.w)
	for s := lo; s < hi; s++ {
		g := cur[s*gi.c : (s+1)*gi.c]
		for y := 0; y < gi.h; y++ {
			for x := 0; x < gi.w; x++ {
				row := dst[at(gi, pad, s, y, x):][:gi.c]
				for ch, v := range g {
					row[ch] = v * inv
				}
			}
		}
	}
}

// imageLayers is the number of leading layers that work image by image
// (convolutions, their ReLUs, pools); the fully connected tail follows.
func (d *direct) imageLayers(n *net[float32]) int {
	for i, l := range n.m.layers {
		if l.kind == kLinear {
			return i
		}
	}
	return len(n.m.layers)
}

// forwardDirect runs b <= cap samples already placed in n.x.
func forwardDirect(n *net[float32], b int) {
	d := n.dir
	if d.stale {
		d.pack(n)
	}
	top := d.imageLayers(n)
	region(b, d.inGrid.img()*1000, n.prof, func(w, p int, pt *partTimes) {
		lo, hi := span(w, p, b)
		if d.padIn {
			g := d.inGrid
			for s := lo; s < hi; s++ {
				for y := 0; y < g.h; y++ {
					copy(d.x[g.pix(s, y, 0)*g.c:(g.pix(s, y, g.w-1)+1)*g.c], n.x[(s*g.h+y)*g.w*g.c:(s*g.h+y+1)*g.w*g.c])
				}
			}
		}
		for i := 0; i < top; i++ {
			in := d.x
			if i > 0 {
				in = d.act[i-1]
			}
			t0 := n.now()
			switch n.m.layers[i].kind {
			case kConv:
				d.convForward(n, i, lo, hi, in)
				i++ // its ReLU
				timed(n, &pt.conv, t0)
			case kMaxPool:
				d.maxPool(n, i, lo, hi)
				timed(n, &pt.pool, t0)
			case kAvgPool:
				d.avgPool(i, lo, hi)
			}
		}
	})
	for i := 0; i < top; i++ {
		if l := n.m.layers[i]; l.kind == kConv {
			n.convFlops(l, b)
		}
	}
	for i := top; i < len(n.m.layers); i++ {
		l := n.m.layers[i]
		in := d.act[i-1]
		switch l.kind {
		case kLinear:
			out := d.act[i][:b*l.out]
			gemm(false, true, b, l.out, l.in, in[:b*l.in], n.w[l.wi], 0, out)
			if l.bi >= 0 {
				addBias(out, n.w[l.bi])
			}
		case kReLU:
			for k, v := range in[:b*n.size[i]] {
				d.act[i][k] = max(v, 0)
			}
		}
	}
}

// timed adds the time since t0 (from n.now) to *d when n is profiled.
func timed(n *net[float32], d *time.Duration, t0 time.Time) {
	if n.prof != nil {
		*d += time.Since(t0)
	}
}

// backwardDirect is backward for a net with direct convolutions.
func backwardDirect(n *net[float32], b int, dOut []float32) {
	d := n.dir
	last := len(n.m.layers) - 1
	top := d.imageLayers(n)
	copy(d.grad[last], dOut[:b*n.size[last]])
	for i := last; i >= top; i-- {
		l := n.m.layers[i]
		cur, in := d.grad[i], d.act[i-1]
		switch l.kind {
		case kLinear:
			gemm(true, false, l.out, l.in, b, cur[:b*l.out], in[:b*l.in], 0, n.g[l.wi])
			if l.bi >= 0 {
				colSum(cur[:b*l.out], n.g[l.bi])
			}
			gemm(false, false, b, l.in, l.out, cur[:b*l.out], n.w[l.wi], 0, d.grad[i-1][:b*l.in])
		case kReLU:
			dst := d.grad[i-1][:b*n.size[i]]
			for k, v := range d.act[i][:b*n.size[i]] {
				if v > 0 {
					dst[k] = cur[k]
				} else {
					dst[k] = 0
				}
			}
		}
	}
	// Regions: each starts with a convolution's weight gradient (all
	// images' gradients of its output are done by then) and runs on with
	// the image-local work below it, down to the next convolution.
	type bwdRegion struct {
		conv int   // weight gradient of this layer, or -1
		ops  []int // image-local layers, in order (a conv: its input gradient)
	}
	regions := []bwdRegion{{conv: -1}}
	for i := top - 1; i >= 0; i-- {
		switch n.m.layers[i].kind {
		case kConv:
			regions = append(regions, bwdRegion{conv: i})
			if i > 0 {
				regions[len(regions)-1].ops = append(regions[len(regions)-1].ops, i)
			}
		case kMaxPool, kAvgPool:
			regions[len(regions)-1].ops = append(regions[len(regions)-1].ops, i)
		}
	}
	for _, rg := range regions {
		tiles := 0
		if rg.conv >= 0 {
			tiles = d.gradTiles(n, rg.conv)
		}
		if tiles == 0 && len(rg.ops) == 0 {
			continue
		}
		region(max(b, tiles), d.inGrid.img()*1000, n.prof, func(w, p int, pt *partTimes) {
			if rg.conv >= 0 {
				t0 := n.now()
				d.convWeightGrad(n, rg.conv, b, w, p, d.input(rg.conv))
				timed(n, &pt.conv, t0)
			}
			lo, hi := span(w, p, b)
			for _, i := range rg.ops {
				t0 := n.now()
				switch n.m.layers[i].kind {
				case kConv:
					d.convInputGrad(i, lo, hi, d.act[i-1], d.grad[i-1])
					timed(n, &pt.conv, t0)
				case kMaxPool:
					d.maxPoolBack(n, i, lo, hi)
					timed(n, &pt.pool, t0)
				case kAvgPool:
					d.avgPoolBack(i, lo, hi)
				}
			}
		})
		if rg.conv >= 0 {
			n.convFlops(n.m.layers[rg.conv], b)
			if rg.conv > 0 {
				n.convFlops(n.m.layers[rg.conv], b)
			}
		}
	}
}

// input is the input activations of layer i.
func (d *direct) input(i int) []float32 {
	if i == 0 {
		return d.x
	}
	return d.act[i-1]
}
