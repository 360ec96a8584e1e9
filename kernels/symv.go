package kernels

import "fmt"

// dsymv4 and dger4 (symv_amd64.go, symv_other.go) run the current level's
// kernel on the columns in multiples of four and the generic loop on the
// rest. They are switches with direct calls, as every dispatch in this
// package: a call through a func value would move the small arrays passed
// by pointer (alpha, dot, cx, cy) to the heap.

// Dsymv4 is the inner step of a symmetric matrix-vector product that reads
// each stored element once. For the four rows a[k*lda : k*lda+n] (k < 4),
// n = len(x), it computes in one pass over the columns
//
//	y[c]   += alpha[0] a[c] + alpha[1] a[lda+c] + alpha[2] a[2 lda+c] + alpha[3] a[3 lda+c]
//	dot[k] += sum_c a[k lda + c] x[c]
//
// With alpha[k] = x[r+k] and the rows r..r+3 of an upper triangle starting at
// a column past r+3, the first line is the rows' contribution below the
// diagonal and dot[k] the one on their own row. next, when it holds four
// rows at stride nlda, is a hint: the rows of the caller's next call, whose
// first cache lines are prefetched (nil for none). Cost 16 n flops.
func Dsymv4(a []float64, lda int, x, y []float64, alpha, dot *[4]float64, next []float64, nlda int) {
	n := len(x)
	if n == 0 {
		return
	}
	if nlda < 0 || len(next) < 3*nlda+1 {
		next, nlda = a, 0 // prefetch nothing new
	}
	if len(y) < n || lda < 0 || len(a) < 3*lda+n {
		panic(fmt.Sprintf("kernels: Dsymv4: len(x)=%d, len(y)=%d, len(a)=%d, lda=%d", n, len(y), len(a), lda))
	}
	dsymv4(current, a, lda, x, y[:n], alpha, dot, next, nlda)
}

func dsymv4Generic(a []float64, lda int, x, y []float64, alpha, dot *[4]float64) {
	n := len(x)
	a0, a1, a2, a3 := a[:n], a[lda:lda+n], a[2*lda:2*lda+n], a[3*lda:3*lda+n]
	y = y[:n]
	al0, al1, al2, al3 := alpha[0], alpha[1], alpha[2], alpha[3]
	var d0, d1, d2, d3 float64
	for c, xc := range x {
		v0, v1, v2, v3 := a0[c], a1[c], a2[c], a3[c]
		d0 += v0 * xc
		d1 += v1 * xc
		d2 += v2 * xc
		d3 += v3 * xc
		y[c] += al0*v0 + al1*v1 + al2*v2 + al3*v3
	}
	dot[0] += d0
	dot[1] += d1
	dot[2] += d2
	dot[3] += d3
}

// Dger4 updates the four rows a[k*lda : k*lda+n] (k < 4), n = len(x), by
//
//	a[k lda + c] += cx[k] x[c] + cy[k] y[c]
//
// in one pass over the columns: a rank-2 update of four rows, or rank-1
// when y is nil (cy is then not read). It is Dsymv4's counterpart for the
// small blocks of the band reduction's bulge chasing, where a Daxpy per row
// and vector costs more in calls than in arithmetic. Cost 8 n flops per
// vector.
func Dger4(a []float64, lda int, x, y []float64, cx, cy *[4]float64) {
	n := len(x)
	if n == 0 {
		return
	}
	if (y != nil && len(y) < n) || lda < 0 || len(a) < 3*lda+n {
		panic(fmt.Sprintf("kernels: Dger4: len(x)=%d, len(y)=%d, len(a)=%d, lda=%d", n, len(y), len(a), lda))
	}
	if y != nil {
		y = y[:n]
	}
	dger4(current, a, lda, x, y, cx, cy)
}

// dger4Generic is Dger4 in pure Go (y nil: rank 1).
func dger4Generic(a []float64, lda int, x, y []float64, cx, cy *[4]float64) {
	n := len(x)
	for k := range 4 {
		row := a[k*lda : k*lda+n]
		ck := cx[k]
		if y == nil {
			for c, xc := range x {
				row[c] += ck * xc
			}
			continue
		}
		dk := cy[k]
		for c, xc := range x {
			row[c] += ck*xc + dk*y[c]
		}
	}
}
