package main

import (
	"fmt"

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
// VMOVHPD).
func dpackAAVX512() { packAAVX512("dpackA14AVX512", f64, dMR512) }

// spackAAVX512 is dpackAAVX512 for the 14 x 32 sgemm kernel: each group of
// four rows is joined into one 128-bit store per step (VMOVSS + three
// VINSERTPS), the last two rows into a 64-bit one.
func spackAAVX512() { packAAVX512("spackA14AVX512", f32, sMR512) }

// packAAVX512 emits name(dst, src, lda, kc, panels, alpha), the packing of
// panels panels of mr = 14 rows of a plain A, scaled by alpha. The 14 rows
// are addressed from five pointers (rows 0, 3, 6, 9, 12) plus 1, 2, 4 or 8
// times lda, so the loop needs no more registers than amd64 has.
func packAAVX512(name string, e elem, mr int) {
	if mr != 14 {
		panic(fmt.Sprintf("%s: the row addressing is written for 14 rows, not %d", name, mr))
	}
	TEXT(name, NOSPLIT, fmt.Sprintf("func(dst, src []%s, lda, kc, panels int, alpha %s)", e.goType, e.goType))
	Doc(
		fmt.Sprintf("%s packs panels panels of 14 rows of the (14*panels) x kc", name),
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
	l := name[:6] // dpackA, spackA: label prefix
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	lda := Load(Param("lda"), GP64())
	kc := Load(Param("kc"), GP64())
	panels := Load(Param("panels"), GP64())
	alpha := X0
	al := Load(Param("alpha"), XMM())
	if e.size == 8 {
		VMOVDDUP(al, alpha)
	} else {
		VBROADCASTSS(al, alpha)
	}

	TESTQ(kc, kc)
	JLE(LabelRef(l + "_ret"))
	TESTQ(panels, panels)
	JLE(LabelRef(l + "_ret"))
	SHLQ(U8(e.shift), lda)

	b0, b3, b6, b9, b12, n := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()
	Label(l + "_panel")
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
	Label(l + "_step")
	if e.size == 8 {
		Comment("Step p: rows 2k and 2k+1 into one register, scaled, stored together.")
		for i := 0; i < mr; i += 2 {
			x := XMM()
			VMOVSD(row(i), x)
			VMOVHPD(row(i+1), x, x)
			VMULPD(alpha, x, x)
			VMOVUPD(x, Mem{Base: dst, Disp: i * 8})
		}
	} else {
		Comment("Step p: rows 4k..4k+3 into one register, scaled, stored together; rows 12, 13 as a pair.")
		for i := 0; i < mr; i += 4 {
			x := XMM()
			w := min(4, mr-i)
			VMOVSS(row(i), x)
			for j := 1; j < w; j++ {
				VINSERTPS(U8(j<<4), row(i+j), x, x) // into lane j
			}
			VMULPS(alpha, x, x)
			if w == 4 {
				VMOVUPS(x, Mem{Base: dst, Disp: i * 4})
			} else {
				VMOVSD(x, Mem{Base: dst, Disp: i * 4}) // the low two lanes
			}
		}
	}
	for _, b := range []GPVirtual{b0, b3, b6, b9, b12} {
		ADDQ(U8(e.size), b)
	}
	ADDQ(U8(mr*e.size), dst)
	DECQ(n)
	JNZ(LabelRef(l + "_step"))
	Comment("Next panel: 14 rows down.")
	MOVQ(lda, n)
	IMUL3Q(U8(mr), n, n)
	ADDQ(n, src)
	DECQ(panels)
	JNZ(LabelRef(l + "_panel"))

	VZEROUPPER()
	Label(l + "_ret")
	RET()
}

// dpackBAVX512 emits the packing of a plain B for the 14 x 16 dgemm kernel:
// panels panels of 16 columns, each as kc rows of 16 values; the same row
// sweep and prefetch as dpackAT14AVX512.
func dpackBAVX512() { packBAVX512("dpackB16AVX512", f64, dNV512*8) }

// spackBAVX512 is dpackBAVX512 for the 14 x 32 sgemm kernel: 32 floats are
// the same 128 bytes per row as 16 doubles.
func spackBAVX512() { packBAVX512("spackB32AVX512", f32, sNV512*16) }

// packBAVX512 emits name(dst, src, lds, kc, panels), the packing of panels
// panels of nr columns of a plain B, nr*e.size = 128 bytes (two zmm) per row.
func packBAVX512(name string, e elem, nr int) {
	if nr*e.size != 128 {
		panic(fmt.Sprintf("%s: a panel row is %d bytes, not two zmm", name, nr*e.size))
	}
	TEXT(name, NOSPLIT, fmt.Sprintf("func(dst, src []%s, lds, kc, panels int)", e.goType))
	Doc(
		fmt.Sprintf("%s packs panels panels of %d columns of the kc x (%d*panels)", name, nr, nr),
		fmt.Sprintf("block src (row stride lds), each panel as kc rows of %d values (AVX512):", nr),
		"",
		"\tfor p := 0; p < kc; p++ {",
		"\t\tfor r := 0; r < panels; r++ {",
		fmt.Sprintf("\t\t\tfor j := 0; j < %d; j++ {", nr),
		fmt.Sprintf("\t\t\t\tdst[r*%d*kc+p*%d+j] = src[p*lds+r*%d+j]", nr, nr, nr),
		"\t\t\t}",
		"\t\t}",
		"\t}",
		"",
		"It prefetches the rows it packs 16 rows ahead.",
	)
	Pragma("noescape")
	l := name[:6] // dpackB, spackB: label prefix
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	lds := Load(Param("lds"), GP64())
	kc := Load(Param("kc"), GP64())
	panels := Load(Param("panels"), GP64())

	TESTQ(kc, kc)
	JLE(LabelRef(l + "_ret"))
	TESTQ(panels, panels)
	JLE(LabelRef(l + "_ret"))

	Comment("lds in bytes; pstride = bytes between panels of dst.")
	SHLQ(U8(e.shift), lds)
	pstride := GP64()
	MOVQ(kc, pstride)
	IMUL3Q(U32(nr*e.size), pstride, pstride)
	ahead := GP64()
	MOVQ(lds, ahead)
	IMUL3Q(U8(packAhead), ahead, ahead)

	s, d, r := GP64(), GP64(), GP64()
	Label(l + "_row")
	MOVQ(src, s)
	MOVQ(dst, d)
	MOVQ(panels, r)
	Label(l + "_panel")
	Comment(fmt.Sprintf("Prefetch this panel's %d values packAhead rows below, then copy them.", nr))
	pf := Mem{Base: s, Index: ahead, Scale: 1}
	PREFETCHT0(pf) // 128 bytes span up to three cache lines
	PREFETCHT0(pf.Offset(64))
	PREFETCHT0(pf.Offset(nr*e.size - 1))
	e.load(Mem{Base: s}, Z0)
	e.load(Mem{Base: s, Disp: 64}, Z1)
	e.load(Z0, Mem{Base: d})
	e.load(Z1, Mem{Base: d, Disp: 64})
	ADDQ(U8(nr*e.size), s)
	ADDQ(pstride, d)
	DECQ(r)
	JNZ(LabelRef(l + "_panel"))
	ADDQ(lds, src)
	ADDQ(U8(nr*e.size), dst)
	DECQ(kc)
	JNZ(LabelRef(l + "_row"))

	VZEROUPPER()
	Label(l + "_ret")
	RET()
}

// dpackATAVX512 emits the packing of a transposed A for the 14 x 16 dgemm
// kernel: panels full panels of 14 rows of op(A) = A^T, i.e. for each of kc
// rows of A, 14*panels consecutive values, scaled by alpha.
func dpackATAVX512() { packATAVX512("dpackAT14AVX512", f64, dMR512) }

// spackATAVX512 is dpackATAVX512 for the 14 x 32 sgemm kernel: the 14
// floats of a panel's step are one masked zmm.
func spackATAVX512() { packATAVX512("spackAT14AVX512", f32, sMR512) }

// packATAVX512 emits name(dst, src, lds, kc, panels, alpha): each panel's
// step is mr consecutive values of a row of src, moved in full zmm and a
// last masked one (K1).
func packATAVX512(name string, e elem, mr int) {
	lanes := 64 / e.size
	TEXT(name, NOSPLIT, fmt.Sprintf("func(dst, src []%s, lds, kc, panels int, alpha %s)", e.goType, e.goType))
	Doc(
		fmt.Sprintf("%s packs panels panels of %d columns of the kc x (%d*panels)", name, mr, mr),
		fmt.Sprintf("block src (row stride lds) scaled by alpha, each panel as kc steps of %d", mr),
		"values (AVX512):",
		"",
		"\tfor p := 0; p < kc; p++ {",
		"\t\tfor r := 0; r < panels; r++ {",
		fmt.Sprintf("\t\t\tfor i := 0; i < %d; i++ {", mr),
		fmt.Sprintf("\t\t\t\tdst[r*%d*kc+p*%d+i] = alpha * src[p*lds+r*%d+i]", mr, mr, mr),
		"\t\t\t}",
		"\t\t}",
		"\t}",
		"",
		"It prefetches the rows it packs 16 rows ahead.",
	)
	Pragma("noescape")
	l := name[:7] // dpackAT, spackAT: label prefix
	mul := VMULPD
	if e.size == 4 {
		mul = VMULPS
	}
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	lds := Load(Param("lds"), GP64())
	kc := Load(Param("kc"), GP64())
	panels := Load(Param("panels"), GP64())
	alpha := Z0
	al := Load(Param("alpha"), XMM())
	e.bcast(al, alpha)

	TESTQ(kc, kc)
	JLE(LabelRef(l + "_ret"))
	TESTQ(panels, panels)
	JLE(LabelRef(l + "_ret"))

	full, rest := mr/lanes, mr%lanes
	if rest == 0 {
		panic(fmt.Sprintf("%s: %d values need no masked vector", name, mr))
	}
	Comment(fmt.Sprintf("lds in bytes; pstride = bytes between panels of dst; K1 = the %d lanes of values %d..%d.",
		rest, full*lanes, mr-1))
	SHLQ(U8(e.shift), lds)
	pstride := GP64()
	MOVQ(kc, pstride)
	IMUL3Q(U32(mr*e.size), pstride, pstride)
	mask := GP32()
	MOVL(U32(1<<rest-1), mask)
	if lanes == 8 {
		KMOVB(mask, K1)
	} else {
		KMOVW(mask, K1)
	}
	ahead := GP64()
	MOVQ(lds, ahead)
	IMUL3Q(U8(packAhead), ahead, ahead)

	s, d, r := GP64(), GP64(), GP64()
	Label(l + "_row")
	MOVQ(src, s)
	MOVQ(dst, d)
	MOVQ(panels, r)
	Label(l + "_panel")
	Comment(fmt.Sprintf("Prefetch this panel's %d values packAhead rows below, then scale and store them.", mr))
	pf := Mem{Base: s, Index: ahead, Scale: 1}
	for off := 0; off < mr*e.size; off += 64 {
		PREFETCHT0(pf.Offset(off)) // every cache line the values span
	}
	PREFETCHT0(pf.Offset(mr*e.size - 1))
	z := []VecPhysical{Z1, Z2}
	for v := 0; v < full; v++ {
		mul(Mem{Base: s, Disp: 64 * v}, alpha, z[v])
	}
	last := z[full]
	e.load(Mem{Base: s, Disp: 64 * full}, K1, last) // merge into last; the lanes past mr are unused
	mul(last, alpha, last)
	for v := 0; v < full; v++ {
		e.load(z[v], Mem{Base: d, Disp: 64 * v})
	}
	e.load(last, K1, Mem{Base: d, Disp: 64 * full})
	ADDQ(U8(mr*e.size), s)
	ADDQ(pstride, d)
	DECQ(r)
	JNZ(LabelRef(l + "_panel"))
	ADDQ(lds, src)
	ADDQ(U8(mr*e.size), dst)
	DECQ(kc)
	JNZ(LabelRef(l + "_row"))

	VZEROUPPER()
	Label(l + "_ret")
	RET()
}
