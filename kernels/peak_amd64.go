//go:build !purego

package kernels

// Flops per trip of the generated peak loops (asm/gemm/peak.go:
// 2 flops x lanes x chains x unroll).
const (
	peakFMA512Flops = 2 * 8 * 24 * 4
	peakFMA256Flops = 2 * 4 * 12 * 4
)

func peakLoop(l Level, iters int) (flopsPerTrip int) {
	switch l {
	case AVX512:
		peakFMA512(iters)
		return peakFMA512Flops
	case AVX2:
		peakFMA256(iters)
		return peakFMA256Flops
	}
	peakGeneric(iters)
	return peakGenericFlops
}
