package nn

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/awd-toolkit/awd/linalg"
)

// num is the element type of a network instance: float32 for training,
// float64 for the per-sample quantities and the finite-difference tests.
type num interface{ float32 | float64 }

// gemm computes C = op(A) op(B) + beta C for row-major contiguous slices, with
// op(A) m x k and op(B) k x n, through linalg.Gemm32 or linalg.Gemm.
func gemm[T num](tA, tB bool, m, n, k int, a, b []T, beta T, c []T) {
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	switch a := any(a).(type) {
	case []float32:
		linalg.Gemm32(tA, tB, 1, linalg.Dense32Of(ar, ac, a), linalg.Dense32Of(br, bc, any(b).([]float32)),
			float32(beta), linalg.Dense32Of(m, n, any(c).([]float32)))
	case []float64:
		linalg.Gemm(tA, tB, 1, linalg.DenseOf(ar, ac, a), linalg.DenseOf(br, bc, any(b).([]float64)),
			float64(beta), linalg.DenseOf(m, n, any(c).([]float64)))
	}
}

// net is one instance of a Model's computation for batches of up to cap
// samples. Its weights are copies in element type T; convolution weights
// are kept as (out, ky, kx, in) so that im2col copies contiguous channel
// runs, and the activations of the convolutional part are NHWC.
type net[T num] struct {
	m     *Model
	w, g  [][]T // per parameter (Model.params order); g the gradients
	size  []int // per layer: output values per sample
	inDim int
	cap   int
	x     []T       // input, NHWC
	acts  [][]T     // per layer output
	cols  [][]T     // per conv layer: im2col buffer
	arg   [][]int32 // per max-pool layer: argmax offsets
	d0    []T       // backward ping-pong buffers
	d1    []T
	dcols []T
	// dir, when not nil, runs the convolutions directly (float32 nets on
	// levels with kernels.SconvTile in assembly, conv.go); the conv
	// weights in w and g are then HWIO, (ky, kx, in, out).
	dir *direct
	// prof, when not nil, adds up the time of the convolutions and pools.
	prof *TrainProfile
	jac  [2][]T // jacobian's running products (per-sample nets)
}

// profPart names a part of TrainProfile.
type profPart int

const (
	profConv profPart = iota
	profPool
)

// since adds the time since t0 (from n.now) to part of the profile, when
// the net is profiled.
func (n *net[T]) since(part profPart, t0 time.Time) {
	switch {
	case n.prof == nil:
	case part == profConv:
		n.prof.Conv += time.Since(t0)
	case part == profPool:
		n.prof.Pool += time.Since(t0)
	}
}

// now is time.Now when the net is profiled.
func (n *net[T]) now() time.Time {
	if n.prof != nil {
		return time.Now()
	}
	return time.Time{}
}

// convFlops adds the flops of layer l's convolution, pass by pass (forward,
// weight gradient, input gradient), for b samples to the profile.
func (n *net[T]) convFlops(l layer, b int) {
	if n.prof != nil {
		n.prof.ConvFlops += 2 * float64(b*l.h*l.w*l.out*9*l.in)
	}
}

func newNet[T num](m *Model, capacity int) *net[T] {
	n := &net[T]{m: m, cap: capacity, inDim: m.Arch.In[0] * m.Arch.In[1] * m.Arch.In[2]}
	n.w = make([][]T, len(m.params))
	n.g = make([][]T, len(m.params))
	for i, p := range m.params {
		n.w[i] = make([]T, len(p.Data))
		n.g[i] = make([]T, len(p.Data))
	}
	if _, ok := any(n).(*net[float32]); ok {
		n.dir = newDirect(m, capacity)
	}
	n.load(m)
	n.size = make([]int, len(m.layers))
	n.acts = make([][]T, len(m.layers))
	n.cols = make([][]T, len(m.layers))
	n.arg = make([][]int32, len(m.layers))
	prev := n.inDim
	maxD, maxCols := prev, 0
	for i, l := range m.layers {
		switch l.kind {
		case kLinear:
			n.size[i] = l.out
		case kConv:
			n.size[i] = l.h * l.w * l.out
			if n.dir == nil {
				n.cols[i] = make([]T, capacity*l.h*l.w*9*l.in)
				maxCols = max(maxCols, l.h*l.w*9*l.in)
			}
		case kReLU:
			n.size[i] = prev
		case kMaxPool:
			n.size[i] = (l.h / 2) * (l.w / 2) * l.in
			n.arg[i] = make([]int32, capacity*n.size[i])
		case kAvgPool:
			n.size[i] = l.in
		}
		prev = n.size[i]
		maxD = max(maxD, prev)
		if n.dir != nil {
			n.acts[i] = any(n.dir.act[i]).([]T)
		} else {
			n.acts[i] = make([]T, capacity*prev)
		}
	}
	n.x = make([]T, capacity*n.inDim)
	if n.dir == nil {
		n.d0 = make([]T, capacity*maxD)
		n.d1 = make([]T, capacity*maxD)
		n.dcols = make([]T, capacity*maxCols)
	}
	return n
}

// load copies the Model's parameters into the net.
func (n *net[T]) load(m *Model) {
	if n.dir != nil {
		n.dir.stale = true
	}
	for _, l := range m.layers {
		for _, pi := range []int{l.wi, l.bi} {
			if pi < 0 {
				continue
			}
			src, dst := m.params[pi].Data, n.w[pi]
			if l.kind == kConv && pi == l.wi {
				convToInternal(src, dst, l.out, l.in, n.dir != nil)
				continue
			}
			for i, v := range src {
				dst[i] = T(v)
			}
		}
	}
}

// store copies the net's parameters back into the Model (float32).
func (n *net[T]) store(m *Model) {
	for _, l := range m.layers {
		for _, pi := range []int{l.wi, l.bi} {
			if pi < 0 {
				continue
			}
			src, dst := n.w[pi], m.params[pi].Data
			if l.kind == kConv && pi == l.wi {
				convFromInternal(src, dst, l.out, l.in, n.dir != nil)
				continue
			}
			for i, v := range src {
				dst[i] = float32(v)
			}
		}
	}
}

// convIndex is the index of PyTorch's weight (o, c, k) (k = 3 ky + kx) in
// the internal layout: (out, 3, 3, in) for im2col, (3, 3, in, out) (HWIO)
// for the direct convolutions.
func convIndex(o, c, k, out, in int, hwio bool) int {
	if hwio {
		return (k*in+c)*out + o
	}
	return (o*9+k)*in + c
}

// convToInternal permutes PyTorch's (out, in, 3, 3) to the internal layout.
func convToInternal[T num](src []float32, dst []T, out, in int, hwio bool) {
	for o := 0; o < out; o++ {
		for c := 0; c < in; c++ {
			for k := 0; k < 9; k++ {
				dst[convIndex(o, c, k, out, in, hwio)] = T(src[(o*in+c)*9+k])
			}
		}
	}
}

func convFromInternal[T num](src []T, dst []float32, out, in int, hwio bool) {
	for o := 0; o < out; o++ {
		for c := 0; c < in; c++ {
			for k := 0; k < 9; k++ {
				dst[(o*in+c)*9+k] = float32(src[convIndex(o, c, k, out, in, hwio)])
			}
		}
	}
}

// output returns the logits of the last forward pass (b x L).
func (n *net[T]) output(b int) []T {
	last := len(n.acts) - 1
	return n.acts[last][:b*n.size[last]]
}

// input of layer i for the last forward pass.
func (n *net[T]) input(i, b int) []T {
	if i == 0 {
		return n.x[:b*n.inDim]
	}
	return n.acts[i-1][:b*n.size[i-1]]
}

// setInput copies b samples (CHW each) into the NHWC input buffer.
func setInput[T num, S num](n *net[T], x []S, b int) {
	c, hw := n.m.Arch.In[0], n.m.Arch.In[1]*n.m.Arch.In[2]
	if n.m.Arch.Model != "cnn" || c == 1 {
		for i, v := range x[:b*n.inDim] {
			n.x[i] = T(v)
		}
		return
	}
	for s := 0; s < b; s++ {
		src, dst := x[s*n.inDim:(s+1)*n.inDim], n.x[s*n.inDim:(s+1)*n.inDim]
		for ch := 0; ch < c; ch++ {
			for p := 0; p < hw; p++ {
				dst[p*c+ch] = T(src[ch*hw+p])
			}
		}
	}
}

// forward runs b <= cap samples already placed in n.x.
func (n *net[T]) forward(b int) {
	if b > n.cap {
		panic(fmt.Sprintf("nn: batch %d above capacity %d", b, n.cap))
	}
	if n.dir != nil {
		forwardDirect(any(n).(*net[float32]), b)
		return
	}
	for i, l := range n.m.layers {
		in := n.input(i, b)
		out := n.acts[i][:b*n.size[i]]
		switch l.kind {
		case kLinear:
			gemm(false, true, b, l.out, l.in, in, n.w[l.wi], 0, out)
			if l.bi >= 0 {
				addBias(out, n.w[l.bi])
			}
		case kConv:
			t0 := n.now()
			rows := b * l.h * l.w
			cols := n.cols[i][:rows*9*l.in]
			im2col(in, cols, b, l.h, l.w, l.in)
			gemm(false, true, rows, l.out, 9*l.in, cols, n.w[l.wi], 0, out)
			addBias(out, n.w[l.bi])
			n.convFlops(l, b)
			n.since(profConv, t0)
		case kReLU:
			for k, v := range in {
				out[k] = max(v, 0)
			}
		case kMaxPool:
			t0 := n.now()
			maxPool(in, out, n.arg[i][:len(out)], b, l.h, l.w, l.in)
			n.since(profPool, t0)
		case kAvgPool:
			avgPool(in, out, b, l.h*l.w, l.in)
		}
	}
}

// backward takes dOut = dLoss/dlogits (b x L), writes the parameter
// gradients into n.g and, when dx is not nil, dLoss/dinput (NHWC) into dx.
func (n *net[T]) backward(b int, dOut []T, dx []T) {
	if n.dir != nil {
		if dx != nil {
			panic("nn: the direct convolutions do not compute the input's gradient")
		}
		backwardDirect(any(n).(*net[float32]), b, any(dOut).([]float32))
		return
	}
	cur := dOut
	bufs := [2][]T{n.d0, n.d1}
	flip := 0
	for i := len(n.m.layers) - 1; i >= 0; i-- {
		l := n.m.layers[i]
		in := n.input(i, b)
		needDX := i > 0 || dx != nil
		var next []T
		if needDX {
			if i == 0 {
				next = dx[:len(in)]
			} else {
				next = bufs[flip][:len(in)]
				flip ^= 1
			}
		}
		switch l.kind {
		case kLinear:
			gemm(true, false, l.out, l.in, b, cur, in, 0, n.g[l.wi])
			if l.bi >= 0 {
				colSum(cur, n.g[l.bi])
			}
			if needDX {
				gemm(false, false, b, l.in, l.out, cur, n.w[l.wi], 0, next)
			}
		case kConv:
			t0 := n.now()
			rows := b * l.h * l.w
			cols := n.cols[i][:rows*9*l.in]
			gemm(true, false, l.out, 9*l.in, rows, cur, cols, 0, n.g[l.wi])
			colSum(cur, n.g[l.bi])
			n.convFlops(l, b)
			if needDX {
				dc := n.dcols[:rows*9*l.in]
				gemm(false, false, rows, 9*l.in, l.out, cur, n.w[l.wi], 0, dc)
				col2im(dc, next, b, l.h, l.w, l.in)
				n.convFlops(l, b)
			}
			n.since(profConv, t0)
		case kReLU:
			if needDX {
				out := n.acts[i][:len(in)]
				for k, v := range out {
					if v > 0 {
						next[k] = cur[k]
					} else {
						next[k] = 0
					}
				}
			}
		case kMaxPool:
			if needDX {
				t0 := n.now()
				clear(next)
				for k, a := range n.arg[i][:len(cur)] {
					next[a] += cur[k]
				}
				n.since(profPool, t0)
			}
		case kAvgPool:
			if needDX {
				hw := l.h * l.w
				inv := 1 / T(hw)
				for s := 0; s < b; s++ {
					g := cur[s*l.in : (s+1)*l.in]
					dst := next[s*hw*l.in : (s+1)*hw*l.in]
					for p := 0; p < hw; p++ {
						for c, v := range g {
							dst[p*l.in+c] = v * inv
						}
					}
				}
			}
		}
		if needDX {
			cur = next
		}
	}
}

func addBias[T num](out, bias []T) {
	m := len(bias)
	for r := 0; r+m <= len(out); r += m {
		row := out[r : r+m]
		for k, v := range bias {
			row[k] += v
		}
	}
}

// colSum writes the column sums of the rows x len(dst) matrix a into dst,
// summing rows in order (a fixed reduction order).
func colSum[T num](a, dst []T) {
	m := len(dst)
	clear(dst)
	for r := 0; r+m <= len(a); r += m {
		for k, v := range a[r : r+m] {
			dst[k] += v
		}
	}
}

// parallelSamples runs f over [0, b) split into contiguous ranges, one
// per processor when the work (b*cost values) is large enough to pay for
// goroutines. Every f writes disjoint samples, so results do not depend on
// the split.
func parallelSamples(b, cost int, f func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if p == 1 || b < 2 || b*cost < 1<<15 {
		f(0, b)
		return
	}
	p = min(p, b)
	var wg sync.WaitGroup
	for i := 0; i < p; i++ {
		lo, hi := i*b/p, (i+1)*b/p
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// im2col writes, for b NHWC images h x w x c, the (b*h*w) x (9*c) matrix
// whose row (s, y, x) holds the 3x3 neighbourhood (ky, kx, channel), zero
// outside the image (padding 1).
func im2col[T num](in, cols []T, b, h, w, c int) {
	row := 9 * c
	parallelSamples(b, h*w*row, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			img := in[s*h*w*c : (s+1)*h*w*c]
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					dst := cols[((s*h+y)*w+x)*row : ((s*h+y)*w+x+1)*row]
					for ky := 0; ky < 3; ky++ {
						yy := y + ky - 1
						for kx := 0; kx < 3; kx++ {
							xx := x + kx - 1
							k := ky*3 + kx
							if yy < 0 || yy >= h || xx < 0 || xx >= w {
								clear(dst[k*c : (k+1)*c])
								continue
							}
							if c == 1 {
								dst[k] = img[yy*w+xx]
								continue
							}
							copy(dst[k*c:(k+1)*c], img[(yy*w+xx)*c:(yy*w+xx+1)*c])
						}
					}
				}
			}
		}
	})
}

// col2im adds the columns back: the adjoint of im2col.
func col2im[T num](cols, out []T, b, h, w, c int) {
	row := 9 * c
	parallelSamples(b, h*w*row, func(lo, hi int) {
		clear(out[lo*h*w*c : hi*h*w*c])
		for s := lo; s < hi; s++ {
			img := out[s*h*w*c : (s+1)*h*w*c]
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					src := cols[((s*h+y)*w+x)*row : ((s*h+y)*w+x+1)*row]
					for ky := 0; ky < 3; ky++ {
						yy := y + ky - 1
						if yy < 0 || yy >= h {
							continue
						}
						for kx := 0; kx < 3; kx++ {
							xx := x + kx - 1
							if xx < 0 || xx >= w {
								continue
							}
							d := img[(yy*w+xx)*c : (yy*w+xx+1)*c]
							for k, v := range src[(ky*3+kx)*c : (ky*3+kx+1)*c] {
								d[k] += v
							}
						}
					}
				}
			}
		}
	})
}

// maxPool is a 2x2 stride-2 max-pool of b NHWC images (floor of odd sizes);
// arg records the offset in "in" of each maximum (the first on ties).
func maxPool[T num](in, out []T, arg []int32, b, h, w, c int) {
	parallelSamples(b, h*w*c, func(lo, hi int) { maxPoolRange(in, out, arg, lo, hi, h, w, c) })
}

func maxPoolRange[T num](in, out []T, arg []int32, lo, hi, h, w, c int) {
	oh, ow := h/2, w/2
	for s := lo; s < hi; s++ {
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				o := ((s*oh+y)*ow + x) * c
				ov, oa := out[o:o+c], arg[o:o+c]
				// first of the four positions, then the others in order:
				// strict > keeps the first maximum, channels contiguous
				k0 := ((s*h+2*y)*w + 2*x) * c
				copy(ov, in[k0:k0+c])
				for ch := range oa {
					oa[ch] = int32(k0 + ch)
				}
				for d := 1; d < 4; d++ {
					k := ((s*h+2*y+d/2)*w + 2*x + d%2) * c
					src := in[k : k+c]
					for ch, v := range src {
						if v > ov[ch] {
							ov[ch] = v
							oa[ch] = int32(k + ch)
						}
					}
				}
			}
		}
	}
}

// avgPool averages each channel over the hw positions (adaptive average
// pooling to 1x1).
func avgPool[T num](in, out []T, b, hw, c int) {
	for s := 0; s < b; s++ {
		o := out[s*c : (s+1)*c]
		clear(o)
		for p := 0; p < hw; p++ {
			for ch, v := range in[(s*hw+p)*c : (s*hw+p+1)*c] {
				o[ch] += v
			}
		}
		inv := 1 / T(hw)
		for ch := range o {
			o[ch] *= inv
		}
	}
}
