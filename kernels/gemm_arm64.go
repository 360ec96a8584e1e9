//go:build !purego

package kernels

// The hand-written NEON micro-kernels (gemm_arm64.s), called by level.

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

func dgemmShape(l Level) (mr, nr int) {
	if l == NEON {
		return 6, 8
	}
	return 4, 4
}

func sgemmShape(l Level) (mr, nr int) {
	if l == NEON {
		return 6, 16
	}
	return 4, 4
}

func dgemmMicro(l Level, kc int, a, b, c []float64, ldc int) {
	if l == NEON {
		dgemm6x8NEON(kc, a, b, c, ldc)
		return
	}
	dgemmGeneric4x4(kc, a, b, c, ldc)
}

// dgemmMicroStore clears the tile and accumulates: NEON has no storing kernel.
func dgemmMicroStore(l Level, kc int, a, b, c []float64, ldc int) {
	mr, nr := dgemmShape(l)
	clearTile(c, ldc, mr, nr)
	dgemmMicro(l, kc, a, b, c, ldc)
}

func sgemmMicro(l Level, kc int, a, b, c []float32, ldc int) {
	if l == NEON {
		sgemm6x16NEON(kc, a, b, c, ldc)
		return
	}
	sgemmGeneric4x4(kc, a, b, c, ldc)
}

func sgemmMicroStore(l Level, kc int, a, b, c []float32, ldc int) {
	mr, nr := sgemmShape(l)
	clearTile(c, ldc, mr, nr)
	sgemmMicro(l, kc, a, b, c, ldc)
}

func dsyrkMicroTri(l Level, upper bool, kc int, a, b, c []float64, ldc int, off int) {
	dsyrkTile(l, upper, kc, a, b, c, ldc, off)
}
