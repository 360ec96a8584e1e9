package linalg

import (
	"fmt"
	"math"
)

// smallMax is the largest order whose workspace EigSymSmall keeps on the
// goroutine stack.
const smallMax = 64

// EigSymSmall computes all eigenvalues of the symmetric n x n matrix a
// (row-major, stride n, lower triangle read; a is not modified) into w in
// descending order and, if v is not nil, the unit eigenvectors into the
// columns of v (row-major n x n, v[i*n+j] is component i of the vector for
// w[j]). It is the path for the many small spectra (n up to ~64) of
// per-sample statistics (awd's r x r per-sample curvature blocks, r <= L):
// unblocked Householder reduction, implicit QL (tql)
// on the identity and an unblocked back-transformation, written as plain
// loops with the workspace on the stack for n <= 64 (no allocation, no
// goroutines, no calls per short vector). Cost about 4/3 n^3 flops for the
// reduction, 2 n^3 for the back-transformation and about 6 n^3 for the QL
// rotations with vectors; O(n^2) beyond the reduction without. Against
// the cyclic Jacobi solvers it replaced (one benchmark process, Zen 5): as fast at
// n = 3, 1.4x at n = 5, 2-3x at n = 10 and 3-6x at n = 20, with or without
// vectors. Only non-finite input (ErrNotFinite) or a QL iteration that does
// not converge returns an error.
func EigSymSmall(n int, a, w, v []float64) error {
	if len(a) < n*n || len(w) < n || (v != nil && len(v) < n*n) {
		panic(fmt.Sprintf("linalg: EigSymSmall: n=%d with len(a)=%d, len(w)=%d, len(v)=%d", n, len(a), len(w), len(v)))
	}
	if n == 0 {
		return nil
	}
	// Go zeroes a declared array, so the stack buffer comes in three sizes.
	const ws = 6
	var work []float64
	switch {
	case n <= 4:
		var st [4*4 + ws*4]float64
		work = st[:n*n+ws*n]
	case n <= 16:
		var st [16*16 + ws*16]float64
		work = st[:n*n+ws*n]
	case n <= smallMax:
		var st [smallMax*smallMax + ws*smallMax]float64
		work = st[:n*n+ws*n]
	default:
		work = make([]float64, n*n+ws*n)
	}
	r := work[:n*n]
	d, e, tau, y := work[n*n:n*n+n], work[n*n+n:n*n+2*n], work[n*n+2*n:n*n+3*n], work[n*n+3*n:n*n+4*n]
	rot := work[n*n+4*n : n*n+6*n]
	// r's rows hold the lower triangle's columns: r[j*n+i] = a[i*n+j], i >= j.
	var anrm float64
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			x := a[i*n+j]
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return ErrNotFinite
			}
			r[j*n+i] = x
			anrm = math.Max(anrm, math.Abs(x))
		}
	}
	// Scale extreme matrices towards 1 (see tridiagonalize); within
	// [2^-500, 2^500] the plain sums of squares below are safe.
	scale := 1.0
	if anrm > 0x1p500 || (anrm > 0 && anrm < 0x1p-500) {
		scale = anrm
		for i := range r {
			r[i] /= scale
		}
	}
	tred2Small(n, r, d, e, tau, y)
	e[n-1] = 0
	var z Dense
	if v != nil {
		z = Dense{Rows: n, Cols: n, Stride: n, Data: v[:n*n]}
		clear(z.Data)
		for i := 0; i < n; i++ {
			z.Data[i*n+i] = 1
		}
	}
	if err := tql(d, e, z, rot); err != nil {
		return fmt.Errorf("EigSymSmall n=%d: %w", n, err)
	}
	// Selection sort into descending order, swapping columns of z alike.
	for i := 0; i < n; i++ {
		p := i
		for j := i + 1; j < n; j++ {
			if d[j] > d[p] {
				p = j
			}
		}
		if p != i {
			d[i], d[p] = d[p], d[i]
			if v != nil {
				for row := 0; row < n; row++ {
					zr := z.Data[row*n : row*n+n]
					zr[i], zr[p] = zr[p], zr[i]
				}
			}
		}
		w[i] = d[i] * scale
	}
	if v == nil {
		return nil
	}
	// z := H(0) ... H(n-2) z, applying H(n-2) first.
	s := y
	for i := n - 2; i >= 0; i-- {
		t := tau[i]
		if t == 0 {
			continue
		}
		u := r[i*n : i*n+n] // u(i+1) = 1, u(i+2:) stored
		copy(s, z.Data[(i+1)*n:(i+2)*n])
		for p := i + 2; p < n; p++ {
			up := u[p]
			row := z.Data[p*n : p*n+n]
			for c, x := range row {
				s[c] += up * x
			}
		}
		row := z.Data[(i+1)*n : (i+2)*n]
		for c := range row {
			row[c] -= t * s[c]
		}
		for p := i + 2; p < n; p++ {
			f := -t * u[p]
			row := z.Data[p*n : p*n+n]
			for c := range row {
				row[c] += f * s[c]
			}
		}
	}
	return nil
}

// tred2Small is dsytd2 in plain loops for small matrices: it reduces the
// symmetric matrix whose upper triangle is stored in the rows of r (n x n,
// stride n) to tridiagonal form (d, e[:n-1]) with reflectors in the rows of
// r and scalars in tau; y is n of workspace.
func tred2Small(n int, r, d, e, tau, y []float64) {
	for i := 0; i < n-1; i++ {
		row := r[i*n : i*n+n]
		alpha := row[i+1]
		x := row[i+2:]
		var ss float64
		for _, xv := range x {
			ss += xv * xv
		}
		if ss == 0 {
			e[i], tau[i] = alpha, 0
			d[i] = row[i]
			continue
		}
		beta := -math.Copysign(math.Sqrt(alpha*alpha+ss), alpha)
		t := (beta - alpha) / beta
		sc := 1 / (alpha - beta)
		for k := range x {
			x[k] *= sc
		}
		e[i], tau[i] = beta, t
		row[i+1] = 1
		vv := row[i+1:]
		m := n - i - 1
		yy := y[:m]
		// yy = A22 vv with A22 = rows i+1.. (upper triangle stored).
		clear(yy)
		for p := 0; p < m; p++ {
			ar := r[(i+1+p)*n+i+1+p : (i+1+p)*n+n]
			vp := vv[p]
			acc := ar[0] * vp
			for q := 1; q < len(ar); q++ {
				acc += ar[q] * vv[p+q]
				yy[p+q] += ar[q] * vp
			}
			yy[p] += acc
		}
		var dot float64
		for k := range yy {
			yy[k] *= t
			dot += yy[k] * vv[k]
		}
		al := -0.5 * t * dot
		for k := range yy {
			yy[k] += al * vv[k]
		}
		for p := 0; p < m; p++ {
			ar := r[(i+1+p)*n+i+1+p : (i+1+p)*n+n]
			vp, yp := vv[p], yy[p]
			for q := range ar {
				ar[q] -= vp*yy[p+q] + yp*vv[p+q]
			}
		}
		row[i+1] = beta
		d[i] = row[i]
	}
	d[n-1] = r[(n-1)*n+n-1]
}
