//go:build cgo && openblas

package openblas

/*
#cgo LDFLAGS: -lopenblas
// CBLAS prototypes, declared here so that no header path is needed.
// Enum values from cblas.h: RowMajor 101, NoTrans 111, Trans 112, Upper 121, Lower 122.
extern void cblas_dgemm(int order, int transa, int transb, int m, int n, int k, double alpha,
	const double *a, int lda, const double *b, int ldb, double beta, double *c, int ldc);
extern void cblas_sgemm(int order, int transa, int transb, int m, int n, int k, float alpha,
	const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
extern void cblas_dsyrk(int order, int uplo, int trans, int n, int k, double alpha,
	const double *a, int lda, double beta, double *c, int ldc);
*/
import "C"

import (
	"github.com/awd-toolkit/awd/linalg"
)

// BlasAvailable reports whether the BLAS comparison is built in.
const BlasAvailable = true

const (
	rowMajor = 101
	noTrans  = 111
	trans    = 112
	upper    = 121
	lower    = 122
)

func tr(t bool) C.int {
	if t {
		return trans
	}
	return noTrans
}

// Dgemm computes C = alpha op(A) op(B) + beta C with OpenBLAS's cblas_dgemm
// (row-major, non-empty operands).
func Dgemm(tA, tB bool, alpha float64, a, b linalg.Dense, beta float64, c linalg.Dense) {
	k := a.Cols
	if tA {
		k = a.Rows
	}
	C.cblas_dgemm(rowMajor, tr(tA), tr(tB), C.int(c.Rows), C.int(c.Cols), C.int(k), C.double(alpha),
		(*C.double)(&a.Data[0]), C.int(a.Stride), (*C.double)(&b.Data[0]), C.int(b.Stride),
		C.double(beta), (*C.double)(&c.Data[0]), C.int(c.Stride))
}

// Sgemm is Dgemm in float32 (cblas_sgemm).
func Sgemm(tA, tB bool, alpha float32, a, b linalg.Dense32, beta float32, c linalg.Dense32) {
	k := a.Cols
	if tA {
		k = a.Rows
	}
	C.cblas_sgemm(rowMajor, tr(tA), tr(tB), C.int(c.Rows), C.int(c.Cols), C.int(k), C.float(alpha),
		(*C.float)(&a.Data[0]), C.int(a.Stride), (*C.float)(&b.Data[0]), C.int(b.Stride),
		C.float(beta), (*C.float)(&c.Data[0]), C.int(c.Stride))
}

// Dsyrk computes the uplo triangle of C = alpha A^T A + beta C (trans) or
// alpha A A^T + beta C with OpenBLAS's cblas_dsyrk.
func Dsyrk(uplo linalg.Uplo, trans bool, alpha float64, a linalg.Dense, beta float64, c linalg.Dense) {
	k := a.Cols
	if trans {
		k = a.Rows
	}
	ul := C.int(lower)
	if uplo == linalg.Upper {
		ul = upper
	}
	C.cblas_dsyrk(rowMajor, ul, tr(trans), C.int(c.Rows), C.int(k), C.double(alpha),
		(*C.double)(&a.Data[0]), C.int(a.Stride), C.double(beta), (*C.double)(&c.Data[0]), C.int(c.Stride))
}
