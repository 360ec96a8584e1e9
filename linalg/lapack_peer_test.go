package linalg

import (
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/testlapack"
)

// peerLapack is gonum's LAPACK with the tridiagonalisation (Dsytrd), the
// tridiagonal solvers (Dsteqr answered by divide and conquer, Dsterf) and
// the symmetric driver (Dsyev) replaced by ours, so that gonum's own
// testlapack suite checks them (gonum's lapack/gonum/lapack_test.go is the
// model). Everything else, e.g. Dorgtr used by the tests, stays gonum's.
type peerLapack struct{ lapackgonum.Implementation }

// Dsytrd maps gonum's row-major triangle onto our storage (the lower
// triangle's columns as rows) and back. The upper form is the lower form of
// the reversed matrix P A P (P the exchange matrix): LAPACK's upper step i
// is our step n-1-i with the vectors, d, e and tau reversed.
func (peerLapack) Dsytrd(uplo blas.Uplo, n int, a []float64, lda int, d, e, tau, work []float64, lwork int) {
	if lwork == -1 {
		work[0] = float64(max(n, 1))
		return
	}
	if n == 0 {
		work[0] = 1
		return
	}
	w := NewDense(n, n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			if uplo == blas.Lower {
				w.Data[j*n+i] = a[i*lda+j] // B = A
			} else {
				w.Data[j*n+i] = a[(n-1-i)*lda+n-1-j] // B(i, j) = A(n-1-i, n-1-j)
			}
		}
	}
	db, eb, tb := make([]float64, n), make([]float64, n-1), make([]float64, n-1)
	dsytrd(w, db, eb, tb)
	if uplo == blas.Lower {
		copy(d, db)
		copy(e, eb)
		copy(tau, tb)
		for i := 0; i < n; i++ {
			a[i*lda+i] = d[i]
			if i < n-1 {
				a[(i+1)*lda+i] = e[i]
			}
			for r := i + 2; r < n; r++ {
				a[r*lda+i] = w.Data[i*n+r]
			}
		}
	} else {
		for j := 0; j < n; j++ {
			d[j] = db[n-1-j]
		}
		for j := 0; j < n-1; j++ {
			e[j] = eb[n-2-j]
			tau[j] = tb[n-2-j]
		}
		for i := 0; i < n; i++ {
			a[i*lda+i] = d[i]
			if i > 0 {
				a[(i-1)*lda+i] = e[i-1]
			}
			l := n - 1 - i
			for p := 0; p+2 <= i; p++ {
				a[p*lda+i] = w.Data[l*n+n-1-p]
			}
		}
	}
	work[0] = float64(max(n, 1))
}

// Dsteqr solves the tridiagonal problem by divide and conquer (dstedc).
func (peerLapack) Dsteqr(compz lapack.EVComp, n int, d, e, z []float64, ldz int, work []float64) bool {
	if n == 0 {
		return true
	}
	if compz == lapack.EVCompNone {
		return dsterf(d[:n], e[:max(n-1, 0)]) == nil
	}
	q := NewDense(n, n)
	if dstedc(d[:n], e[:max(n-1, 0)], q) != nil {
		return false
	}
	zd := Dense{Rows: n, Cols: n, Stride: ldz, Data: z[:(n-1)*ldz+n]}
	if compz == lapack.EVTridiag {
		zd.Copy(q)
		return true
	}
	prod := NewDense(n, n)
	Gemm(false, false, 1, zd, q, 0, prod)
	zd.Copy(prod)
	return true
}

// Dsterf computes the tridiagonal eigenvalues without vectors.
func (peerLapack) Dsterf(n int, d, e []float64) bool {
	if n == 0 {
		return true
	}
	return dsterf(d[:n], e[:max(n-1, 0)]) == nil
}

// Dsyev is EigSym with LAPACK's conventions: ascending w, vectors in the
// columns of a.
func (peerLapack) Dsyev(jobz lapack.EVJob, uplo blas.Uplo, n int, a []float64, lda int, w, work []float64, lwork int) bool {
	if lwork == -1 {
		work[0] = float64(max(1, 3*n-1))
		return true
	}
	if n == 0 {
		return true
	}
	s := NewDense(n, n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			v := a[i*lda+j]
			if uplo == blas.Upper {
				v = a[j*lda+i]
			}
			s.Data[i*n+j], s.Data[j*n+i] = v, v
		}
	}
	vec := jobz == lapack.EVCompute
	e, err := EigSym(s, vec)
	if err != nil {
		return false
	}
	for i := 0; i < n; i++ {
		w[i] = e.Values[n-1-i]
	}
	if vec {
		for r := 0; r < n; r++ {
			for c := 0; c < n; c++ {
				a[r*lda+c] = e.Vectors.Data[r*n+n-1-c]
			}
		}
	}
	return true
}

func TestPeerDsytrd(t *testing.T) { testlapack.DsytrdTest(t, peerLapack{}) }

func TestPeerDsteqr(t *testing.T) {
	// Tiny leaves so that gonum's small cases go through the merges.
	defer func(l int) { dstedcLeaf = l }(dstedcLeaf)
	dstedcLeaf = 1
	testlapack.DsteqrTest(t, peerLapack{})
}

func TestPeerDsterf(t *testing.T) { testlapack.DsterfTest(t, peerLapack{}) }

func TestPeerDsyev(t *testing.T) { testlapack.DsyevTest(t, peerLapack{}) }
