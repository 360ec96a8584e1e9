package nn

import (
	"fmt"
	"math"
	"slices"

	"github.com/awd-toolkit/awd/linalg"
)

// LayerSamples holds, for one weight layer (fully connected or 3x3
// convolution) and N samples, the exact per-sample factors of the
// curvature in that layer's weights theta (docs/math.md section 3, for any layer):
// with o the logits, J_s = do/dtheta (L x D) and Lambda_s = d2 l_s/do^2,
//
//	g_s = J_s^T G_s        (the per-sample gradient, G_s = dl_s/do)
//	H_s = J_s^T Lambda_s J_s
//
// exactly, not as a Gauss-Newton approximation: everything after the
// layer is piecewise linear (ReLU, max and average pooling, linear
// layers), so the second derivative of o in theta vanishes almost
// everywhere. J_s is kept factored through z, the layer's output before
// its ReLU: z = W a_s for a linear layer (W Out x In, theta row-major), and
// z_p = W P_p for a convolution, P_p the 3x3 patch of the input a_s around
// position p (im2col, padding 1, stride 1, so z has H W positions). With
// Jz_s = do/dz_s,
//
//	J_s[k, (o, c)] = sum_p Jz_s[p, k, o] P_s[p, c],
//
// where theta is W in the order (o, c): (out, in) for a linear layer and
// (out, ky, kx, in) for a convolution, which is PyTorch's (out, in, 3, 3)
// with the input channel moved last. A convolution's bias is not part of
// theta. For the first convolution of the CNN, whose D = 9 Out In weights
// are fewer than its positions times outputs, J_s is stored explicitly
// (J, N x L x D) instead, which is smaller.
//
// G, Lambda, Loss, Pred and Label are shared by all the layers of one
// Model.LayerSamples call.
type LayerSamples struct {
	LayerInfo
	N, L int

	A  []float64 // N x (H W In): the layer's input a_s, positions-major (NHWC); nil when J is set
	Jz []float64 // N x (H W) x L x Out: do_k/dz at position p and output o; nil when J is set
	J  []float64 // N x L x D: J_s explicitly, or nil

	G      []float64 // N x L: dl_s/do
	Lambda []float64 // N x L x L
	Loss   []float64 // l_s
	Pred   []int     // argmax of the logits
	Label  []int     // y_s as used by the loss
}

// LayerInfo describes a weight layer for LayerSamples.
type LayerInfo struct {
	Layer   string
	Conv    bool
	Out, In int // weight shape: Out x In (linear) or Out x In x 3 x 3
	H, W    int // convolution: height and width of the input and output (1, 1 for a linear layer)
	// Explicit says that LayerSamples stores J_s whole (J) rather than
	// factored (A and Jz), because that is smaller: L D < L P Out + P In.
	Explicit bool
}

// D returns the dimension of theta: Out In (linear) or 9 Out In (convolution).
func (li LayerInfo) D() int { return li.Out * li.K() }

// K returns the length of one patch: In (linear) or 9 In (convolution).
func (li LayerInfo) K() int {
	if li.Conv {
		return 9 * li.In
	}
	return li.In
}

// P returns the number of positions: H W (1 for a linear layer).
func (li LayerInfo) P() int { return li.H * li.W }

// Stored returns the numbers LayerSamples stores per sample for this
// layer with L logits, besides G, Lambda, Loss, Pred and Label: L D when
// Explicit, else P In + L P Out.
func (li LayerInfo) Stored(L int) int {
	if li.Explicit {
		return L * li.D()
	}
	return li.P()*li.In + L*li.P()*li.Out
}

// Patches writes the P x K patch matrix of sample s (im2col of a_s; a_s
// itself for a linear layer) into dst, allocated when too short, and
// returns it. It needs A (a layer stored with explicit J has none).
func (ls *LayerSamples) Patches(s int, dst []float64) []float64 {
	p, k := ls.P(), ls.K()
	if ls.A == nil {
		panic(fmt.Sprintf("nn: LayerSamples.Patches: layer %s keeps no activities", ls.Layer))
	}
	if len(dst) < p*k {
		dst = make([]float64, p*k)
	}
	dst = dst[:p*k]
	a := ls.A[s*p*ls.In : (s+1)*p*ls.In]
	if !ls.Conv {
		copy(dst, a)
		return dst
	}
	im2col(a, dst, 1, ls.H, ls.W, ls.In)
	return dst
}

// Jacobian writes J_s (L x D, row-major) into dst, allocated when too short,
// and returns it. scratch (P K values, may be nil) holds the patches.
// Cost 2 L D P flops (a copy when J is stored).
func (ls *LayerSamples) Jacobian(s int, dst, scratch []float64) []float64 {
	l, d := ls.L, ls.D()
	if len(dst) < l*d {
		dst = make([]float64, l*d)
	}
	dst = dst[:l*d]
	if ls.J != nil {
		copy(dst, ls.J[s*l*d:(s+1)*l*d])
		return dst
	}
	p, k, out := ls.P(), ls.K(), ls.Out
	pat := ls.Patches(s, scratch)
	// J_s (L Out x K) = Jz_s^T (L Out x P) P_s (P x K): rows (k, o).
	jz := ls.Jz[s*l*p*out : (s+1)*l*p*out]
	linalg.Gemm(true, false, 1, linalg.DenseOf(p, l*out, jz), linalg.DenseOf(p, k, pat), 0, linalg.DenseOf(l*out, k, dst))
	return dst
}

// WeightLayers returns the names of the layers with a weight matrix
// (convolutions and fully connected layers), from input to output: the
// layers LayerSamples can study.
func (m *Model) WeightLayers() []string {
	var out []string
	for _, l := range m.layers {
		if l.kind == kLinear || l.kind == kConv {
			out = append(out, l.name)
		}
	}
	return out
}

func (m *Model) weightLayer(name string) (int, error) {
	for i, l := range m.layers {
		if (l.kind == kLinear || l.kind == kConv) && l.name == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("model has no layer %q with weights (have %v)", name, m.WeightLayers())
}

// LayerInfo describes the weight layer name (see WeightLayers); its D is
// the dimension of theta (a convolution's bias is not included).
func (m *Model) LayerInfo(name string) (LayerInfo, error) {
	i, err := m.weightLayer(name)
	if err != nil {
		return LayerInfo{}, err
	}
	return m.layerInfo(i), nil
}

func (m *Model) layerInfo(i int) LayerInfo {
	l := m.layers[i]
	li := LayerInfo{Layer: l.name, Conv: l.kind == kConv, Out: l.out, In: l.in, H: 1, W: 1}
	if li.Conv {
		li.H, li.W = l.h, l.w
		L, p := m.Arch.Outputs, li.P()
		li.Explicit = L*li.D() < L*p*li.Out+p*li.In
	}
	return li
}

// LayerSamples computes, in float64 from m's weights, the LayerSamples of
// every layer in layers (names from WeightLayers) for the samples x (N
// inputs, each C*H*W in CHW order, sample-major) with labels (already
// relabelled for the head). One forward pass and L backward passes (one per
// logit, from the logits down to the lowest requested layer) per block of
// samples serve all the layers. Cost per sample: about L + 1 forward passes,
// plus 2 L D P flops for a layer whose J is stored explicitly.
func (m *Model) LayerSamples(layers []string, x []float64, labels []int, loss Loss) ([]*LayerSamples, error) {
	return m.LayerSamplesEach(layers, x, labels, loss, nil)
}

// LayerSamplesEach is LayerSamples calling each(done) after every block of
// samples, done being the samples finished so far, for progress and
// cancellation: an error from each stops the pass and is returned. The
// factors are written in place, so a long pass needs no blocks of its own.
func (m *Model) LayerSamplesEach(layers []string, x []float64, labels []int, loss Loss, each func(done int) error) ([]*LayerSamples, error) {
	if err := loss.check("layer samples"); err != nil {
		return nil, err
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("layer samples: no layers")
	}
	idx := make([]int, len(layers))
	for i, name := range layers {
		li, err := m.weightLayer(name)
		if err != nil {
			return nil, fmt.Errorf("layer samples: %w", err)
		}
		if slices.Contains(idx[:i], li) {
			return nil, fmt.Errorf("layer samples: layer %s listed twice", name)
		}
		idx[i] = li
	}
	dim := m.Arch.In[0] * m.Arch.In[1] * m.Arch.In[2]
	N := len(labels)
	if len(x) != N*dim {
		return nil, fmt.Errorf("layer samples: %d input values for %d samples of size %d", len(x), N, dim)
	}
	L := m.Arch.Outputs
	for i, y := range labels {
		if y < 0 || y >= L {
			return nil, fmt.Errorf("layer samples: sample %d: label %d but the model has %d outputs", i, y, L)
		}
	}
	shared := &LayerSamples{N: N, L: L, G: make([]float64, N*L), Lambda: make([]float64, N*L*L),
		Loss: make([]float64, N), Pred: make([]int, N), Label: append([]int(nil), labels...)}
	out := make([]*LayerSamples, len(layers))
	byIndex := map[int]*LayerSamples{}
	lo := len(m.layers)
	for i, li := range idx {
		ls := *shared
		ls.LayerInfo = m.layerInfo(li)
		p := ls.P()
		if ls.Explicit {
			ls.J = make([]float64, N*L*ls.D())
		} else {
			ls.A = make([]float64, N*p*ls.In)
			ls.Jz = make([]float64, N*L*p*ls.Out)
		}
		out[i] = &ls
		byIndex[li] = &ls
		lo = min(lo, li)
	}
	n := m.pooledNet64()
	defer m.nets64.Put(n)
	// Jz of the explicitly stored layers, one block at a time.
	tmp := map[int][]float64{}
	for li, ls := range byIndex {
		if ls.J != nil {
			tmp[li] = make([]float64, n.cap*L*ls.P()*ls.Out)
		}
	}
	o := make([]float64, L)
	prob := make([]float64, L)
	dOut := make([]float64, n.cap*L)
	for off := 0; off < N; off += n.cap {
		bs := min(n.cap, N-off)
		setInput(n, x[off*dim:(off+bs)*dim], bs)
		n.forward(bs)
		for li, ls := range byIndex {
			if ls.A != nil {
				in := ls.P() * ls.In
				copy(ls.A[off*in:(off+bs)*in], n.input(li, bs))
			}
		}
		logits := n.output(bs)
		for s := 0; s < bs; s++ {
			gs := off + s
			copy(o, logits[s*L:(s+1)*L])
			softmax(o, prob)
			y := labels[gs]
			shared.Loss[gs] = loss.eval(o, prob, y, shared.G[gs*L:(gs+1)*L])
			shared.Pred[gs] = argmax(o)
			loss.lambda(prob, y, shared.Lambda[gs*L*L:(gs+1)*L*L])
		}
		for k := 0; k < L; k++ {
			clear(dOut[:bs*L])
			for s := 0; s < bs; s++ {
				dOut[s*L+k] = 1
			}
			n.backwardInput(bs, dOut[:bs*L], lo, func(li int, cur []float64) {
				ls := byIndex[li]
				if ls == nil {
					return
				}
				p, out := ls.P(), ls.Out
				dst := ls.Jz
				base := off
				if ls.J != nil {
					dst, base = tmp[li], 0
				}
				for s := 0; s < bs; s++ {
					for q := 0; q < p; q++ {
						i := ((base+s)*p+q)*L + k
						copy(dst[i*out:(i+1)*out], cur[(s*p+q)*out:(s*p+q+1)*out])
					}
				}
			})
		}
		for li, ls := range byIndex {
			if ls.J == nil {
				continue
			}
			// J_s from this block's Jz and patches.
			blk := LayerSamples{LayerInfo: ls.LayerInfo, L: L, A: n.input(li, bs), Jz: tmp[li]}
			blk.Explicit = false
			d := ls.D()
			var scratch []float64
			for s := 0; s < bs; s++ {
				scratch = blk.Patches(s, scratch)
				blk.Jacobian(s, ls.J[(off+s)*L*d:(off+s+1)*L*d], scratch)
			}
		}
		if each != nil {
			if err := each(off + bs); err != nil {
				return nil, err
			}
		}
	}
	for _, ls := range out {
		for i, v := range ls.A {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("layer samples: non-finite activity of layer %s at sample %d", ls.Layer, i/(ls.P()*ls.In))
			}
		}
	}
	return out, nil
}

// backwardInput propagates dOut = d(something)/dlogits (b x L) down the
// network without the parameter gradients, calling capture(i, cur) with
// cur = d(something)/d(output of layer i) (b x size) for every layer i >=
// stop, and stops below layer stop. It uses the activations of the last
// forward pass and the ping-pong buffers of the net.
func (n *net[T]) backwardInput(b int, dOut []T, stop int, capture func(i int, cur []T)) {
	cur := dOut
	bufs := [2][]T{n.d0, n.d1}
	flip := 0
	for i := len(n.m.layers) - 1; i >= stop; i-- {
		capture(i, cur)
		if i == stop {
			return
		}
		l := n.m.layers[i]
		in := n.input(i, b)
		next := bufs[flip][:len(in)]
		flip ^= 1
		switch l.kind {
		case kLinear:
			gemm(false, false, b, l.in, l.out, cur, n.w[l.wi], 0, next)
		case kConv:
			rows := b * l.h * l.w
			dc := n.dcols[:rows*9*l.in]
			gemm(false, false, rows, 9*l.in, l.out, cur, n.w[l.wi], 0, dc)
			col2im(dc, next, b, l.h, l.w, l.in)
		case kReLU:
			out := n.acts[i][:len(in)]
			for k, v := range out {
				if v > 0 {
					next[k] = cur[k]
				} else {
					next[k] = 0
				}
			}
		case kMaxPool:
			clear(next)
			for k, a := range n.arg[i][:len(cur)] {
				next[a] += cur[k]
			}
		case kAvgPool:
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
		cur = next
	}
}
