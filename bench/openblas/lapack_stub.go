//go:build !(cgo && openblas)

package openblas

import "errors"

// errNoLapack is returned when the binary was built without -tags openblas.
var errNoLapack = errors.New("openblas: not built in (build with -tags openblas and cgo)")

// LapackThreads does nothing without OpenBLAS.
func LapackThreads(n int) {}

// Dsyevd reports that OpenBLAS is not built in.
func Dsyevd(vectors bool, n int, a, w []float64) error { return errNoLapack }

// Dsyevr reports that OpenBLAS is not built in.
func Dsyevr(vectors bool, n int, a []float64, il, iu int, w, z []float64) (int, error) {
	return 0, errNoLapack
}

// LapackAvailable reports whether the LAPACK comparison is built in.
const LapackAvailable = false
