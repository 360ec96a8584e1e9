// Command gemm generates the amd64 GEMM micro-kernels and the FMA peak loop
// of package kernels (kernels/zgemm_amd64.{s,go}). Run it through the
// //go:generate line of the repository's generate.go.
//
// Layout (kernels/gemm.go): a packed mr x kc panel of A stores column p at
// a[p*mr : p*mr+mr]; a packed kc x nr panel of B stores row p at
// b[p*nr : p*nr+nr]; C is row-major with stride ldc. Vectors run along the
// rows of B and C (j), A's entries are broadcast, so the kernel keeps an
// mr x nr tile of C in mr*nr/lanes accumulator registers.
package main

import (
	. "github.com/mmcloughlin/avo/build"
)

func main() {
	ConstraintExpr("amd64,!purego")
	dgemmAVX512()
	dpackAAVX512()
	dpackATAVX512()
	dpackBAVX512()
	sgemmAVX512()
	spackAAVX512()
	spackATAVX512()
	spackBAVX512()
	dgemmAVX2()
	dpackAAVX2()
	dpackATAVX2()
	dpackBAVX2()
	sgemmAVX2()
	spackAAVX2()
	spackATAVX2()
	spackBAVX2()
	peakAVX512()
	peakAVX2()
	Generate()
}
