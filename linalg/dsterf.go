package linalg

import (
	"math"
	"slices"
)

// Eigenvalues of a symmetric tridiagonal matrix without vectors by the
// Pal-Walker-Kahan variant of the implicit QL and QR iterations (LAPACK's
// DSTERF). It works on the squares of the off-diagonal entries and
// carries the sweep in the form (gamma, p = gamma^2 / c), so one step of
// the bulge chase costs three divisions and no square root, where the
// rotation-based sweep of tql needs a square root on its critical path:
// about 10% faster at n = 2500, the last serial step of the values-only
// solve.

// eps2 is the square of the unit roundoff: the iterations compare squared
// off-diagonal entries.
const eps2 = eps * eps

// dsterf computes the eigenvalues of the symmetric tridiagonal matrix with
// diagonal d (n) and off-diagonal e (n-1); d is ascending on return and e
// is destroyed. NaN or Inf in d or e is ErrNotFinite. Each unreduced
// block is iterated from the end with the larger diagonal entry (QL when
// that is the bottom, QR when the top), and scaled by a power of two first
// when its largest entry is outside [ssfmin, ssfmax], where the squares
// neither overflow nor underflow. Cost O(n^2): a sweep over a block of k
// rows takes k steps of three divisions and eight other operations.
func dsterf(d, e []float64) error {
	n := len(d)
	if !allFinite(d) || !allFinite(e[:max(n-1, 0)]) {
		return ErrNotFinite
	}
	if n <= 1 {
		return nil
	}
	const (
		safmin  = 0x1p-1022
		maxIter = 30 // sweeps per eigenvalue, on average
	)
	ssfmax := math.Sqrt(1/safmin) / 3
	ssfmin := math.Sqrt(safmin) / eps2
	budget := maxIter * n
	sweeps := 0
	for l1 := 0; l1 < n; {
		if l1 > 0 {
			e[l1-1] = 0
		}
		// The block [l1, m]: e[m] is negligible against its neighbours.
		m := l1
		for ; m < n-1; m++ {
			if math.Abs(e[m]) <= math.Sqrt(math.Abs(d[m]))*math.Sqrt(math.Abs(d[m+1]))*eps {
				e[m] = 0
				break
			}
		}
		lsv, lendsv := l1, m
		l1 = m + 1
		if lendsv == lsv {
			continue
		}
		anorm := 0.0
		for _, v := range d[lsv : lendsv+1] {
			anorm = math.Max(anorm, math.Abs(v))
		}
		for _, v := range e[lsv:lendsv] {
			anorm = math.Max(anorm, math.Abs(v))
		}
		if anorm == 0 {
			continue
		}
		shift := 0 // the block is multiplied by 2^shift, undone at the end
		switch {
		case anorm > ssfmax:
			_, ea := math.Frexp(anorm)
			_, es := math.Frexp(ssfmax)
			shift = es - ea - 1
		case anorm < ssfmin:
			_, ea := math.Frexp(anorm)
			_, es := math.Frexp(ssfmin)
			shift = es - ea + 1
		}
		if shift != 0 {
			for i := lsv; i <= lendsv; i++ {
				d[i] = math.Ldexp(d[i], shift)
			}
			for i := lsv; i < lendsv; i++ {
				e[i] = math.Ldexp(e[i], shift)
			}
		}
		for i := lsv; i < lendsv; i++ {
			e[i] *= e[i]
		}
		var ok bool
		if math.Abs(d[lendsv]) < math.Abs(d[lsv]) {
			ok = pwkQR(d, e, lendsv, lsv, &sweeps, budget)
		} else {
			ok = pwkQL(d, e, lsv, lendsv, &sweeps, budget)
		}
		if shift != 0 {
			for i := lsv; i <= lendsv; i++ {
				d[i] = math.Ldexp(d[i], -shift)
			}
		}
		if !ok {
			return ErrNoConvergence
		}
	}
	slices.Sort(d)
	return nil
}

// pwkQL runs QL sweeps on the block [l, lend] (l < lend) whose
// off-diagonal entries e[l:lend] hold squares, until every eigenvalue has
// deflated at the top; false when the sweeps exceed budget.
func pwkQL(d, e []float64, l, lend int, sweeps *int, budget int) bool {
	for l <= lend {
		m := l
		for ; m < lend; m++ {
			if math.Abs(e[m]) <= eps2*math.Abs(d[m]*d[m+1]) {
				break
			}
		}
		if m < lend {
			e[m] = 0
		}
		p := d[l]
		switch m {
		case l:
			l++
			continue
		case l + 1:
			d[l], d[l+1] = eig2x2(d[l], math.Sqrt(e[l]), d[l+1])
			e[l] = 0
			l += 2
			continue
		}
		if *sweeps == budget {
			return false
		}
		*sweeps++
		// Wilkinson's shift from the leading 2 x 2 block.
		rte := math.Sqrt(e[l])
		sigma := (d[l+1] - p) / (2 * rte)
		r := math.Hypot(sigma, 1)
		sigma = p - rte/(sigma+math.Copysign(r, sigma))
		c, s := 1.0, 0.0
		gamma := d[m] - sigma
		p = gamma * gamma
		for i := m - 1; i >= l; i-- {
			bb := e[i]
			r := p + bb
			if i != m-1 {
				e[i+1] = s * r
			}
			oldc := c
			c = p / r
			s = bb / r
			oldgam := gamma
			alpha := d[i]
			gamma = c*(alpha-sigma) - s*oldgam
			d[i+1] = oldgam + (alpha - gamma)
			if c != 0 {
				p = gamma * gamma / c
			} else {
				p = oldc * bb
			}
		}
		e[l] = s * p
		d[l] = sigma + gamma
	}
	return true
}

// pwkQR is pwkQL mirrored: sweeps on the block [lend, l] (lend < l) that
// deflate eigenvalues at the bottom.
func pwkQR(d, e []float64, l, lend int, sweeps *int, budget int) bool {
	for l >= lend {
		m := l
		for ; m > lend; m-- {
			if math.Abs(e[m-1]) <= eps2*math.Abs(d[m]*d[m-1]) {
				break
			}
		}
		if m > lend {
			e[m-1] = 0
		}
		p := d[l]
		switch m {
		case l:
			l--
			continue
		case l - 1:
			d[l], d[l-1] = eig2x2(d[l], math.Sqrt(e[l-1]), d[l-1])
			e[l-1] = 0
			l -= 2
			continue
		}
		if *sweeps == budget {
			return false
		}
		*sweeps++
		rte := math.Sqrt(e[l-1])
		sigma := (d[l-1] - p) / (2 * rte)
		r := math.Hypot(sigma, 1)
		sigma = p - rte/(sigma+math.Copysign(r, sigma))
		c, s := 1.0, 0.0
		gamma := d[m] - sigma
		p = gamma * gamma
		for i := m; i < l; i++ {
			bb := e[i]
			r := p + bb
			if i != m {
				e[i-1] = s * r
			}
			oldc := c
			c = p / r
			s = bb / r
			oldgam := gamma
			alpha := d[i+1]
			gamma = c*(alpha-sigma) - s*oldgam
			d[i] = oldgam + (alpha - gamma)
			if c != 0 {
				p = gamma * gamma / c
			} else {
				p = oldc * bb
			}
		}
		e[l-1] = s * p
		d[l] = sigma + gamma
	}
	return true
}

// eig2x2 returns the eigenvalues of [[a, b], [b, c]], the one of larger
// magnitude first (LAPACK's DLAE2): the smaller comes from the determinant,
// not from a difference that could cancel.
func eig2x2(a, b, c float64) (rt1, rt2 float64) {
	sm, df := a+c, a-c
	adf, ab := math.Abs(df), math.Abs(2*b)
	acmx, acmn := c, a
	if math.Abs(a) > math.Abs(c) {
		acmx, acmn = a, c
	}
	var rt float64
	switch {
	case adf > ab:
		rt = adf * math.Sqrt(1+(ab/adf)*(ab/adf))
	case adf < ab:
		rt = ab * math.Sqrt(1+(adf/ab)*(adf/ab))
	default:
		rt = ab * math.Sqrt2
	}
	switch {
	case sm < 0:
		rt1 = 0.5 * (sm - rt)
		rt2 = (acmx/rt1)*acmn - (b/rt1)*b
	case sm > 0:
		rt1 = 0.5 * (sm + rt)
		rt2 = (acmx/rt1)*acmn - (b/rt1)*b
	default:
		rt1, rt2 = 0.5*rt, -0.5*rt
	}
	return rt1, rt2
}
