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
func dpackAAVX512() { packA("dpackA14AVX512", f64, dMR512, avx512) }

// spackAAVX512 is dpackAAVX512 for the 14 x 32 sgemm kernel: each group of
// four rows is joined into one 128-bit store per step (VMOVSS + three
// VINSERTPS), the last two rows into a 64-bit one.
func spackAAVX512() { packA("spackA14AVX512", f32, sMR512, avx512) }

// dpackAAVX2 and spackAAVX2 are the same packings for the 6 x 8 and 6 x 16
// AVX2 kernels; the code is VEX-encoded 128-bit moves at both levels.
func dpackAAVX2() { packA("dpackA6AVX2", f64, dMR2, avx2) }
func spackAAVX2() { packA("spackA6AVX2", f32, sMR2, avx2) }

// packA emits name(dst, src, lda, kc, panels, alpha), the packing of
// panels panels of mr rows of a plain A, scaled by alpha. Row i is
// addressed as pointer i/3 (rows 0, 3, 6, ...) plus (i%3) times lda, so
// the 14-row loop needs no more registers than amd64 has.
func packA(name string, e elem, mr int, v isa) {
	if mr > 15 {
		panic(fmt.Sprintf("%s: the row addressing is written for at most 15 rows, not %d", name, mr))
	}
	TEXT(name, NOSPLIT, fmt.Sprintf("func(dst, src []%s, lda, kc, panels int, alpha %s)", e.goType, e.goType))
	Doc(
		fmt.Sprintf("%s packs panels panels of %d rows of the (%d*panels) x kc", name, mr, mr),
		fmt.Sprintf("block src (row stride lda) scaled by alpha, each panel as kc steps of %d", mr),
		fmt.Sprintf("values (%s):", v.name),
		"",
		"\tfor r := 0; r < panels; r++ {",
		"\t\tfor p := 0; p < kc; p++ {",
		fmt.Sprintf("\t\t\tfor i := 0; i < %d; i++ {", mr),
		fmt.Sprintf("\t\t\t\tdst[r*%d*kc+p*%d+i] = alpha * src[(r*%d+i)*lda+p]", mr, mr, mr),
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

	ptrs := make([]GPVirtual, (mr+2)/3)
	for k := range ptrs {
		ptrs[k] = GP64()
	}
	n := GP64()
	Label(l + "_panel")
	Comment("Row pointers 0, 3, 6, ... of this panel.")
	MOVQ(src, ptrs[0])
	for k := 1; k < len(ptrs); k++ {
		LEAQ(Mem{Base: ptrs[k-1], Index: lda, Scale: 2}, ptrs[k])
		ADDQ(lda, ptrs[k])
	}
	MOVQ(kc, n)
	row := func(i int) Mem {
		switch i % 3 {
		case 0:
			return Mem{Base: ptrs[i/3]}
		case 1:
			return Mem{Base: ptrs[i/3], Index: lda, Scale: 1}
		}
		return Mem{Base: ptrs[i/3], Index: lda, Scale: 2}
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
		Comment(fmt.Sprintf("Step p: rows 4k..4k+3 into one register, scaled, stored together; rows %d, %d as a pair.", mr-2, mr-1))
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
	for _, b := range ptrs {
		ADDQ(U8(e.size), b)
	}
	ADDQ(U8(mr*e.size), dst)
	DECQ(n)
	JNZ(LabelRef(l + "_step"))
	Comment(fmt.Sprintf("Next panel: %d rows down.", mr))
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
func dpackBAVX512() { packB("dpackB16AVX512", f64, dNV512*8, avx512) }

// spackBAVX512 is dpackBAVX512 for the 14 x 32 sgemm kernel: 32 floats are
// the same 128 bytes per row as 16 doubles.
func spackBAVX512() { packB("spackB32AVX512", f32, sNV512*16, avx512) }

// dpackBAVX2 and spackBAVX2 pack B for the 6 x 8 and 6 x 16 AVX2 kernels:
// a panel row is 64 bytes, two ymm.
func dpackBAVX2() { packB("dpackB8AVX2", f64, dNV2*4, avx2) }
func spackBAVX2() { packB("spackB16AVX2", f32, sNV2*8, avx2) }

// packB emits name(dst, src, lds, kc, panels), the packing of panels
// panels of nr columns of a plain B, nr*e.size = two vectors per row.
func packB(name string, e elem, nr int, v isa) {
	if nr*e.size != 2*v.vecBytes {
		panic(fmt.Sprintf("%s: a panel row is %d bytes, not two vectors", name, nr*e.size))
	}
	TEXT(name, NOSPLIT, fmt.Sprintf("func(dst, src []%s, lds, kc, panels int)", e.goType))
	Doc(
		fmt.Sprintf("%s packs panels panels of %d columns of the kc x (%d*panels)", name, nr, nr),
		fmt.Sprintf("block src (row stride lds), each panel as kc rows of %d values (%s):", nr, v.name),
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
	for off := 0; off < nr*e.size; off += 64 {
		PREFETCHT0(pf.Offset(off)) // every cache line the row spans
	}
	PREFETCHT0(pf.Offset(nr*e.size - 1))
	r0, r1 := v.reg(0), v.reg(1)
	e.load(Mem{Base: s}, r0)
	e.load(Mem{Base: s, Disp: v.vecBytes}, r1)
	e.load(r0, Mem{Base: d})
	e.load(r1, Mem{Base: d, Disp: v.vecBytes})
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

// dpackATAVX2 and spackATAVX2 pack a transposed A for the 6 x 8 and 6 x 16
// AVX2 kernels: a panel's step is 6 consecutive values of a row of src
// (48 bytes: a ymm and an xmm; 24 bytes in float32: an xmm and 8 bytes).
func dpackATAVX2() { packATAVX2("dpackAT6AVX2", f64, dMR2) }
func spackATAVX2() { packATAVX2("spackAT6AVX2", f32, sMR2) }

// packATAVX2 emits name(dst, src, lds, kc, panels, alpha) as packATAVX512
// does, moving each step's mr values in pieces of 32, 16, 8 and 4 bytes
// (AVX2 has no masked moves of narrow lanes).
func packATAVX2(name string, e elem, mr int) {
	TEXT(name, NOSPLIT, fmt.Sprintf("func(dst, src []%s, lds, kc, panels int, alpha %s)", e.goType, e.goType))
	Doc(
		fmt.Sprintf("%s packs panels panels of %d columns of the kc x (%d*panels)", name, mr, mr),
		fmt.Sprintf("block src (row stride lds) scaled by alpha, each panel as kc steps of %d", mr),
		"values (AVX2):",
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
	mul, mulS := VMULPD, VMULSD
	if e.size == 4 {
		mul, mulS = VMULPS, VMULSS
	}
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	lds := Load(Param("lds"), GP64())
	kc := Load(Param("kc"), GP64())
	panels := Load(Param("panels"), GP64())
	alpha := Y0
	al := Load(Param("alpha"), XMM())
	e.bcast(al, alpha)

	TESTQ(kc, kc)
	JLE(LabelRef(l + "_ret"))
	TESTQ(panels, panels)
	JLE(LabelRef(l + "_ret"))

	Comment("lds in bytes; pstride = bytes between panels of dst.")
	SHLQ(U8(e.shift), lds)
	pstride := GP64()
	MOVQ(kc, pstride)
	IMUL3Q(U32(mr*e.size), pstride, pstride)
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
		PREFETCHT0(pf.Offset(off))
	}
	PREFETCHT0(pf.Offset(mr*e.size - 1))
	off, k := 0, 1
	for rest := mr * e.size; rest > 0; k++ {
		at, to := Mem{Base: s, Disp: off}, Mem{Base: d, Disp: off}
		switch {
		case rest >= 32:
			x := ymms[k]
			mul(at, alpha, x)
			e.load(x, to)
			off, rest = off+32, rest-32
		case rest >= 16:
			x := xmms[k]
			mul(at, alpha.AsX(), x)
			e.load(x, to)
			off, rest = off+16, rest-16
		case rest >= 8:
			x := xmms[k]
			VMOVSD(at, x) // one double, or two floats
			if e.size == 8 {
				mulS(alpha.AsX(), x, x)
			} else {
				mul(alpha.AsX(), x, x)
			}
			VMOVSD(x, to)
			off, rest = off+8, rest-8
		default:
			x := xmms[k]
			VMOVSS(at, x)
			mulS(alpha.AsX(), x, x)
			VMOVSS(x, to)
			off, rest = off+4, rest-4
		}
	}
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

var xmms = []VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15}
