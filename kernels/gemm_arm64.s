//go:build !purego

#include "textflag.h"

// Hand-written NEON GEMM micro-kernels (f64 6x8, f32 6x16) and FMA peak loop. Go 1.26's arm64
// assembler has VFMLA (vector by vector) but no VFADD/VFMUL, so sums are
// taken as VFMLA with a vector of ones (x*1 is exact: one rounding, as an add).

// func dgemm6x8NEON(kc int, a, b, c []float64, ldc int)
//
// Register block 6 x 8: 24 accumulators V0-V23 (row i in V4i..V4i+3, so a row
// stores with one VST1), B row in V24-V27, A entries broadcast into V28-V31
// (rotating, so the loads run ahead of the FMAs): all 32 V registers.
TEXT ·dgemm6x8NEON(SB), NOSPLIT, $0-88
	MOVD	kc+0(FP), R0
	MOVD	a_base+8(FP), R1
	MOVD	b_base+32(FP), R2
	MOVD	c_base+56(FP), R3
	MOVD	ldc+80(FP), R4
	CMP	$0, R0
	BLE	dgemm_ret                // kc <= 0: leave c alone
	LSL	$3, R4                   // ldc in bytes

	VEOR	V0.B16, V0.B16, V0.B16
	VEOR	V1.B16, V1.B16, V1.B16
	VEOR	V2.B16, V2.B16, V2.B16
	VEOR	V3.B16, V3.B16, V3.B16
	VEOR	V4.B16, V4.B16, V4.B16
	VEOR	V5.B16, V5.B16, V5.B16
	VEOR	V6.B16, V6.B16, V6.B16
	VEOR	V7.B16, V7.B16, V7.B16
	VEOR	V8.B16, V8.B16, V8.B16
	VEOR	V9.B16, V9.B16, V9.B16
	VEOR	V10.B16, V10.B16, V10.B16
	VEOR	V11.B16, V11.B16, V11.B16
	VEOR	V12.B16, V12.B16, V12.B16
	VEOR	V13.B16, V13.B16, V13.B16
	VEOR	V14.B16, V14.B16, V14.B16
	VEOR	V15.B16, V15.B16, V15.B16
	VEOR	V16.B16, V16.B16, V16.B16
	VEOR	V17.B16, V17.B16, V17.B16
	VEOR	V18.B16, V18.B16, V18.B16
	VEOR	V19.B16, V19.B16, V19.B16
	VEOR	V20.B16, V20.B16, V20.B16
	VEOR	V21.B16, V21.B16, V21.B16
	VEOR	V22.B16, V22.B16, V22.B16
	VEOR	V23.B16, V23.B16, V23.B16

dgemm_loop:
	VLD1.P	64(R2), [V24.D2, V25.D2, V26.D2, V27.D2] // b[p*8 : p*8+8]
	VLD1R.P	8(R1), [V28.D2]                      // a[p*6+0] in both lanes
	VFMLA	V24.D2, V28.D2, V0.D2       // c[0][0:2] += a[p*6+0] * b[p*8+0:]
	VFMLA	V25.D2, V28.D2, V1.D2       // c[0][2:4] += a[p*6+0] * b[p*8+2:]
	VFMLA	V26.D2, V28.D2, V2.D2       // c[0][4:6] += a[p*6+0] * b[p*8+4:]
	VFMLA	V27.D2, V28.D2, V3.D2       // c[0][6:8] += a[p*6+0] * b[p*8+6:]
	VLD1R.P	8(R1), [V29.D2]                      // a[p*6+1] in both lanes
	VFMLA	V24.D2, V29.D2, V4.D2       // c[1][0:2] += a[p*6+1] * b[p*8+0:]
	VFMLA	V25.D2, V29.D2, V5.D2       // c[1][2:4] += a[p*6+1] * b[p*8+2:]
	VFMLA	V26.D2, V29.D2, V6.D2       // c[1][4:6] += a[p*6+1] * b[p*8+4:]
	VFMLA	V27.D2, V29.D2, V7.D2       // c[1][6:8] += a[p*6+1] * b[p*8+6:]
	VLD1R.P	8(R1), [V30.D2]                      // a[p*6+2] in both lanes
	VFMLA	V24.D2, V30.D2, V8.D2       // c[2][0:2] += a[p*6+2] * b[p*8+0:]
	VFMLA	V25.D2, V30.D2, V9.D2       // c[2][2:4] += a[p*6+2] * b[p*8+2:]
	VFMLA	V26.D2, V30.D2, V10.D2       // c[2][4:6] += a[p*6+2] * b[p*8+4:]
	VFMLA	V27.D2, V30.D2, V11.D2       // c[2][6:8] += a[p*6+2] * b[p*8+6:]
	VLD1R.P	8(R1), [V31.D2]                      // a[p*6+3] in both lanes
	VFMLA	V24.D2, V31.D2, V12.D2       // c[3][0:2] += a[p*6+3] * b[p*8+0:]
	VFMLA	V25.D2, V31.D2, V13.D2       // c[3][2:4] += a[p*6+3] * b[p*8+2:]
	VFMLA	V26.D2, V31.D2, V14.D2       // c[3][4:6] += a[p*6+3] * b[p*8+4:]
	VFMLA	V27.D2, V31.D2, V15.D2       // c[3][6:8] += a[p*6+3] * b[p*8+6:]
	VLD1R.P	8(R1), [V28.D2]                      // a[p*6+4] in both lanes
	VFMLA	V24.D2, V28.D2, V16.D2       // c[4][0:2] += a[p*6+4] * b[p*8+0:]
	VFMLA	V25.D2, V28.D2, V17.D2       // c[4][2:4] += a[p*6+4] * b[p*8+2:]
	VFMLA	V26.D2, V28.D2, V18.D2       // c[4][4:6] += a[p*6+4] * b[p*8+4:]
	VFMLA	V27.D2, V28.D2, V19.D2       // c[4][6:8] += a[p*6+4] * b[p*8+6:]
	VLD1R.P	8(R1), [V29.D2]                      // a[p*6+5] in both lanes
	VFMLA	V24.D2, V29.D2, V20.D2       // c[5][0:2] += a[p*6+5] * b[p*8+0:]
	VFMLA	V25.D2, V29.D2, V21.D2       // c[5][2:4] += a[p*6+5] * b[p*8+2:]
	VFMLA	V26.D2, V29.D2, V22.D2       // c[5][4:6] += a[p*6+5] * b[p*8+4:]
	VFMLA	V27.D2, V29.D2, V23.D2       // c[5][6:8] += a[p*6+5] * b[p*8+6:]
	SUBS	$1, R0
	BNE	dgemm_loop

	// c += accumulators, row by row: V(4i..4i+3) += c row * 1.
	FMOVD	$1.0, F28
	VDUP	V28.D[0], V28.D2
	VLD1	(R3), [V24.D2, V25.D2, V26.D2, V27.D2]
	VFMLA	V24.D2, V28.D2, V0.D2
	VFMLA	V25.D2, V28.D2, V1.D2
	VFMLA	V26.D2, V28.D2, V2.D2
	VFMLA	V27.D2, V28.D2, V3.D2
	VST1	[V0.D2, V1.D2, V2.D2, V3.D2], (R3)
	ADD	R4, R3
	VLD1	(R3), [V24.D2, V25.D2, V26.D2, V27.D2]
	VFMLA	V24.D2, V28.D2, V4.D2
	VFMLA	V25.D2, V28.D2, V5.D2
	VFMLA	V26.D2, V28.D2, V6.D2
	VFMLA	V27.D2, V28.D2, V7.D2
	VST1	[V4.D2, V5.D2, V6.D2, V7.D2], (R3)
	ADD	R4, R3
	VLD1	(R3), [V24.D2, V25.D2, V26.D2, V27.D2]
	VFMLA	V24.D2, V28.D2, V8.D2
	VFMLA	V25.D2, V28.D2, V9.D2
	VFMLA	V26.D2, V28.D2, V10.D2
	VFMLA	V27.D2, V28.D2, V11.D2
	VST1	[V8.D2, V9.D2, V10.D2, V11.D2], (R3)
	ADD	R4, R3
	VLD1	(R3), [V24.D2, V25.D2, V26.D2, V27.D2]
	VFMLA	V24.D2, V28.D2, V12.D2
	VFMLA	V25.D2, V28.D2, V13.D2
	VFMLA	V26.D2, V28.D2, V14.D2
	VFMLA	V27.D2, V28.D2, V15.D2
	VST1	[V12.D2, V13.D2, V14.D2, V15.D2], (R3)
	ADD	R4, R3
	VLD1	(R3), [V24.D2, V25.D2, V26.D2, V27.D2]
	VFMLA	V24.D2, V28.D2, V16.D2
	VFMLA	V25.D2, V28.D2, V17.D2
	VFMLA	V26.D2, V28.D2, V18.D2
	VFMLA	V27.D2, V28.D2, V19.D2
	VST1	[V16.D2, V17.D2, V18.D2, V19.D2], (R3)
	ADD	R4, R3
	VLD1	(R3), [V24.D2, V25.D2, V26.D2, V27.D2]
	VFMLA	V24.D2, V28.D2, V20.D2
	VFMLA	V25.D2, V28.D2, V21.D2
	VFMLA	V26.D2, V28.D2, V22.D2
	VFMLA	V27.D2, V28.D2, V23.D2
	VST1	[V20.D2, V21.D2, V22.D2, V23.D2], (R3)

dgemm_ret:
	RET

// func peakFMANEON(iters int)
//
// 24 independent VFMLA chains (V2-V25) times 4 per trip: 2*2*24*4 = 384 flops.
TEXT ·peakFMANEON(SB), NOSPLIT, $0-8
	MOVD	iters+0(FP), R0
	FMOVD	$1.0, F0
	VDUP	V0.D[0], V0.D2
	VMOV	V0.B16, V1.B16
	VEOR	V2.B16, V2.B16, V2.B16
	VEOR	V3.B16, V3.B16, V3.B16
	VEOR	V4.B16, V4.B16, V4.B16
	VEOR	V5.B16, V5.B16, V5.B16
	VEOR	V6.B16, V6.B16, V6.B16
	VEOR	V7.B16, V7.B16, V7.B16
	VEOR	V8.B16, V8.B16, V8.B16
	VEOR	V9.B16, V9.B16, V9.B16
	VEOR	V10.B16, V10.B16, V10.B16
	VEOR	V11.B16, V11.B16, V11.B16
	VEOR	V12.B16, V12.B16, V12.B16
	VEOR	V13.B16, V13.B16, V13.B16
	VEOR	V14.B16, V14.B16, V14.B16
	VEOR	V15.B16, V15.B16, V15.B16
	VEOR	V16.B16, V16.B16, V16.B16
	VEOR	V17.B16, V17.B16, V17.B16
	VEOR	V18.B16, V18.B16, V18.B16
	VEOR	V19.B16, V19.B16, V19.B16
	VEOR	V20.B16, V20.B16, V20.B16
	VEOR	V21.B16, V21.B16, V21.B16
	VEOR	V22.B16, V22.B16, V22.B16
	VEOR	V23.B16, V23.B16, V23.B16
	VEOR	V24.B16, V24.B16, V24.B16
	VEOR	V25.B16, V25.B16, V25.B16
	CMP	$0, R0
	BLE	peak_done
peak_loop:
	VFMLA	V0.D2, V1.D2, V2.D2
	VFMLA	V0.D2, V1.D2, V3.D2
	VFMLA	V0.D2, V1.D2, V4.D2
	VFMLA	V0.D2, V1.D2, V5.D2
	VFMLA	V0.D2, V1.D2, V6.D2
	VFMLA	V0.D2, V1.D2, V7.D2
	VFMLA	V0.D2, V1.D2, V8.D2
	VFMLA	V0.D2, V1.D2, V9.D2
	VFMLA	V0.D2, V1.D2, V10.D2
	VFMLA	V0.D2, V1.D2, V11.D2
	VFMLA	V0.D2, V1.D2, V12.D2
	VFMLA	V0.D2, V1.D2, V13.D2
	VFMLA	V0.D2, V1.D2, V14.D2
	VFMLA	V0.D2, V1.D2, V15.D2
	VFMLA	V0.D2, V1.D2, V16.D2
	VFMLA	V0.D2, V1.D2, V17.D2
	VFMLA	V0.D2, V1.D2, V18.D2
	VFMLA	V0.D2, V1.D2, V19.D2
	VFMLA	V0.D2, V1.D2, V20.D2
	VFMLA	V0.D2, V1.D2, V21.D2
	VFMLA	V0.D2, V1.D2, V22.D2
	VFMLA	V0.D2, V1.D2, V23.D2
	VFMLA	V0.D2, V1.D2, V24.D2
	VFMLA	V0.D2, V1.D2, V25.D2
	VFMLA	V0.D2, V1.D2, V2.D2
	VFMLA	V0.D2, V1.D2, V3.D2
	VFMLA	V0.D2, V1.D2, V4.D2
	VFMLA	V0.D2, V1.D2, V5.D2
	VFMLA	V0.D2, V1.D2, V6.D2
	VFMLA	V0.D2, V1.D2, V7.D2
	VFMLA	V0.D2, V1.D2, V8.D2
	VFMLA	V0.D2, V1.D2, V9.D2
	VFMLA	V0.D2, V1.D2, V10.D2
	VFMLA	V0.D2, V1.D2, V11.D2
	VFMLA	V0.D2, V1.D2, V12.D2
	VFMLA	V0.D2, V1.D2, V13.D2
	VFMLA	V0.D2, V1.D2, V14.D2
	VFMLA	V0.D2, V1.D2, V15.D2
	VFMLA	V0.D2, V1.D2, V16.D2
	VFMLA	V0.D2, V1.D2, V17.D2
	VFMLA	V0.D2, V1.D2, V18.D2
	VFMLA	V0.D2, V1.D2, V19.D2
	VFMLA	V0.D2, V1.D2, V20.D2
	VFMLA	V0.D2, V1.D2, V21.D2
	VFMLA	V0.D2, V1.D2, V22.D2
	VFMLA	V0.D2, V1.D2, V23.D2
	VFMLA	V0.D2, V1.D2, V24.D2
	VFMLA	V0.D2, V1.D2, V25.D2
	VFMLA	V0.D2, V1.D2, V2.D2
	VFMLA	V0.D2, V1.D2, V3.D2
	VFMLA	V0.D2, V1.D2, V4.D2
	VFMLA	V0.D2, V1.D2, V5.D2
	VFMLA	V0.D2, V1.D2, V6.D2
	VFMLA	V0.D2, V1.D2, V7.D2
	VFMLA	V0.D2, V1.D2, V8.D2
	VFMLA	V0.D2, V1.D2, V9.D2
	VFMLA	V0.D2, V1.D2, V10.D2
	VFMLA	V0.D2, V1.D2, V11.D2
	VFMLA	V0.D2, V1.D2, V12.D2
	VFMLA	V0.D2, V1.D2, V13.D2
	VFMLA	V0.D2, V1.D2, V14.D2
	VFMLA	V0.D2, V1.D2, V15.D2
	VFMLA	V0.D2, V1.D2, V16.D2
	VFMLA	V0.D2, V1.D2, V17.D2
	VFMLA	V0.D2, V1.D2, V18.D2
	VFMLA	V0.D2, V1.D2, V19.D2
	VFMLA	V0.D2, V1.D2, V20.D2
	VFMLA	V0.D2, V1.D2, V21.D2
	VFMLA	V0.D2, V1.D2, V22.D2
	VFMLA	V0.D2, V1.D2, V23.D2
	VFMLA	V0.D2, V1.D2, V24.D2
	VFMLA	V0.D2, V1.D2, V25.D2
	VFMLA	V0.D2, V1.D2, V2.D2
	VFMLA	V0.D2, V1.D2, V3.D2
	VFMLA	V0.D2, V1.D2, V4.D2
	VFMLA	V0.D2, V1.D2, V5.D2
	VFMLA	V0.D2, V1.D2, V6.D2
	VFMLA	V0.D2, V1.D2, V7.D2
	VFMLA	V0.D2, V1.D2, V8.D2
	VFMLA	V0.D2, V1.D2, V9.D2
	VFMLA	V0.D2, V1.D2, V10.D2
	VFMLA	V0.D2, V1.D2, V11.D2
	VFMLA	V0.D2, V1.D2, V12.D2
	VFMLA	V0.D2, V1.D2, V13.D2
	VFMLA	V0.D2, V1.D2, V14.D2
	VFMLA	V0.D2, V1.D2, V15.D2
	VFMLA	V0.D2, V1.D2, V16.D2
	VFMLA	V0.D2, V1.D2, V17.D2
	VFMLA	V0.D2, V1.D2, V18.D2
	VFMLA	V0.D2, V1.D2, V19.D2
	VFMLA	V0.D2, V1.D2, V20.D2
	VFMLA	V0.D2, V1.D2, V21.D2
	VFMLA	V0.D2, V1.D2, V22.D2
	VFMLA	V0.D2, V1.D2, V23.D2
	VFMLA	V0.D2, V1.D2, V24.D2
	VFMLA	V0.D2, V1.D2, V25.D2
	SUBS	$1, R0
	BNE	peak_loop
peak_done:
	RET

// func sgemm6x16NEON(kc int, a, b, c []float32, ldc int)
//
// dgemm6x8NEON in float32: four lanes per register, so the same 24
// accumulators hold a 6 x 16 tile.
TEXT ·sgemm6x16NEON(SB), NOSPLIT, $0-88
	MOVD	kc+0(FP), R0
	MOVD	a_base+8(FP), R1
	MOVD	b_base+32(FP), R2
	MOVD	c_base+56(FP), R3
	MOVD	ldc+80(FP), R4
	CMP	$0, R0
	BLE	sgemm_ret                // kc <= 0: leave c alone
	LSL	$2, R4                   // ldc in bytes

	VEOR	V0.B16, V0.B16, V0.B16
	VEOR	V1.B16, V1.B16, V1.B16
	VEOR	V2.B16, V2.B16, V2.B16
	VEOR	V3.B16, V3.B16, V3.B16
	VEOR	V4.B16, V4.B16, V4.B16
	VEOR	V5.B16, V5.B16, V5.B16
	VEOR	V6.B16, V6.B16, V6.B16
	VEOR	V7.B16, V7.B16, V7.B16
	VEOR	V8.B16, V8.B16, V8.B16
	VEOR	V9.B16, V9.B16, V9.B16
	VEOR	V10.B16, V10.B16, V10.B16
	VEOR	V11.B16, V11.B16, V11.B16
	VEOR	V12.B16, V12.B16, V12.B16
	VEOR	V13.B16, V13.B16, V13.B16
	VEOR	V14.B16, V14.B16, V14.B16
	VEOR	V15.B16, V15.B16, V15.B16
	VEOR	V16.B16, V16.B16, V16.B16
	VEOR	V17.B16, V17.B16, V17.B16
	VEOR	V18.B16, V18.B16, V18.B16
	VEOR	V19.B16, V19.B16, V19.B16
	VEOR	V20.B16, V20.B16, V20.B16
	VEOR	V21.B16, V21.B16, V21.B16
	VEOR	V22.B16, V22.B16, V22.B16
	VEOR	V23.B16, V23.B16, V23.B16

sgemm_loop:
	VLD1.P	64(R2), [V24.S4, V25.S4, V26.S4, V27.S4] // b[p*16 : p*16+16]
	VLD1R.P	4(R1), [V28.S4]                      // a[p*6+0] in all lanes
	VFMLA	V24.S4, V28.S4, V0.S4       // c[0][0:4] += a[p*6+0] * b[p*16+0:]
	VFMLA	V25.S4, V28.S4, V1.S4       // c[0][4:8] += a[p*6+0] * b[p*16+4:]
	VFMLA	V26.S4, V28.S4, V2.S4       // c[0][8:12] += a[p*6+0] * b[p*16+8:]
	VFMLA	V27.S4, V28.S4, V3.S4       // c[0][12:16] += a[p*6+0] * b[p*16+12:]
	VLD1R.P	4(R1), [V29.S4]                      // a[p*6+1] in all lanes
	VFMLA	V24.S4, V29.S4, V4.S4       // c[1][0:4] += a[p*6+1] * b[p*16+0:]
	VFMLA	V25.S4, V29.S4, V5.S4       // c[1][4:8] += a[p*6+1] * b[p*16+4:]
	VFMLA	V26.S4, V29.S4, V6.S4       // c[1][8:12] += a[p*6+1] * b[p*16+8:]
	VFMLA	V27.S4, V29.S4, V7.S4       // c[1][12:16] += a[p*6+1] * b[p*16+12:]
	VLD1R.P	4(R1), [V30.S4]                      // a[p*6+2] in all lanes
	VFMLA	V24.S4, V30.S4, V8.S4       // c[2][0:4] += a[p*6+2] * b[p*16+0:]
	VFMLA	V25.S4, V30.S4, V9.S4       // c[2][4:8] += a[p*6+2] * b[p*16+4:]
	VFMLA	V26.S4, V30.S4, V10.S4       // c[2][8:12] += a[p*6+2] * b[p*16+8:]
	VFMLA	V27.S4, V30.S4, V11.S4       // c[2][12:16] += a[p*6+2] * b[p*16+12:]
	VLD1R.P	4(R1), [V31.S4]                      // a[p*6+3] in all lanes
	VFMLA	V24.S4, V31.S4, V12.S4       // c[3][0:4] += a[p*6+3] * b[p*16+0:]
	VFMLA	V25.S4, V31.S4, V13.S4       // c[3][4:8] += a[p*6+3] * b[p*16+4:]
	VFMLA	V26.S4, V31.S4, V14.S4       // c[3][8:12] += a[p*6+3] * b[p*16+8:]
	VFMLA	V27.S4, V31.S4, V15.S4       // c[3][12:16] += a[p*6+3] * b[p*16+12:]
	VLD1R.P	4(R1), [V28.S4]                      // a[p*6+4] in all lanes
	VFMLA	V24.S4, V28.S4, V16.S4       // c[4][0:4] += a[p*6+4] * b[p*16+0:]
	VFMLA	V25.S4, V28.S4, V17.S4       // c[4][4:8] += a[p*6+4] * b[p*16+4:]
	VFMLA	V26.S4, V28.S4, V18.S4       // c[4][8:12] += a[p*6+4] * b[p*16+8:]
	VFMLA	V27.S4, V28.S4, V19.S4       // c[4][12:16] += a[p*6+4] * b[p*16+12:]
	VLD1R.P	4(R1), [V29.S4]                      // a[p*6+5] in all lanes
	VFMLA	V24.S4, V29.S4, V20.S4       // c[5][0:4] += a[p*6+5] * b[p*16+0:]
	VFMLA	V25.S4, V29.S4, V21.S4       // c[5][4:8] += a[p*6+5] * b[p*16+4:]
	VFMLA	V26.S4, V29.S4, V22.S4       // c[5][8:12] += a[p*6+5] * b[p*16+8:]
	VFMLA	V27.S4, V29.S4, V23.S4       // c[5][12:16] += a[p*6+5] * b[p*16+12:]
	SUBS	$1, R0
	BNE	sgemm_loop

	// c += accumulators, row by row: V(4i..4i+3) += c row * 1.
	FMOVS	$1.0, F28
	VDUP	V28.S[0], V28.S4
	VLD1	(R3), [V24.S4, V25.S4, V26.S4, V27.S4]
	VFMLA	V24.S4, V28.S4, V0.S4
	VFMLA	V25.S4, V28.S4, V1.S4
	VFMLA	V26.S4, V28.S4, V2.S4
	VFMLA	V27.S4, V28.S4, V3.S4
	VST1	[V0.S4, V1.S4, V2.S4, V3.S4], (R3)
	ADD	R4, R3
	VLD1	(R3), [V24.S4, V25.S4, V26.S4, V27.S4]
	VFMLA	V24.S4, V28.S4, V4.S4
	VFMLA	V25.S4, V28.S4, V5.S4
	VFMLA	V26.S4, V28.S4, V6.S4
	VFMLA	V27.S4, V28.S4, V7.S4
	VST1	[V4.S4, V5.S4, V6.S4, V7.S4], (R3)
	ADD	R4, R3
	VLD1	(R3), [V24.S4, V25.S4, V26.S4, V27.S4]
	VFMLA	V24.S4, V28.S4, V8.S4
	VFMLA	V25.S4, V28.S4, V9.S4
	VFMLA	V26.S4, V28.S4, V10.S4
	VFMLA	V27.S4, V28.S4, V11.S4
	VST1	[V8.S4, V9.S4, V10.S4, V11.S4], (R3)
	ADD	R4, R3
	VLD1	(R3), [V24.S4, V25.S4, V26.S4, V27.S4]
	VFMLA	V24.S4, V28.S4, V12.S4
	VFMLA	V25.S4, V28.S4, V13.S4
	VFMLA	V26.S4, V28.S4, V14.S4
	VFMLA	V27.S4, V28.S4, V15.S4
	VST1	[V12.S4, V13.S4, V14.S4, V15.S4], (R3)
	ADD	R4, R3
	VLD1	(R3), [V24.S4, V25.S4, V26.S4, V27.S4]
	VFMLA	V24.S4, V28.S4, V16.S4
	VFMLA	V25.S4, V28.S4, V17.S4
	VFMLA	V26.S4, V28.S4, V18.S4
	VFMLA	V27.S4, V28.S4, V19.S4
	VST1	[V16.S4, V17.S4, V18.S4, V19.S4], (R3)
	ADD	R4, R3
	VLD1	(R3), [V24.S4, V25.S4, V26.S4, V27.S4]
	VFMLA	V24.S4, V28.S4, V20.S4
	VFMLA	V25.S4, V28.S4, V21.S4
	VFMLA	V26.S4, V28.S4, V22.S4
	VFMLA	V27.S4, V28.S4, V23.S4
	VST1	[V20.S4, V21.S4, V22.S4, V23.S4], (R3)

sgemm_ret:
	RET
