//go:build purego || !amd64

package kernels

// No Dsymv4 or Dger4 assembly: the generic loops.

func dsymv4(_ Level, a []float64, lda int, x, y []float64, alpha, dot *[4]float64, _ []float64, _ int) {
	dsymv4Generic(a, lda, x, y, alpha, dot)
}

func dger4(_ Level, a []float64, lda int, x, y []float64, cx, cy *[4]float64) {
	dger4Generic(a, lda, x, y, cx, cy)
}
