//go:build purego || !amd64

package kernels

// No level has convolution kernels in assembly here: the Go loops.

func sconvShape(Level) (segs, nr int) { return 1, 8 }

func sconvGradShape(Level) (mr, nr int) { return 4, 8 }

func hasSconv(Level) bool { return false }

func sconvTile(_ Level, a []float32, a0, a1, as int, taps []int, kc int, b, c []float32, c0, c1, cs int,
	epi ConvEpilogue, bias, mask []float32) {
	sconvTileGeneric(1, 8, a, a0, a1, as, taps, kc, b, c, c0, c1, cs, epi, bias, mask)
}

func sconvGrad(_ Level, a []float32, aoff, as int, b []float32, boff, bs int, runs []int, kc int, c []float32, ldc int, add bool) {
	sconvGradGeneric(4, 8, a, aoff, as, b, boff, bs, runs, kc, c, ldc, add)
}

func smaxPool(_ Level, in []float32, r0, r1 int, out []float32, o0 int, which []int32, w0 int, n, c int) {
	smaxPoolGeneric(in, r0, r1, out, o0, which, w0, n, c)
}

func smaxPoolBack(_ Level, g []float32, o0 int, pooled []float32, which []int32, w0 int, dst []float32, r0, r1 int, n, c int) {
	smaxPoolBackGeneric(g, o0, pooled, which, w0, dst, r0, r1, n, c)
}
