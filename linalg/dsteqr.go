package linalg

import (
	"errors"
	"math"
	"sort"
)

// errNoConvergence is returned when an iteration exceeds its budget.
var errNoConvergence = errors.New("linalg: eigensolver did not converge")

// Implicit QL iteration for the symmetric tridiagonal eigenproblem
// (LAPACK DSTEQR's QL branch, in the form of EISPACK tql2).
//
// For the unreduced block T(l:m, l:m) a Wilkinson shift sigma (the eigenvalue
// of the leading 2x2 block nearer d_l) is chosen and a QL sweep of plane
// rotations G(i, i+1), i = m-1 .. l, chases the bulge so that
// T := G^T T G with e_l -> 0 quadratically (cubically on average). Every
// rotation is applied to the columns of Z, so Z T Z^T is preserved; a block
// is split off once |e_i| <= eps max_j(|d_j| + |e_j|). Cost about 30 n^2
// flops for the values and 6 n^3 for the vectors, so this is used for
// small blocks (the leaves of divide and conquer and EigSymSmall).

// dsteqr computes all eigenvalues of the symmetric tridiagonal matrix with
// diagonal d (n) and off-diagonal e (n-1) and, if z has n columns, updates
// z := z Q with the eigenvectors Q of T. On return d is ascending and the
// columns of z permuted to match; e is destroyed.
func dsteqr(d, e []float64, z Dense) error {
	n := len(d)
	if n <= 1 {
		return nil
	}
	vec := z.Cols == n
	// Work on a copy of e with a trailing zero.
	ee := make([]float64, n)
	copy(ee, e[:n-1])
	var f, tst1 float64
	for l := 0; l < n; l++ {
		tst1 = math.Max(tst1, math.Abs(d[l])+math.Abs(ee[l]))
		m := l
		for m < n-1 {
			if math.Abs(ee[m]) <= 2*eps*tst1 {
				break
			}
			m++
		}
		if m > l {
			for iter := 0; ; iter++ {
				if iter > 60 {
					return errNoConvergence
				}
				g := d[l]
				p := (d[l+1] - g) / (2 * ee[l])
				r := math.Hypot(p, 1)
				if p < 0 {
					r = -r
				}
				d[l] = ee[l] / (p + r)
				d[l+1] = ee[l] * (p + r)
				dl1 := d[l+1]
				h := g - d[l]
				for i := l + 2; i < n; i++ {
					d[i] -= h
				}
				f += h
				p = d[m]
				c, c2, c3 := 1.0, 1.0, 1.0
				el1 := ee[l+1]
				s, s2 := 0.0, 0.0
				for i := m - 1; i >= l; i-- {
					c3 = c2
					c2 = c
					s2 = s
					g = c * ee[i]
					h = c * p
					r = math.Hypot(p, ee[i])
					ee[i+1] = s * r
					s = ee[i] / r
					c = p / r
					p = c*d[i] - s*g
					d[i+1] = h + s*(c*g+s*d[i])
					if vec {
						zd := z.Data
						for k, off := 0, i; k < z.Rows; k, off = k+1, off+z.Stride {
							h = zd[off+1]
							zd[off+1] = s*zd[off] + c*h
							zd[off] = c*zd[off] - s*h
						}
					}
				}
				p = -s * s2 * c3 * el1 * ee[l] / dl1
				ee[l] = s * p
				d[l] = c * p
				if math.Abs(ee[l]) <= 2*eps*tst1 {
					break
				}
			}
		}
		d[l] += f
		ee[l] = 0
	}
	sortEigen(d, z, vec)
	return nil
}

// sortEigen sorts d ascending and permutes the columns of z alike.
func sortEigen(d []float64, z Dense, vec bool) {
	n := len(d)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return d[idx[a]] < d[idx[b]] })
	sorted := true
	for i, j := range idx {
		if i != j {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	dd := make([]float64, n)
	for i, j := range idx {
		dd[i] = d[j]
	}
	copy(d, dd)
	if !vec {
		return
	}
	row := make([]float64, n)
	for r := 0; r < z.Rows; r++ {
		zr := z.Data[r*z.Stride : r*z.Stride+n]
		for i, j := range idx {
			row[i] = zr[j]
		}
		copy(zr, row)
	}
}

const eps = 0x1p-53 // unit roundoff of float64

// dsterf computes the eigenvalues of the symmetric tridiagonal matrix (d, e)
// without vectors by the same implicit QL iteration (EISPACK tql1); d is
// ascending on return. Cost about 30 n^2 flops.
func dsterf(d, e []float64) error {
	return dsteqr(d, e, Dense{})
}
