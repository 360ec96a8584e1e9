package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Peak loops: independent FMAs on register operands only, to measure the
// machine's FMA throughput. peakChains independent chains cover the FMA
// latency times the number of FMA pipes (4 cycles x 2 pipes = 8) with room
// to spare; peakUnroll FMAs per chain and trip make the loop overhead small.
const (
	peakChains512 = 24 // 24 + 2 multiplicands of 32 zmm
	peakChains2   = 12 // 12 + 2 multiplicands of 16 ymm
	peakUnroll    = 4
)

func peakLoop(name string, v isa, chains int) {
	lanes := v.vecBytes / 8
	flops := 2 * lanes * chains * peakUnroll
	TEXT(name, NOSPLIT, "func(iters int)")
	Doc(
		fmt.Sprintf("%s runs iters trips of %d independent %s FMAs on float64 registers", name, chains*peakUnroll, v.name),
		fmt.Sprintf("(%d flops per trip) and nothing else: the machine's FMA peak.", flops),
	)
	n := Load(Param("iters"), GP64())
	x, y := v.reg(0), v.reg(1)
	acc := func(i int) VecPhysical { return v.reg(2 + i) }
	Comment("Multiplicands 1 and 1: the accumulators count up and stay finite.")
	one := GP64()
	MOVQ(U64(0x3ff0000000000000), one)
	MOVQ(one, x.AsX())
	VBROADCASTSD(x.AsX(), x)
	VMOVAPD(x, y)
	for i := 0; i < chains; i++ {
		r := acc(i)
		if v.evex {
			VPXORD(r, r, r)
		} else {
			VXORPD(r, r, r)
		}
	}
	TESTQ(n, n)
	JLE(LabelRef(name + "_done"))
	Label(name + "_loop")
	for u := 0; u < peakUnroll; u++ {
		for i := 0; i < chains; i++ {
			VFMADD231PD(x, y, acc(i))
		}
	}
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

func peakAVX512() { peakLoop("peakFMA512", avx512, peakChains512) }
func peakAVX2()   { peakLoop("peakFMA256", avx2, peakChains2) }
