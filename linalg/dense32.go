package linalg

import (
	"fmt"

	"github.com/awd-toolkit/awd/kernels"
)

// Dense32 is Dense in float32, for training.
type Dense32 struct {
	Rows, Cols, Stride int
	Data               []float32
}

// NewDense32 returns a zeroed r x c matrix with Stride c.
func NewDense32(r, c int) Dense32 {
	if r < 0 || c < 0 {
		panic(fmt.Sprintf("linalg: NewDense32: negative shape %dx%d", r, c))
	}
	return Dense32{Rows: r, Cols: c, Stride: max(c, 1), Data: make([]float32, r*c)}
}

// Dense32Of wraps data (length >= r*c) as an r x c matrix with Stride c.
func Dense32Of(r, c int, data []float32) Dense32 {
	if len(data) < r*c {
		panic(fmt.Sprintf("linalg: Dense32Of: %d values for %dx%d", len(data), r, c))
	}
	return Dense32{Rows: r, Cols: c, Stride: max(c, 1), Data: data[:r*c]}
}

// Row returns row i as a slice of length Cols, sharing storage.
func (a Dense32) Row(i int) []float32 {
	if a.Cols == 0 {
		return nil // an empty view may have no storage
	}
	return a.Data[i*a.Stride : i*a.Stride+a.Cols]
}

// View returns the r x c sub-matrix with top-left corner (i, j), sharing storage.
func (a Dense32) View(i, j, r, c int) Dense32 {
	if i < 0 || j < 0 || r < 0 || c < 0 || i+r > a.Rows || j+c > a.Cols {
		panic(fmt.Sprintf("linalg: View(%d, %d, %d, %d) out of %dx%d", i, j, r, c, a.Rows, a.Cols))
	}
	if r == 0 || c == 0 {
		return Dense32{Rows: r, Cols: c, Stride: a.Stride}
	}
	return Dense32{Rows: r, Cols: c, Stride: a.Stride, Data: a.Data[i*a.Stride+j : (i+r-1)*a.Stride+j+c]}
}

// Gemm32 is Gemm in float32: C = alpha op(A) op(B) + beta C, with op(A)
// m x k, op(B) k x n, C m x n, on kernels.SgemmMicro. Cost 2*m*n*k flops.
func Gemm32(tA, tB bool, alpha float32, a, b Dense32, beta float32, c Dense32) {
	a.check("Gemm32", "A")
	b.check("Gemm32", "B")
	c.check("Gemm32", "C")
	m, k := a.Rows, a.Cols
	if tA {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if tB {
		kb, n = n, kb
	}
	if k != kb || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("linalg: Gemm32: shape mismatch: op(A) %dx%d, op(B) %dx%d, C %dx%d", m, k, kb, n, c.Rows, c.Cols))
	}
	mr, nr := kernels.SgemmShape()
	g := gemmJob[float32]{
		a: operand[float32]{a.Data, a.Stride, tA}, b: operand[float32]{b.Data, b.Stride, tB},
		c: c.Data, ldc: c.Stride, m: m, n: n, k: k, alpha: alpha, beta: beta,
		mr: mr, nr: nr, micro: kernels.SgemmMicro, store: kernels.SgemmMicroStore,
	}
	g.do()
}

func (d Dense32) check(op, name string) { checkView(op, name, d.Rows, d.Cols, d.Stride, len(d.Data)) }
