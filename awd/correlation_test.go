package awd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestCorrelationBruteForce compares the GEMM route with the explicit
// d-vectors v_1^n = gamma_1 (x) a/|a| and a two-pass Pearson correlation.
func TestCorrelationBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	m, in, L, N := 3, 5, 4, 700 // N spans two chunks
	ss := NewSampleSpectra(m, in, L)
	ss.Append(synthPerSample(rng, "ce", N, m, in, L, false))
	d, k := m*in, 4
	u := HaarFrame(d, k, 5)
	l1 := make([]float64, N)
	for s := range l1 {
		l1[s] = ss.Lambda1(s)
	}
	got := Correlation(ss, l1, u)
	for i := 0; i < k; i++ {
		y := make([]float64, N)
		for s := 0; s < N; s++ {
			var dotp float64
			for p := 0; p < m; p++ {
				for j := 0; j < in; j++ {
					v := ss.G[s*L*m+p] * ss.A[s*in+j] / math.Sqrt(ss.Norm2[s])
					dotp += v * u.At(p*in+j, i)
				}
			}
			y[s] = dotp * dotp
		}
		want := pearson(l1, y)
		if math.Abs(got[i]-want) > 1e-10 {
			t.Errorf("u_%d: correlation %v, brute force %v", i, got[i], want)
		}
	}
}

func pearson(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx += x[i] / float64(len(x))
		my += y[i] / float64(len(y))
	}
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}
