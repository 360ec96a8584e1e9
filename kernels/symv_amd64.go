//go:build !purego

package kernels

// setSymvLevel installs the generated Dsymv4 body (zsymv_amd64.s).
func setSymvLevel(l Level) {
	switch l {
	case AVX512:
		symv = symvKernel{AVX512}
	case AVX2:
		symv = symvKernel{AVX2}
	}
}

func symvBody(impl Level, a []float64, lda int, x, y []float64, alpha, dot *[4]float64, next []float64, nlda int) {
	switch impl {
	case AVX512:
		dsymv4AVX512(a, lda, x, y, alpha, dot, next, nlda)
	case AVX2:
		dsymv4AVX2(a, lda, x, y, alpha, dot, next, nlda)
	default:
		dsymv4Generic(a, lda, x, y, alpha, dot)
	}
}

func ger1Body(impl Level, a []float64, lda int, x []float64, cx *[4]float64) {
	switch impl {
	case AVX512:
		dger4x1AVX512(a, lda, x, cx)
	case AVX2:
		dger4x1AVX2(a, lda, x, cx)
	default:
		dger4Generic(a, lda, x, nil, cx, nil)
	}
}

func ger2Body(impl Level, a []float64, lda int, x, y []float64, cx, cy *[4]float64) {
	switch impl {
	case AVX512:
		dger4x2AVX512(a, lda, x, y, cx, cy)
	case AVX2:
		dger4x2AVX2(a, lda, x, y, cx, cy)
	default:
		dger4Generic(a, lda, x, y, cx, cy)
	}
}
