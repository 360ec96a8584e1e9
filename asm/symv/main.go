// Command symv generates the amd64 fused symmetric matrix-vector kernels
// of package kernels (kernels/zsymv_amd64.{s,go}): Dsymv4, and Dger4, its
// counterpart that updates four rows. Run it through the repository's
// generate.go.
//
// A symmetric product y += A x that reads each stored element of A once
// needs, for every stored row r, both a dot product (y[r] += A[r,:] x) and
// an axpy (y += x[r] A[r,:]). The kernels do both for four rows in one pass
// over the columns, so the rows stream from memory once and x and y are
// loaded once per four rows: the tridiagonal reduction's products are
// memory-bound, and this halves their traffic against a dot pass followed
// by an axpy pass.
package main

import (
	"fmt"

	"github.com/awd-toolkit/awd/asm/internal/vec"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

type isa = vec.ISA

var avx2, avx512 = vec.AVX2, vec.AVX512

// rows is the number of rows of A one call handles.
const rows = 4

// prefetch is how far ahead (bytes) each row is prefetched, and
// prefetchNext how many lines of each of the next call's rows are
// prefetched on entry (its rows start a new stream each, whose first misses
// would otherwise stall the call).
const prefetch, prefetchNext = 2048, 4

func main() {
	ConstraintExpr("amd64,!purego")
	for _, v := range []isa{avx2, avx512} {
		dsymv4(v)
		dger4(v, 1)
		dger4(v, 2)
	}
	Generate()
}

// rowPointers returns registers pointing at the four rows from p0, lda
// elements apart (lda is scaled to bytes in place).
func rowPointers(p0, lda Register) []Register {
	Comment("Row pointers p0..p3, lda in bytes.")
	SHLQ(U8(3), lda)
	p := []Register{p0, GP64(), GP64(), GP64()}
	for k := 1; k < rows; k++ {
		MOVQ(p[k-1], p[k])
		ADDQ(lda, p[k])
	}
	return p
}

// dsymv4 emits the four-row kernel. Each trip handles one vector of
// columns: x and y are loaded once, each row's vector once, and feeds both
// the row's dot accumulator and y. The dot chains advance once per trip,
// which at four loads per trip is below the FMA latency bound only when the
// rows come from L1; they stream from L2 or L3, so one vector per trip is
// enough and keeps the kernel simple. The AVX-512 kernel ends with a
// four-column trip when len(x) mod 8 >= 4, and both reduce the dot
// accumulators themselves: in the bulge chasing the rows are 64 long or
// less, and a reduction in Go cost as much as the loop.
func dsymv4(v isa) {
	name := "dsymv4" + v.Name
	TEXT(name, NOSPLIT, "func(a []float64, lda int, x, y []float64, alpha, dot *[4]float64, next []float64, nlda int)")
	Doc(
		fmt.Sprintf("%s (%s) computes, for the rows a[k*lda:] (k < 4) and c < len(x), a multiple of 4:", name, v.Name),
		"",
		"\ty[c] += alpha[0]*a[c] + alpha[1]*a[lda+c] + alpha[2]*a[2*lda+c] + alpha[3]*a[3*lda+c]",
		"\tdot[k] += a[k*lda+c] * x[c]",
		"",
		"The caller checks the bounds.",
	)
	Pragma("noescape")
	p0 := Load(Param("a").Base(), GP64())
	lda := Load(Param("lda"), GP64())
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	ap := Load(Param("alpha"), GP64())

	p := rowPointers(p0, lda)

	alpha := v.Regs[0:rows]
	dot := v.Regs[rows : 2*rows]
	xr, yr, ar := v.Regs[2*rows], v.Regs[2*rows+1], v.Regs[2*rows+2]
	for k := 0; k < rows; k++ {
		VBROADCASTSD(Mem{Base: ap, Disp: 8 * k}, alpha[k])
		VXORPD(dot[k].AsY(), dot[k].AsY(), dot[k].AsY()) // VEX zeroes a zmm's upper bits too
	}

	Comment("Prefetch the first lines of the next call's rows.")
	nx := Load(Param("next").Base(), GP64())
	nl := Load(Param("nlda"), GP64())
	SHLQ(U8(3), nl)
	for k := 0; k < rows; k++ {
		for l := 0; l < prefetchNext; l++ {
			PREFETCHT0(Mem{Base: nx, Disp: 64 * l})
		}
		if k < rows-1 {
			ADDQ(nl, nx)
		}
	}
	i := GP64()
	XORQ(i, i)
	at := func(base Register) Mem { return Mem{Base: base, Index: i, Scale: 8} }
	// trip emits one trip of w columns on registers of that width.
	trip := func(w int, vr func(VecPhysical) Register) {
		VMOVUPD(at(x), vr(xr))
		VMOVUPD(at(y), vr(yr))
		for k := 0; k < rows; k++ {
			if w == v.Lanes {
				PREFETCHT0(Mem{Base: p[k], Index: i, Scale: 8, Disp: prefetch})
			}
			VMOVUPD(at(p[k]), vr(ar))
			VFMADD231PD(vr(ar), vr(xr), vr(dot[k]))
			VFMADD231PD(vr(ar), vr(alpha[k]), vr(yr))
		}
		VMOVUPD(vr(yr), at(y))
		ADDQ(U32(w), i)
	}
	full := func(r VecPhysical) Register { return r }
	half := func(r VecPhysical) Register { return r.AsY() }
	m := GP64()
	MOVQ(n, m)
	ANDQ(U32(^uint32(v.Lanes-1)), m)
	Label(name + "_loop")
	CMPQ(i, m)
	JGE(LabelRef(name + "_tail"))
	trip(v.Lanes, full)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_tail")
	if v.Lanes == 8 {
		Comment("Fold the dot accumulators to four lanes, then a four-column trip if one is left.")
		tmp := v.Regs[2*rows+3]
		for k := 0; k < rows; k++ {
			VEXTRACTF64X4(U8(1), dot[k], tmp.AsY())
			VADDPD(tmp.AsY(), dot[k].AsY(), dot[k].AsY())
		}
		ADDQ(U8(4), m)
		CMPQ(m, n)
		JG(LabelRef(name + "_done"))
		trip(4, half)
	}
	Label(name + "_done")
	Comment("Add the dot products to dot.")
	dp := Load(Param("dot"), GP64())
	tmp := v.Regs[2*rows+3]
	for k := 0; k < rows; k++ {
		d := dot[k]
		VEXTRACTF128(U8(1), d.AsY(), tmp.AsX())
		VADDPD(tmp.AsX(), d.AsX(), d.AsX())
		VPERMILPD(U8(1), d.AsX(), tmp.AsX())
		VADDSD(tmp.AsX(), d.AsX(), d.AsX())
		VADDSD(Mem{Base: dp, Disp: 8 * k}, d.AsX(), d.AsX())
		VMOVSD(d.AsX(), Mem{Base: dp, Disp: 8 * k})
	}
	VZEROUPPER()
	RET()
}

// dger4 emits the four-row rank-1 (vecs = 1) or rank-2 (vecs = 2) update
// a[k*lda+c] += cx[k]*x[c] (+ cy[k]*y[c]): the updates of the small blocks
// in the band reduction's bulge chasing, where a call per row and vector
// would cost more than the arithmetic. x (and y) are loaded once per trip
// for all four rows.
func dger4(v isa, vecs int) {
	name := fmt.Sprintf("dger4x%d%s", vecs, v.Name)
	sig := "func(a []float64, lda int, x []float64, cx *[4]float64)"
	doc := "\ta[k*lda+c] += cx[k]*x[c]"
	if vecs == 2 {
		sig = "func(a []float64, lda int, x, y []float64, cx, cy *[4]float64)"
		doc = "\ta[k*lda+c] += cx[k]*x[c] + cy[k]*y[c]"
	}
	TEXT(name, NOSPLIT, sig)
	Doc(
		fmt.Sprintf("%s (%s) computes, for k < 4 and c < len(x), a multiple of 4:", name, v.Name),
		"",
		doc,
		"",
		"The caller checks the bounds.",
	)
	Pragma("noescape")
	p0 := Load(Param("a").Base(), GP64())
	lda := Load(Param("lda"), GP64())
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	var y Register
	if vecs == 2 {
		y = Load(Param("y").Base(), GP64())
	}
	p := rowPointers(p0, lda)
	cx := v.Regs[0:rows]
	cy := v.Regs[rows : 2*rows]
	xr, yr, ar := v.Regs[2*rows], v.Regs[2*rows+1], v.Regs[2*rows+2]
	cxp := Load(Param("cx"), GP64())
	for k := 0; k < rows; k++ {
		VBROADCASTSD(Mem{Base: cxp, Disp: 8 * k}, cx[k])
	}
	if vecs == 2 {
		cyp := Load(Param("cy"), GP64())
		for k := 0; k < rows; k++ {
			VBROADCASTSD(Mem{Base: cyp, Disp: 8 * k}, cy[k])
		}
	}
	i := GP64()
	XORQ(i, i)
	at := func(base Register) Mem { return Mem{Base: base, Index: i, Scale: 8} }
	trip := func(w int, vr func(VecPhysical) Register) {
		VMOVUPD(at(x), vr(xr))
		if vecs == 2 {
			VMOVUPD(at(y), vr(yr))
		}
		for k := 0; k < rows; k++ {
			VMOVUPD(at(p[k]), vr(ar))
			VFMADD231PD(vr(xr), vr(cx[k]), vr(ar))
			if vecs == 2 {
				VFMADD231PD(vr(yr), vr(cy[k]), vr(ar))
			}
			VMOVUPD(vr(ar), at(p[k]))
		}
		ADDQ(U32(w), i)
	}
	m := GP64()
	MOVQ(n, m)
	ANDQ(U32(^uint32(v.Lanes-1)), m)
	Label(name + "_loop")
	CMPQ(i, m)
	JGE(LabelRef(name + "_tail"))
	trip(v.Lanes, func(r VecPhysical) Register { return r })
	JMP(LabelRef(name + "_loop"))
	Label(name + "_tail")
	if v.Lanes == 8 {
		Comment("A four-column trip if one is left.")
		ADDQ(U8(4), m)
		CMPQ(m, n)
		JG(LabelRef(name + "_done"))
		trip(4, func(r VecPhysical) Register { return r.AsY() })
	}
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
