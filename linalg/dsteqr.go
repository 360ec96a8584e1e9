package linalg

import (
	"errors"
	"math"
	"sort"
)

// ErrNoConvergence is wrapped by the errors of iterations that exceed their
// budget (QL sweeps, Lanczos restarts); test with errors.Is.
var ErrNoConvergence = errors.New("linalg: eigensolver did not converge")

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
	// Work on a copy of e with a trailing zero.
	ee := make([]float64, n)
	copy(ee, e[:n-1])
	var rot []float64
	if z.Cols == n {
		rot = make([]float64, 2*n)
	}
	if err := tql(d, ee, z, rot); err != nil {
		return err
	}
	sortEigen(d, z, z.Cols == n)
	return nil
}

// tql is the QL iteration of dsteqr on d and ee (the off-diagonal with
// ee[n-1] = 0, destroyed), rotating the columns of z if it has n columns.
// It leaves d unsorted. rot (2n, may be nil when z is empty) keeps the
// rotations of one sweep, which are then applied to z row by row (as
// LAPACK's DLASR): one contiguous pass per row instead of a strided pass per
// rotation.
func tql(d, ee []float64, z Dense, rot []float64) error {
	n := len(d)
	vec := z.Cols == n
	var cs, sn []float64
	if vec {
		cs, sn = rot[:n], rot[n:2*n]
	}
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
					return ErrNoConvergence
				}
				g := d[l]
				p := (d[l+1] - g) / (2 * ee[l])
				r := fastHypot(p, 1)
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
					r = fastHypot(p, ee[i])
					ee[i+1] = s * r
					s = ee[i] / r
					c = p / r
					p = c*d[i] - s*g
					d[i+1] = h + s*(c*g+s*d[i])
					if vec {
						cs[i], sn[i] = c, s
					}
				}
				if vec {
					applyRotations(z, cs, sn, l, m)
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

// fastHypot is sqrt(x^2 + y^2), by the plain formula when the squares can
// neither overflow nor underflow and by math.Hypot otherwise.
func fastHypot(x, y float64) float64 {
	ax, ay := math.Abs(x), math.Abs(y)
	if ax < 0x1p400 && ay < 0x1p400 && (ax > 0x1p-400 || ax == 0) && (ay > 0x1p-400 || ay == 0) {
		return math.Sqrt(x*x + y*y)
	}
	return math.Hypot(x, y)
}

// applyRotations applies the rotations (cs[i], sn[i]) on columns (i, i+1),
// i = m-1 down to l, to every row of z, four rows at a time so that four
// independent chains of multiply-adds are in flight.
func applyRotations(z Dense, cs, sn []float64, l, m int) {
	k := 0
	ld := z.Stride
	for ; k+4 <= z.Rows; k += 4 {
		r0 := z.Data[k*ld : k*ld+m+1]
		r1 := z.Data[(k+1)*ld : (k+1)*ld+m+1]
		r2 := z.Data[(k+2)*ld : (k+2)*ld+m+1]
		r3 := z.Data[(k+3)*ld : (k+3)*ld+m+1]
		h0, h1, h2, h3 := r0[m], r1[m], r2[m], r3[m]
		for i := m - 1; i >= l; i-- {
			c, s := cs[i], sn[i]
			a0, a1, a2, a3 := r0[i], r1[i], r2[i], r3[i]
			r0[i+1] = s*a0 + c*h0
			r1[i+1] = s*a1 + c*h1
			r2[i+1] = s*a2 + c*h2
			r3[i+1] = s*a3 + c*h3
			h0 = c*a0 - s*h0
			h1 = c*a1 - s*h1
			h2 = c*a2 - s*h2
			h3 = c*a3 - s*h3
		}
		r0[l], r1[l], r2[l], r3[l] = h0, h1, h2, h3
	}
	for ; k < z.Rows; k++ {
		row := z.Data[k*ld : k*ld+m+1]
		h := row[m]
		for i := m - 1; i >= l; i-- {
			c, s := cs[i], sn[i]
			a := row[i]
			row[i+1] = s*a + c*h
			h = c*a - s*h
		}
		row[l] = h
	}
}
