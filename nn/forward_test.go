package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refForward is a direct implementation of the models in PyTorch's layout
// (CHW activations, weights as stored in the state_dict): 3x3 convolutions
// with padding 1 as explicit sums, 2x2 max-pools, the mean over positions,
// linear layers as dot products. It shares no code with net.
func refForward(m *Model, x []float64) []float64 {
	c, h, w := m.Arch.In[0], m.Arch.In[1], m.Arch.In[2]
	cur := append([]float64(nil), x...)
	for _, l := range m.layers {
		switch l.kind {
		case kConv:
			wt, bias := m.params[l.wi].Data, m.params[l.bi].Data
			out := make([]float64, l.out*h*w)
			for o := 0; o < l.out; o++ {
				for y := 0; y < h; y++ {
					for xx := 0; xx < w; xx++ {
						s := float64(bias[o])
						for ci := 0; ci < c; ci++ {
							for ky := 0; ky < 3; ky++ {
								for kx := 0; kx < 3; kx++ {
									iy, ix := y+ky-1, xx+kx-1
									if iy < 0 || iy >= h || ix < 0 || ix >= w {
										continue
									}
									s += float64(wt[((o*c+ci)*3+ky)*3+kx]) * cur[(ci*h+iy)*w+ix]
								}
							}
						}
						out[(o*h+y)*w+xx] = s
					}
				}
			}
			cur, c = out, l.out
		case kReLU:
			for i, v := range cur {
				cur[i] = math.Max(v, 0)
			}
		case kMaxPool:
			oh, ow := h/2, w/2
			out := make([]float64, c*oh*ow)
			for ci := 0; ci < c; ci++ {
				for y := 0; y < oh; y++ {
					for xx := 0; xx < ow; xx++ {
						v := math.Inf(-1)
						for d := 0; d < 4; d++ {
							v = math.Max(v, cur[(ci*h+2*y+d/2)*w+2*xx+d%2])
						}
						out[(ci*oh+y)*ow+xx] = v
					}
				}
			}
			cur, h, w = out, oh, ow
		case kAvgPool:
			out := make([]float64, c)
			for ci := range out {
				for p := 0; p < h*w; p++ {
					out[ci] += cur[ci*h*w+p]
				}
				out[ci] /= float64(h * w)
			}
			cur = out
		case kLinear:
			wt := m.params[l.wi].Data
			out := make([]float64, l.out)
			for o := range out {
				for i, v := range cur {
					out[o] += float64(wt[o*l.in+i]) * v
				}
				if l.bi >= 0 {
					out[o] += float64(m.params[l.bi].Data[o])
				}
			}
			cur = out
		}
	}
	return cur
}

// TestForwardReference compares the logits of the GEMM/im2col network in
// float64 and float32 with the direct reference, on PyTorch-layout weights.
func TestForwardReference(t *testing.T) {
	models := gradModels(t)
	models["cnn-1ch"], _ = NewCNN(1, 12, 10, 10, 3)
	for name, m := range models {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(13, 14))
			const b = 3
			dim := m.Arch.In[0] * m.Arch.In[1] * m.Arch.In[2]
			x, _ := randInputs(r, b, dim, m.Arch.Outputs)
			n64 := newNet[float64](m, b)
			setInput(n64, x, b)
			n64.forward(b)
			n32 := newNet[float32](m, b)
			setInput(n32, x, b)
			n32.forward(b)
			L := m.Arch.Outputs
			// the longest dot product in the network bounds the rounding
			depth := float64(9 * 128)
			for s := 0; s < b; s++ {
				want := refForward(m, x[s*dim:(s+1)*dim])
				var scale float64
				for _, v := range want {
					scale = math.Max(scale, math.Abs(v))
				}
				for k := 0; k < L; k++ {
					g64, g32 := n64.output(b)[s*L+k], float64(n32.output(b)[s*L+k])
					if math.Abs(g64-want[k]) > 16*depth*eps*scale {
						t.Errorf("sample %d logit %d: float64 %.15g, reference %.15g", s, k, g64, want[k])
					}
					if math.Abs(g32-want[k]) > 16*depth*0x1p-23*scale {
						t.Errorf("sample %d logit %d: float32 %.8g, reference %.8g", s, k, g32, want[k])
					}
				}
			}
		})
	}
}
