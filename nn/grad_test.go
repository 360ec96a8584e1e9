package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
)

const eps = 0x1p-52

// fdStep and the tolerances of central differences: the first derivative's
// error is h^2/6 |f”'| (truncation) + eps |f| / h (rounding), the second
// derivative's h^2/12 |f””| + 4 eps |f| / h^2. The softmax losses'
// derivatives at unit-scale logits are bounded by small multiples of one;
// derivScale = 10 covers them with room, on top of the size of the values.
const (
	fdStep     = 1e-5
	fdStep2    = 1e-4
	derivScale = 10
)

func tol1(f float64) float64 {
	return derivScale * (fdStep*fdStep/6 + eps*(1+math.Abs(f))/fdStep)
}

func tol2(f float64) float64 {
	return derivScale * (fdStep2*fdStep2/12 + 4*eps*(1+math.Abs(f))/(fdStep2*fdStep2))
}

// randInputs returns b inputs of dimension dim with entries in [0, 1), like
// scaled pixels, and labels below classes.
func randInputs(r *rand.Rand, b, dim, classes int) ([]float64, []int) {
	x := make([]float64, b*dim)
	for i := range x {
		x[i] = r.Float64()
	}
	y := make([]int, b)
	for i := range y {
		y[i] = r.IntN(classes)
	}
	return x, y
}

// batchLoss64 is the float64 batch-mean loss of net n on (x, y).
func batchLoss64(n *net[float64], x []float64, y []int, loss Loss) float64 {
	setInput(n, x, len(y))
	n.forward(len(y))
	s, _ := batchLoss[float64](loss, n.output(len(y)), y, n.m.Arch.Outputs, nil)
	return s / float64(len(y))
}

// gradModels are small networks whose every layer kind is exercised: an MLP
// and the CNN on 3 x 9 x 9 inputs (odd sizes test the pools' floor).
func gradModels(t testing.TB) map[string]*Model {
	mlp, err := NewMLP(9, []int{6, 5}, 4, 11)
	if err != nil {
		t.Fatal(err)
	}
	cnn, err := NewCNN(3, 9, 9, 5, 12)
	if err != nil {
		t.Fatal(err)
	}
	// Larger weights than PyTorch's init so that the logits are of order
	// one and the test sees curvature.
	for _, m := range []*Model{mlp, cnn} {
		for _, p := range m.Params() {
			for i := range p.Data {
				p.Data[i] *= 2
			}
		}
	}
	return map[string]*Model{"mlp": mlp, "cnn": cnn}
}

// TestGradients checks every parameter tensor's backprop gradient against
// central differences of the float64 batch loss, for both losses. The CNN's
// tensors are large, so a seeded sample of their entries is checked.
func TestGradients(t *testing.T) {
	const perTensor = 6
	for name, m := range gradModels(t) {
		for _, loss := range []Loss{CE, MSE} {
			t.Run(fmt.Sprintf("%s/%s", name, loss), func(t *testing.T) {
				r := rand.New(rand.NewPCG(1, 2))
				const b = 3
				x, y := randInputs(r, b, m.Arch.In[0]*m.Arch.In[1]*m.Arch.In[2], m.Arch.Outputs)
				n := newNet[float64](m, b)
				f0 := batchLoss64(n, x, y, loss)
				dOut := make([]float64, b*m.Arch.Outputs)
				batchLoss[float64](loss, n.output(b), y, m.Arch.Outputs, dOut)
				n.backward(b, dOut, nil)
				for pi, p := range m.Params() {
					for trial := 0; trial < min(perTensor, len(p.Data)); trial++ {
						k := r.IntN(len(p.Data))
						w := n.w[pi]
						ki := k
						if len(p.Shape) == 4 { // PyTorch (out, in, ky*kx) -> internal (out, ky*kx, in)
							o, c, s := k/(p.Shape[1]*9), (k/9)%p.Shape[1], k%9
							ki = (o*9+s)*p.Shape[1] + c
						}
						orig := w[ki]
						got := n.g[pi][ki]
						want := fd.Derivative(func(v float64) float64 {
							w[ki] = v
							return batchLoss64(n, x, y, loss)
						}, orig, &fd.Settings{Formula: fd.Central, Step: fdStep})
						w[ki] = orig
						if math.Abs(got-want) > tol1(f0)*(1+math.Abs(want)) {
							t.Errorf("%s[%d]: backprop %.10g, finite difference %.10g", p.Name, k, got, want)
						}
					}
				}
			})
		}
	}
}

// TestInputGradient checks dLoss/dinput (the last backward step of every
// layer kind, including the max-pool and average-pool adjoints).
func TestInputGradient(t *testing.T) {
	for name, m := range gradModels(t) {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			const b = 2
			dim := m.Arch.In[0] * m.Arch.In[1] * m.Arch.In[2]
			x, y := randInputs(r, b, dim, m.Arch.Outputs)
			n := newNet[float64](m, b)
			f0 := batchLoss64(n, x, y, CE)
			dOut := make([]float64, b*m.Arch.Outputs)
			batchLoss[float64](CE, n.output(b), y, m.Arch.Outputs, dOut)
			dx := make([]float64, b*dim)
			n.backward(b, dOut, dx)
			c, hw := m.Arch.In[0], m.Arch.In[1]*m.Arch.In[2]
			for trial := 0; trial < 12; trial++ {
				s, ch, p := r.IntN(b), r.IntN(c), r.IntN(hw)
				k := s*dim + ch*hw + p // CHW input
				kn := s*dim + p*c + ch // NHWC gradient
				if m.Arch.Model == "mlp" {
					kn = k
				}
				orig := x[k]
				want := fd.Derivative(func(v float64) float64 {
					x[k] = v
					return batchLoss64(n, x, y, CE)
				}, orig, &fd.Settings{Formula: fd.Central, Step: fdStep})
				x[k] = orig
				if math.Abs(dx[kn]-want) > tol1(f0)*(1+math.Abs(want)) {
					t.Errorf("input %d: backprop %.10g, finite difference %.10g", k, dx[kn], want)
				}
			}
		})
	}
}

// TestLambda checks Lambda = d2 l/do^2 and dl/do of both losses against
// finite differences of the loss in the logits.
func TestLambda(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, loss := range []Loss{CE, MSE} {
		for _, L := range []int{2, 3, 10} {
			t.Run(fmt.Sprintf("%s/L=%d", loss, L), func(t *testing.T) {
				o := make([]float64, L)
				for i := range o {
					o[i] = 2 * r.NormFloat64()
				}
				y := r.IntN(L)
				f := func(o []float64) float64 {
					p := make([]float64, L)
					softmax(o, p)
					return loss.eval(o, p, y, nil)
				}
				p := make([]float64, L)
				softmax(o, p)
				g := make([]float64, L)
				f0 := loss.eval(o, p, y, g)
				gfd := fd.Gradient(nil, f, o, &fd.Settings{Formula: fd.Central, Step: fdStep})
				for k := range g {
					if math.Abs(g[k]-gfd[k]) > tol1(f0) {
						t.Errorf("dl/do[%d] = %.10g, finite difference %.10g", k, g[k], gfd[k])
					}
				}
				lam := make([]float64, L*L)
				loss.lambda(p, y, lam)
				h := mat.NewSymDense(L, nil)
				fd.Hessian(h, f, o, &fd.Settings{Formula: fd.Central, Step: fdStep2})
				for i := 0; i < L; i++ {
					for j := 0; j < L; j++ {
						if math.Abs(lam[i*L+j]-h.At(i, j)) > tol2(f0) {
							t.Errorf("Lambda[%d][%d] = %.10g, finite difference %.10g", i, j, lam[i*L+j], h.At(i, j))
						}
					}
				}
			})
		}
	}
}
