package awd

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/awd-toolkit/awd/linalg"
)

// synthSample is one sample of a random small network at the layer under
// study: input activity a (n), curvature Gamma (m x m) built as
// J^T Lambda J from a random ReLU-masked Jacobian and the loss Hessian at
// the logits of docs/math.md section 3.
type synthSample struct {
	a     []float64
	gamma []float64 // m x m
}

// synthNet draws N samples for a layer with m outputs, n inputs and L
// logits, for loss "ce" or "mse".
func synthNet(rng *rand.Rand, loss string, N, m, n, L int) []synthSample {
	out := make([]synthSample, N)
	for s := range out {
		a := make([]float64, n)
		for i := range a {
			a[i] = math.Max(0, rng.NormFloat64()) // post-ReLU
		}
		a[rng.IntN(n)] += 0.1 // never all zero
		j := make([]float64, L*m)
		for p := 0; p < m; p++ {
			if rng.IntN(3) == 0 {
				continue // ReLU mask switched off this unit
			}
			for k := 0; k < L; k++ {
				j[k*m+p] = rng.NormFloat64()
			}
		}
		p := make([]float64, L)
		var z float64
		for k := range p {
			p[k] = math.Exp(2 * rng.NormFloat64())
			z += p[k]
		}
		for k := range p {
			p[k] /= z
		}
		lam := lossHessian(loss, p, rng.IntN(L))
		out[s] = synthSample{a: a, gamma: congruence(j, lam, L, m)}
	}
	return out
}

// lossHessian returns d2 l / do^2 (L x L) for softmax probabilities p and
// label y (docs/math.md section 3).
func lossHessian(loss string, p []float64, y int) []float64 {
	L := len(p)
	s := make([]float64, L*L)
	for i := 0; i < L; i++ {
		for j := 0; j < L; j++ {
			s[i*L+j] = -p[i] * p[j]
		}
		s[i*L+i] += p[i]
	}
	if loss == "ce" {
		return s
	}
	ind := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	lam := make([]float64, L*L)
	for i := 0; i < L; i++ {
		for j := 0; j < L; j++ {
			var v float64
			for k := 0; k < L; k++ {
				v += s[k*L+i] * s[k*L+j]
				r := p[k] - ind(k == y)
				d2 := p[k] * ((ind(k == i)-p[i])*(ind(k == j)-p[j]) - p[i]*(ind(i == j)-p[j]))
				v += r * d2
			}
			lam[i*L+j] = 2 / float64(L) * v
		}
	}
	return lam
}

func congruence(j, lam []float64, L, m int) []float64 {
	g := make([]float64, m*m)
	for p := 0; p < m; p++ {
		for q := 0; q < m; q++ {
			var v float64
			for a := 0; a < L; a++ {
				for b := 0; b < L; b++ {
					v += j[a*m+p] * lam[a*L+b] * j[b*m+q]
				}
			}
			g[p*m+q] = v
		}
	}
	return g
}

// denseHessian returns H_s = Gamma_s (x) a_s a_s^T as an explicit d x d
// matrix, index (p*n+i, q*n+j).
func denseHessian(s synthSample, m, n int) *mat.SymDense {
	d := m * n
	h := mat.NewSymDense(d, nil)
	for p := 0; p < m; p++ {
		for i := 0; i < n; i++ {
			for q := 0; q < m; q++ {
				for j := 0; j < n; j++ {
					h.SetSym(p*n+i, q*n+j, s.gamma[p*m+q]*s.a[i]*s.a[j])
				}
			}
		}
	}
	return h
}

// bruteHM2 returns H, M2 = mean H_s^2 and LocMax = max_s lambda_1(H_s) by
// explicit d x d algebra, and whether every H_s is PSD.
func bruteHM2(t *testing.T, samples []synthSample, m, n int) (h, m2 linalg.Dense, locMax float64, psd bool) {
	d := m * n
	hs, m2s := mat.NewDense(d, d, nil), mat.NewDense(d, d, nil)
	locMax, psd = math.Inf(-1), true
	for _, s := range samples {
		hn := denseHessian(s, m, n)
		var sq mat.Dense
		sq.Mul(hn, hn)
		hs.Add(hs, hn)
		m2s.Add(m2s, &sq)
		var es mat.EigenSym
		if !es.Factorize(hn, false) {
			t.Fatal("eigen of H_n failed")
		}
		v := es.Values(nil)
		locMax = math.Max(locMax, v[d-1])
		if v[0] < -1e-12*math.Abs(v[d-1]) {
			psd = false
		}
	}
	hs.Scale(1/float64(len(samples)), hs)
	m2s.Scale(1/float64(len(samples)), m2s)
	return linalg.FromMat(hs), linalg.FromMat(m2s), locMax, psd
}

// TestThm51 is a property test of Thm 5.1 on random small networks: for CE
// every direction satisfies lambda_i^2 <= s_i <= LocMax lambda_i; for MSE
// the lower bound holds for every direction.
func TestThm51(t *testing.T) {
	for _, loss := range []string{"ce", "mse"} {
		for trial := 0; trial < 6; trial++ {
			rng := rand.New(rand.NewPCG(uint64(trial), 51))
			m, n, L, N := 2+rng.IntN(4), 2+rng.IntN(5), 3+rng.IntN(5), 5+rng.IntN(40)
			samples := synthNet(rng, loss, N, m, n, L)
			h, m2, locMax, psd := bruteHM2(t, samples, m, n)
			d := m * n
			e, err := linalg.EigSymTop(h, d, true)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := Project(m2, e.Vectors, false)
			b := CheckBounds(e.Values, s, locMax, psd, d, N)
			if b.Lower.Fraction != 1 {
				t.Errorf("%s trial %d (m=%d n=%d L=%d N=%d): lower bound %+v", loss, trial, m, n, L, N, b.Lower)
			}
			if loss == "ce" {
				if !psd || !b.Upper.Applies || b.Upper.Fraction != 1 {
					t.Errorf("ce trial %d: psd=%v upper bound %+v", trial, psd, b.Upper)
				}
			}
		}
	}
}

func TestCheckBoundsCounts(t *testing.T) {
	lambda := []float64{2, 1, 0.5}
	s := []float64{4, 0.5, 0.5} // second violates lambda^2 <= s
	b := CheckBounds(lambda, s, 2, true, 3, 10)
	if b.Lower.Holds != 2 || b.Upper.Holds != 3 || math.Abs(b.Lower.WorstExcess-0.5/4) > eps {
		t.Errorf("%+v", b)
	}
	b = CheckBounds(lambda, s, 1, false, 3, 10) // s_1 = 4 > 1*2
	if b.Upper.Applies || b.Upper.Holds != 2 {
		t.Errorf("%+v", b.Upper)
	}
}
