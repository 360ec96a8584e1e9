package awd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGammaPrefix compares every prefix's slope with FitPowerLaw (a
// two-pass least squares) on the same prefix, with non-positive pairs
// dropped the same way.
func TestGammaPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	const k = 300
	lambda, c := make([]float64, k), make([]float64, k)
	for i := range lambda {
		lambda[i] = math.Pow(float64(i+1), -1.1) * math.Exp(0.1*rng.NormFloat64())
		c[i] = math.Pow(lambda[i], 1.3) * math.Exp(0.3*rng.NormFloat64())
	}
	c[0], lambda[7], c[8] = 1, -1, 0 // dropped pairs; pair 0 kept
	g := GammaPrefix(lambda, c)
	for kk := 1; kk <= k; kk++ {
		f, err := FitPowerLaw(lambda[:kk], c[:kk])
		if err != nil {
			if !math.IsNaN(g[kk-1]) {
				t.Errorf("k=%d: gamma %v, FitPowerLaw: %v", kk, g[kk-1], err)
			}
			continue
		}
		if math.Abs(g[kk-1]-f.Gamma) > 1e-10*math.Max(1, math.Abs(f.Gamma)) {
			t.Errorf("k=%d: gamma %v, FitPowerLaw %v", kk, g[kk-1], f.Gamma)
		}
	}
	s := summarizeGammaK(g)
	if s.K[len(s.K)-1] != k || s.K[0] != 10 || float64(s.Gamma[len(s.Gamma)-1]) != g[k-1] {
		t.Errorf("summary %+v", s)
	}
}

// TestFitPowerLawML draws from known power laws (Pareto, alpha 1.7 and 2.5)
// with a non-power-law body below xmin and checks that alpha is recovered
// within 3 SE, xmin is not below the body and the goodness of fit does not
// reject; a uniform sample must be rejected. The KS distance is
// checked against a brute-force scan of the empirical CDF.
func TestFitPowerLawML(t *testing.T) {
	for _, alpha := range []float64{1.7, 2.5} {
		rng := rand.New(rand.NewPCG(uint64(alpha*10), 1))
		const n, xmin = 1500, 1.0
		x := make([]float64, n)
		for i := range x {
			if i%3 == 0 { // a body below xmin
				x[i] = xmin * rng.Float64()
			} else {
				x[i] = xmin * math.Pow(1-rng.Float64(), -1/(alpha-1))
			}
		}
		f, err := FitPowerLawML(x, 50, 3)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("alpha %v: %+v", alpha, f)
		if math.Abs(f.Alpha-alpha) > 3*f.SE || f.XMin < xmin/2 || !(f.P > 0.05) {
			t.Errorf("alpha %v: fit %+v", alpha, f)
		}
		// brute-force KS of the chosen tail
		var tail []float64
		for _, v := range x {
			if v >= f.XMin {
				tail = append(tail, v)
			}
		}
		var d float64
		for _, v := range tail {
			var below, atOrBelow float64
			for _, w := range tail {
				if w < v {
					below++
				}
				if w <= v {
					atOrBelow++
				}
			}
			p := 1 - math.Pow(v/f.XMin, 1-f.Alpha)
			d = math.Max(d, math.Max(math.Abs(atOrBelow/float64(len(tail))-p), math.Abs(p-below/float64(len(tail)))))
		}
		if len(tail) != f.NTail || math.Abs(d-f.KS) > 1e-12 {
			t.Errorf("alpha %v: tail %d (fit %d), KS %v (fit %v)", alpha, len(tail), f.NTail, d, f.KS)
		}
	}
	rng := rand.New(rand.NewPCG(9, 9))
	x := make([]float64, 1500)
	for i := range x {
		x[i] = 1 + rng.Float64()
	}
	f, err := FitPowerLawML(x, 50, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !(f.P < 0.1) {
		t.Errorf("uniform sample not rejected: %+v", f)
	}
	if _, err := FitPowerLawML([]float64{1, 2, 3}, 0, 1); err == nil {
		t.Error("3 values accepted")
	}
}
