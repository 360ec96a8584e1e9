//go:build !purego

package kernels

// The avo-generated convolution kernels (zconv_amd64.s), called by level.

func sconvShape(l Level) (segs, nr int) {
	switch l {
	case AVX512:
		return 2, 32
	case AVX2:
		return 1, 16
	}
	return 1, 8
}

func sconvGradShape(l Level) (mr, nr int) {
	switch l {
	case AVX512:
		return 14, 32
	case AVX2:
		return 6, 16
	}
	return 4, 8
}

func hasSconv(l Level) bool { return l == AVX512 || l == AVX2 }

func sconvTile(l Level, a []float32, a0, a1, as int, taps []int, kc int, b, c []float32, c0, c1, cs int,
	epi ConvEpilogue, bias, mask []float32) {
	switch l {
	case AVX512:
		sconv2x7x32AVX512(a, a0, a1, as, taps, kc, b, c, c0, c1, cs, int(epi), bias, mask)
	case AVX2:
		sconv1x7x16AVX2(a, a0, a1, as, taps, kc, b, c, c0, c1, cs, int(epi), bias, mask)
	default:
		sconvTileGeneric(1, 8, a, a0, a1, as, taps, kc, b, c, c0, c1, cs, epi, bias, mask)
	}
}

func sconvGrad(l Level, a []float32, aoff, as int, b []float32, boff, bs int, runs []int, kc int, c []float32, ldc int, add bool) {
	switch l {
	case AVX512:
		sconvGrad14x32AVX512(a, aoff, as, b, boff, bs, runs, kc, c, ldc, add)
	case AVX2:
		sconvGrad6x16AVX2(a, aoff, as, b, boff, bs, runs, kc, c, ldc, add)
	default:
		sconvGradGeneric(4, 8, a, aoff, as, b, boff, bs, runs, kc, c, ldc, add)
	}
}

func smaxPool(l Level, in []float32, r0, r1 int, out []float32, o0 int, which []int32, w0 int, n, c int) {
	switch l {
	case AVX512:
		smaxPoolAVX512(in, r0, r1, out, o0, which, w0, n, c)
	case AVX2:
		smaxPoolAVX2(in, r0, r1, out, o0, which, w0, n, c)
	default:
		smaxPoolGeneric(in, r0, r1, out, o0, which, w0, n, c)
	}
}

func smaxPoolBack(l Level, g []float32, o0 int, pooled []float32, which []int32, w0 int, dst []float32, r0, r1 int, n, c int) {
	switch l {
	case AVX512:
		smaxPoolBackAVX512(g, o0, pooled, which, w0, dst, r0, r1, n, c)
	case AVX2:
		smaxPoolBackAVX2(g, o0, pooled, which, w0, dst, r0, r1, n, c)
	default:
		smaxPoolBackGeneric(g, o0, pooled, which, w0, dst, r0, r1, n, c)
	}
}
