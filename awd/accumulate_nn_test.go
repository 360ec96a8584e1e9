package awd

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/awd-toolkit/awd/nn"
)

// TestStateHessianMatchesFiniteDifferences ties the Kronecker layout to a
// real network: H accumulated from nn's per-sample quantities equals the
// central finite difference of the mean gradient of the actual loss in the
// layer's weights, theta = vec(W) row-major. The steps are differences of
// float32 weights (the model's storage), so they are exact; the truncation
// error is O(h^2) times the third derivative, about 1e-8 here, and rounding
// adds eps |g| / h, about 1e-12.
func TestStateHessianMatchesFiniteDifferences(t *testing.T) {
	const in, n, layer = 6, 7, "fc2"
	for _, loss := range []nn.Loss{nn.CE, nn.MSE} {
		t.Run(loss.String(), func(t *testing.T) {
			model, err := nn.NewMLP(in, []int{5, 4}, 3, 1)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(8, 9))
			x := make([]float64, n*in)
			for i := range x {
				x[i] = rng.Float64()
			}
			labels := make([]int, n)
			for i := range labels {
				labels[i] = rng.IntN(3)
			}
			ps, err := model.PerSample(layer, x, labels, loss)
			if err != nil {
				t.Fatal(err)
			}
			m, nIn := ps.M, ps.In
			d := m * nIn
			st := NewState(m, nIn, StateOptions{})
			st.Add(ps)
			got, err := st.Finish(1, false)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := model.Param(layer + ".weight")
			if !ok {
				t.Fatal("no weight")
			}
			meanGrad := func() []float64 {
				q, err := model.PerSample(layer, x, labels, loss)
				if err != nil {
					t.Fatal(err)
				}
				g := make([]float64, d)
				addGradSum(g, 1/float64(n), q.Delta, q.A, m, nIn, 0, n)
				return g
			}
			const h = 1e-4
			var maxErr, maxH float64
			for k := 0; k < d; k++ {
				orig := w.Data[k]
				plus, minus := float32(float64(orig)+h), float32(float64(orig)-h)
				w.Data[k] = plus
				gp := meanGrad()
				w.Data[k] = minus
				gm := meanGrad()
				w.Data[k] = orig
				step := float64(plus) - float64(minus)
				for r := 0; r < d; r++ {
					fd := (gp[r] - gm[r]) / step
					maxErr = math.Max(maxErr, math.Abs(fd-got.H.At(r, k)))
					maxH = math.Max(maxH, math.Abs(got.H.At(r, k)))
				}
			}
			t.Logf("max |FD - H| = %.3g, max |H| = %.3g", maxErr, maxH)
			if maxH == 0 || maxErr > 1e-6*maxH {
				t.Errorf("H differs from finite differences by %.3g (max |H| %.3g)", maxErr, maxH)
			}
		})
	}
}
