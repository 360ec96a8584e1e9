package awd

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/awd-toolkit/awd/nn"
)

// TestStateMatchesDefinitionFD checks C (uncentered and centered), H, M2 and
// lambda_loc_max of the State against their definitions on a real network,
// with nothing of awd or of nn's per-sample code in the reference: the
// per-sample gradients and Hessians are finite differences of refMLP's
// loss, C = (1/B)(1/N) sum g g^T (- gbar gbar^T), H = mean H_n,
// M2 = mean H_n H_n (gonum products), lambda_loc_max the largest
// eigenvalue of the H_n (gonum's eigensolver).
func TestStateMatchesDefinitionFD(t *testing.T) {
	const in, n, batch, layer = 6, 9, 3, "fc2"
	for _, loss := range []nn.Loss{nn.CE, nn.MSE} {
		t.Run(loss.String(), func(t *testing.T) {
			model, x, y := randomMLPData(t, 5, in, []int{5, 4}, 3, n, layer)
			ref := newRefMLP(t, model, layer, loss.String())
			d := ref.d()
			theta := ref.theta()
			wantC, wantH, wantM2 := mat.NewDense(d, d, nil), mat.NewDense(d, d, nil), mat.NewDense(d, d, nil)
			gbar := mat.NewVecDense(d, nil)
			locMax := math.Inf(-1)
			for s := 0; s < n; s++ {
				f := func(th []float64) float64 { return ref.lossAt(th, x[s*in:(s+1)*in], y[s]) }
				g := mat.NewVecDense(d, gradFD(f, theta))
				wantC.RankOne(wantC, 1/float64(batch*n), g, g)
				gbar.AddScaledVec(gbar, 1/float64(n), g)
				h := hessFD(f, theta)
				wantH.Add(wantH, h)
				var h2 mat.Dense
				h2.Mul(h, h)
				wantM2.Add(wantM2, &h2)
				var es mat.EigenSym
				if !es.Factorize(mat.NewSymDense(d, h.RawMatrix().Data), false) {
					t.Fatal("eigen")
				}
				vals := es.Values(nil)
				locMax = math.Max(locMax, vals[d-1])
			}
			wantH.Scale(1/float64(n), wantH)
			wantM2.Scale(1/float64(n), wantM2)
			wantCc := mat.DenseCopyOf(wantC)
			wantCc.RankOne(wantCc, -1/float64(batch), gbar, gbar)

			ps, err := model.PerSample(layer, x, y, loss)
			if err != nil {
				t.Fatal(err)
			}
			m, nIn, _ := model.LayerShape(layer)
			st := NewState(m, nIn, StateOptions{})
			st.Add(ps)
			got, err := st.Finish(batch, false)
			if err != nil {
				t.Fatal(err)
			}
			gotc, err := st.Finish(batch, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name      string
				got, want *mat.Dense
			}{{"C", got.C.Mat(), wantC}, {"C centered", gotc.C.Mat(), wantCc}, {"H", got.H.Mat(), wantH}, {"M2", got.M2.Mat(), wantM2}} {
				e := relErrDense(c.got, c.want)
				t.Logf("%s: relative error %.3g", c.name, e)
				if e > 1e-8 {
					t.Errorf("%s differs from the definition by %.3g", c.name, e)
				}
			}
			if e := math.Abs(got.LocMax-locMax) / math.Abs(locMax); e > 1e-7 {
				t.Errorf("lambda_loc_max %v, definition %v", got.LocMax, locMax)
			}
		})
	}
}
