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
