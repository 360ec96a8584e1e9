package linalg

import (
	"fmt"
	"math"
)

// EigSymSmall computes all eigenvalues of the symmetric n x n matrix a
// (row-major, stride n, lower triangle read; a is not modified) into w in
// descending order and, if v is not nil, the unit eigenvectors into the
// columns of v (row-major n x n, v[i*n+j] is component i of the vector for
// w[j]). It is the path for the many small spectra (n up to ~64) of
// per-sample statistics: unblocked Householder reduction (dsytd2), implicit QL
// (dsteqr) on the identity and an unblocked back-transformation, no
// goroutines and O(n^2) scratch. Cost about 4/3 n^3 + 9 n^3 flops with
// vectors (the QL rotations dominate), 4/3 n^3 without.
func EigSymSmall(n int, a, w, v []float64) error {
	if len(a) < n*n || len(w) < n || (v != nil && len(v) < n*n) {
		panic(fmt.Sprintf("linalg: EigSymSmall: n=%d with len(a)=%d, len(w)=%d, len(v)=%d", n, len(a), len(w), len(v)))
	}
	if n == 0 {
		return nil
	}
	work := make([]float64, n*n+3*n)
	r := work[:n*n]
	d, e, tau := work[n*n:n*n+n], work[n*n+n:n*n+2*n], work[n*n+2*n:]
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
	// Scale extreme matrices towards 1 (see tridiagonalize).
	scale := 1.0
	if anrm > 0x1p500 || (anrm > 0 && anrm < 0x1p-500) {
		scale = anrm
		for i := range r {
			r[i] /= scale
		}
	}
	defer func() {
		for i := 0; i < n; i++ {
			w[i] *= scale
		}
	}()
	rd := Dense{Rows: n, Cols: n, Stride: n, Data: r}
	dsytd2(rd, d, e, tau)
	if v == nil {
		if err := dsterf(d, e[:n-1]); err != nil {
			return fmt.Errorf("EigSymSmall n=%d: %w", n, err)
		}
		for i := 0; i < n; i++ {
			w[i] = d[n-1-i]
		}
		return nil
	}
	z := Dense{Rows: n, Cols: n, Stride: n, Data: v[:n*n]}
	clear(z.Data)
	for i := 0; i < n; i++ {
		z.Data[i*n+i] = 1
	}
	if err := dsteqr(d, e[:n-1], z); err != nil {
		return fmt.Errorf("EigSymSmall n=%d: %w", n, err)
	}
	for i := 0; i < n; i++ {
		w[i] = d[n-1-i]
	}
	reverseCols(z)
	// z := H(0) ... H(n-2) z, applying H(n-2) first.
	s := make([]float64, n)
	for i := n - 2; i >= 0; i-- {
		t := tau[i]
		if t == 0 {
			continue
		}
		u := r[i*n : i*n+n] // u(i+1) = 1, u(i+2:) stored
		clear(s)
		for p := i + 1; p < n; p++ {
			up := 1.0
			if p > i+1 {
				up = u[p]
			}
			row := z.Data[p*n : p*n+n]
			for c, x := range row {
				s[c] += up * x
			}
		}
		for p := i + 1; p < n; p++ {
			up := 1.0
			if p > i+1 {
				up = u[p]
			}
			f := -t * up
			row := z.Data[p*n : p*n+n]
			for c := range row {
				row[c] += f * s[c]
			}
		}
	}
	return nil
}
