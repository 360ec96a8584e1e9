//go:build !purego

package kernels

// Flops per trip of the generated peak loops (asm/gemm/peak.go:
// 2 flops x lanes x chains x unroll).
const (
	peakFMA512Flops = 2 * 8 * 24 * 4
	peakFMA256Flops = 2 * 4 * 12 * 4
)

func setPeakLevel(l Level) {
	switch l {
	case AVX512:
		peak = peakKernel{peakFMA512Flops, peakFMA512}
	case AVX2:
		peak = peakKernel{peakFMA256Flops, peakFMA256}
	}
}
