// Command level1 generates the amd64 level-1 kernels of package kernels
// (kernels/zlevel1_amd64.{s,go}): dot, axpy, scal and plane rotation on
// unit-stride float64 slices. Run it through the repository's generate.go.
//
// Each kernel runs a main loop of unroll vectors per trip, then one vector
// per trip, then one element per trip, so every length is handled without
// reading or writing past the slices. The elementwise scal and rot first
// step one element at a time to a vector boundary of x: a vector access that
// splits a cache line costs two, and these kernels are bound by their loads
// and stores.
package main

import (
	. "github.com/mmcloughlin/avo/build"
)

func main() {
	ConstraintExpr("amd64,!purego")
	for _, v := range []isa{avx2, avx512} {
		ddot(v)
		daxpy(v)
		dscal(v)
		drot(v)
	}
	Generate()
}
