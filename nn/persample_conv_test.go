package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// tinyCNN is the CNN with features [2, M, 3, M, 4, 4, M] on 1 x 8 x 8 inputs
// and 5 logits, weights doubled so that the logits are of order one: every
// layer is small enough for dense finite-difference Hessians, and its
// first two convolutions keep J explicitly, the last two factored.
func tinyCNN(t testing.TB, seed uint64) *Model {
	t.Helper()
	old := CNNFeatures
	CNNFeatures = []int{2, -1, 3, -1, 4, 4, -1}
	defer func() { CNNFeatures = old }()
	m, err := NewCNN(1, 8, 8, 5, seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		for i := range p.Data {
			p.Data[i] *= 2
		}
	}
	return m
}

// layerGrad returns the gradient of sample (x, y)'s loss in the weights of
// layer li (theta order, see LayerSamples) at theta, by backprop through a
// float64 copy of the network.
func layerGrad(m *Model, li int, theta, x []float64, y int, loss Loss) []float64 {
	n := newNet[float64](m, 1)
	wi := m.layers[li].wi
	copy(n.w[wi], theta)
	setInput(n, x, 1)
	n.forward(1)
	L := m.Arch.Outputs
	dOut := make([]float64, L)
	batchLoss[float64](loss, n.output(1), []int{y}, L, dOut)
	n.backward(1, dOut, nil)
	return slices.Clone(n.g[wi])
}

// layerTheta returns the layer's weights in theta order, float64.
func layerTheta(m *Model, li int) []float64 {
	n := newNet[float64](m, 1)
	return slices.Clone(n.w[m.layers[li].wi])
}

// TestLayerSamplesHessian checks, for every weight layer of a tiny CNN and
// an MLP and both losses, the factored per-sample quantities against
// finite differences of the backprop gradient in the layer's weights:
// J_s^T G_s is the gradient, and J_s^T Lambda_s J_s is the whole
// per-sample Hessian (column j from central differences of the gradient
// along unit vector j). The explicit and factored storage of J both occur.
func TestLayerSamplesHessian(t *testing.T) {
	models := map[string]*Model{"cnn": tinyCNN(t, 31)}
	mlp, err := NewMLP(6, []int{5, 4}, 3, 32)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range mlp.Params() {
		for i := range p.Data {
			p.Data[i] *= 2
		}
	}
	models["mlp"] = mlp
	kinds := map[string]bool{}
	for name, m := range models {
		for _, loss := range []Loss{CE, MSE} {
			t.Run(fmt.Sprintf("%s/%s", name, loss), func(t *testing.T) {
				r := rand.New(rand.NewPCG(33, 34))
				const b = 3
				dim := m.Arch.In[0] * m.Arch.In[1] * m.Arch.In[2]
				x, y := randInputs(r, b, dim, m.Arch.Outputs)
				layers := m.WeightLayers()
				all, err := m.LayerSamples(layers, x, y, loss)
				if err != nil {
					t.Fatal(err)
				}
				L := m.Arch.Outputs
				for i, ls := range all {
					li, _ := m.weightLayer(layers[i])
					kinds[fmt.Sprintf("conv=%v/explicit=%v", ls.Conv, ls.J != nil)] = true
					info, err := m.LayerInfo(ls.Layer)
					if err != nil || info != ls.LayerInfo || info.Explicit != (ls.J != nil) {
						t.Fatalf("%s: LayerInfo %+v %v, samples %+v", ls.Layer, info, err, ls.LayerInfo)
					}
					if got, want := info.Stored(L), len(ls.A)/b+len(ls.Jz)/b+len(ls.J)/b; got != want {
						t.Errorf("%s: Stored %d, LayerSamples holds %d per sample", ls.Layer, got, want)
					}
					d := ls.D()
					theta := layerTheta(m, li)
					for s := 0; s < b; s++ {
						xs := x[s*dim : (s+1)*dim]
						j := ls.Jacobian(s, nil, nil)
						g0 := layerGrad(m, li, theta, xs, y[s], loss)
						// gradient: J^T G
						gs := ls.G[s*L : (s+1)*L]
						gmax := 0.0
						for _, v := range g0 {
							gmax = math.Max(gmax, math.Abs(v))
						}
						for c := 0; c < d; c++ {
							var v float64
							for k := 0; k < L; k++ {
								v += j[k*d+c] * gs[k]
							}
							if math.Abs(v-g0[c]) > 1e-12*(1+gmax) {
								t.Errorf("%s sample %d: (J^T G)[%d] = %.12g, backprop %.12g", ls.Layer, s, c, v, g0[c])
							}
						}
						// Hessian: J^T Lambda J against central differences.
						lam := ls.Lambda[s*L*L : (s+1)*L*L]
						const h = 1e-5
						th := slices.Clone(theta)
						for c := 0; c < d; c++ {
							th[c] = theta[c] + h
							gp := layerGrad(m, li, th, xs, y[s], loss)
							th[c] = theta[c] - h
							gm := layerGrad(m, li, th, xs, y[s], loss)
							th[c] = theta[c]
							for q := 0; q < d; q++ {
								want := (gp[q] - gm[q]) / (2 * h)
								var got float64
								for k := 0; k < L; k++ {
									var lj float64
									for kk := 0; kk < L; kk++ {
										lj += lam[k*L+kk] * j[kk*d+c]
									}
									got += j[k*d+q] * lj
								}
								// truncation h^2/6 |g'''| plus rounding eps |g| / h
								if math.Abs(got-want) > 1e-7*(1+math.Abs(want)) {
									t.Errorf("%s sample %d: H[%d][%d] = %.10g, finite difference %.10g", ls.Layer, s, q, c, got, want)
								}
							}
						}
					}
				}
			})
		}
	}
	for _, want := range []string{"conv=true/explicit=true", "conv=true/explicit=false", "conv=false/explicit=false"} {
		if !kinds[want] {
			t.Errorf("no layer of kind %s was checked", want)
		}
	}
}

// TestLayerSamplesGGNFullCNN checks the Gauss-Newton products
// J^T Lambda J v of every conv layer of the full-size CNN (on 3 x 9 x 9
// inputs) against central differences of the gradient along a random v,
// and that the linear layers agree with PerSample.
func TestLayerSamplesGGNFullCNN(t *testing.T) {
	m := gradModels(t)["cnn"]
	r := rand.New(rand.NewPCG(35, 36))
	const b = 2
	dim := m.Arch.In[0] * m.Arch.In[1] * m.Arch.In[2]
	x, y := randInputs(r, b, dim, m.Arch.Outputs)
	for _, loss := range []Loss{CE, MSE} {
		layers := m.WeightLayers()
		all, err := m.LayerSamples(layers, x, y, loss)
		if err != nil {
			t.Fatal(err)
		}
		for i, ls := range all {
			li, _ := m.weightLayer(layers[i])
			d, L := ls.D(), ls.L
			theta := layerTheta(m, li)
			for s := 0; s < b; s++ {
				xs := x[s*dim : (s+1)*dim]
				j := ls.Jacobian(s, nil, nil)
				v := make([]float64, d)
				for c := range v {
					v[c] = r.NormFloat64()
				}
				jv := make([]float64, L)
				for k := range jv {
					for c, vc := range v {
						jv[k] += j[k*d+c] * vc
					}
				}
				lam := ls.Lambda[s*L*L : (s+1)*L*L]
				got := make([]float64, d)
				for k := 0; k < L; k++ {
					var ljv float64
					for kk := 0; kk < L; kk++ {
						ljv += lam[k*L+kk] * jv[kk]
					}
					for c := range got {
						got[c] += j[k*d+c] * ljv
					}
				}
				const h = 1e-5
				tp, tm := slices.Clone(theta), slices.Clone(theta)
				for c := range v {
					tp[c] += h * v[c]
					tm[c] -= h * v[c]
				}
				gp := layerGrad(m, li, tp, xs, y[s], loss)
				gm := layerGrad(m, li, tm, xs, y[s], loss)
				var scale float64
				for c := range got {
					scale = math.Max(scale, math.Abs(got[c]))
				}
				for c := range got {
					want := (gp[c] - gm[c]) / (2 * h)
					if math.Abs(got[c]-want) > 1e-6*(1+scale) {
						t.Errorf("%s %s sample %d: (J^T Lambda J v)[%d] = %.10g, finite difference %.10g", loss, ls.Layer, s, c, got[c], want)
						break
					}
				}
			}
			if ls.Conv {
				continue
			}
			ps, err := m.PerSample(ls.Layer, x, y, loss)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range ps.A {
				if ls.A[i] != v {
					t.Fatalf("%s: A differs from PerSample", ls.Layer)
				}
			}
			for i, v := range ps.J {
				if math.Abs(ls.Jz[i]-v) > 1e-14*(1+math.Abs(v)) {
					t.Fatalf("%s: Jz[%d] = %v, PerSample J %v", ls.Layer, i, ls.Jz[i], v)
				}
			}
			for i := range ps.Lambda {
				if ls.Lambda[i] != ps.Lambda[i] {
					t.Fatalf("%s: Lambda differs from PerSample", ls.Layer)
				}
			}
		}
	}
	if _, err := m.LayerSamples([]string{"features.0", "features.0"}, x, y, CE); err == nil {
		t.Error("a layer listed twice was accepted")
	}
	if _, err := m.LayerSamples([]string{"features.1"}, x, y, CE); err == nil {
		t.Error("a ReLU was accepted as a weight layer")
	}
}

// TestLayerSamplesEach runs the per-sample pass of every layer of the tiny
// CNN over 600 samples (several blocks of perSampleChunk) and checks that
// it equals the passes over two parts of the samples put together, that
// each sees the samples finished grow to N, and that an error from each
// stops the pass.
func TestLayerSamplesEach(t *testing.T) {
	m := tinyCNN(t, 7)
	rng := rand.New(rand.NewPCG(7, 8))
	const n, cut = 600, 217
	x := make([]float64, n*64)
	for i := range x {
		x[i] = rng.Float64()
	}
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(5)
	}
	layers := m.WeightLayers()
	var seen []int
	all, err := m.LayerSamplesEach(layers, x, y, CE, func(done int) error {
		seen = append(seen, done)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 2 || seen[len(seen)-1] != n || !slices.IsSorted(seen) {
		t.Errorf("each saw %v, want an increasing sequence over several blocks ending at %d", seen, n)
	}
	a, err := m.LayerSamples(layers, x[:cut*64], y[:cut], CE)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.LayerSamples(layers, x[cut*64:], y[cut:], CE)
	if err != nil {
		t.Fatal(err)
	}
	for i, ls := range all {
		for name, f := range map[string][3][]float64{
			"A": {ls.A, a[i].A, b[i].A}, "Jz": {ls.Jz, a[i].Jz, b[i].Jz}, "J": {ls.J, a[i].J, b[i].J},
			"G": {ls.G, a[i].G, b[i].G}, "Lambda": {ls.Lambda, a[i].Lambda, b[i].Lambda}, "Loss": {ls.Loss, a[i].Loss, b[i].Loss},
		} {
			if !slices.Equal(f[0], append(slices.Clone(f[1]), f[2]...)) {
				t.Errorf("%s: %s of the whole pass is not the two parts' put together", ls.Layer, name)
			}
		}
	}
	stop := fmt.Errorf("stop")
	calls := 0
	if _, err := m.LayerSamplesEach(layers, x, y, CE, func(int) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("an error from each: err %v after %d calls, want %v after 1", err, calls, stop)
	}
}
