package nn

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// perSampleBytes bounds the buffers of one float64 forward pass (about
// 64 MB), so that the CNN's activations stay small whatever the block size;
// the MLPs take blocks of up to perSampleChunk samples.
const (
	perSampleBytes = 64 << 20
	perSampleChunk = 256
)

// chunk64 is the block size of the float64 forward passes of PerSample.
func (m *Model) chunk64() int {
	dim := m.Arch.In[0] * m.Arch.In[1] * m.Arch.In[2]
	per := dim
	for _, l := range m.layers {
		switch l.kind {
		case kConv:
			per += l.h * l.w * (9*l.in + 2*l.out)
		case kLinear:
			per += 2 * l.out
		}
	}
	return max(1, min(perSampleChunk, perSampleBytes/(8*per)))
}

// PerSample computes, in float64 from m's weights, the exact per-sample
// quantities of docs/math.md section 3 for the fully connected layer `layer` (W is
// M x In) and the samples x (N inputs, each C*H*W in CHW order, sample-major)
// with labels (already relabelled for the head): a_n (the layer's input),
// J_n = do/dz (L x M, the ReLU masks after z included), Lambda_n = d2 l/do^2,
// delta_n = J_n^T dl/do, the loss l_n and the prediction argmax o_n.
// Cost per sample: a forward pass plus O(L * sum of the later layers' sizes).
func (m *Model) PerSample(layer string, x []float64, labels []int, loss Loss) (*PerSample, error) {
	return m.PerSampleInto(nil, layer, x, labels, loss)
}

// PerSampleInto is PerSample that reuses the storage of dst (when not nil
// and large enough) for the result, which it returns: a caller streaming
// blocks of samples allocates (and faults in) one block's worth once.
func (m *Model) PerSampleInto(dst *PerSample, layer string, x []float64, labels []int, loss Loss) (*PerSample, error) {
	if err := loss.check("per-sample"); err != nil {
		return nil, err
	}
	li, err := m.linear(layer)
	if err != nil {
		return nil, fmt.Errorf("per-sample: %w", err)
	}
	dim := m.Arch.In[0] * m.Arch.In[1] * m.Arch.In[2]
	N := len(labels)
	if len(x) != N*dim {
		return nil, fmt.Errorf("per-sample: %d input values for %d samples of size %d", len(x), N, dim)
	}
	L := m.Arch.Outputs
	for i, y := range labels {
		if y < 0 || y >= L {
			return nil, fmt.Errorf("per-sample: sample %d: label %d but the model has %d outputs", i, y, L)
		}
	}
	for i := li + 1; i < len(m.layers); i++ {
		if k := m.layers[i].kind; k != kLinear && k != kReLU {
			return nil, fmt.Errorf("per-sample: layer %s is followed by a non-dense layer", layer)
		}
	}
	lay := m.layers[li]
	M, In := lay.out, lay.in
	ps := dst
	if ps == nil {
		ps = &PerSample{}
	}
	*ps = PerSample{N: N, M: M, In: In, L: L,
		A: grow(ps.A, N*In), Delta: grow(ps.Delta, N*M), J: grow(ps.J, N*L*M), Lambda: grow(ps.Lambda, N*L*L),
		Loss: grow(ps.Loss, N), Pred: grow(ps.Pred, N), Label: append(ps.Label[:0], labels...)}
	clear(ps.Delta) // summed into below
	// Blocks of size samples, each written to its own rows of ps. An MLP's
	// block is a few small products that leave a second thread idle, so
	// its blocks go to GOMAXPROCS workers, each with its own network; a
	// CNN's convolutions are parallel already, and its network is large.
	size := m.chunk64()
	blocks := (N + size - 1) / size
	workers := 1
	if !m.hasConv() {
		workers = max(1, min(runtime.GOMAXPROCS(0), blocks))
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			n := m.pooledNet64()
			defer m.nets64.Put(n)
			o := make([]float64, L)
			p := make([]float64, L)
			g := make([]float64, L)
			for b := int(next.Add(1)) - 1; b < blocks; b = int(next.Add(1)) - 1 {
				off := b * size
				bs := min(size, N-off)
				setInput(n, x[off*dim:(off+bs)*dim], bs)
				n.forward(bs)
				copy(ps.A[off*In:(off+bs)*In], n.input(li, bs))
				jacobian(n, li, bs, ps.J[off*L*M:(off+bs)*L*M])
				logits := n.output(bs)
				for s := 0; s < bs; s++ {
					gs := off + s
					copy(o, logits[s*L:(s+1)*L])
					softmax(o, p)
					y := labels[gs]
					ps.Loss[gs] = loss.eval(o, p, y, g)
					ps.Pred[gs] = argmax(o)
					loss.lambda(p, y, ps.Lambda[gs*L*L:(gs+1)*L*L])
					j := ps.J[gs*L*M : (gs+1)*L*M]
					d := ps.Delta[gs*M : (gs+1)*M]
					for k, gk := range g {
						for q, v := range j[k*M : (k+1)*M] {
							d[q] += gk * v
						}
					}
				}
			}
		})
	}
	wg.Wait()
	for i, v := range ps.A {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("per-sample: non-finite activity at sample %d", i/In)
		}
	}
	return ps, nil
}

// grow returns s resliced to n elements, reallocated when too short (its
// contents are the caller's to set).
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// jacobian writes J_s = do/dz_s (L x M) of layer li for the b samples of the
// last forward pass, by propagating the L unit vectors of the logits back
// through the dense tail, all samples' rows in one GEMM per layer (on the
// net's two reused buffers).
func jacobian(n *net[float64], li, b int, dst []float64) {
	L := n.m.Arch.Outputs
	last := len(n.m.layers) - 1
	width := L
	// rows (s, k) of the running product, b*L of them
	cur := grow(n.jac[0], b*L*L)
	n.jac[0] = cur
	clear(cur)
	for s := 0; s < b; s++ {
		for k := 0; k < L; k++ {
			cur[(s*L+k)*L+k] = 1
		}
	}
	buf := 1
	for i := last; i > li; i-- {
		l := n.m.layers[i]
		switch l.kind {
		case kLinear:
			next := grow(n.jac[buf], b*L*l.in)
			n.jac[buf] = next
			buf ^= 1
			gemm(false, false, b*L, l.in, l.out, cur, n.w[l.wi], 0, next)
			cur, width = next, l.in
		case kReLU:
			out := n.acts[i]
			for s := 0; s < b; s++ {
				mask := out[s*width : (s+1)*width]
				for k := 0; k < L; k++ {
					row := cur[(s*L+k)*width : (s*L+k+1)*width]
					for q, v := range mask {
						if v <= 0 {
							row[q] = 0
						}
					}
				}
			}
		}
	}
	copy(dst, cur)
}

// pooledNet64 returns a float64 network of the model's block size
// (chunk64) from the pool, loaded with the current weights (training may
// have changed them since it was made), or a new one. Give it back with
// m.nets64.Put.
func (m *Model) pooledNet64() *net[float64] {
	if v, ok := m.nets64.Get().(*net[float64]); ok && v.cap == m.chunk64() {
		v.load(m)
		return v
	}
	return newNet[float64](m, m.chunk64())
}

// hasConv reports whether the model has a convolutional layer.
func (m *Model) hasConv() bool {
	for _, l := range m.layers {
		if l.kind == kConv {
			return true
		}
	}
	return false
}
