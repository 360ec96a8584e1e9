package linalg

import (
	"fmt"

	"github.com/awd-toolkit/awd/internal/hugepage"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Dense is a row-major matrix view: element (i, j) is Data[i*Stride+j].
// Copying a Dense copies the header, not the data.
type Dense struct {
	Rows, Cols, Stride int
	Data               []float64
}

// NewDense returns a zeroed r x c matrix with Stride c.
func NewDense(r, c int) Dense {
	if r < 0 || c < 0 {
		panic(fmt.Sprintf("linalg: NewDense: negative shape %dx%d", r, c))
	}
	return Dense{Rows: r, Cols: c, Stride: max(c, 1), Data: hugepage.Make[float64](r * c)}
}

// DenseOf wraps data (length >= r*c) as an r x c matrix with Stride c.
func DenseOf(r, c int, data []float64) Dense {
	if len(data) < r*c {
		panic(fmt.Sprintf("linalg: DenseOf: %d values for %dx%d", len(data), r, c))
	}
	return Dense{Rows: r, Cols: c, Stride: max(c, 1), Data: data[:r*c]}
}

// At returns element (i, j).
func (a Dense) At(i, j int) float64 {
	if uint(i) >= uint(a.Rows) || uint(j) >= uint(a.Cols) {
		panic(fmt.Sprintf("linalg: At(%d, %d) out of %dx%d", i, j, a.Rows, a.Cols))
	}
	return a.Data[i*a.Stride+j]
}

// Set sets element (i, j).
func (a Dense) Set(i, j int, v float64) {
	if uint(i) >= uint(a.Rows) || uint(j) >= uint(a.Cols) {
		panic(fmt.Sprintf("linalg: Set(%d, %d) out of %dx%d", i, j, a.Rows, a.Cols))
	}
	a.Data[i*a.Stride+j] = v
}

// Row returns row i as a slice of length Cols, sharing storage.
func (a Dense) Row(i int) []float64 {
	if a.Cols == 0 {
		return nil // an empty view may have no storage
	}
	return a.Data[i*a.Stride : i*a.Stride+a.Cols]
}

// View returns the r x c sub-matrix with top-left corner (i, j), sharing storage.
func (a Dense) View(i, j, r, c int) Dense {
	if i < 0 || j < 0 || r < 0 || c < 0 || i+r > a.Rows || j+c > a.Cols {
		panic(fmt.Sprintf("linalg: View(%d, %d, %d, %d) out of %dx%d", i, j, r, c, a.Rows, a.Cols))
	}
	if r == 0 || c == 0 {
		return Dense{Rows: r, Cols: c, Stride: a.Stride}
	}
	return Dense{Rows: r, Cols: c, Stride: a.Stride, Data: a.Data[i*a.Stride+j : (i+r-1)*a.Stride+j+c]}
}

// Clone returns a compact copy.
func (a Dense) Clone() Dense {
	b := NewDense(a.Rows, a.Cols)
	b.Copy(a)
	return b
}

// Copy copies src into a; the shapes must match.
func (a Dense) Copy(src Dense) {
	if a.Rows != src.Rows || a.Cols != src.Cols {
		panic(fmt.Sprintf("linalg: Copy: %dx%d into %dx%d", src.Rows, src.Cols, a.Rows, a.Cols))
	}
	for i := 0; i < a.Rows; i++ {
		copy(a.Row(i), src.Row(i))
	}
}

// T returns a compact copy of the transpose.
func (a Dense) T() Dense {
	t := NewDense(a.Cols, a.Rows)
	for i := 0; i < a.Rows; i++ {
		for j, v := range a.Row(i) {
			t.Data[j*t.Stride+i] = v
		}
	}
	return t
}

// General returns a as gonum's blas64.General, sharing storage.
func (a Dense) General() blas64.General {
	return blas64.General{Rows: a.Rows, Cols: a.Cols, Stride: a.Stride, Data: a.Data}
}

// FromGeneral wraps a blas64.General without copying.
func FromGeneral(g blas64.General) Dense {
	return Dense{Rows: g.Rows, Cols: g.Cols, Stride: g.Stride, Data: g.Data}
}

// Mat returns a as a *mat.Dense sharing storage (gonum requires Stride >= Cols
// and a non-empty matrix).
func (a Dense) Mat() *mat.Dense {
	var m mat.Dense
	m.SetRawMatrix(a.General())
	return &m
}

// FromMat wraps m's storage without copying.
func FromMat(m *mat.Dense) Dense { return FromGeneral(m.RawMatrix()) }

// checkView panics unless a rows x cols view with this stride over n
// values is well formed: sizes not negative, rows that do not overlap
// (stride >= cols) and values up to the last entry of the last row. The
// products and eigensolvers trust all three: a short Data would otherwise
// fail inside a worker goroutine, where the caller cannot recover it, and
// overlapping rows would be computed on silently.
func checkView(op, name string, rows, cols, stride, n int) {
	if rows < 0 || cols < 0 || rows > 1 && stride < cols || rows > 0 && cols > 0 && n < (rows-1)*stride+cols {
		panic(fmt.Sprintf("linalg: %s: %s is %dx%d with stride %d over %d values (want stride >= cols and at least (rows-1)*stride+cols values)", op, name, rows, cols, stride, n))
	}
}

func (d Dense) check(op, name string) { checkView(op, name, d.Rows, d.Cols, d.Stride, len(d.Data)) }
