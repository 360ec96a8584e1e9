package linalg

import "math"

// Secular equation of a rank-one modified diagonal eigenproblem (LAPACK
// DLAED4). The eigenvalues of D + rho z z^T (d_0 < ... < d_{K-1}, rho > 0,
// z_i != 0) are the roots of
//
//	f(lambda) = 1 + rho sum_i z_i^2 / (d_i - lambda),
//
// one in each (d_j, d_{j+1}) and the last in (d_{K-1}, d_{K-1} + rho |z|^2);
// f increases between poles. Root j is computed as lambda = d_o + tau with
// the origin d_o the nearer pole (decided by the sign of f at the midpoint),
// so that all differences delta_i = d_i - lambda = (d_i - d_o) - tau keep
// full relative accuracy, which the eigenvector formula needs.
//
// Each step fits f by a constant plus one pole on each side (the "middle
// way" of Li; psi(x) ~ a + b/(d_j - x) matching value and slope, likewise
// phi), solves the resulting quadratic for the step, and falls back to
// bisection of the bracket that the sign of f maintains. Cost O(K) per step,
// usually 3-5 steps per root.

// dlaed4 returns root j and fills delta (length K) with d_i - lambda_j.
func dlaed4(j int, d, z []float64, rho float64, delta []float64) float64 {
	k := len(d)
	// For an inner root the first evaluation is at the midpoint of the
	// pole interval with the origin at d_j; its sign picks the origin.
	origin := j
	var lo, hi, tau, gap float64
	first := j < k-1
	if first {
		gap = d[j+1] - d[j]
		lo, hi, tau = 0, gap/2, gap/2
	} else {
		var zz float64
		for _, v := range z {
			zz += v * v
		}
		lo, hi = 0, rho*zz
		tau = hi / 2
	}
	do := d[origin]
	for i := range d {
		delta[i] = d[i] - do
	}
	for iter := 0; iter < 200; iter++ {
		// One division per term: with u = z_i / (delta_i - tau), the terms
		// are rho z_i u and rho u^2.
		var psi, dpsi, phi, dphi float64
		for i := 0; i <= j; i++ {
			u := z[i] / (delta[i] - tau)
			psi += z[i] * u
			dpsi += u * u
		}
		for i := j + 1; i < k; i++ {
			u := z[i] / (delta[i] - tau)
			phi += z[i] * u
			dphi += u * u
		}
		psi, dpsi, phi, dphi = rho*psi, rho*dpsi, rho*phi, rho*dphi
		f := 1 + psi + phi
		if first {
			first = false
			if f < 0 {
				// The root is nearer d_{j+1}: move the origin there
				// (lambda = d_j + gap/2 = d_{j+1} - gap/2 up to rounding,
				// which the bracket absorbs); the sums just computed
				// serve for the first step.
				origin = j + 1
				do = d[origin]
				for i := range d {
					delta[i] = d[i] - do
				}
				lo, hi, tau = -gap/2, 0, -gap/2
			}
		}
		if f == 0 {
			break
		}
		if f < 0 {
			lo = tau
		} else {
			hi = tau
		}
		tol := eps * (8 + 8*(math.Abs(psi)+math.Abs(phi)) + 2*math.Abs(tau)*(dpsi+dphi))
		if math.Abs(f) <= tol {
			break
		}
		if hi-lo <= 4*eps*math.Max(math.Abs(lo), math.Abs(hi)) || hi-lo == 0 {
			break
		}
		// Two-pole model step.
		eta := math.NaN()
		dp := delta[j] - tau
		b1 := dpsi * dp * dp
		if j < k-1 {
			dq := delta[j+1] - tau
			b2 := dphi * dq * dq
			c := f - b1/dp - b2/dq
			aa := c
			bb := c*(dp+dq) + b1 + b2
			cc := dp * dq * f
			disc := bb*bb - 4*aa*cc
			if disc >= 0 {
				sq := math.Sqrt(disc)
				var r1, r2 float64
				if aa == 0 {
					r1, r2 = cc/bb, math.NaN()
				} else if bb >= 0 {
					r1, r2 = (bb+sq)/(2*aa), 2*cc/(bb+sq)
				} else {
					r1, r2 = (bb-sq)/(2*aa), 2*cc/(bb-sq)
				}
				in1 := tau+r1 > lo && tau+r1 < hi
				in2 := tau+r2 > lo && tau+r2 < hi
				switch {
				case in1 && in2:
					eta = r1
					if math.Abs(r2) < math.Abs(r1) {
						eta = r2
					}
				case in1:
					eta = r1
				case in2:
					eta = r2
				}
			}
		} else {
			c := f - b1/dp
			if c > 0 {
				eta = dp + b1/c
			}
		}
		next := tau + eta
		if math.IsNaN(eta) || !(next > lo && next < hi) || (iter > 20 && iter%3 == 0) {
			next = lo + (hi-lo)/2
		}
		if next == tau {
			break
		}
		tau = next
	}
	for i := range delta {
		delta[i] -= tau
	}
	return do + tau
}
