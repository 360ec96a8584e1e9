package blasimpl

import (
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/testblas"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/testlapack"

	"github.com/awd-toolkit/awd/kernels"
)

// gonum's own test suite for the routines we override, at every kernel
// level (as gonum's blas/gonum/level3float64_test.go runs it).
func TestGonumSuite(t *testing.T) {
	saved := kernels.Current()
	defer func() {
		if err := kernels.SetLevel(saved); err != nil {
			t.Fatal(err)
		}
	}()
	for _, l := range kernels.Available() {
		if err := kernels.SetLevel(l); err != nil {
			t.Fatal(err)
		}
		t.Run("level="+l.String(), func(t *testing.T) {
			t.Run("Dgemm", func(t *testing.T) { testblas.TestDgemm(t, Implementation{}) })
			t.Run("Dsyrk", func(t *testing.T) { testblas.DsyrkTest(t, Implementation{}) })
			if testing.Short() && l != saved {
				return // the LAPACK drivers below run at the default level only
			}
			// gonum's blocked LAPACK routines call Dgemm and Dsyrk through
			// blas64 on sub-matrix views with lda > n: route them to ours.
			prev := blas64.Implementation()
			blas64.Use(Implementation{})
			defer blas64.Use(prev)
			t.Run("Dpotrf", func(t *testing.T) { testlapack.DpotrfTest(t, lapackgonum.Implementation{}) })
			t.Run("Dgetrf", func(t *testing.T) { testlapack.DgetrfTest(t, lapackgonum.Implementation{}) })
		})
	}
}
