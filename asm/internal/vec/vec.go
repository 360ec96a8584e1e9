// Package vec describes the vector register files that the float64
// level-1 and level-2 generators (../../level1, ../../symv) target.
package vec

import . "github.com/mmcloughlin/avo/reg"

// ISA is one instruction set's float64 vectors.
type ISA struct {
	Name  string
	Lanes int // float64 per vector
	Regs  []VecPhysical
}

var (
	AVX2 = ISA{"AVX2", 4, []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}}
	// Only Z0-Z15 are used: enough here, and their X halves stay
	// VEX-encodable.
	AVX512 = ISA{"AVX512", 8, []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}}
)
