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
