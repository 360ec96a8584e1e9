//go:build purego || !amd64

package kernels

func symvBody(_ Level, a []float64, lda int, x, y []float64, alpha, dot *[4]float64, next []float64, nlda int) {
	dsymv4Generic(a, lda, x, y, alpha, dot)
}

func ger1Body(_ Level, a []float64, lda int, x []float64, cx *[4]float64) {
	dger4Generic(a, lda, x, nil, cx, nil)
}

func ger2Body(_ Level, a []float64, lda int, x, y []float64, cx, cy *[4]float64) {
	dger4Generic(a, lda, x, y, cx, cy)
}
