// Command conv generates the amd64 direct-convolution kernels of package
// kernels (kernels/zconv_amd64.{s,go}): SconvTile's tiles (forward
// convolution and input gradient) and SconvGrad's (weight gradient). Run it
// through the //go:generate line of the repository's generate.go.
//
// Both keep a tile of the output in registers for the whole sum, as the GEMM
// micro-kernels do, but read their broadcast operand in place instead of
// from a packed panel: SconvTile broadcasts the channels of 7-pixel
// segments of an NHWC image (the rows of a segment are as apart, addressed
// from two pointers per segment and the index registers as and 3*as), and
// SconvGrad broadcasts mr consecutive channels of one pixel and steps
// through pixels by a stride. Layouts and the loops they compute are in
// kernels/conv.go.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa is a vector register file.
type isa struct {
	name     string
	vecBytes int
	nregs    int
	reg      func(i int) VecPhysical
	evex     bool
}

var (
	zmms = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
	ymms = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

	avx512 = isa{"AVX512", 64, 32, func(i int) VecPhysical { return zmms[i] }, true}
	// AVX2 code must stay in Y0-Y15: Y16-Y31 need AVX-512VL.
	avx2 = isa{"AVX2", 32, 16, func(i int) VecPhysical { return ymms[i] }, false}
)

// seg is the number of pixels of a segment (kernels.ConvSeg).
const seg = 7

// Tiles. SconvTile AVX-512: 2 segments x 7 pixels x 32 channels = 28 zmm
// accumulators + 2 weight vectors + 2 broadcast registers, the GEMM's
// 14 x 32 block. SconvTile AVX2: one segment x 16 channels = 14 ymm
// accumulators + one weight vector + one broadcast register: the second
// weight vector is an FMA memory operand (7 more loads per step, 15 loads
// per 14 FMAs, which Zen's three load ports sustain). SconvGrad: the GEMM
// kernels' blocks, 14 x 32 (AVX-512) and 6 x 16 (AVX2).
const (
	tileSegs512, tileNV512 = 2, 2
	tileSegs2, tileNV2     = 1, 2
	gradMR512, gradNV512   = 14, 2
	gradMR2, gradNV2       = 6, 2
)

// unroll is how many channels (SconvTile) or pixels (SconvGrad) one trip of
// the inner loop takes.
const unroll = 4

func main() {
	ConstraintExpr("amd64,!purego")
	convTile("sconv2x7x32AVX512", avx512, tileSegs512, tileNV512)
	convTile("sconv1x7x16AVX2", avx2, tileSegs2, tileNV2)
	convGrad("sconvGrad14x32AVX512", avx512, gradMR512, gradNV512)
	convGrad("sconvGrad6x16AVX2", avx2, gradMR2, gradNV2)
	pool("smaxPoolAVX512", "smaxPoolBackAVX512", avx512)
	pool("smaxPoolAVX2", "smaxPoolBackAVX2", avx2)
	Generate()
}

// segRows addresses the 7 rows of a segment from two pointers, p (row 0)
// and q = p + 3*stride, and the index registers s = stride and s3 =
// 3*stride: rows 0-2 are p, p+s, p+2s, rows 3-6 q, q+s, q+2s, q+s3.
func segRow(p, q, s, s3 Register, i, disp int) Mem {
	switch i {
	case 0:
		return Mem{Base: p, Disp: disp}
	case 1:
		return Mem{Base: p, Index: s, Scale: 1, Disp: disp}
	case 2:
		return Mem{Base: p, Index: s, Scale: 2, Disp: disp}
	case 3:
		return Mem{Base: q, Disp: disp}
	case 4:
		return Mem{Base: q, Index: s, Scale: 1, Disp: disp}
	case 5:
		return Mem{Base: q, Index: s, Scale: 2, Disp: disp}
	}
	return Mem{Base: q, Index: s3, Scale: 1, Disp: disp}
}

func zero(v isa, r VecPhysical) {
	if v.evex {
		VPXORD(r, r, r)
	} else {
		VXORPS(r, r, r)
	}
}

// convTile emits name(a, a0, a1, as, taps, kc, b, c, c0, c1, cs, epi, bias,
// mask): SconvTile for segs segments of 7 pixels by nv vectors of channels.
func convTile(name string, v isa, segs, nv int) {
	lanes := v.vecBytes / 4
	nr := nv * lanes
	nacc := segs * seg * nv
	// AVX-512: accumulators, nv weight vectors, two broadcast registers.
	// AVX2: accumulators, one weight vector, one broadcast register; the
	// other weight vectors are memory operands.
	wregs, bregs := nv, 2
	if !v.evex {
		wregs, bregs = 1, 1
	}
	if nacc+wregs+bregs > v.nregs {
		panic(fmt.Sprintf("%s: %d registers needed", name, nacc+wregs+bregs))
	}
	acc := func(i, j int) VecPhysical { return v.reg(i*nv + j) }
	wreg := func(j int) VecPhysical { return v.reg(nacc + j) }
	breg := func(i int) VecPhysical { return v.reg(nacc + wregs + i%bregs) }

	TEXT(name, NOSPLIT, "func(a []float32, a0, a1, as int, taps []int, kc int, b, c []float32, c0, c1, cs int, epi int, bias, mask []float32)")
	segDoc := "a0"
	if segs == 2 {
		segDoc = "a0 (s = 0) and a1 (s = 1)"
	}
	Doc(
		fmt.Sprintf("%s is SconvTile for %d segment(s) of 7 pixels by %d channels (%s),", name, segs, nr, v.name),
		fmt.Sprintf("the segments starting at %s in a and c0, c1 in c:", segDoc),
		"",
		fmt.Sprintf("\tfor s < %d, i < 7, j < %d:", segs, nr),
		"\t\tacc := bias[j] if epi == 1, else 0",
		"\t\tfor t, off := range taps { for p < kc { acc += a[a_s+i*as+off+p] * b[(t*kc+p)*"+fmt.Sprint(nr)+"+j] } }",
		"\t\tc[c_s+i*cs+j] = acc (epi 0), max(acc, 0) (epi 1), acc if mask[c_s+i*cs+j] > 0 else 0 (epi 2)",
	)
	Pragma("noescape")

	abase := Load(Param("a").Base(), GP64())
	s, s3 := GP64(), GP64()
	Load(Param("as"), s)
	SHLQ(U8(2), s)
	LEAQ(Mem{Base: s, Index: s, Scale: 2}, s3)
	bp := Load(Param("b").Base(), GP64())
	tp := Load(Param("taps").Base(), GP64())
	tn := Load(Param("taps").Len(), GP64())
	Comment("Accumulators start at the bias (epi 1) or zero.")
	CMPQ(Load(Param("epi"), GP64()), U8(1))
	JNE(LabelRef(name + "_zero"))
	bias := Load(Param("bias").Base(), GP64())
	for j := 0; j < nv; j++ {
		VMOVUPS(Mem{Base: bias, Disp: j * v.vecBytes}, acc(0, j))
	}
	for i := 1; i < segs*seg; i++ {
		for j := 0; j < nv; j++ {
			VMOVAPS(acc(0, j), acc(i, j))
		}
	}
	JMP(LabelRef(name + "_taps"))
	Label(name + "_zero")
	for i := 0; i < nacc; i++ {
		zero(v, v.reg(i))
	}

	ps := make([]Register, segs)
	qs := make([]Register, segs)
	for k := range ps {
		ps[k], qs[k] = GP64(), GP64()
	}
	n, t := GP64(), GP64()

	step := func(u int) {
		for j := 0; j < wregs; j++ {
			VMOVUPS(Mem{Base: bp, Disp: u*nr*4 + j*v.vecBytes}, wreg(j))
		}
		for i := 0; i < segs*seg; i++ {
			k, r := i/seg, i%seg
			bc := breg(i)
			VBROADCASTSS(segRow(ps[k], qs[k], s, s3, r, u*4), bc)
			for j := 0; j < nv; j++ {
				if j < wregs {
					VFMADD231PS(wreg(j), bc, acc(i, j))
				} else {
					VFMADD231PS(Mem{Base: bp, Disp: u*nr*4 + j*v.vecBytes}, bc, acc(i, j))
				}
			}
		}
	}

	Label(name + "_taps")
	Comment("Segment pointers for this tap: a + 4*(a_s + off), and 3 rows on.")
	MOVQ(Mem{Base: tp}, t)
	for k := 0; k < segs; k++ {
		Load(Param(fmt.Sprintf("a%d", k)), ps[k])
		ADDQ(t, ps[k])
		LEAQ(Mem{Base: abase, Index: ps[k], Scale: 4}, ps[k])
		LEAQ(Mem{Base: ps[k], Index: s3, Scale: 1}, qs[k])
	}
	Load(Param("kc"), n)
	SHRQ(U8(2), n)
	JZ(LabelRef(name + "_tail"))
	Commentf("Main loop: %d channels per trip.", unroll)
	Label(name + "_loop")
	for u := 0; u < unroll; u++ {
		step(u)
	}
	for k := 0; k < segs; k++ {
		ADDQ(U8(4*unroll), ps[k])
		ADDQ(U8(4*unroll), qs[k])
	}
	ADDQ(U32(unroll*nr*4), bp)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))

	Label(name + "_tail")
	Load(Param("kc"), n)
	ANDQ(U8(unroll-1), n)
	JZ(LabelRef(name + "_next"))
	Label(name + "_tailloop")
	step(0)
	for k := 0; k < segs; k++ {
		ADDQ(U8(4), ps[k])
		ADDQ(U8(4), qs[k])
	}
	ADDQ(U32(nr*4), bp)
	DECQ(n)
	JNZ(LabelRef(name + "_tailloop"))

	Label(name + "_next")
	ADDQ(U8(8), tp)
	DECQ(tn)
	JNZ(LabelRef(name + "_taps"))

	Comment("Epilogue: segment pointers into c (and mask) with the stride cs.")
	cbase := Load(Param("c").Base(), GP64())
	Load(Param("cs"), s)
	SHLQ(U8(2), s)
	LEAQ(Mem{Base: s, Index: s, Scale: 2}, s3)
	segPtrs := func(base Register) {
		for k := 0; k < segs; k++ {
			Load(Param(fmt.Sprintf("c%d", k)), ps[k])
			LEAQ(Mem{Base: base, Index: ps[k], Scale: 4}, ps[k])
			LEAQ(Mem{Base: ps[k], Index: s3, Scale: 1}, qs[k])
		}
	}
	tmp := v.reg(nacc)    // a free vector after the loop
	zr := v.reg(nacc + 1) // zero
	zero(v, zr)
	epi := Load(Param("epi"), GP64())
	CMPQ(epi, U8(1))
	JNE(LabelRef(name + "_nomax"))
	Comment("epi 1: ReLU.")
	for i := 0; i < nacc; i++ {
		VMAXPS(zr, v.reg(i), v.reg(i))
	}
	Label(name + "_nomax")
	CMPQ(epi, U8(2))
	JNE(LabelRef(name + "_store"))
	Comment("epi 2: keep the sums where the mask is above zero (0 < mask is false for NaN).")
	mbase := Load(Param("mask").Base(), GP64())
	segPtrs(mbase)
	for i := 0; i < segs*seg; i++ {
		k, r := i/seg, i%seg
		for j := 0; j < nv; j++ {
			m := segRow(ps[k], qs[k], s, s3, r, j*v.vecBytes)
			if v.evex {
				VCMPPS(U8(0x11), m, zr, K1) // LT_OQ: 0 < mask
				VMOVAPS_Z(acc(i, j), K1, acc(i, j))
			} else {
				VCMPPS(U8(0x11), m, zr, tmp)
				VANDPS(tmp, acc(i, j), acc(i, j))
			}
		}
	}
	Label(name + "_store")
	segPtrs(cbase)
	for i := 0; i < segs*seg; i++ {
		k, r := i/seg, i%seg
		for j := 0; j < nv; j++ {
			VMOVUPS(acc(i, j), segRow(ps[k], qs[k], s, s3, r, j*v.vecBytes))
		}
	}
	VZEROUPPER()
	RET()
}

// convGrad emits name(a, aoff, as, b, boff, bs, runs, kc, c, ldc, add):
// SconvGrad for an mr x (nv vectors) tile.
func convGrad(name string, v isa, mr, nv int) {
	lanes := v.vecBytes / 4
	nr := nv * lanes
	nacc := mr * nv
	if nacc+nv+2 > v.nregs {
		panic(fmt.Sprintf("%s: %d registers needed", name, nacc+nv+2))
	}
	acc := func(i, j int) VecPhysical { return v.reg(i*nv + j) }
	wreg := func(j int) VecPhysical { return v.reg(nacc + j) }
	breg := func(i int) VecPhysical { return v.reg(nacc + nv + i%2) }

	TEXT(name, NOSPLIT, "func(a []float32, aoff, as int, b []float32, boff, bs int, runs []int, kc int, c []float32, ldc int, add bool)")
	Doc(
		fmt.Sprintf("%s is SconvGrad for a %d x %d tile (%s):", name, mr, nr, v.name),
		"",
		fmt.Sprintf("\tfor i < %d, j < %d:", mr, nr),
		"\t\tacc := sum over r, p < kc of a[aoff+(runs[r]+p)*as+i] * b[boff+(runs[r]+p)*bs+j]",
		"\t\tc[i*ldc+j] = acc, or c[i*ldc+j] + acc when add",
	)
	Pragma("noescape")
	for i := 0; i < nacc; i++ {
		zero(v, v.reg(i))
	}
	rp := Load(Param("runs").Base(), GP64())
	rn := Load(Param("runs").Len(), GP64())
	as, as3, bs, bs3 := GP64(), GP64(), GP64(), GP64()
	Load(Param("as"), as)
	SHLQ(U8(2), as)
	LEAQ(Mem{Base: as, Index: as, Scale: 2}, as3)
	Load(Param("bs"), bs)
	SHLQ(U8(2), bs)
	LEAQ(Mem{Base: bs, Index: bs, Scale: 2}, bs3)
	pa, pb, n, t := GP64(), GP64(), GP64(), GP64()

	TESTQ(rn, rn)
	JZ(LabelRef(name + "_store"))
	// step u reads pixel p+u: A at pa + u*as (u = 3 through as3), B likewise.
	aAt := func(u, i int) Mem {
		switch u {
		case 0:
			return Mem{Base: pa, Disp: 4 * i}
		case 3:
			return Mem{Base: pa, Index: as3, Scale: 1, Disp: 4 * i}
		}
		return Mem{Base: pa, Index: as, Scale: uint8(u), Disp: 4 * i}
	}
	bAt := func(u, j int) Mem {
		switch u {
		case 0:
			return Mem{Base: pb, Disp: j * v.vecBytes}
		case 3:
			return Mem{Base: pb, Index: bs3, Scale: 1, Disp: j * v.vecBytes}
		}
		return Mem{Base: pb, Index: bs, Scale: uint8(u), Disp: j * v.vecBytes}
	}
	step := func(u int) {
		for j := 0; j < nv; j++ {
			VMOVUPS(bAt(u, j), wreg(j))
		}
		for i := 0; i < mr; i++ {
			bc := breg(i)
			VBROADCASTSS(aAt(u, i), bc)
			for j := 0; j < nv; j++ {
				VFMADD231PS(wreg(j), bc, acc(i, j))
			}
		}
	}

	Label(name + "_runs")
	Comment("pa = a + 4*(aoff + run*as/4), pb likewise (as and bs are in bytes).")
	MOVQ(Mem{Base: rp}, t)
	MOVQ(t, pa)
	IMULQ(as, pa)
	Load(Param("aoff"), n)
	LEAQ(Mem{Base: pa, Index: n, Scale: 4}, pa)
	Load(Param("a").Base(), n)
	ADDQ(n, pa)
	MOVQ(t, pb)
	IMULQ(bs, pb)
	Load(Param("boff"), n)
	LEAQ(Mem{Base: pb, Index: n, Scale: 4}, pb)
	Load(Param("b").Base(), n)
	ADDQ(n, pb)

	Load(Param("kc"), n)
	SHRQ(U8(2), n)
	JZ(LabelRef(name + "_tail"))
	Commentf("Main loop: %d pixels per trip.", unroll)
	Label(name + "_loop")
	for u := 0; u < unroll; u++ {
		step(u)
	}
	LEAQ(Mem{Base: pa, Index: as, Scale: 4}, pa)
	LEAQ(Mem{Base: pb, Index: bs, Scale: 4}, pb)
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))

	Label(name + "_tail")
	Load(Param("kc"), n)
	ANDQ(U8(unroll-1), n)
	JZ(LabelRef(name + "_next"))
	Label(name + "_tailloop")
	step(0)
	ADDQ(as, pa)
	ADDQ(bs, pb)
	DECQ(n)
	JNZ(LabelRef(name + "_tailloop"))

	Label(name + "_next")
	ADDQ(U8(8), rp)
	DECQ(rn)
	JNZ(LabelRef(name + "_runs"))

	Label(name + "_store")
	cp := Load(Param("c").Base(), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	add := Load(Param("add"), GP8())
	TESTB(add, add)
	JZ(LabelRef(name + "_plain"))
	Comment("c += accumulators, row by row.")
	MOVQ(cp, t)
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			VADDPS(Mem{Base: t, Disp: j * v.vecBytes}, acc(i, j), acc(i, j))
		}
		if i < mr-1 {
			ADDQ(ldc, t)
		}
	}
	Label(name + "_plain")
	Comment("c = accumulators, row by row.")
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			VMOVUPS(acc(i, j), Mem{Base: cp, Disp: j * v.vecBytes})
		}
		if i < mr-1 {
			ADDQ(ldc, cp)
		}
	}
	VZEROUPPER()
	RET()
}

// pool emits the 2x2 max-pool of one output row and its gradient:
// name(in, r0, r1, out, o0, which, w0, n, c) and
// back(g, o0, pooled, which, w0, dst, r0, r1, n, c), with pixels of c
// channels (c a multiple of the vector length); see kernels/conv.go.
func pool(name, back string, v isa) {
	lanes := v.vecBytes / 4
	TEXT(name, NOSPLIT, "func(in []float32, r0, r1 int, out []float32, o0 int, which []int32, w0 int, n, c int)")
	Doc(
		fmt.Sprintf("%s is SmaxPool (%s): for x < n and ch < c (a multiple of %d), the first", name, v.name, lanes),
		"largest of in[r0+2x*c+ch], in[r0+(2x+1)*c+ch], in[r1+2x*c+ch], in[r1+(2x+1)*c+ch]",
		"(by >, so a NaN never replaces and is never replaced) goes to out[o0+x*c+ch],",
		"its position (0-3) to which[w0+x*c+ch].",
	)
	Pragma("noescape")
	p0, p1, po, pw := GP64(), GP64(), GP64(), GP64()
	cb, n, k := GP64(), GP64(), GP64()
	base := GP64()
	Load(Param("c"), cb)
	SHLQ(U8(2), cb)
	Load(Param("in").Base(), base)
	Load(Param("r0"), p0)
	LEAQ(Mem{Base: base, Index: p0, Scale: 4}, p0)
	Load(Param("r1"), p1)
	LEAQ(Mem{Base: base, Index: p1, Scale: 4}, p1)
	Load(Param("out").Base(), base)
	Load(Param("o0"), po)
	LEAQ(Mem{Base: base, Index: po, Scale: 4}, po)
	Load(Param("which").Base(), base)
	Load(Param("w0"), pw)
	LEAQ(Mem{Base: base, Index: pw, Scale: 4}, pw)
	Load(Param("n"), n)
	// constants 1, 2, 3 (int32 lanes)
	cst := []VecPhysical{v.reg(8), v.reg(9), v.reg(10)}
	for d := 1; d <= 3; d++ {
		MOVL(U32(d), base.As32())
		if v.evex {
			VPBROADCASTD(base.As32(), cst[d-1])
		} else {
			MOVQ(base, cst[d-1].AsX())
			VPBROADCASTD(cst[d-1].AsX(), cst[d-1])
		}
	}
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	Label(name + "_pixel")
	Load(Param("c"), k)
	SHRQ(U8(lanes/8+2), k) // vectors per pixel: c/lanes
	Label(name + "_vec")
	vals := []VecPhysical{v.reg(0), v.reg(1), v.reg(2), v.reg(3)}
	m, idx, msk := vals[0], v.reg(4), v.reg(5)
	VMOVUPS(Mem{Base: p0}, vals[0])
	VMOVUPS(Mem{Base: p0, Index: cb, Scale: 1}, vals[1])
	VMOVUPS(Mem{Base: p1}, vals[2])
	VMOVUPS(Mem{Base: p1, Index: cb, Scale: 1}, vals[3])
	zero(v, idx)
	for d := 1; d <= 3; d++ {
		if v.evex {
			VCMPPS(U8(0x1e), m, vals[d], K1) // GT_OQ: v_d > m
			VMOVAPS(vals[d], K1, m)
			VMOVDQA32(cst[d-1], K1, idx)
		} else {
			VCMPPS(U8(0x1e), m, vals[d], msk)
			VBLENDVPS(msk, vals[d], m, m)
			VBLENDVPS(msk, cst[d-1], idx, idx)
		}
	}
	VMOVUPS(m, Mem{Base: po})
	VMOVUPS(idx, Mem{Base: pw})
	ADDQ(U8(v.vecBytes), p0)
	ADDQ(U8(v.vecBytes), p1)
	ADDQ(U8(v.vecBytes), po)
	ADDQ(U8(v.vecBytes), pw)
	DECQ(k)
	JNZ(LabelRef(name + "_vec"))
	Comment("Next output pixel: the inputs move on by one more pixel.")
	ADDQ(cb, p0)
	ADDQ(cb, p1)
	DECQ(n)
	JNZ(LabelRef(name + "_pixel"))
	Label(name + "_done")
	VZEROUPPER()
	RET()

	TEXT(back, NOSPLIT, "func(g []float32, o0 int, pooled []float32, which []int32, w0 int, dst []float32, r0, r1 int, n, c int)")
	Doc(
		fmt.Sprintf("%s is SmaxPoolBack (%s): for x < n and ch < c (a multiple of %d), with", back, v.name, lanes),
		"v = g[o0+x*c+ch] where pooled[o0+x*c+ch] > 0, else 0, and k = which[w0+x*c+ch],",
		"dst[r0+2x*c+ch], dst[r0+(2x+1)*c+ch], dst[r1+2x*c+ch], dst[r1+(2x+1)*c+ch] = v",
		"for the position k and 0 for the others.",
	)
	Pragma("noescape")
	pg, pp := GP64(), GP64()
	p0, p1, pw = GP64(), GP64(), GP64()
	cb, n, k, base = GP64(), GP64(), GP64(), GP64()
	Load(Param("c"), cb)
	SHLQ(U8(2), cb)
	Load(Param("o0"), k)
	Load(Param("g").Base(), pg)
	LEAQ(Mem{Base: pg, Index: k, Scale: 4}, pg)
	Load(Param("pooled").Base(), pp)
	LEAQ(Mem{Base: pp, Index: k, Scale: 4}, pp)
	Load(Param("which").Base(), base)
	Load(Param("w0"), pw)
	LEAQ(Mem{Base: base, Index: pw, Scale: 4}, pw)
	Load(Param("dst").Base(), base)
	Load(Param("r0"), p0)
	LEAQ(Mem{Base: base, Index: p0, Scale: 4}, p0)
	Load(Param("r1"), p1)
	LEAQ(Mem{Base: base, Index: p1, Scale: 4}, p1)
	Load(Param("n"), n)
	for d := 1; d <= 3; d++ {
		MOVL(U32(d), base.As32())
		if v.evex {
			VPBROADCASTD(base.As32(), cst[d-1])
		} else {
			MOVQ(base, cst[d-1].AsX())
			VPBROADCASTD(cst[d-1].AsX(), cst[d-1])
		}
	}
	zr := v.reg(11)
	zero(v, zr)
	TESTQ(n, n)
	JZ(LabelRef(back + "_done"))
	Label(back + "_pixel")
	Load(Param("c"), k)
	SHRQ(U8(lanes/8+2), k)
	Label(back + "_vec")
	gv, kv, t := v.reg(0), v.reg(1), v.reg(2)
	VMOVUPS(Mem{Base: pg}, gv)
	VMOVUPS(Mem{Base: pw}, kv)
	dsts := []Mem{{Base: p0}, {Base: p0, Index: cb, Scale: 1}, {Base: p1}, {Base: p1, Index: cb, Scale: 1}}
	if v.evex {
		VCMPPS(U8(0x11), Mem{Base: pp}, zr, K2) // LT_OQ: 0 < pooled
		for d := 0; d < 4; d++ {
			c := zr
			if d > 0 {
				c = cst[d-1]
			}
			VPCMPEQD(c, kv, K1)
			KANDW(K1, K2, K1)
			VMOVAPS_Z(gv, K1, t)
			VMOVUPS(t, dsts[d])
		}
	} else {
		VCMPPS(U8(0x11), Mem{Base: pp}, zr, t)
		VANDPS(t, gv, gv)
		for d := 0; d < 4; d++ {
			c := zr
			if d > 0 {
				c = cst[d-1]
			}
			VPCMPEQD(c, kv, t)
			VANDPS(t, gv, t)
			VMOVUPS(t, dsts[d])
		}
	}
	ADDQ(U8(v.vecBytes), pg)
	ADDQ(U8(v.vecBytes), pp)
	ADDQ(U8(v.vecBytes), pw)
	ADDQ(U8(v.vecBytes), p0)
	ADDQ(U8(v.vecBytes), p1)
	DECQ(k)
	JNZ(LabelRef(back + "_vec"))
	ADDQ(cb, p0)
	ADDQ(cb, p1)
	DECQ(n)
	JNZ(LabelRef(back + "_pixel"))
	Label(back + "_done")
	VZEROUPPER()
	RET()
}
