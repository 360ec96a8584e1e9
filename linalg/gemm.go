package linalg

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Uplo selects a triangle of a symmetric matrix.
type Uplo byte

const (
	Upper Uplo = 'U'
	Lower Uplo = 'L'
)

// Gemm computes C = alpha op(A) op(B) + beta C with op(X) = X or X^T as tA,
// tB say, with BLAS semantics: beta = 0 overwrites C (NaN in C does not
// propagate), alpha = 0 skips the product. op(A) is m x k, op(B) k x n, C m x n.
// Cost 2*m*n*k flops.
func Gemm(tA, tB bool, alpha float64, a, b Dense, beta float64, c Dense) {
	m, k := a.Rows, a.Cols
	if tA {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if tB {
		kb, n = n, kb
	}
	if k != kb || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("linalg: Gemm: shape mismatch: op(A) %dx%d, op(B) %dx%d, C %dx%d", m, k, kb, n, c.Rows, c.Cols))
	}
	if m == 0 || n == 0 {
		return
	}
	blas64.Gemm(trans(tA), trans(tB), alpha, fix(a), fix(b), beta, fix(c))
}

// Syrk computes the uplo triangle of C = alpha A^T A + beta C (trans) or
// C = alpha A A^T + beta C (!trans). C is n x n; the other triangle is left
// untouched unless mirror is set, in which case it is filled by symmetry.
// Cost about n*n*k flops.
func Syrk(uplo Uplo, trans bool, alpha float64, a Dense, beta float64, c Dense, mirror bool) {
	n, k := a.Rows, a.Cols
	if trans {
		n, k = k, n
	}
	if c.Rows != n || c.Cols != n {
		panic(fmt.Sprintf("linalg: Syrk: shape mismatch: A %dx%d (trans=%v), C %dx%d", a.Rows, a.Cols, trans, c.Rows, c.Cols))
	}
	if n == 0 {
		return
	}
	// blas64.Syrk reads A as n x k (NoTrans) or k x n (Trans).
	t := blas.NoTrans
	if trans {
		t = blas.Trans
	}
	blas64.Syrk(t, alpha, fix(a), beta, blas64.Symmetric{Uplo: blas.Uplo(uplo), N: n, Stride: c.Stride, Data: c.Data})
	if mirror {
		Mirror(uplo, c)
	}
	_ = k
}

// Mirror copies the uplo triangle of the square matrix c onto the other one.
func Mirror(uplo Uplo, c Dense) {
	for i := 0; i < c.Rows; i++ {
		for j := 0; j < i; j++ {
			if uplo == Lower {
				c.Data[j*c.Stride+i] = c.Data[i*c.Stride+j]
			} else {
				c.Data[i*c.Stride+j] = c.Data[j*c.Stride+i]
			}
		}
	}
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// fix gives empty matrices a stride gonum accepts.
func fix(a Dense) blas64.General {
	g := a.General()
	if g.Stride < max(g.Cols, 1) {
		g.Stride = max(g.Cols, 1)
	}
	return g
}
