//go:build !(cgo && openblas)

package openblas

import "github.com/awd-toolkit/awd/linalg"

// BlasAvailable reports whether the BLAS comparison is built in.
const BlasAvailable = false

// Dgemm panics: OpenBLAS is not built in (check BlasAvailable).
func Dgemm(tA, tB bool, alpha float64, a, b linalg.Dense, beta float64, c linalg.Dense) {
	panic(errNoLapack)
}

// Sgemm panics: OpenBLAS is not built in (check BlasAvailable).
func Sgemm(tA, tB bool, alpha float32, a, b linalg.Dense32, beta float32, c linalg.Dense32) {
	panic(errNoLapack)
}

// Dsyrk panics: OpenBLAS is not built in (check BlasAvailable).
func Dsyrk(uplo linalg.Uplo, trans bool, alpha float64, a linalg.Dense, beta float64, c linalg.Dense) {
	panic(errNoLapack)
}
