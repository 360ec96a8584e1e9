package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// elem describes a float type: its size and the instructions for it.
type elem struct {
	goType string
	size   int         // bytes
	load   func(...Op) // VMOVUPD / VMOVUPS
	fma    func(...Op) // VFMADD231PD / PS: z += x*y
	bcast  func(...Op) // VBROADCASTSD / SS
	add    func(...Op) // VADDPD / PS
	shift  uint8       // log2(size), to turn ldc into bytes
}

var (
	f64 = elem{"float64", 8, VMOVUPD, VFMADD231PD, VBROADCASTSD, VADDPD, 3}
	f32 = elem{"float32", 4, VMOVUPS, VFMADD231PS, VBROADCASTSS, VADDPS, 2}
)

// isa describes a vector register file.
type isa struct {
	name     string
	vecBytes int
	nregs    int // architectural vector registers usable at this level
	reg      func(i int) VecPhysical
	evex     bool // EVEX encoding (VPXORD zeroes a zmm)
}

var (
	zmms = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
	ymms = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

	avx512 = isa{"AVX512", 64, 32, func(i int) VecPhysical { return zmms[i] }, true}
	// AVX2 code must stay in Y0-Y15: Y16-Y31 need AVX-512VL.
	avx2 = isa{"AVX2", 32, 16, func(i int) VecPhysical { return ymms[i] }, false}
)

// kcUnroll is how many rank-1 updates one trip of the main loop does: enough
// to make the loop counter and pointer updates negligible beside mr*nr/lanes
// FMAs each, small enough to keep the code in the uop cache.
const kcUnroll = 4

// prefetchA is how far ahead (in rank-1 updates) the A panel is prefetched;
// A streams from L2 while the B micro-panel stays in L1 (Goto/BLIS order).
const prefetchA = 8

// microKernel emits name(kc, a, b, c, ldc): c[i*ldc+j] += sum_p a[p*mr+i]*b[p*nr+j]
// for an mr x (nv*lanes) tile, with mr*nv accumulators. With store set the
// kernel overwrites the tile with the product instead (c = sum_p ...): GEMM's
// first k block when beta = 0, so C is never cleared in a separate pass and
// its old contents (NaN included) are never read. With tri = 'L' or 'U' it
// is SYRK's kernel for a tile across the diagonal, name(kc, a, b, c, ldc,
// off): it adds only the entries (i, j) of the lower (j <= i+off) or upper
// (j >= i+off) triangle, with masked loads and stores (see triStore).
//
// The C tile is prefetched one row per trip in the last mr trips of the main
// loop, not all at the start: a kernel call streams ~120 KiB of A and B
// panels through the 48 KiB L1 (kc = 512), which evicted a tile fetched at
// the start before the final adds, and the start's 2*mr misses at once
// competed with the panel loads. Measured on Zen 5 in GEMM n = 1024, best of
// 12 interleaved runs: start 77.7% of peak, none 74.6%, last trips 81.6%.
func microKernel(name string, e elem, v isa, mr, nv int, store bool, tri byte) {
	lanes := v.vecBytes / e.size
	nr := nv * lanes
	nacc := mr * nv
	// Register budget: accumulators, two broadcast registers, and one set of
	// B vectors, or two (alternating between unrolled steps) where they fit.
	// A's entries are broadcast into a register, not fused into the FMA as an
	// EVEX {1toN} memory operand: on Zen 5 the fused form ran at ~80% of the
	// FMA peak, the register form at ~95% (14x16, kc = 128..192).
	need := nacc + nv + 2
	bsets := 1
	if need+nv <= v.nregs {
		bsets = 2
	}
	if need > v.nregs {
		panic(fmt.Sprintf("%s: %d registers needed, %d available", name, need, v.nregs))
	}
	acc := func(i, j int) VecPhysical { return v.reg(i*nv + j) }
	breg := func(set, j int) VecPhysical { return v.reg(nacc + set*nv + j) }
	treg := func(set int) VecPhysical { return v.reg(nacc + bsets*nv + set) }

	sig := fmt.Sprintf("func(kc int, a, b, c []%s, ldc int)", e.goType)
	if tri != 0 {
		sig = fmt.Sprintf("func(kc int, a, b, c []%s, ldc int, off int)", e.goType)
	}
	TEXT(name, NOSPLIT, sig)
	op, verb, kc0 := "+=", "adds the product of", "It does not touch c when kc <= 0."
	if store {
		op, verb, kc0 = "=", "stores the product of", "It does not touch c when kc <= 0 (the caller clears the tile then)."
	}
	cond, what := "", "tile c"
	switch tri {
	case 'L':
		cond, what = " && j <= i+off", "lower-triangle part (j <= i+off) of the tile c"
	case 'U':
		cond, what = " && j >= i+off", "upper-triangle part (j >= i+off) of the tile c"
	}
	body := []string{fmt.Sprintf("\t\t\t\tc[i*ldc+j] %s a[p*%d+i] * b[p*%d+j]", op, mr, nr)}
	if tri != 0 {
		body = []string{
			fmt.Sprintf("\t\t\t\tif %s {", cond[4:]),
			fmt.Sprintf("\t\t\t\t\tc[i*ldc+j] %s a[p*%d+i] * b[p*%d+j]", op, mr, nr),
			"\t\t\t\t}",
		}
		kc0 += " Entries outside the triangle are neither read nor written."
	}
	lines := []string{
		fmt.Sprintf("%s %s a packed %d x kc panel a and a packed kc x %d", name, verb, mr, nr),
		fmt.Sprintf("panel b into the %s, row-major %d x %d with stride ldc (%s, %d accumulators):", what, mr, nr, v.name, nacc),
		"",
	}
	if store {
		// The storing kernel's loop puts the sum over p innermost, so that
		// it reads as c = sum_p a_p b_p, not as the last product.
		lines = append(lines,
			fmt.Sprintf("\tfor i := 0; i < %d; i++ {", mr),
			fmt.Sprintf("\t\tfor j := 0; j < %d; j++ {", nr),
			fmt.Sprintf("\t\t\tvar s %s", e.goType),
			"\t\t\tfor p := 0; p < kc; p++ {",
			fmt.Sprintf("\t\t\t\ts += a[p*%d+i] * b[p*%d+j]", mr, nr),
			"\t\t\t}",
			"\t\t\tc[i*ldc+j] = s",
			"\t\t}", "\t}", "", kc0)
	} else {
		lines = append(lines,
			"\tfor p := 0; p < kc; p++ {",
			fmt.Sprintf("\t\tfor i := 0; i < %d; i++ {", mr),
			fmt.Sprintf("\t\t\tfor j := 0; j < %d; j++ {", nr))
		lines = append(lines, body...)
		lines = append(lines, "\t\t\t}", "\t\t}", "\t}", "", kc0)
	}
	Doc(lines...)
	Pragma("noescape")
	kc := Load(Param("kc"), GP64())
	a := Load(Param("a").Base(), GP64())
	b := Load(Param("b").Base(), GP64())
	c := Load(Param("c").Base(), GP64())
	ldc := Load(Param("ldc"), GP64())

	Comment("Nothing to add for kc <= 0: leave c alone.")
	TESTQ(kc, kc)
	JLE(LabelRef(name + "_ret"))

	Comment("Zero the accumulators.")
	for i := 0; i < nacc; i++ {
		r := v.reg(i)
		if v.evex {
			VPXORD(r, r, r)
		} else {
			VXORPD(r, r, r)
		}
	}

	Comment("ldc in bytes; cp walks the rows of C as the last trips prefetch them.")
	SHLQ(U8(e.shift), ldc)
	cp := GP64()
	MOVQ(c, cp)

	step := func(u int) {
		set := u % bsets
		aoff, boff := u*mr*e.size, u*nr*e.size
		Commentf("Rank-1 update p+%d: B row into %s-%s; per row i, a[i] broadcast into %s/%s, then c[i][:] += a[i]*b.",
			u, breg(set, 0).Asm(), breg(set, nv-1).Asm(), treg(0).Asm(), treg(1).Asm())
		for j := 0; j < nv; j++ {
			e.load(Mem{Base: b, Disp: boff + j*v.vecBytes}, breg(set, j))
		}
		for i := 0; i < mr; i++ {
			am := Mem{Base: a, Disp: aoff + i*e.size}
			t := treg(i % 2)
			e.bcast(am, t)
			for j := 0; j < nv; j++ {
				e.fma(breg(set, j), t, acc(i, j))
			}
		}
	}

	n := GP64()
	MOVQ(kc, n)
	SHRQ(U8(2), n)
	JZ(LabelRef(name + "_tail"))
	Commentf("Main loop: %d rank-1 updates per trip.", kcUnroll)
	Label(name + "_loop")
	for u := 0; u < kcUnroll; u++ {
		step(u)
	}
	for off := 0; off < kcUnroll*mr*e.size; off += 64 {
		PREFETCHT0(Mem{Base: a, Disp: prefetchA*mr*e.size + off})
	}
	// Every cache line of the row: a row of the AVX-512 tile is 128 bytes,
	// and when ldc*size is not a multiple of 64 (n = 2500) half the rows
	// span three lines. Prefetching only the first and last byte left the
	// middle one to miss at the store, which cost SYRK 2000 x 2500 at
	// AVX-512 4-5 points of the FMA peak.
	Commentf("In the last %d trips, prefetch one row of the C tile each (every cache line it spans).", mr)
	CMPQ(n, U32(mr))
	JA(LabelRef(name + "_nopf"))
	for off := 0; off < nr*e.size-1; off += 64 {
		PREFETCHT0(Mem{Base: cp, Disp: off})
	}
	PREFETCHT0(Mem{Base: cp, Disp: nr*e.size - 1})
	ADDQ(ldc, cp)
	Label(name + "_nopf")
	ADDQ(U32(kcUnroll*mr*e.size), a)
	ADDQ(U32(kcUnroll*nr*e.size), b)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))

	Label(name + "_tail")
	ANDQ(U8(kcUnroll-1), kc)
	JZ(LabelRef(name + "_store"))
	Comment("Remaining kc mod 4 rank-1 updates.")
	Label(name + "_tailloop")
	step(0)
	ADDQ(U32(mr*e.size), a)
	ADDQ(U32(nr*e.size), b)
	DECQ(kc)
	JNZ(LabelRef(name + "_tailloop"))

	Label(name + "_store")
	if tri != 0 && !v.evex {
		// The B and broadcast registers are free now: a mask and a
		// loaded row of C.
		triStoreAVX2(name, e, v, mr, nv, store, tri, acc, c, ldc, breg(0, 0), breg(0, 1))
		VZEROUPPER()
		Label(name + "_ret")
		RET()
		return
	}
	if tri != 0 {
		triStore(name, e, v, mr, nv, store, tri, acc, c, ldc)
		VZEROUPPER()
		Label(name + "_ret")
		RET()
		return
	}
	if store {
		Comment("c = accumulators, row by row.")
	} else {
		Comment("c += accumulators, row by row.")
	}
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			cm := Mem{Base: c, Disp: j * v.vecBytes}
			if !store {
				e.add(cm, acc(i, j), acc(i, j))
			}
			e.load(acc(i, j), cm)
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	Label(name + "_ret")
	RET()
}

// Register blocks: mr*nv accumulators, nv B vectors, 2 broadcast registers.
const (
	// dgemm AVX-512: 14 x 16 = 28 accumulators + 2 B vectors + 2 broadcasts = 32 zmm;
	// 28 independent FMAs per step cover 2 FMA pipes x 4-cycle latency 3.5 times,
	// and 16 loads per 28 FMAs stay under 2 loads/cycle (BLIS skx uses 14x16's
	// transpose; 8x24, 12x16 and 6x32 measured no better here).
	dMR512, dNV512 = 14, 2
	// sgemm AVX-512: same register block, 16 floats per zmm: 14 x 32.
	sMR512, sNV512 = 14, 2
	// dgemm AVX2: 6 x 8 = 12 accumulators + 2 B vectors + 2 broadcasts = 16 ymm
	// (BLIS/OpenBLAS Haswell 6x8 / 8x6): no EVEX, so at most Y0-Y15.
	dMR2, dNV2 = 6, 2
	// sgemm AVX2: the same block with 8 floats per ymm: 6 x 16.
	sMR2, sNV2 = 6, 2
)

func dgemmAVX512() {
	microKernel("dgemm14x16AVX512", f64, avx512, dMR512, dNV512, false, 0)
	microKernel("dgemm14x16AVX512Store", f64, avx512, dMR512, dNV512, true, 0)
	microKernel("dsyrk14x16LowerAVX512", f64, avx512, dMR512, dNV512, false, 'L')
	microKernel("dsyrk14x16UpperAVX512", f64, avx512, dMR512, dNV512, false, 'U')
}

func sgemmAVX512() {
	microKernel("sgemm14x32AVX512", f32, avx512, sMR512, sNV512, false, 0)
	microKernel("sgemm14x32AVX512Store", f32, avx512, sMR512, sNV512, true, 0)
}

func dgemmAVX2() {
	microKernel("dgemm6x8AVX2", f64, avx2, dMR2, dNV2, false, 0)
	microKernel("dgemm6x8AVX2Store", f64, avx2, dMR2, dNV2, true, 0)
	microKernel("dsyrk6x8LowerAVX2", f64, avx2, dMR2, dNV2, false, 'L')
	microKernel("dsyrk6x8UpperAVX2", f64, avx2, dMR2, dNV2, false, 'U')
}

func sgemmAVX2() {
	microKernel("sgemm6x16AVX2", f32, avx2, sMR2, sNV2, false, 0)
	microKernel("sgemm6x16AVX2Store", f32, avx2, sMR2, sNV2, true, 0)
}

// triMasks are the AVX-512 lane masks of the diagonal kernels: low[t] keeps
// lanes 0..t-1 (lower triangle: columns j <= i+off), high[t] keeps lanes
// t..7 (upper triangle: columns j >= i+off), for t = 0..8.
var triMasks = map[byte]Mem{}

func triMask(tri byte) Mem {
	if m, ok := triMasks[tri]; ok {
		return m
	}
	name := "syrkMaskLow"
	if tri == 'U' {
		name = "syrkMaskHigh"
	}
	m := GLOBL(name, RODATA|NOPTR)
	for t := 0; t <= 8; t++ {
		v := (1 << t) - 1
		if tri == 'U' {
			v = 0xff << t & 0xff
		}
		DATA(t, U8(v))
	}
	triMasks[tri] = m
	return m
}

// triStore adds (or stores) the accumulators into the part of the tile that
// lies in the tri triangle ('L': entry (i, j) with j <= i+off, 'U': j >= i+off)
// with masked loads and stores, so the entries outside are never read or
// written and no temporary tile is needed. The mask of row i, vector j comes
// from a table indexed by the number of lanes before the diagonal, clamped
// to 0..lanes.
func triStore(name string, e elem, v isa, mr, nv int, store bool, tri byte, acc func(i, j int) VecPhysical, c, ldc Register) {
	if !v.evex || e.size != 8 {
		panic(name + ": masked triangle stores need AVX-512 and float64")
	}
	lanes := v.vecBytes / e.size
	masks := triMask(tri)
	Comment("Masked add of the accumulators into the triangle's part of the tile.")
	off := Load(Param("off"), GP64())
	zero, full, t, mp := GP64(), GP64(), GP64(), GP64()
	LEAQ(masks, mp) // a static symbol cannot take an index register
	XORQ(zero, zero)
	MOVQ(U32(lanes), full)
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			// Lower: lanes l with j*lanes+l <= i+off, t = i+off+1-j*lanes of them.
			// Upper: lanes l with j*lanes+l >= i+off, from t = i+off-j*lanes on.
			d := i - j*lanes
			if tri == 'L' {
				d++
			}
			LEAQ(Mem{Base: off, Disp: d}, t)
			CMPQ(t, U8(0))
			CMOVQLT(zero, t)
			CMPQ(t, U8(lanes))
			CMOVQGT(full, t)
			KMOVB(Mem{Base: mp, Index: t, Scale: 1}, K1)
			cm := Mem{Base: c, Disp: j * v.vecBytes}
			if !store {
				VADDPD(cm, acc(i, j), K1, acc(i, j))
			}
			VMOVUPD(acc(i, j), K1, cm)
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
}

// triMasks256 are the AVX2 lane masks of the diagonal kernels, 32 bytes per
// entry (a lane is kept when its sign bit is set, as VMASKMOVPD reads it):
// low[t] keeps lanes 0..t-1, high[t] lanes t..3, for t = 0..4.
var triMasks256 = map[byte]Mem{}

func triMask256(tri byte) Mem {
	if m, ok := triMasks256[tri]; ok {
		return m
	}
	name := "syrkMaskLow256"
	if tri == 'U' {
		name = "syrkMaskHigh256"
	}
	m := GLOBL(name, RODATA|NOPTR)
	for t := 0; t <= 4; t++ {
		for l := 0; l < 4; l++ {
			keep := l < t
			if tri == 'U' {
				keep = l >= t
			}
			v := uint64(0)
			if keep {
				v = ^uint64(0)
			}
			DATA(32*t+8*l, U64(v))
		}
	}
	triMasks256[tri] = m
	return m
}

// triStoreAVX2 is triStore for the AVX2 kernels: the lane mask of row i,
// vector j is a ymm from triMasks256 and VMASKMOVPD loads and stores only
// its lanes (masked-off lanes are neither read nor written, and do not
// fault). mask and cv are free vector registers.
func triStoreAVX2(name string, e elem, v isa, mr, nv int, store bool, tri byte, acc func(i, j int) VecPhysical, c, ldc Register, mask, cv VecPhysical) {
	if v.evex || e.size != 8 || store {
		panic(name + ": the AVX2 triangle stores are for float64 accumulation")
	}
	lanes := v.vecBytes / e.size
	masks := triMask256(tri)
	Comment("Masked add of the accumulators into the triangle's part of the tile.")
	off := Load(Param("off"), GP64())
	zero, full, t, mp := GP64(), GP64(), GP64(), GP64()
	LEAQ(masks, mp)
	XORQ(zero, zero)
	MOVQ(U32(lanes), full)
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			d := i - j*lanes
			if tri == 'L' {
				d++
			}
			LEAQ(Mem{Base: off, Disp: d}, t)
			CMPQ(t, U8(0))
			CMOVQLT(zero, t)
			CMPQ(t, U8(lanes))
			CMOVQGT(full, t)
			SHLQ(U8(5), t) // 32 bytes per mask
			VMOVDQU(Mem{Base: mp, Index: t, Scale: 1}, mask)
			cm := Mem{Base: c, Disp: j * v.vecBytes}
			VMASKMOVPD(cm, mask, cv)
			VADDPD(cv, acc(i, j), acc(i, j))
			VMASKMOVPD(acc(i, j), mask, cm)
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
}
