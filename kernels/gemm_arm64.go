//go:build !purego

package kernels

// dgemm6x8NEON adds the product of a packed 6 x kc panel a and a packed kc x 8
// panel b into the row-major 6 x 8 tile c with stride ldc (NEON):
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < 6; i++ {
//			for j := 0; j < 8; j++ {
//				c[i*ldc+j] += a[p*6+i] * b[p*8+j]
//			}
//		}
//	}
//
// It does not touch c when kc <= 0.
//
//go:noescape
func dgemm6x8NEON(kc int, a, b, c []float64, ldc int)

// sgemm6x16NEON is dgemm6x8NEON in float32 (NEON):
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < 6; i++ {
//			for j := 0; j < 16; j++ {
//				c[i*ldc+j] += a[p*6+i] * b[p*16+j]
//			}
//		}
//	}
//
// It does not touch c when kc <= 0.
//
//go:noescape
func sgemm6x16NEON(kc int, a, b, c []float32, ldc int)

// peakFMANEON runs iters trips of 96 independent float64x2 VFMLAs (384 flops).
func peakFMANEON(iters int)

const peakFMANEONFlops = 2 * 2 * 24 * 4

// setGemmLevel installs the hand-written NEON micro-kernels (gemm_arm64.s).
func setGemmLevel(l Level) {
	if l == NEON {
		dgemm = dgemmKernel{6, 8, dgemm6x8NEON}
		sgemm = sgemmKernel{6, 16, sgemm6x16NEON}
		peak = peakKernel{peakFMANEONFlops, peakFMANEON}
	}
}
