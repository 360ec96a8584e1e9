package awd

import (
	"context"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// pairTerms returns, from the definitions and with nothing of awd, for
// sample n of a real network and its partner activity aq:
//
//	dtheta: the minimal-norm dW with (W + dW) a_n = W aq (gonum solve),
//	total:  d/dt grad_theta l_n(theta + t dtheta(theta)) at t = 0, the
//	        linearised gradient change of Eq. 56-57,
//	term1:  H_n dtheta = d/dt grad_theta l_n(theta + t dtheta) at t = 0
//	        with dtheta held fixed,
//
// each a five-point stencil in t over five-point finite-difference
// gradients in theta (errors about 1e-8 relative),
//
// so Term II is total - term1.
func pairTerms(t *testing.T, ref *refMLP, x []float64, y int, aq []float64) (dtheta, total, term1 []float64) {
	t.Helper()
	theta := ref.theta()
	_, a := ref.forward(theta, x)
	m, n := ref.rows[ref.layer], ref.cols[ref.layer]
	da := make([]float64, n)
	for i := range da {
		da[i] = aq[i] - a[i]
	}
	dtheta = minNormDTheta(t, theta, m, n, a, da)
	gradAt := func(tau float64) []float64 {
		f := func(th []float64) float64 {
			dt := minNormDTheta(t, th, m, n, a, da)
			p := make([]float64, len(th))
			for i := range p {
				p[i] = th[i] + tau*dt[i]
			}
			return ref.lossAt(p, x, y)
		}
		return gradFD(f, theta)
	}
	total = dirDeriv(gradAt, 1e-2)
	term1 = dirDeriv(func(tau float64) []float64 {
		p := make([]float64, len(theta))
		for i := range p {
			p[i] = theta[i] + tau*dtheta[i]
		}
		return gradFD(func(th []float64) float64 { return ref.lossAt(th, x, y) }, p)
	}, 1e-2)
	return dtheta, total, term1
}

// TestPairCovariancesFD checks sigma^2, C_pair and C_pair2 of the State and
// the code's C_pair2 (CodePair2Acc) against their definitions on a real
// network (pairTerms): dtheta by a least-norm solve, H_n dtheta by a
// finite-difference Hessian, the Eq. 57 gradient change by finite
// differences of the gradient at the perturbed weights, the partners by
// MatchAnchors, and the code's batch sums C1 + C2 + C3 formed explicitly.
func TestPairCovariancesFD(t *testing.T) {
	const in, n, batch, layer = 6, 14, 4, "fc2"
	for _, loss := range []nn.Loss{nn.CE, nn.MSE} {
		t.Run(loss.String(), func(t *testing.T) {
			model, x, y := randomMLPData(t, 8, in, []int{5, 4}, 3, n, layer)
			ref := newRefMLP(t, model, layer, loss.String())
			m, nIn, _ := model.LayerShape(layer)
			d := m * nIn
			act, err := model.Activity(layer, x)
			if err != nil {
				t.Fatal(err)
			}
			actD := linalg.DenseOf(n, nIn, act)
			pr, err := MatchAnchors(actD, y, batch, 3, 2)
			if err != nil {
				t.Fatal(err)
			}
			var sumDT float64
			np := 0
			wantPair := mat.NewDense(d, d, nil)
			wantPair2 := mat.NewDense(d, d, nil)
			sb := make([]*mat.VecDense, len(pr.Batches))
			tb := make([]*mat.VecDense, len(pr.Batches))
			for b, bs := range pr.Batches {
				sb[b], tb[b] = mat.NewVecDense(d, nil), mat.NewVecDense(d, nil)
				for _, s := range bs {
					q := pr.Partner[s]
					if q < 0 {
						continue
					}
					dt, total, term1 := pairTerms(t, ref, x[s*in:(s+1)*in], y[s], act[q*nIn:(q+1)*nIn])
					np++
					sumDT += mat.Dot(mat.NewVecDense(d, dt), mat.NewVecDense(d, dt))
					u, v := mat.NewVecDense(d, term1), mat.NewVecDense(d, nil)
					v.SubVec(mat.NewVecDense(d, total), u)
					wantPair.RankOne(wantPair, 1, u, u)
					wantPair2.RankOne(wantPair2, 1, mat.NewVecDense(d, total), mat.NewVecDense(d, total))
					sb[b].AddVec(sb[b], u)
					tb[b].AddVec(tb[b], v)
				}
			}
			if np == 0 {
				t.Fatal("no pairs")
			}
			wantPair.Scale(1/float64(batch*np), wantPair)
			wantPair2.Scale(1/float64(batch*np), wantPair2)
			// The code's C1 + C2 + C3 as written, then its symmetric part.
			code := mat.NewDense(d, d, nil)
			for b := range sb {
				code.RankOne(code, 1, sb[b], sb[b])
				code.RankOne(code, 1, sb[b], tb[b])
				code.RankOne(code, 1, tb[b], tb[b])
			}
			code.Scale(1/float64(AnchorBatch*n), code)
			var codeSym mat.Dense
			codeSym.Add(code, code.T())
			codeSym.Scale(0.5, &codeSym)

			ps, err := model.PerSample(layer, x, y, loss)
			if err != nil {
				t.Fatal(err)
			}
			w, _ := model.Weight(layer)
			da := PartnerDiffFrom(actD, seq(0, n), pr.Partner)
			st := NewState(m, nIn, StateOptions{Pair2: true})
			st.Add(ps)
			st.AddPairs(ps, w, da)
			got, err := st.Finish(batch, false)
			if err != nil {
				t.Fatal(err)
			}
			acc := NewCodePair2Acc(m, nIn, pr.Batches, AnchorBatch)
			acc.Add(ps, seq(0, n), w, da)
			gotCode, err := acc.Finish()
			if err != nil {
				t.Fatal(err)
			}
			// Five-point stencils: about 1e-9 relative in the pair terms,
			// the matrices are quadratic in them.
			for _, c := range []struct {
				name string
				got  linalg.Dense
				want *mat.Dense
			}{{"C_pair", got.CPair, wantPair}, {"C_pair2", got.CPair2, wantPair2}, {"C_pair2 (code)", gotCode, &codeSym}} {
				e := relErrDense(c.got.Mat(), c.want)
				t.Logf("%s: relative error %.3g", c.name, e)
				if e > 1e-7 {
					t.Errorf("%s differs from the definition by %.3g", c.name, e)
				}
			}
			if e := math.Abs(got.Sigma2-sumDT/float64(np*d)) / got.Sigma2; e > 1e-10 {
				t.Errorf("sigma^2 %v, definition %v", got.Sigma2, sumDT/float64(np*d))
			}
			// Same diagonal as the non-symmetric code matrix in a random basis.
			q := HaarFrame(d, d, 3)
			var tmp, rot mat.Dense
			tmp.Mul(code, q.Mat())
			rot.Mul(q.Mat().T(), &tmp)
			gc := Sandwich(gotCode, q)
			var num, den float64
			for i := 0; i < d; i++ {
				num = math.Max(num, math.Abs(gc.At(i, i)-rot.At(i, i)))
				den = math.Max(den, math.Abs(rot.At(i, i)))
			}
			if num > 1e-7*den {
				t.Errorf("diagonal in a random basis differs from the code's matrix by %.3g (relative)", num/den)
			}
		})
	}
}

// TestCodePair2WithoutPairs: a model whose studied layer sees only zeros
// (all weights zero) has no pair for the code's C_pair2 to measure; the
// analysis says so in FitErrors, as for any fit that cannot be made,
// instead of failing whole.
func TestCodePair2WithoutPairs(t *testing.T) {
	sub, _, err := nn.Subset(mnist(t), []int{0, 1, 2}, 40, 1)
	if err != nil {
		t.Fatal(err)
	}
	model, err := nn.NewMLP(784, []int{8, 8}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range model.Params() {
		clear(p.Data)
	}
	cfg := DefaultConfig("ce")
	cfg.K, cfg.Batch = 10, 10
	if !cfg.Pair2Code {
		t.Fatal("the default no longer measures the code's C_pair2: this test checks nothing")
	}
	r, err := Analyze(context.Background(), model, sub, cfg, nil)
	if err != nil {
		t.Fatalf("an all-zero layer input failed the analysis: %v", err)
	}
	if msg := r.FitErrors[NameCPair2Code]; !strings.Contains(msg, "none with a partner and a nonzero layer input") {
		t.Fatalf("fit error of %s: %q", NameCPair2Code, msg)
	}
}
