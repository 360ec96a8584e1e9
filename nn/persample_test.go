package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
)

// tailLoss is the loss of one sample as a function of the pre-activation z
// of fully connected layer li: the independent reference for delta and
// Gamma, written directly from the layer list (ReLU, then linear layers).
func tailLoss(m *Model, li int, z []float64, y int, loss Loss) float64 {
	cur := append([]float64(nil), z...)
	for _, l := range m.layers[li+1:] {
		switch l.kind {
		case kReLU:
			for i, v := range cur {
				cur[i] = max(v, 0)
			}
		case kLinear:
			w := m.params[l.wi].Data
			next := make([]float64, l.out)
			for o := range next {
				var s float64
				for i, v := range cur {
					s += float64(w[o*l.in+i]) * v
				}
				if l.bi >= 0 {
					s += float64(m.params[l.bi].Data[o])
				}
				next[o] = s
			}
			cur = next
		}
	}
	p := make([]float64, len(cur))
	softmax(cur, p)
	return loss.eval(cur, p, y, nil)
}

// zOf returns z = W a of layer li for one sample's activity a.
func zOf(m *Model, li int, a []float64) []float64 {
	l := m.layers[li]
	w := m.params[l.wi].Data
	z := make([]float64, l.out)
	for o := range z {
		for i, v := range a {
			z[o] += float64(w[o*l.in+i]) * v
		}
		if l.bi >= 0 {
			z[o] += float64(m.params[l.bi].Data[o])
		}
	}
	return z
}

// TestPerSampleAtZ checks delta_n and Gamma_n against finite differences
// of the loss in z, and the loss and prediction against a forward pass, for
// every fully connected layer of both models and both losses.
func TestPerSampleAtZ(t *testing.T) {
	for name, m := range gradModels(t) {
		for _, layer := range m.Layers() {
			for _, loss := range []Loss{CE, MSE} {
				t.Run(fmt.Sprintf("%s/%s/%s", name, layer, loss), func(t *testing.T) {
					r := rand.New(rand.NewPCG(7, 8))
					const b = 4
					x, y := randInputs(r, b, m.Arch.In[0]*m.Arch.In[1]*m.Arch.In[2], m.Arch.Outputs)
					ps, err := m.PerSample(layer, x, y, loss)
					if err != nil {
						t.Fatal(err)
					}
					li, _ := m.linear(layer)
					n := newNet[float64](m, b)
					setInput(n, x, b)
					n.forward(b)
					logits := n.output(b)
					for s := 0; s < b; s++ {
						a := ps.A[s*ps.In : (s+1)*ps.In]
						z := zOf(m, li, a)
						f := func(z []float64) float64 { return tailLoss(m, li, z, y[s], loss) }
						f0 := f(z)
						if math.Abs(f0-ps.Loss[s]) > 8*eps*(1+f0)*float64(ps.In) {
							t.Errorf("sample %d: loss %.15g, reference %.15g", s, ps.Loss[s], f0)
						}
						o := logits[s*ps.L : (s+1)*ps.L]
						if ps.Pred[s] != argmax(o) {
							t.Errorf("sample %d: pred %d, argmax %d", s, ps.Pred[s], argmax(o))
						}
						g := fd.Gradient(nil, f, z, &fd.Settings{Formula: fd.Central, Step: fdStep})
						for p := range g {
							if d := ps.Delta[s*ps.M+p]; math.Abs(d-g[p]) > tol1(f0) {
								t.Errorf("sample %d: delta[%d] = %.10g, finite difference %.10g", s, p, d, g[p])
							}
						}
						h := mat.NewSymDense(ps.M, nil)
						fd.Hessian(h, f, z, &fd.Settings{Formula: fd.Central, Step: fdStep2})
						gam := ps.Gamma(s, nil)
						for p := 0; p < ps.M; p++ {
							for q := 0; q < ps.M; q++ {
								if math.Abs(gam[p*ps.M+q]-h.At(p, q)) > tol2(f0) {
									t.Errorf("sample %d: Gamma[%d][%d] = %.10g, finite difference %.10g", s, p, q, gam[p*ps.M+q], h.At(p, q))
								}
							}
						}
					}
				})
			}
		}
	}
}

// TestPerSampleHessianInW checks the full per-sample Hessian
// H_n = Gamma_n (x) a_n a_n^T against a finite-difference Hessian of the
// real loss in the weights of the layer, on a tiny MLP.
func TestPerSampleHessianInW(t *testing.T) {
	m, err := NewMLP(5, []int{4, 3}, 3, 21)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		for i := range p.Data {
			p.Data[i] *= 2
		}
	}
	for _, loss := range []Loss{CE, MSE} {
		t.Run(loss.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(9, 10))
			x, y := randInputs(r, 3, 5, 3)
			ps, err := m.PerSample("fc2", x, y, loss)
			if err != nil {
				t.Fatal(err)
			}
			wp, _ := m.Param("fc2.weight")
			d := len(wp.Data)
			theta := make([]float64, d)
			for i, v := range wp.Data {
				theta[i] = float64(v)
			}
			for s := range y {
				// The loss of sample s as a function of theta = vec(W)
				// (row-major), through a float64 copy of the network.
				f := func(th []float64) float64 {
					n := newNet[float64](m, 1)
					copy(n.w[1], th) // fc2.weight: parameters are fc1, fc2, fc3
					return batchLoss64(n, x[s*5:(s+1)*5], y[s:s+1], loss)
				}
				f0 := f(theta)
				h := mat.NewSymDense(d, nil)
				fd.Hessian(h, f, theta, &fd.Settings{Formula: fd.Central, Step: fdStep2})
				gam := ps.Gamma(s, nil)
				a := ps.A[s*ps.In : (s+1)*ps.In]
				for p := 0; p < ps.M; p++ {
					for i := 0; i < ps.In; i++ {
						for q := 0; q < ps.M; q++ {
							for j := 0; j < ps.In; j++ {
								want := h.At(p*ps.In+i, q*ps.In+j)
								got := gam[p*ps.M+q] * a[i] * a[j]
								if math.Abs(got-want) > tol2(f0) {
									t.Errorf("sample %d: H[(%d,%d),(%d,%d)] = %.10g, finite difference %.10g", s, p, i, q, j, got, want)
								}
							}
						}
					}
				}
				// the gradient g_n = vec(delta a^T) too
				g := fd.Gradient(nil, f, theta, &fd.Settings{Formula: fd.Central, Step: fdStep})
				for p := 0; p < ps.M; p++ {
					for i := 0; i < ps.In; i++ {
						if got := ps.Delta[s*ps.M+p] * a[i]; math.Abs(got-g[p*ps.In+i]) > tol1(f0) {
							t.Errorf("sample %d: g[%d,%d] = %.10g, finite difference %.10g", s, p, i, got, g[p*ps.In+i])
						}
					}
				}
			}
		})
	}
}

// TestGammaPSD: CE's Gamma_n = J^T (diag p - p p^T) J is PSD for every
// sample; MSE's Lambda is not PSD in general, and some sample shows it.
func TestGammaPSD(t *testing.T) {
	m := gradModels(t)["mlp"]
	r := rand.New(rand.NewPCG(11, 12))
	const b = 64
	x, y := randInputs(r, b, 9, m.Arch.Outputs)
	for _, loss := range []Loss{CE, MSE} {
		ps, err := m.PerSample("fc3", x, y, loss)
		if err != nil {
			t.Fatal(err)
		}
		minEig := math.Inf(1)
		for s := 0; s < b; s++ {
			var es mat.EigenSym
			g := ps.Gamma(s, nil)
			if !es.Factorize(mat.NewSymDense(ps.M, g), false) {
				t.Fatal("eigen failed")
			}
			vals := es.Values(nil)
			scale := math.Max(math.Abs(vals[0]), math.Abs(vals[len(vals)-1]))
			// eigenvalues of a PSD matrix computed backward-stably are
			// >= -c M eps ||Gamma||.
			if loss == CE && vals[0] < -4*float64(ps.M)*eps*scale {
				t.Errorf("CE sample %d: Gamma eigenvalue %g < 0", s, vals[0])
			}
			minEig = math.Min(minEig, vals[0]/math.Max(scale, math.SmallestNonzeroFloat64))
		}
		if loss == MSE && minEig >= 0 {
			t.Errorf("MSE: every Gamma_n PSD over %d random samples; the MSE Lambda should be indefinite somewhere", b)
		}
	}
}

// TestPerSampleInto: reusing a PerSample for blocks of other sizes (larger,
// then smaller: stale values past the new end, reused storage) gives the
// same bits as a fresh PerSample, for the MLP and the CNN.
func TestPerSampleInto(t *testing.T) {
	for _, kind := range []string{"mlp", "cnn"} {
		m, _ := NewMLP(12, []int{7, 5}, 4, 3)
		layer := "fc2"
		if kind == "cnn" {
			m, _ = NewCNN(1, 8, 8, 4, 3)
			layer = "fc"
		}
		dim := m.Arch.In[0] * m.Arch.In[1] * m.Arch.In[2]
		r := rand.New(rand.NewPCG(12, 13))
		var reused *PerSample
		for _, n := range []int{3, 9, 5} {
			x, y := randInputs(r, n, dim, 4)
			want, err := m.PerSample(layer, x, y, CE)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.PerSampleInto(reused, layer, x, y, CE)
			if err != nil {
				t.Fatal(err)
			}
			if reused != nil && got != reused {
				t.Fatalf("%s: PerSampleInto did not return its dst", kind)
			}
			reused = got
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, %d samples: the reused PerSample differs from a fresh one", kind, n)
			}
		}
	}
}

// TestPerSampleWorkers: the MLP's blocks of samples go to several workers;
// which worker takes a block must not change a bit. 1000 samples (four
// blocks) on one thread and on four.
func TestPerSampleWorkers(t *testing.T) {
	m, _ := NewMLP(12, []int{7, 5}, 4, 3)
	r := rand.New(rand.NewPCG(14, 15))
	x, y := randInputs(r, 1000, 12, 4)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one, err := m.PerSample("fc2", x, y, CE)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GOMAXPROCS(4)
	four, err := m.PerSample("fc2", x, y, CE)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(one, four) {
		t.Fatal("the per-sample quantities on four threads differ from one thread's")
	}
	// Each block's rows are its own samples: compare with the samples
	// passed alone.
	for _, s := range []int{0, 255, 256, 700, 999} {
		alone, err := m.PerSample("fc2", x[s*12:(s+1)*12], y[s:s+1], CE)
		if err != nil {
			t.Fatal(err)
		}
		// (A block of one sample may take another product path: equal to
		// rounding, not to the bit.)
		l, mm := four.L, four.M
		for _, c := range []struct{ got, want []float64 }{
			{four.A[s*four.In : (s+1)*four.In], alone.A}, {four.J[s*l*mm : (s+1)*l*mm], alone.J},
			{four.Delta[s*mm : (s+1)*mm], alone.Delta}, {four.Loss[s : s+1], alone.Loss},
		} {
			for i, w := range c.want {
				if math.Abs(c.got[i]-w) > 1e-12*(1+math.Abs(w)) {
					t.Fatalf("sample %d: %v, alone %v", s, c.got, c.want)
				}
			}
		}
	}
}
