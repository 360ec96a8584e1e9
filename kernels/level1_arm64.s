//go:build !purego

#include "textflag.h"

// Hand-written NEON level-1 kernels. Go 1.26's arm64 assembler has VFMLA
// (vector by vector) but no VFADD, so partial sums are combined as VFMLA
// with a vector of ones (x*1 is exact: one rounding, as an add).

// func ddotNEON(x, y []float64) float64
TEXT ·ddotNEON(SB), NOSPLIT, $0-56
	MOVD	x_base+0(FP), R0
	MOVD	x_len+8(FP), R2
	MOVD	y_base+24(FP), R1
	VEOR	V0.B16, V0.B16, V0.B16 // four independent accumulators
	VEOR	V1.B16, V1.B16, V1.B16
	VEOR	V2.B16, V2.B16, V2.B16
	VEOR	V3.B16, V3.B16, V3.B16
	LSR	$3, R2, R3             // R3 = trips of 8 elements
	AND	$7, R2                 // R2 = remainder
	CBZ	R3, ddot_reduce

ddot_loop8:
	VLD1.P	64(R0), [V4.D2, V5.D2, V6.D2, V7.D2]     // x[i : i+8]
	VLD1.P	64(R1), [V16.D2, V17.D2, V18.D2, V19.D2] // y[i : i+8]
	VFMLA	V4.D2, V16.D2, V0.D2                     // acc0 += x*y
	VFMLA	V5.D2, V17.D2, V1.D2
	VFMLA	V6.D2, V18.D2, V2.D2
	VFMLA	V7.D2, V19.D2, V3.D2
	SUBS	$1, R3
	BNE	ddot_loop8

ddot_reduce:
	FMOVD	$1.0, F31
	VDUP	V31.D[0], V31.D2     // ones
	VFMLA	V1.D2, V31.D2, V0.D2 // acc0 += acc1
	VFMLA	V3.D2, V31.D2, V2.D2 // acc2 += acc3
	VFMLA	V2.D2, V31.D2, V0.D2 // acc0 += acc2
	VMOV	V0.D[1], R4          // high lane
	FMOVD	R4, F1
	FADDD	F1, F0, F0           // F0 = lane 0 + lane 1
	CBZ	R2, ddot_done

ddot_loop1:
	FMOVD.P	8(R0), F1
	FMOVD.P	8(R1), F2
	FMADDD	F2, F0, F1, F0 // F0 += x[i]*y[i]
	SUBS	$1, R2
	BNE	ddot_loop1

ddot_done:
	FMOVD	F0, ret+48(FP)
	RET

// func daxpyNEON(alpha float64, x, y []float64)
TEXT ·daxpyNEON(SB), NOSPLIT, $0-56
	FMOVD	alpha+0(FP), F31
	MOVD	x_base+8(FP), R0
	MOVD	x_len+16(FP), R2
	MOVD	y_base+32(FP), R1
	VDUP	V31.D[0], V31.D2 // alpha in both lanes
	LSR	$3, R2, R3       // R3 = trips of 8 elements
	AND	$7, R2           // R2 = remainder
	CBZ	R3, daxpy_tail

daxpy_loop8:
	VLD1.P	64(R0), [V0.D2, V1.D2, V2.D2, V3.D2] // x[i : i+8]
	VLD1	(R1), [V4.D2, V5.D2, V6.D2, V7.D2]   // y[i : i+8]
	VFMLA	V0.D2, V31.D2, V4.D2                 // y += alpha*x
	VFMLA	V1.D2, V31.D2, V5.D2
	VFMLA	V2.D2, V31.D2, V6.D2
	VFMLA	V3.D2, V31.D2, V7.D2
	VST1.P	[V4.D2, V5.D2, V6.D2, V7.D2], 64(R1)
	SUBS	$1, R3
	BNE	daxpy_loop8

daxpy_tail:
	CBZ	R2, daxpy_done

daxpy_loop1:
	FMOVD.P	8(R0), F1
	FMOVD	(R1), F2
	FMADDD	F31, F2, F1, F2 // y[i] += x[i]*alpha
	FMOVD.P	F2, 8(R1)
	SUBS	$1, R2
	BNE	daxpy_loop1

daxpy_done:
	RET

// Go's assembler has no vector FMUL. A product is formed as an FMLA into a
// register holding -0: -0 + p rounds to fl(p) for every p, including +0,
// -0, NaN and Inf (a +0 start would turn a -0 product into +0), so these
// kernels round exactly as FMULD and the amd64 VMULPD do.

// func dscalNEON(alpha float64, x []float64)
TEXT ·dscalNEON(SB), NOSPLIT, $0-32
	FMOVD	alpha+0(FP), F31
	MOVD	x_base+8(FP), R0
	MOVD	x_len+16(FP), R2
	VDUP	V31.D[0], V31.D2           // alpha in both lanes
	MOVD	$0x8000000000000000, R4
	VMOV	R4, V30.D2                 // -0 in both lanes
	LSR	$3, R2, R3                 // R3 = trips of 8 elements
	AND	$7, R2                     // R2 = remainder
	CBZ	R3, dscal_tail

dscal_loop8:
	VLD1	(R0), [V0.D2, V1.D2, V2.D2, V3.D2] // x[i : i+8]
	VMOV	V30.B16, V4.B16                    // x' = -0
	VMOV	V30.B16, V5.B16
	VMOV	V30.B16, V6.B16
	VMOV	V30.B16, V7.B16
	VFMLA	V0.D2, V31.D2, V4.D2               // x' += alpha*x
	VFMLA	V1.D2, V31.D2, V5.D2
	VFMLA	V2.D2, V31.D2, V6.D2
	VFMLA	V3.D2, V31.D2, V7.D2
	VST1.P	[V4.D2, V5.D2, V6.D2, V7.D2], 64(R0)
	SUBS	$1, R3
	BNE	dscal_loop8

dscal_tail:
	CBZ	R2, dscal_done

dscal_loop1:
	FMOVD	(R0), F1
	FMULD	F31, F1, F1 // x[i] *= alpha
	FMOVD.P	F1, 8(R0)
	SUBS	$1, R2
	BNE	dscal_loop1

dscal_done:
	RET

// func drotNEON(x, y []float64, c, s float64)
TEXT ·drotNEON(SB), NOSPLIT, $0-64
	MOVD	x_base+0(FP), R0
	MOVD	x_len+8(FP), R2
	MOVD	y_base+24(FP), R1
	FMOVD	c+48(FP), F28
	FMOVD	s+56(FP), F29
	VDUP	V28.D[0], V28.D2           // c in both lanes
	VDUP	V29.D[0], V29.D2           // s in both lanes
	MOVD	$0x8000000000000000, R4
	VMOV	R4, V30.D2                 // -0 in both lanes
	LSR	$3, R2, R3                 // R3 = trips of 8 elements
	AND	$7, R2                     // R2 = remainder
	CBZ	R3, drot_tail

drot_loop8:
	VLD1	(R0), [V0.D2, V1.D2, V2.D2, V3.D2] // x[i : i+8]
	VLD1	(R1), [V4.D2, V5.D2, V6.D2, V7.D2] // y[i : i+8]
	VMOV	V30.B16, V16.B16                   // x' = -0
	VMOV	V30.B16, V17.B16
	VMOV	V30.B16, V18.B16
	VMOV	V30.B16, V19.B16
	VMOV	V30.B16, V20.B16                   // y' = -0
	VMOV	V30.B16, V21.B16
	VMOV	V30.B16, V22.B16
	VMOV	V30.B16, V23.B16
	VFMLA	V0.D2, V28.D2, V16.D2              // x' = c*x
	VFMLA	V1.D2, V28.D2, V17.D2
	VFMLA	V2.D2, V28.D2, V18.D2
	VFMLA	V3.D2, V28.D2, V19.D2
	VFMLA	V4.D2, V28.D2, V20.D2              // y' = c*y
	VFMLA	V5.D2, V28.D2, V21.D2
	VFMLA	V6.D2, V28.D2, V22.D2
	VFMLA	V7.D2, V28.D2, V23.D2
	VFMLA	V4.D2, V29.D2, V16.D2              // x' += s*y
	VFMLA	V5.D2, V29.D2, V17.D2
	VFMLA	V6.D2, V29.D2, V18.D2
	VFMLA	V7.D2, V29.D2, V19.D2
	VFMLS	V0.D2, V29.D2, V20.D2              // y' -= s*x
	VFMLS	V1.D2, V29.D2, V21.D2
	VFMLS	V2.D2, V29.D2, V22.D2
	VFMLS	V3.D2, V29.D2, V23.D2
	VST1.P	[V16.D2, V17.D2, V18.D2, V19.D2], 64(R0)
	VST1.P	[V20.D2, V21.D2, V22.D2, V23.D2], 64(R1)
	SUBS	$1, R3
	BNE	drot_loop8

drot_tail:
	CBZ	R2, drot_done

drot_loop1:
	FMOVD	(R0), F0
	FMOVD	(R1), F1
	FMULD	F28, F0, F2     // x' = c*x
	FMADDD	F29, F2, F1, F2 // x' += s*y
	FMULD	F28, F1, F3     // y' = c*y
	FMSUBD	F29, F3, F0, F3 // y' -= s*x
	FMOVD.P	F2, 8(R0)
	FMOVD.P	F3, 8(R1)
	SUBS	$1, R2
	BNE	drot_loop1

drot_done:
	RET
