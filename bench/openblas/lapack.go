//go:build cgo && openblas

// Package openblas calls Debian's OpenBLAS (BLAS and LAPACK) through cgo so
// that `awd bench` can time the reference in the same process. Build with
// `-tags openblas` after `apt-get install -y libopenblas-dev`; run with
// OPENBLAS_CORETYPE=SKYLAKEX to get the AVX-512 kernels.
package openblas

/*
#cgo LDFLAGS: -lopenblas
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
	double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info);
extern void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a,
	const int *lda, const double *vl, const double *vu, const int *il, const int *iu,
	const double *abstol, int *m, double *w, double *z, const int *ldz, int *isuppz,
	double *work, const int *lwork, int *iwork, const int *liwork, int *info);
extern void openblas_set_num_threads(int);
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// LapackThreads sets OpenBLAS's thread count.
func LapackThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

func jobChar(vectors bool) C.char {
	if vectors {
		return 'V'
	}
	return 'N'
}

// Dsyevd computes all eigenvalues (ascending in w) and, if vectors, the
// eigenvectors (overwriting a, column-major: a symmetric row-major matrix is
// its own transpose) of the n x n symmetric matrix a by LAPACK's divide and
// conquer driver.
func Dsyevd(vectors bool, n int, a, w []float64) error {
	jobz, uplo := jobChar(vectors), C.char('L')
	cn, lda := C.int(n), C.int(max(n, 1))
	var info C.int
	var wq C.double
	var iwq C.int
	lw, liw := C.int(-1), C.int(-1)
	C.dsyevd_(&jobz, &uplo, &cn, (*C.double)(unsafe.Pointer(&a[0])), &lda, (*C.double)(unsafe.Pointer(&w[0])), &wq, &lw, &iwq, &liw, &info)
	work := make([]float64, int(wq)+1)
	iwork := make([]int32, int(iwq)+1)
	lw, liw = C.int(len(work)), C.int(len(iwork))
	C.dsyevd_(&jobz, &uplo, &cn, (*C.double)(unsafe.Pointer(&a[0])), &lda, (*C.double)(unsafe.Pointer(&w[0])),
		(*C.double)(unsafe.Pointer(&work[0])), &lw, (*C.int)(unsafe.Pointer(&iwork[0])), &liw, &info)
	if info != 0 {
		return fmt.Errorf("dsyevd: info=%d", int(info))
	}
	return nil
}

// Dsyevr computes the eigenvalues with 1-based indices il..iu (ascending in
// w[:m]) and, if vectors, their eigenvectors into z (n x (iu-il+1),
// column-major) by LAPACK's MRRR driver. It returns m, the number found.
func Dsyevr(vectors bool, n int, a []float64, il, iu int, w, z []float64) (int, error) {
	jobz, rng, uplo := jobChar(vectors), C.char('I'), C.char('L')
	cn, lda, ldz := C.int(n), C.int(max(n, 1)), C.int(max(n, 1))
	cil, ciu := C.int(il), C.int(iu)
	var vl, vu, abstol C.double
	var m, info C.int
	isuppz := make([]int32, 2*max(n, 1))
	var wq C.double
	var iwq C.int
	lw, liw := C.int(-1), C.int(-1)
	zp := (*C.double)(unsafe.Pointer(&w[0]))
	if vectors {
		zp = (*C.double)(unsafe.Pointer(&z[0]))
	}
	C.dsyevr_(&jobz, &rng, &uplo, &cn, (*C.double)(unsafe.Pointer(&a[0])), &lda, &vl, &vu, &cil, &ciu, &abstol, &m,
		(*C.double)(unsafe.Pointer(&w[0])), zp, &ldz, (*C.int)(unsafe.Pointer(&isuppz[0])), &wq, &lw, &iwq, &liw, &info)
	work := make([]float64, int(wq)+1)
	iwork := make([]int32, int(iwq)+1)
	lw, liw = C.int(len(work)), C.int(len(iwork))
	C.dsyevr_(&jobz, &rng, &uplo, &cn, (*C.double)(unsafe.Pointer(&a[0])), &lda, &vl, &vu, &cil, &ciu, &abstol, &m,
		(*C.double)(unsafe.Pointer(&w[0])), zp, &ldz, (*C.int)(unsafe.Pointer(&isuppz[0])),
		(*C.double)(unsafe.Pointer(&work[0])), &lw, (*C.int)(unsafe.Pointer(&iwork[0])), &liw, &info)
	if info != 0 {
		return int(m), fmt.Errorf("dsyevr: info=%d", int(info))
	}
	return int(m), nil
}

// LapackAvailable reports whether the LAPACK comparison is built in.
const LapackAvailable = true
