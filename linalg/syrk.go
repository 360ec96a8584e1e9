package linalg

import (
	"fmt"

	"github.com/awd-toolkit/awd/kernels"
)

// Syrk computes the uplo triangle of the symmetric rank-k update
//
//	C = alpha A^T A + beta C   (trans; A is k x n)
//	C = alpha A A^T + beta C   (!trans; A is n x k)
//
// with BLAS semantics for alpha = 0 and beta = 0. C is n x n; its other
// triangle is left untouched unless mirror is set, in which case it is
// filled by symmetry afterwards. Cost n*(n+1)*k flops.
//
// It is Gemm's five loops on op(A) = X and op(B) = X^T (X = A^T or A, so
// both are packed from the same storage) visiting only the tiles that meet
// the triangle:
//
//	lower, mr x nr tiles:   \ . . .     tiles right of the diagonal: skipped
//	                        # \ . .     tiles across it (\): kernels.DsyrkMicroLower
//	                        # # \ .       (Upper for the upper triangle)
//	                        # # # \     tiles left of it (#): kernels.DgemmMicro
//
// so it does half of Gemm's work. The columns are split over Threads()
// goroutines in parts of equal area of the triangle.
func Syrk(uplo Uplo, trans bool, alpha float64, a Dense, beta float64, c Dense, mirror bool) {
	a.check("Syrk", "A")
	c.check("Syrk", "C")
	n, k := a.Rows, a.Cols
	if trans {
		n, k = k, n
	}
	if c.Rows != n || c.Cols != n {
		panic(fmt.Sprintf("linalg: Syrk: shape mismatch: A %dx%d (trans=%v) gives %dx%d, C %dx%d", a.Rows, a.Cols, trans, n, n, c.Rows, c.Cols))
	}
	if uplo != Lower && uplo != Upper {
		panic(fmt.Sprintf("linalg: Syrk: bad uplo %q", byte(uplo)))
	}
	mr, nr := kernels.DgemmShape()
	diag := kernels.DsyrkMicroLower
	if uplo == Upper {
		diag = kernels.DsyrkMicroUpper
	}
	g := gemmJob[float64]{
		a: operand[float64]{a.Data, a.Stride, trans}, b: operand[float64]{a.Data, a.Stride, !trans},
		c: c.Data, ldc: c.Stride, m: n, n: n, k: k, alpha: alpha, beta: beta,
		mr: mr, nr: nr, micro: kernels.DgemmMicro, store: kernels.DgemmMicroStore, uplo: uplo, diag: diag,
	}
	g.do()
	if mirror {
		Mirror(uplo, c)
	}
}

// Gemmt computes the uplo triangle of
//
//	C = alpha op(A) op(B) + beta C   (op(X) = X^T when tX is set)
//
// for an n x n C, leaving the other triangle untouched (BLAS extension
// dgemmt). It is for products known to be symmetric, such as the sandwich
// U^T (X U) of a symmetric X: half of Gemm's work (n (n+1) k flops), the
// same tiles, micro-kernels and order of summation as Gemm for the entries
// it computes, so each equals Gemm's bit for bit. Mirror copies the
// triangle onto the other.
func Gemmt(uplo Uplo, tA, tB bool, alpha float64, a, b Dense, beta float64, c Dense) {
	a.check("Gemmt", "A")
	b.check("Gemmt", "B")
	c.check("Gemmt", "C")
	m, k := a.Rows, a.Cols
	if tA {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if tB {
		kb, n = n, kb
	}
	if k != kb || m != n || c.Rows != n || c.Cols != n {
		panic(fmt.Sprintf("linalg: Gemmt: shape mismatch: op(A) %dx%d, op(B) %dx%d, C %dx%d (square)", m, k, kb, n, c.Rows, c.Cols))
	}
	if uplo != Lower && uplo != Upper {
		panic(fmt.Sprintf("linalg: Gemmt: bad uplo %q", byte(uplo)))
	}
	mr, nr := kernels.DgemmShape()
	diag := kernels.DsyrkMicroLower
	if uplo == Upper {
		diag = kernels.DsyrkMicroUpper
	}
	g := gemmJob[float64]{
		a: operand[float64]{a.Data, a.Stride, tA}, b: operand[float64]{b.Data, b.Stride, tB},
		c: c.Data, ldc: c.Stride, m: n, n: n, k: k, alpha: alpha, beta: beta,
		mr: mr, nr: nr, micro: kernels.DgemmMicro, store: kernels.DgemmMicroStore, uplo: uplo, diag: diag,
	}
	g.do()
}
