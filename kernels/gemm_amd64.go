//go:build !purego

package kernels

// The avo-generated micro-kernels (zgemm_amd64.s), called by level.

func dgemmShape(l Level) (mr, nr int) {
	switch l {
	case AVX512:
		return 14, 16
	case AVX2:
		return 6, 8
	}
	return 4, 4
}

func sgemmShape(l Level) (mr, nr int) {
	switch l {
	case AVX512:
		return 14, 32
	case AVX2:
		return 6, 16
	}
	return 4, 4
}

func dgemmMicro(l Level, kc int, a, b, c []float64, ldc int) {
	switch l {
	case AVX512:
		dgemm14x16AVX512(kc, a, b, c, ldc)
	case AVX2:
		dgemm6x8AVX2(kc, a, b, c, ldc)
	default:
		dgemmGeneric4x4(kc, a, b, c, ldc)
	}
}

func dgemmMicroStore(l Level, kc int, a, b, c []float64, ldc int) {
	switch l {
	case AVX512:
		dgemm14x16AVX512Store(kc, a, b, c, ldc)
	case AVX2:
		dgemm6x8AVX2Store(kc, a, b, c, ldc)
	default:
		clearTile(c, ldc, 4, 4)
		dgemmGeneric4x4(kc, a, b, c, ldc)
	}
}

func sgemmMicro(l Level, kc int, a, b, c []float32, ldc int) {
	switch l {
	case AVX512:
		sgemm14x32AVX512(kc, a, b, c, ldc)
	case AVX2:
		sgemm6x16AVX2(kc, a, b, c, ldc)
	default:
		sgemmGeneric4x4(kc, a, b, c, ldc)
	}
}

func sgemmMicroStore(l Level, kc int, a, b, c []float32, ldc int) {
	switch l {
	case AVX512:
		sgemm14x32AVX512Store(kc, a, b, c, ldc)
	case AVX2:
		sgemm6x16AVX2Store(kc, a, b, c, ldc)
	default:
		clearTile(c, ldc, 4, 4)
		sgemmGeneric4x4(kc, a, b, c, ldc)
	}
}

func dsyrkMicroTri(l Level, upper bool, kc int, a, b, c []float64, ldc int, off int) {
	switch {
	case l == AVX512 && upper:
		dsyrk14x16UpperAVX512(kc, a, b, c, ldc, off)
	case l == AVX512:
		dsyrk14x16LowerAVX512(kc, a, b, c, ldc, off)
	case l == AVX2 && upper:
		dsyrk6x8UpperAVX2(kc, a, b, c, ldc, off)
	case l == AVX2:
		dsyrk6x8LowerAVX2(kc, a, b, c, ldc, off)
	default:
		dsyrkTile(l, upper, kc, a, b, c, ldc, off)
	}
}
