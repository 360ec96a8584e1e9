// Package blasimpl exposes awd's Gemm, Gemm32 and Syrk as a gonum BLAS
// implementation: Implementation embeds gonum's pure-Go blas/gonum and
// overrides Dgemm, Sgemm and Dsyrk with linalg's packed routines. It exists
// so that gonum's own blas/testblas suite checks our routines (a peer's
// tests, not ours), and so that a program may route gonum/mat through them
// with blas64.Use(blasimpl.Implementation{}).
package blasimpl

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/awd-toolkit/awd/linalg"
)

// Implementation is gonum's BLAS with Dgemm, Sgemm and Dsyrk from linalg.
type Implementation struct{ gonum.Implementation }

var _ blas.Float64Level3 = Implementation{}

// Panic messages as gonum's blas/gonum spells them.
const (
	badTranspose = "blas: illegal transpose"
	badUplo      = "blas: illegal triangle"
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
)

func isTrans(t blas.Transpose) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic(badTranspose)
}

// checkGeneral validates an r x c operand with leading dimension ld stored
// in a (BLAS rules: ld >= max(1, c), enough storage when non-empty) and
// returns its storage trimmed to the view.
func checkGeneral[T float32 | float64](a []T, r, c, ld int, badLd, short string) []T {
	if ld < max(1, c) {
		panic(badLd)
	}
	if r == 0 || c == 0 {
		return nil
	}
	n := (r-1)*ld + c
	if len(a) < n {
		panic(short)
	}
	return a[:n]
}

func checkDims(m, n, k int) {
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
}

// gemmShapes checks the arguments of ?gemm as reference BLAS does and
// returns the transposes and the stored shapes of A (ar x ac) and B (br x bc).
func gemmShapes(tA, tB blas.Transpose, m, n, k, lda, ldb, ldc int) (ta, tb bool, ar, ac, br, bc int) {
	ta, tb = isTrans(tA), isTrans(tB)
	checkDims(m, n, k)
	ar, ac = m, k
	if ta {
		ar, ac = k, m
	}
	br, bc = k, n
	if tb {
		br, bc = n, k
	}
	if ta && lda < max(1, m) || !ta && lda < max(1, k) {
		panic(badLdA)
	}
	if tb && ldb < max(1, k) || !tb && ldb < max(1, n) {
		panic(badLdB)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	return ta, tb, ar, ac, br, bc
}

// Dgemm computes C = alpha op(A) op(B) + beta C with linalg.Gemm.
func (Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	ta, tb, ar, ac, br, bc := gemmShapes(tA, tB, m, n, k, lda, ldb, ldc)
	if m == 0 || n == 0 {
		return
	}
	A := linalg.Dense{Rows: ar, Cols: ac, Stride: lda, Data: checkGeneral(a, ar, ac, lda, badLdA, shortA)}
	B := linalg.Dense{Rows: br, Cols: bc, Stride: ldb, Data: checkGeneral(b, br, bc, ldb, badLdB, shortB)}
	C := linalg.Dense{Rows: m, Cols: n, Stride: ldc, Data: checkGeneral(c, m, n, ldc, badLdC, shortC)}
	linalg.Gemm(ta, tb, alpha, A, B, beta, C)
}

// Sgemm computes C = alpha op(A) op(B) + beta C with linalg.Gemm32.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb, ar, ac, br, bc := gemmShapes(tA, tB, m, n, k, lda, ldb, ldc)
	if m == 0 || n == 0 {
		return
	}
	A := linalg.Dense32{Rows: ar, Cols: ac, Stride: lda, Data: checkGeneral(a, ar, ac, lda, badLdA, shortA)}
	B := linalg.Dense32{Rows: br, Cols: bc, Stride: ldb, Data: checkGeneral(b, br, bc, ldb, badLdB, shortB)}
	C := linalg.Dense32{Rows: m, Cols: n, Stride: ldc, Data: checkGeneral(c, m, n, ldc, badLdC, shortC)}
	linalg.Gemm32(ta, tb, alpha, A, B, beta, C)
}

// Dsyrk computes the ul triangle of C = alpha A A^T + beta C (NoTrans, A
// n x k) or alpha A^T A + beta C (Trans, A k x n) with linalg.Syrk.
func (Implementation) Dsyrk(ul blas.Uplo, tA blas.Transpose, n, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	if ul != blas.Lower && ul != blas.Upper {
		panic(badUplo)
	}
	ta := isTrans(tA)
	checkDims(0, n, k)
	ar, ac := n, k
	if ta {
		ar, ac = k, n
	}
	if lda < max(1, ac) {
		panic(badLdA)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if n == 0 {
		return
	}
	A := linalg.Dense{Rows: ar, Cols: ac, Stride: lda, Data: checkGeneral(a, ar, ac, lda, badLdA, shortA)}
	C := linalg.Dense{Rows: n, Cols: n, Stride: ldc, Data: checkGeneral(c, n, n, ldc, badLdC, shortC)}
	linalg.Syrk(linalg.Uplo(ul), ta, alpha, A, beta, C, false)
}
