package awd

import (
	"fmt"

	"github.com/awd-toolkit/awd/linalg"
)

// Names of the covariances whose projections c_i = u_i^T X u_i are measured
// (docs/math.md section 5). M2 is listed as s_i; C_awd = (sigma^2/B) M2, so its c_i
// are s_i scaled and its gamma equals that of M2.
const (
	NameC      = "C"
	NameCAWD   = "C_awd"
	NameCPair  = "C_pair"
	NameCPair2 = "C_pair2"
	NameCMb    = "C_mb"
	NameM2     = "M2"
)

// Spectrum holds the top-k eigenvalues of H (descending) and, for every
// covariance X measured, c_i = u_i^T X u_i in the same order.
type Spectrum struct {
	Lambda []float64            // lambda_1 >= ... >= lambda_k of H
	C      map[string][]float64 // c_i per covariance name (NameC, ...)
}

// Project returns c_i = u_i^T X u_i for the k columns u_i of U (d x k) and,
// when full is set, Xt = U^T X U (k x k, its lower triangle computed and mirrored). X is d x d symmetric.
// Cost 2 d^2 k flops, plus d k^2 for Xt. Xt comes from the warm cache
// (linalg.Scratch): a caller done with it may give it back with
// linalg.Recycle.
func Project(x, u linalg.Dense, full bool) ([]float64, linalg.Dense) {
	d, k := u.Rows, u.Cols
	if x.Rows != d || x.Cols != d {
		panic(fmt.Sprintf("awd: Project: X is %dx%d, U is %dx%d", x.Rows, x.Cols, d, k))
	}
	xu := linalg.DenseOf(d, k, linalg.Scratch(d*k)) // every entry written
	defer linalg.Recycle(xu.Data)
	linalg.Gemm(false, false, 1, x, u, 0, xu)
	c := make([]float64, k)
	for r := 0; r < d; r++ {
		ur, xr := u.Row(r), xu.Row(r)
		for i := range c {
			c[i] += ur[i] * xr[i]
		}
	}
	if !full {
		return c, linalg.Dense{}
	}
	// Every entry is written (the triangle by the product, the rest by
	// Mirror); fresh memory would cost its page faults (8 MB at k = 1000).
	xt := linalg.DenseOf(k, k, linalg.Scratch(k*k))
	linalg.Gemmt(linalg.Lower, true, false, 1, u, xu, 0, xt) // symmetric: half the product
	linalg.Mirror(linalg.Lower, xt)
	return c, xt
}

// TopH returns the k largest eigenvalues of H and their eigenvectors (d x k).
func TopH(h linalg.Dense, k int) (linalg.Eigen, error) {
	if k > h.Rows {
		return linalg.Eigen{}, fmt.Errorf("k=%d exceeds d=%d", k, h.Rows)
	}
	e, err := linalg.EigSymTop(h, k, true)
	if err != nil {
		return e, fmt.Errorf("eigendecomposition of H: %w", err)
	}
	return e, nil
}
