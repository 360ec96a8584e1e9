//go:build !purego

package kernels

// The generated Dsymv4 and Dger4 bodies (zsymv_amd64.s), called by level on
// the columns in multiples of four.

func dsymv4(l Level, a []float64, lda int, x, y []float64, alpha, dot *[4]float64, next []float64, nlda int) {
	n := len(x)
	m := n &^ 3
	if m > 0 {
		switch l {
		case AVX512:
			dsymv4AVX512(a, lda, x[:m], y[:m], alpha, dot, next, nlda)
		case AVX2:
			dsymv4AVX2(a, lda, x[:m], y[:m], alpha, dot, next, nlda)
		default:
			m = 0
		}
	}
	if m < n {
		dsymv4Generic(a[m:], lda, x[m:], y[m:n], alpha, dot)
	}
}

func dger4(l Level, a []float64, lda int, x, y []float64, cx, cy *[4]float64) {
	n := len(x)
	m := n &^ 3
	if m > 0 {
		switch {
		case l == AVX512 && y == nil:
			dger4x1AVX512(a, lda, x[:m], cx)
		case l == AVX512:
			dger4x2AVX512(a, lda, x[:m], y[:m], cx, cy)
		case l == AVX2 && y == nil:
			dger4x1AVX2(a, lda, x[:m], cx)
		case l == AVX2:
			dger4x2AVX2(a, lda, x[:m], y[:m], cx, cy)
		default:
			m = 0
		}
	}
	if m < n {
		if y != nil {
			y = y[m:n]
		}
		dger4Generic(a[m:], lda, x[m:], y, cx, cy)
	}
}
