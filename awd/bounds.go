package awd

import "math"

// BoundCheck counts the directions i <= k that satisfy one inequality of
// Thm 5.1 to within Tol. WorstExcess is max_i (lhs_i - rhs_i) / Scale, the
// largest violation relative to the size of the quantities compared
// (negative when every direction satisfies the bound with room to spare).
type BoundCheck struct {
	Applies     bool    `json:"applies"`
	Holds       int     `json:"holds"`
	Total       int     `json:"total"`
	Fraction    float64 `json:"fraction"`
	WorstExcess float64 `json:"worst_excess"`
	Tol         float64 `json:"tol"`
}

// Bounds is Thm 5.1 for each top eigen-direction u_i of H, with
// s_i = u_i^T M2 u_i:
//
//	Lower: lambda_i^2 <= s_i               (always: H^2 <= M2 by Jensen, Cauchy-Schwarz)
//	Upper: s_i <= LocMax * lambda_i         (when every H_n is PSD, as for CE)
//
// LocMax = max_n lambda_1(H_n). Together they give 1 <= gamma <= 2.
type Bounds struct {
	LocMax float64    `json:"loc_max"`
	Lower  BoundCheck `json:"lower"`
	Upper  BoundCheck `json:"upper"`
}

// CheckBounds evaluates Thm 5.1 for the eigenvalues lambda of H and the
// projections s of M2. allPSD says whether every per-sample Hessian is PSD
// (the upper bound applies only then). d is the dimension and n the number of
// samples accumulated: the tolerance is the worst-case rounding of an
// n-term sum and a d-term quadratic form, 4 (d+n) eps times the largest
// quantity compared, since lambda_i and s_i come from different accumulated
// matrices and neither is exact.
func CheckBounds(lambda, s []float64, locMax float64, allPSD bool, d, n int) Bounds {
	if len(lambda) != len(s) {
		panic("awd: CheckBounds: lambda and s differ in length")
	}
	b := Bounds{LocMax: locMax}
	var lmax, smax float64
	for i, l := range lambda {
		lmax = math.Max(lmax, math.Abs(l))
		smax = math.Max(smax, math.Abs(s[i]))
	}
	rel := 4 * float64(d+n) * eps
	lowScale := math.Max(lmax*lmax, smax)
	upScale := math.Max(smax, math.Abs(locMax)*lmax)
	b.Lower = check(len(s), rel*lowScale, lowScale, func(i int) (float64, float64) {
		return lambda[i] * lambda[i], s[i]
	})
	b.Lower.Applies = true
	b.Upper = check(len(s), rel*upScale, upScale, func(i int) (float64, float64) {
		return s[i], locMax * lambda[i]
	})
	b.Upper.Applies = allPSD
	return b
}

const eps = 0x1p-53 // unit roundoff of float64

func check(k int, tol, scale float64, pair func(i int) (lhs, rhs float64)) BoundCheck {
	c := BoundCheck{Total: k, Tol: tol, WorstExcess: math.Inf(-1)}
	if scale == 0 {
		scale = 1
	}
	for i := 0; i < k; i++ {
		lhs, rhs := pair(i)
		if lhs <= rhs+tol {
			c.Holds++
		}
		c.WorstExcess = math.Max(c.WorstExcess, (lhs-rhs)/scale)
	}
	if k > 0 {
		c.Fraction = float64(c.Holds) / float64(k)
	} else {
		c.WorstExcess = 0
	}
	return c
}
