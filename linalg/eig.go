package linalg

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Eigen holds eigenpairs of a symmetric matrix: Values in descending order
// and, when asked for, the matching unit eigenvectors as the columns of
// Vectors (n x len(Values)).
type Eigen struct {
	Values  []float64
	Vectors Dense
}

// ErrNotFinite is returned for input with NaN or Inf.
var ErrNotFinite = errors.New("linalg: matrix has NaN or Inf entries")

// EigSym computes all eigenvalues of the symmetric n x n matrix a (both
// triangles are read as equal; the lower one is used) in descending order,
// and the eigenvectors if vectors is set. a is not modified.
func EigSym(a Dense, vectors bool) (Eigen, error) {
	return EigSymTop(a, a.Rows, vectors)
}

// EigSymTop computes the k largest eigenvalues of the symmetric matrix a in
// descending order, and their eigenvectors if vectors is set.
func EigSymTop(a Dense, k int, vectors bool) (Eigen, error) {
	n := a.Rows
	if a.Cols != n {
		panic(fmt.Sprintf("linalg: EigSymTop: matrix is %dx%d, not square", a.Rows, a.Cols))
	}
	if k < 0 || k > n {
		return Eigen{}, fmt.Errorf("linalg: EigSymTop: k=%d outside [0, %d]", k, n)
	}
	for i := 0; i < n; i++ {
		for _, v := range a.Row(i) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Eigen{}, ErrNotFinite
			}
		}
	}
	if n == 0 || k == 0 {
		return Eigen{Values: []float64{}, Vectors: NewDense(n, 0)}, nil
	}
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			sym.SetSym(i, j, a.Data[i*a.Stride+j])
		}
	}
	var es mat.EigenSym
	if !es.Factorize(sym, vectors) {
		return Eigen{}, errors.New("linalg: EigSymTop: eigensolver did not converge")
	}
	vals := es.Values(nil) // ascending
	out := Eigen{Values: make([]float64, k)}
	for i := 0; i < k; i++ {
		out.Values[i] = vals[n-1-i]
	}
	if vectors {
		var ev mat.Dense
		es.VectorsTo(&ev)
		out.Vectors = NewDense(n, k)
		for i := 0; i < k; i++ {
			for r := 0; r < n; r++ {
				out.Vectors.Data[r*k+i] = ev.At(r, n-1-i)
			}
		}
	} else {
		out.Vectors = NewDense(n, 0)
	}
	return out, nil
}
