//go:build !purego

package kernels

// The generated level-1 kernels (zlevel1_amd64.s), called by level.

func ddot(l Level, x, y []float64) float64 {
	switch l {
	case AVX512:
		return ddotAVX512(x, y)
	case AVX2:
		return ddotAVX2(x, y)
	}
	return ddotGeneric(x, y)
}

func daxpy(l Level, alpha float64, x, y []float64) {
	switch l {
	case AVX512:
		daxpyAVX512(alpha, x, y)
	case AVX2:
		daxpyAVX2(alpha, x, y)
	default:
		daxpyGeneric(alpha, x, y)
	}
}

func dscal(l Level, alpha float64, x []float64) {
	switch l {
	case AVX512:
		dscalAVX512(alpha, x)
	case AVX2:
		dscalAVX2(alpha, x)
	default:
		dscalGeneric(alpha, x)
	}
}

func drot(l Level, x, y []float64, c, s float64) {
	switch l {
	case AVX512:
		drotAVX512(x, y, c, s)
	case AVX2:
		drotAVX2(x, y, c, s)
	default:
		drotGeneric(x, y, c, s)
	}
}
