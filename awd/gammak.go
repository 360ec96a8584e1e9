package awd

import (
	"math"
)

// GammaPrefix returns gamma(k') for k' = 1..len(c): the least-squares slope
// of log c_i on log lambda_i (as FitPowerLaw) over the pairs among
// i = 1..k' with both positive; NaN while fewer than two such pairs or all
// their lambda equal. It is the sensitivity of gamma to the choice of k (the
// paper uses 200 to 1500). One pass with running means and co-moments
// (Welford's updates), O(k).
func GammaPrefix(lambda, c []float64) []float64 {
	if len(lambda) != len(c) {
		panic("awd: GammaPrefix: lengths differ")
	}
	out := make([]float64, len(c))
	var n, mx, my, sxx, sxy float64
	for i, l := range lambda {
		if ci := c[i]; l > 0 && ci > 0 && !math.IsInf(l, 0) && !math.IsInf(ci, 0) {
			x, y := math.Log(l), math.Log(ci)
			n++
			dx := x - mx
			mx += dx / n
			my += (y - my) / n
			sxx += dx * (x - mx)
			sxy += dx * (y - my)
		}
		out[i] = math.NaN()
		if n >= 2 && sxx > 0 {
			out[i] = sxy / sxx
		}
	}
	return out
}

// GammaK summarises gamma(k') at a few k' (the whole curve is the array
// gamma_k_<cov> of the .npz).
type GammaK struct {
	K     []int   `json:"k"`
	Gamma []Float `json:"gamma"`
}

// summarizeGammaK samples the curve g at k' = 10, 20, 30, 50, 100, 200,
// 300, 500, 1000, ... (1, 2, 3, 5 times a power of ten) below its length,
// and at its length.
func summarizeGammaK(g []float64) GammaK {
	var s GammaK
	add := func(k int) {
		if k >= 1 && k <= len(g) && (len(s.K) == 0 || s.K[len(s.K)-1] < k) {
			s.K = append(s.K, k)
			s.Gamma = append(s.Gamma, Float(g[k-1]))
		}
	}
	for dec := 10; dec < len(g); dec *= 10 {
		for _, f := range []int{1, 2, 3, 5} {
			if f*dec < len(g) {
				add(f * dec)
			}
		}
	}
	add(len(g))
	return s
}
