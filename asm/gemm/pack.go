package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// packAhead is how many rows ahead of the one it packs dpackAT14AVX512
// prefetches: a row of a wide operand (SYRK's N x d samples, 20 KB apart)
// is on a new page, which neither the hardware prefetchers nor the out-of-
// order window (3-4 rows) reach in time; 16 rows of ~50 cycles cover a
// DRAM latency of ~500 cycles.
const packAhead = 16

// dpackAAVX512 emits the packing of a plain A for the 14 x 16 dgemm kernel:
// panels panels of 14 rows, each as kc steps of the 14 values of one column.
// Each pair of rows is joined into one 128-bit store per step (VMOVSD +
// VMOVHPD), and the 14 rows are addressed from five pointers (rows 0, 3, 6,
// 9, 12) plus 1, 2, 4 or 8 times lda, so the loop needs no more registers
// than amd64 has.
func dpackAAVX512() {
	const mr = dMR512
	TEXT("dpackA14AVX512", NOSPLIT, "func(dst, src []float64, lda, kc, panels int, alpha float64)")
	Doc(
		"dpackA14AVX512 packs panels panels of 14 rows of the (14*panels) x kc",
		"block src (row stride lda) scaled by alpha, each panel as kc steps of 14",
		"values (AVX512):",
		"",
		"\tfor r := 0; r < panels; r++ {",
		"\t\tfor p := 0; p < kc; p++ {",
		"\t\t\tfor i := 0; i < 14; i++ {",
		"\t\t\t\tdst[r*14*kc+p*14+i] = alpha * src[(r*14+i)*lda+p]",
		"\t\t\t}",
		"\t\t}",
		"\t}",
	)
	Pragma("noescape")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	lda := Load(Param("lda"), GP64())
	kc := Load(Param("kc"), GP64())
	panels := Load(Param("panels"), GP64())
	alpha := X0
	al := Load(Param("alpha"), XMM())
	VMOVDDUP(al, alpha)

	TESTQ(kc, kc)
	JLE(LabelRef("dpackA_ret"))
	TESTQ(panels, panels)
	JLE(LabelRef("dpackA_ret"))
	SHLQ(U8(3), lda)

	b0, b3, b6, b9, b12, n := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	Label("dpackA_panel")
	Comment("Row pointers 0, 3, 6, 9 and 12 of this panel.")
	MOVQ(src, b0)
	LEAQ(Mem{Base: src, Index: lda, Scale: 2}, b3)
	ADDQ(lda, b3)
	LEAQ(Mem{Base: b3, Index: lda, Scale: 2}, b6)
	ADDQ(lda, b6)
	LEAQ(Mem{Base: b6, Index: lda, Scale: 2}, b9)
	ADDQ(lda, b9)
	LEAQ(Mem{Base: b9, Index: lda, Scale: 2}, b12)
	ADDQ(lda, b12)
	MOVQ(kc, n)
	row := func(i int) Mem {
		switch i {
		case 0:
			return Mem{Base: b0}
		case 1:
			return Mem{Base: b0, Index: lda, Scale: 1}
		case 2:
			return Mem{Base: b0, Index: lda, Scale: 2}
		case 3:
			return Mem{Base: b3}
		case 4:
			return Mem{Base: b0, Index: lda, Scale: 4}
		case 5:
			return Mem{Base: b3, Index: lda, Scale: 2}
		case 6:
			return Mem{Base: b6}
		case 7:
			return Mem{Base: b6, Index: lda, Scale: 1}
		case 8:
			return Mem{Base: b0, Index: lda, Scale: 8}
		case 9:
			return Mem{Base: b9}
		case 10:
			return Mem{Base: b9, Index: lda, Scale: 1}
		case 11:
			return Mem{Base: b9, Index: lda, Scale: 2}
		case 12:
			return Mem{Base: b12}
		default:
			return Mem{Base: b12, Index: lda, Scale: 1}
		}
	}
	Label("dpackA_step")
	Comment("Step p: rows 2k and 2k+1 into one register, scaled, stored together.")
	for i := 0; i < mr; i += 2 {
		x := XMM()
		VMOVSD(row(i), x)
		VMOVHPD(row(i+1), x, x)
		VMULPD(alpha, x, x)
		VMOVUPD(x, Mem{Base: dst, Disp: i * 8})
	}
	for _, b := range []GPVirtual{b0, b3, b6, b9, b12} {
		ADDQ(U8(8), b)
	}
	ADDQ(U8(mr*8), dst)
	DECQ(n)
	JNZ(LabelRef("dpackA_step"))
	Comment("Next panel: 14 rows down.")
	MOVQ(lda, n)
	IMUL3Q(U8(mr), n, n)
	ADDQ(n, src)
	DECQ(panels)
	JNZ(LabelRef("dpackA_panel"))

	VZEROUPPER()
	Label("dpackA_ret")
	RET()
}

// dpackBAVX512 emits the packing of a plain B for the 14 x 16 dgemm kernel:
// panels panels of 16 columns, each as kc rows of 16 values; the same row
// sweep and prefetch as dpackAT14AVX512.
func dpackBAVX512() {
	const nr = dNV512 * 8
	TEXT("dpackB16AVX512", NOSPLIT, "func(dst, src []float64, lds, kc, panels int)")
	Doc(
		"dpackB16AVX512 packs panels panels of 16 columns of the kc x (16*panels)",
		"block src (row stride lds), each panel as kc rows of 16 values (AVX512):",
		"",
		"\tfor p := 0; p < kc; p++ {",
		"\t\tfor r := 0; r < panels; r++ {",
		"\t\t\tfor j := 0; j < 16; j++ {",
		"\t\t\t\tdst[r*16*kc+p*16+j] = src[p*lds+r*16+j]",
		"\t\t\t}",
		"\t\t}",
		"\t}",
		"",
		"It prefetches the rows it packs 16 rows ahead.",
	)
	Pragma("noescape")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	lds := Load(Param("lds"), GP64())
	kc := Load(Param("kc"), GP64())
	panels := Load(Param("panels"), GP64())

	TESTQ(kc, kc)
	JLE(LabelRef("dpackB_ret"))
	TESTQ(panels, panels)
	JLE(LabelRef("dpackB_ret"))

	Comment("lds in bytes; pstride = bytes between panels of dst.")
	SHLQ(U8(3), lds)
	pstride := GP64()
	MOVQ(kc, pstride)
	IMUL3Q(U32(nr*8), pstride, pstride)
	ahead := GP64()
	MOVQ(lds, ahead)
	IMUL3Q(U8(packAhead), ahead, ahead)

	s, d, r := GP64(), GP64(), GP64()
	Label("dpackB_row")
	MOVQ(src, s)
	MOVQ(dst, d)
	MOVQ(panels, r)
	Label("dpackB_panel")
	Comment("Prefetch this panel's 16 values packAhead rows below, then copy them.")
	pf := Mem{Base: s, Index: ahead, Scale: 1}
	PREFETCHT0(pf) // 128 bytes span up to three cache lines
	PREFETCHT0(pf.Offset(64))
	PREFETCHT0(pf.Offset(nr*8 - 1))
	VMOVUPD(Mem{Base: s}, Z0)
	VMOVUPD(Mem{Base: s, Disp: 64}, Z1)
	VMOVUPD(Z0, Mem{Base: d})
	VMOVUPD(Z1, Mem{Base: d, Disp: 64})
	ADDQ(U8(nr*8), s)
	ADDQ(pstride, d)
	DECQ(r)
	JNZ(LabelRef("dpackB_panel"))
	ADDQ(lds, src)
	ADDQ(U8(nr*8), dst)
	DECQ(kc)
	JNZ(LabelRef("dpackB_row"))

	VZEROUPPER()
	Label("dpackB_ret")
	RET()
}

// dpackATAVX512 emits the packing of a transposed A for the 14 x 16 dgemm
// kernel: panels full panels of 14 rows of op(A) = A^T, i.e. for each of kc
// rows of A, 14*panels consecutive values, scaled by alpha.
func dpackATAVX512() {
	const mr = dMR512
	TEXT("dpackAT14AVX512", NOSPLIT, "func(dst, src []float64, lds, kc, panels int, alpha float64)")
	Doc(
		"dpackAT14AVX512 packs panels panels of 14 columns of the kc x (14*panels)",
		"block src (row stride lds) scaled by alpha, each panel as kc steps of 14",
		"values (AVX512):",
		"",
		"\tfor p := 0; p < kc; p++ {",
		"\t\tfor r := 0; r < panels; r++ {",
		"\t\t\tfor i := 0; i < 14; i++ {",
		"\t\t\t\tdst[r*14*kc+p*14+i] = alpha * src[p*lds+r*14+i]",
		"\t\t\t}",
		"\t\t}",
		"\t}",
		"",
		"It prefetches the rows it packs 16 rows ahead.",
	)
	Pragma("noescape")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	lds := Load(Param("lds"), GP64())
	kc := Load(Param("kc"), GP64())
	panels := Load(Param("panels"), GP64())
	alpha := Z0
	al := Load(Param("alpha"), XMM())
	VBROADCASTSD(al, alpha)

	TESTQ(kc, kc)
	JLE(LabelRef("dpackAT_ret"))
	TESTQ(panels, panels)
	JLE(LabelRef("dpackAT_ret"))

	Comment("lds in bytes; pstride = bytes between panels of dst; K1 = the 6 lanes of values 8..13.")
	SHLQ(U8(3), lds)
	pstride := GP64()
	MOVQ(kc, pstride)
	IMUL3Q(U32(mr*8), pstride, pstride)
	six := GP32()
	MOVL(U32(0x3f), six)
	KMOVB(six, K1)
	ahead := GP64()
	MOVQ(lds, ahead)
	IMUL3Q(U8(packAhead), ahead, ahead)

	s, d, r := GP64(), GP64(), GP64()
	Label("dpackAT_row")
	MOVQ(src, s)
	MOVQ(dst, d)
	MOVQ(panels, r)
	Label("dpackAT_panel")
	Comment("Prefetch this panel's 14 values packAhead rows below, then scale and store them.")
	pf := Mem{Base: s, Index: ahead, Scale: 1}
	PREFETCHT0(pf) // 112 bytes span up to three cache lines
	PREFETCHT0(pf.Offset(64))
	PREFETCHT0(pf.Offset(mr*8 - 1))
	VMULPD(Mem{Base: s}, alpha, Z1)
	VMOVUPD(Mem{Base: s, Disp: 64}, K1, Z2) // merge into Z2; lanes 6,7 unused
	VMULPD(Z2, alpha, Z2)
	VMOVUPD(Z1, Mem{Base: d})
	VMOVUPD(Z2, K1, Mem{Base: d, Disp: 64})
	ADDQ(U8(mr*8), s)
	ADDQ(pstride, d)
	DECQ(r)
	JNZ(LabelRef("dpackAT_panel"))
	ADDQ(lds, src)
	ADDQ(U8(mr*8), dst)
	DECQ(kc)
	JNZ(LabelRef("dpackAT_row"))

	VZEROUPPER()
	Label("dpackAT_ret")
	RET()
}
