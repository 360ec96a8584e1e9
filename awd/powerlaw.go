package awd

import (
	"fmt"
	"math"
)

// Fit is the least-squares line log c_i = Intercept + Gamma log lambda_i of
// docs/math.md section 5, over the pairs with lambda_i > 0 and c_i > 0 (Used); the
// other pairs are Dropped. SE is the standard error of Gamma,
// sqrt(sum r_i^2 / (Used-2) / sum (x_i - xbar)^2), and R2 the coefficient of
// determination. SE is NaN with fewer than three points.
type Fit struct {
	Gamma     float64 `json:"gamma"`
	Intercept float64 `json:"intercept"`
	SE        Float   `json:"se"`
	R2        float64 `json:"r2"`
	Used      int     `json:"used"`
	Dropped   int     `json:"dropped"`
}

// FitPowerLaw fits c_i ~ exp(Intercept) lambda_i^Gamma by least squares in
// log-log coordinates. It returns an error when fewer than two positive pairs
// remain or all the remaining lambda_i are equal. Cost O(k).
func FitPowerLaw(lambda, c []float64) (Fit, error) {
	if len(lambda) != len(c) {
		panic(fmt.Sprintf("awd: FitPowerLaw: %d eigenvalues, %d projections", len(lambda), len(c)))
	}
	var f Fit
	xs := make([]float64, 0, len(c))
	ys := make([]float64, 0, len(c))
	for i, l := range lambda {
		ci := c[i]
		if l > 0 && ci > 0 && !math.IsInf(l, 0) && !math.IsInf(ci, 0) {
			xs = append(xs, math.Log(l))
			ys = append(ys, math.Log(ci))
		} else {
			f.Dropped++
		}
	}
	f.Used = len(xs)
	if f.Used < 2 {
		return f, fmt.Errorf("power-law fit: %d positive pairs of %d, need 2", f.Used, len(c))
	}
	n := float64(f.Used)
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= n
	my /= n
	var sxx, sxy, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	if sxx == 0 {
		return f, fmt.Errorf("power-law fit: all %d eigenvalues are equal", f.Used)
	}
	f.Gamma = sxy / sxx
	f.Intercept = my - f.Gamma*mx
	var rss float64
	for i := range xs {
		r := ys[i] - f.Intercept - f.Gamma*xs[i]
		rss += r * r
	}
	f.R2 = 1
	if syy > 0 {
		f.R2 = 1 - rss/syy
	}
	f.SE = Float(math.NaN())
	if f.Used > 2 {
		f.SE = Float(math.Sqrt(rss / (n - 2) / sxx))
	}
	return f, nil
}

// MeanStd summarises one quantity over seeds: the mean and the sample
// standard deviation (n-1 in the denominator; 0 for a single value).
type MeanStd struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	N    int     `json:"n"`
}

// Summarize returns the mean and sample standard deviation of xs, skipping
// NaNs.
func Summarize(xs []float64) MeanStd {
	var s MeanStd
	for _, x := range xs {
		if !math.IsNaN(x) {
			s.Mean += x
			s.N++
		}
	}
	if s.N == 0 {
		return MeanStd{Mean: math.NaN(), Std: math.NaN()}
	}
	s.Mean /= float64(s.N)
	if s.N > 1 {
		for _, x := range xs {
			if !math.IsNaN(x) {
				s.Std += (x - s.Mean) * (x - s.Mean)
			}
		}
		s.Std = math.Sqrt(s.Std / float64(s.N-1))
	}
	return s
}

// String formats as "mean ± std" with the precision of a table cell.
func (s MeanStd) String() string {
	if s.N == 0 {
		return "n/a"
	}
	if s.N == 1 {
		return fmt.Sprintf("%.3f", s.Mean)
	}
	return fmt.Sprintf("%.3f ± %.3f", s.Mean, s.Std)
}
