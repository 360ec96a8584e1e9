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

// unroll is the vectors per main-loop trip: 4 independent accumulators
// (dot) or load/store streams cover the 4-cycle FMA latency at 1-2 vector
// loads per cycle.
const unroll = 4

// loops emits the three-stage loop over n elements with index register i
// (in elements): vec(k, i) handles one vector at element i+k*lanes, sca(i)
// one element; between the vector and scalar stages mid() runs (if any).
// If align (the base of x) is not nil, a first stage runs sca until x
// reaches a vector boundary, so the vector loads and stores of that slice
// never split a cache line (only for elementwise kernels: it would make a
// reduction's order depend on the address).
func loops(name string, v isa, n, i, align Register, vec func(k int), sca func(), mid func()) {
	m := GP64()
	XORQ(i, i)
	if align != nil {
		Commentf("Peel elements until x is %d-byte aligned: then no %d-bit access to x splits a line.", 8*v.Lanes, 64*v.Lanes)
		MOVQ(align, m)
		NEGQ(m)
		ANDQ(U8(8*v.Lanes-1), m)
		SHRQ(U8(3), m) // elements to the boundary (float64s are 8-aligned)
		CMPQ(m, n)
		CMOVQGT(n, m) // but at most n
		Label(name + "_peel")
		CMPQ(i, m)
		JGE(LabelRef(name + "_peeled"))
		sca()
		INCQ(i)
		JMP(LabelRef(name + "_peel"))
		Label(name + "_peeled")
	}
	// bound sets m to the last start of a block of size elements, counting
	// from i: i + (n-i) rounded down to a multiple of size.
	bound := func(size int) {
		MOVQ(n, m)
		if align != nil {
			SUBQ(i, m)
		}
		ANDQ(I32(-size), m)
		if align != nil {
			ADDQ(i, m)
		}
	}
	Commentf("i counts elements: %d per trip while %d fit, then %d, then 1.", unroll*v.Lanes, unroll*v.Lanes, v.Lanes)
	bound(unroll * v.Lanes)
	Label(name + "_loopU")
	CMPQ(i, m)
	JGE(LabelRef(name + "_vec"))
	for k := 0; k < unroll; k++ {
		vec(k)
	}
	ADDQ(U32(unroll*v.Lanes), i)
	JMP(LabelRef(name + "_loopU"))

	Label(name + "_vec")
	bound(v.Lanes)
	Label(name + "_loopV")
	CMPQ(i, m)
	JGE(LabelRef(name + "_mid"))
	vec(0)
	ADDQ(U32(v.Lanes), i)
	JMP(LabelRef(name + "_loopV"))

	Label(name + "_mid")
	if mid != nil {
		mid()
	}
	Label(name + "_loop1")
	CMPQ(i, n)
	JGE(LabelRef(name + "_done"))
	sca()
	INCQ(i)
	JMP(LabelRef(name + "_loop1"))
	Label(name + "_done")
}

// at is element i+k*lanes of the slice based at p.
func at(p, i Register, k, lanes int) Mem {
	return Mem{Base: p, Index: i, Scale: 8, Disp: 8 * k * lanes}
}

// doc writes the stub's doc comment: the Go loop the kernel computes.
func doc(name, v string, hasY bool, lines ...string) {
	head := fmt.Sprintf("%s (%s) computes, for i < len(x):", name, v)
	if hasY {
		head = fmt.Sprintf("%s (%s) computes, for i < len(x) (y at least as long):", name, v)
	}
	Doc(append([]string{head, ""}, lines...)...)
}

func ddot(v isa) {
	name := "ddot" + v.Name
	TEXT(name, NOSPLIT, "func(x, y []float64) float64")
	doc(name, v.Name, true, "\tfor i, xi := range x {", "\t\ts += xi * y[i]", "\t}", "\treturn s")
	Pragma("noescape")
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	i := GP64()
	acc := v.Regs[0:unroll]
	tmp := v.Regs[unroll : 2*unroll]
	Comment("Accumulators: one per unrolled vector, independent chains.")
	for _, r := range acc {
		VXORPD(r.AsY(), r.AsY(), r.AsY()) // VEX zeroes the upper bits of a zmm too
	}
	vec := func(k int) {
		VMOVUPD(at(x, i, k, v.Lanes), tmp[k])
		VFMADD231PD(at(y, i, k, v.Lanes), tmp[k], acc[k])
	}
	s, t := X0, X1
	mid := func() {
		Comment("Sum the accumulators into X0.")
		VADDPD(acc[1], acc[0], acc[0])
		VADDPD(acc[3], acc[2], acc[2])
		VADDPD(acc[2], acc[0], acc[0])
		if v.Lanes == 8 {
			VEXTRACTF64X4(U8(1), Z0, Y1)
			VADDPD(Y1, Y0, Y0)
		}
		VEXTRACTF128(U8(1), Y0, X1)
		VADDPD(X1, X0, X0)
		VPERMILPD(U8(1), X0, X1)
		VADDSD(X1, X0, X0)
	}
	sca := func() {
		VMOVSD(at(x, i, 0, 0), t)
		VFMADD231SD(at(y, i, 0, 0), t, s)
	}
	loops(name, v, n, i, nil, vec, sca, mid)
	Store(s, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

func daxpy(v isa) {
	name := "daxpy" + v.Name
	TEXT(name, NOSPLIT, "func(alpha float64, x, y []float64)")
	doc(name, v.Name, true, "\tfor i, xi := range x {", "\t\ty[i] += alpha * xi", "\t}")
	Pragma("noescape")
	alpha := v.Regs[15]
	Load(Param("alpha"), alpha.AsX())
	VBROADCASTSD(alpha.AsX(), alpha)
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	i := GP64()
	vec := func(k int) {
		r := v.Regs[k]
		VMOVUPD(at(y, i, k, v.Lanes), r)
		VFMADD231PD(at(x, i, k, v.Lanes), alpha, r)
		VMOVUPD(r, at(y, i, k, v.Lanes))
	}
	sca := func() {
		VMOVSD(at(y, i, 0, 0), X0)
		VFMADD231SD(at(x, i, 0, 0), alpha.AsX(), X0)
		VMOVSD(X0, at(y, i, 0, 0))
	}
	loops(name, v, n, i, nil, vec, sca, nil)
	VZEROUPPER()
	RET()
}

func dscal(v isa) {
	name := "dscal" + v.Name
	TEXT(name, NOSPLIT, "func(alpha float64, x []float64)")
	doc(name, v.Name, false, "\tfor i := range x {", "\t\tx[i] *= alpha", "\t}")
	Pragma("noescape")
	alpha := v.Regs[15]
	Load(Param("alpha"), alpha.AsX())
	VBROADCASTSD(alpha.AsX(), alpha)
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	i := GP64()
	vec := func(k int) {
		r := v.Regs[k]
		VMULPD(at(x, i, k, v.Lanes), alpha, r)
		VMOVUPD(r, at(x, i, k, v.Lanes))
	}
	sca := func() {
		VMULSD(at(x, i, 0, 0), alpha.AsX(), X0)
		VMOVSD(X0, at(x, i, 0, 0))
	}
	loops(name, v, n, i, x, vec, sca, nil)
	VZEROUPPER()
	RET()
}

func drot(v isa) {
	name := "drot" + v.Name
	TEXT(name, NOSPLIT, "func(x, y []float64, c, s float64)")
	doc(name, v.Name, true, "\tfor i, xi := range x {", "\t\tyi := y[i]", "\t\tx[i] = c*xi + s*yi", "\t\ty[i] = c*yi - s*xi", "\t}")
	Pragma("noescape")
	c, s := v.Regs[14], v.Regs[15]
	Load(Param("c"), c.AsX())
	Load(Param("s"), s.AsX())
	VBROADCASTSD(c.AsX(), c)
	VBROADCASTSD(s.AsX(), s)
	x := Load(Param("x").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	i := GP64()
	// Three registers per vector: x, y (then y'), x'. Each of x and y is
	// loaded once.
	vec := func(k int) {
		xr, yr, xn := v.Regs[3*k], v.Regs[3*k+1], v.Regs[3*k+2]
		VMOVUPD(at(x, i, k, v.Lanes), xr)
		VMOVUPD(at(y, i, k, v.Lanes), yr)
		VMULPD(xr, c, xn)       // x' = c*x
		VFMADD231PD(yr, s, xn)  // x' += s*y
		VMULPD(yr, c, yr)       // y' = c*y
		VFNMADD231PD(xr, s, yr) // y' -= s*x
		VMOVUPD(xn, at(x, i, k, v.Lanes))
		VMOVUPD(yr, at(y, i, k, v.Lanes))
	}
	sca := func() {
		VMOVSD(at(x, i, 0, 0), X0)
		VMULSD(X0, c.AsX(), X1)
		VFMADD231SD(at(y, i, 0, 0), s.AsX(), X1)
		VMULSD(at(y, i, 0, 0), c.AsX(), X2)
		VFNMADD231SD(X0, s.AsX(), X2)
		VMOVSD(X1, at(x, i, 0, 0))
		VMOVSD(X2, at(y, i, 0, 0))
	}
	loops(name, v, n, i, x, vec, sca, nil)
	VZEROUPPER()
	RET()
}
