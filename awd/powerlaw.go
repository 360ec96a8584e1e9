package awd

import (
	"fmt"
	"math"
)

// Fit is the least-squares line log c_i = Intercept + Gamma log lambda_i of
// docs/math.md section 5, over the pairs with lambda_i above H's null floor
// (NullFloor; FitPowerLaw's floor is 0) and c_i > 0 (Used); the other pairs
// are Dropped, Null of them because |lambda_i| is at or below the floor. SE
// is the standard error of Gamma, sqrt(sum r_i^2 / (Used-2) / sum (x_i -
// xbar)^2), and R2 the coefficient of determination. SE is NaN with fewer
// than three points.
type Fit struct {
	Gamma     float64 `json:"gamma"`
	Intercept float64 `json:"intercept"`
	SE        Float   `json:"se"`
	R2        float64 `json:"r2"`
	Used      int     `json:"used"`
	Dropped   int     `json:"dropped"`
	Null      int     `json:"null,omitempty"`
}

// NullFloor is the rounding floor of the eigenvalues lambda of a symmetric
// d x d matrix: d eps max |lambda_i|, the rank tolerance of LAPACK and
// NumPy. An eigenvalue at or below it in magnitude is zero to working
// precision (H has such directions when a unit of the layer is dead, or an
// input is always zero). Its eigenvectors span a null space in which every
// orthonormal basis is as good as the one the solver returned, so what is
// measured along them (c_i, rho_ij) is rounding noise in an arbitrary
// basis: the fits and the alignment leave those directions out. lambda
// should hold the eigenvalue of largest magnitude (the top k of a PSD H
// do). Returns 0 for an empty or all-zero lambda.
func NullFloor(lambda []float64, d int) float64 {
	var m float64
	for _, l := range lambda {
		if a := math.Abs(l); a > m && !math.IsInf(a, 0) {
			m = a
		}
	}
	return float64(d) * eps64 * m
}

// eps64 is the float64 machine epsilon, 2^-52 (LAPACK's dlamch('P'),
// NumPy's finfo(float64).eps).
const eps64 = 0x1p-52

// inRange marks the directions whose eigenvalue lies above floor in
// magnitude (nil when every one does).
func inRange(lambda []float64, floor float64) []bool {
	var keep []bool
	for i, l := range lambda {
		if math.Abs(l) <= floor {
			if keep == nil {
				keep = make([]bool, len(lambda))
				for j := range keep {
					keep[j] = true
				}
			}
			keep[i] = false
		}
	}
	return keep
}

// nullCount is the number of directions keep leaves out.
func nullCount(keep []bool) int {
	n := 0
	for _, k := range keep {
		if !k {
			n++
		}
	}
	return n
}

// withoutNull returns x with the entries that keep leaves out set to 0 (x
// itself when keep is nil), for the fits that take only positive values.
func withoutNull(x []float64, keep []bool) []float64 {
	if keep == nil {
		return x
	}
	out := make([]float64, len(x))
	for i, v := range x {
		if keep[i] {
			out[i] = v
		}
	}
	return out
}

// FitPowerLaw fits c_i ~ exp(Intercept) lambda_i^Gamma by least squares in
// log-log coordinates over the pairs with lambda_i > 0 and c_i > 0, both
// finite (the others, NaN and infinite ones included, are left out and
// counted in Dropped). It returns an error when fewer than two such pairs
// remain or all the remaining lambda_i are equal, and panics when lambda
// and c differ in length (a programming error, as in linalg). Cost O(k).
func FitPowerLaw(lambda, c []float64) (Fit, error) {
	return FitPowerLawAbove(lambda, c, 0)
}

// FitPowerLawAbove is FitPowerLaw over the pairs with lambda_i > floor, the
// others with |lambda_i| <= floor counted in Null: with floor =
// NullFloor(all of H's known eigenvalues, d) it leaves H's null space out.
func FitPowerLawAbove(lambda, c []float64, floor float64) (Fit, error) {
	if len(lambda) != len(c) {
		panic(fmt.Sprintf("awd: FitPowerLaw: %d eigenvalues, %d projections", len(lambda), len(c)))
	}
	var f Fit
	xs := make([]float64, 0, len(c))
	ys := make([]float64, 0, len(c))
	for i, l := range lambda {
		ci := c[i]
		if l > 0 && l > floor && ci > 0 && !math.IsInf(l, 0) && !math.IsInf(ci, 0) {
			xs = append(xs, math.Log(l))
			ys = append(ys, math.Log(ci))
		} else {
			f.Dropped++
			if math.Abs(l) <= floor {
				f.Null++
			}
		}
	}
	f.Used = len(xs)
	if f.Used < 2 {
		what := "positive pairs"
		if f.Null > 0 {
			what = fmt.Sprintf("positive pairs above H's null floor (%d in its null space)", f.Null)
		}
		return f, fmt.Errorf("power-law fit: %d %s of %d, need 2", f.Used, what, len(c))
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
