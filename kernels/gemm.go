package kernels

// GEMM micro-kernels (the BLIS model). linalg packs an mr x kc panel of A as
// kc consecutive columns of mr values (a[p*mr+i] = A[i][p]) and a kc x nr
// panel of B as kc consecutive rows of nr values (b[p*nr+j] = B[p][j]); the
// micro-kernel adds their product into an mr x nr tile of a row-major C:
//
//	for p < kc, i < mr, j < nr: c[i*ldc+j] += a[p*mr+i] * b[p*nr+j]
//
// alpha is folded into the packing and beta applied by the caller, so the
// kernel only accumulates. mr and nr depend on the level: ask DgemmShape.
// With kc <= 0 a micro-kernel does not touch c.
//
// The level's kernels are called from gemm_amd64.go, gemm_arm64.go and
// gemm_other.go (dgemmShape, dgemmMicro, dgemmMicroStore, dsyrkMicroTri and
// their float32 counterparts), each a switch on the level.

// DgemmShape returns the register block (mr, nr) of the current DgemmMicro.
func DgemmShape() (mr, nr int) { return dgemmShape(current) }

// SgemmShape returns the register block (mr, nr) of the current SgemmMicro.
func SgemmShape() (mr, nr int) { return sgemmShape(current) }

// DgemmMicro adds the product of a packed mr x kc panel a and a packed kc x nr
// panel b into the row-major tile c (stride ldc). See the package comment for
// the layout. Flops: 2*mr*nr*kc.
func DgemmMicro(kc int, a, b, c []float64, ldc int) {
	l := current
	mr, nr := dgemmShape(l)
	if len(a) < kc*mr || len(b) < kc*nr || (kc > 0 && len(c) < (mr-1)*ldc+nr) {
		panic("kernels: DgemmMicro: panel or tile too short")
	}
	if kc > 0 {
		dgemmMicro(l, kc, a, b, c, ldc)
	}
}

// DgemmMicroStore is DgemmMicro that overwrites the tile with the product
// (c = sum_p a_p b_p^T) instead of adding to it: the old contents of c, NaN
// included, are never read. With kc <= 0 it stores zeros.
func DgemmMicroStore(kc int, a, b, c []float64, ldc int) {
	l := current
	mr, nr := dgemmShape(l)
	if len(a) < kc*mr || len(b) < kc*nr || len(c) < (mr-1)*ldc+nr {
		panic("kernels: DgemmMicroStore: panel or tile too short")
	}
	if kc <= 0 {
		clearTile(c, ldc, mr, nr)
		return
	}
	dgemmMicroStore(l, kc, a, b, c, ldc)
}

// SgemmMicro is DgemmMicro in float32.
func SgemmMicro(kc int, a, b, c []float32, ldc int) {
	l := current
	mr, nr := sgemmShape(l)
	if len(a) < kc*mr || len(b) < kc*nr || (kc > 0 && len(c) < (mr-1)*ldc+nr) {
		panic("kernels: SgemmMicro: panel or tile too short")
	}
	if kc > 0 {
		sgemmMicro(l, kc, a, b, c, ldc)
	}
}

// SgemmMicroStore is DgemmMicroStore in float32.
func SgemmMicroStore(kc int, a, b, c []float32, ldc int) {
	l := current
	mr, nr := sgemmShape(l)
	if len(a) < kc*mr || len(b) < kc*nr || len(c) < (mr-1)*ldc+nr {
		panic("kernels: SgemmMicroStore: panel or tile too short")
	}
	if kc <= 0 {
		clearTile(c, ldc, mr, nr)
		return
	}
	sgemmMicroStore(l, kc, a, b, c, ldc)
}

// DsyrkMicroLower is DgemmMicro for a tile on the diagonal of a symmetric
// update: it adds only the entries with j <= i+off (the lower triangle of the
// whole matrix when the tile's top-left corner sits at (r, r-off)); the
// others are neither read nor written. The AVX2 and AVX-512 levels do it in
// one kernel with masked loads and stores; the others compute the tile into
// a temporary and add its triangle.
func DsyrkMicroLower(kc int, a, b, c []float64, ldc int, off int) {
	dsyrkMicro(false, kc, a, b, c, ldc, off)
}

// DsyrkMicroUpper is DsyrkMicroLower for the upper triangle: it adds only the
// entries with j >= i+off.
func DsyrkMicroUpper(kc int, a, b, c []float64, ldc int, off int) {
	dsyrkMicro(true, kc, a, b, c, ldc, off)
}

func dsyrkMicro(upper bool, kc int, a, b, c []float64, ldc int, off int) {
	l := current
	mr, nr := dgemmShape(l)
	if len(a) < kc*mr || len(b) < kc*nr || (kc > 0 && len(c) < (mr-1)*ldc+nr) {
		if upper {
			panic("kernels: DsyrkMicroUpper: panel or tile too short")
		}
		panic("kernels: DsyrkMicroLower: panel or tile too short")
	}
	if kc > 0 {
		dsyrkMicroTri(l, upper, kc, a, b, c, ldc, off)
	}
}

// dsyrkTile is the triangle-masked tile of a level without such a kernel:
// the product into a temporary, then the triangle's part added to c.
func dsyrkTile(l Level, upper bool, kc int, a, b, c []float64, ldc int, off int) {
	mr, nr := dgemmShape(l)
	var tile [maxTile]float64
	t := tile[:mr*nr]
	dgemmMicro(l, kc, a, b, t, nr)
	for i := 0; i < mr; i++ {
		j0, j1 := 0, min(max(i+off+1, 0), nr) // lower: j <= i+off
		if upper {
			j0, j1 = min(max(i+off, 0), nr), nr // upper: j >= i+off
		}
		for j := j0; j < j1; j++ {
			c[i*ldc+j] += t[i*nr+j]
		}
	}
}

// clearTile zeroes the mr x nr tile of c (stride ldc).
func clearTile[T float](c []T, ldc, mr, nr int) {
	for i := 0; i < mr; i++ {
		clear(c[i*ldc : i*ldc+nr])
	}
}

// float is the element type of a GEMM kernel.
type float interface{ ~float32 | ~float64 }

// maxTile bounds mr*nr of every level's dgemm kernel (a stack buffer).
const maxTile = 16 * 16

// dgemmGeneric4x4 is the generic level's DgemmMicro (mr = nr = 4).
func dgemmGeneric4x4(kc int, a, b, c []float64, ldc int) {
	if kc <= 0 {
		return
	}
	var c00, c01, c02, c03, c10, c11, c12, c13 float64
	var c20, c21, c22, c23, c30, c31, c32, c33 float64
	for p := 0; p < kc; p++ {
		a4, b4 := a[p*4:p*4+4], b[p*4:p*4+4]
		a0, a1, a2, a3 := a4[0], a4[1], a4[2], a4[3]
		b0, b1, b2, b3 := b4[0], b4[1], b4[2], b4[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	r := c[0:4]
	r[0] += c00
	r[1] += c01
	r[2] += c02
	r[3] += c03
	r = c[ldc : ldc+4]
	r[0] += c10
	r[1] += c11
	r[2] += c12
	r[3] += c13
	r = c[2*ldc : 2*ldc+4]
	r[0] += c20
	r[1] += c21
	r[2] += c22
	r[3] += c23
	r = c[3*ldc : 3*ldc+4]
	r[0] += c30
	r[1] += c31
	r[2] += c32
	r[3] += c33
}

// sgemmGeneric4x4 is dgemmGeneric4x4 in float32.
func sgemmGeneric4x4(kc int, a, b, c []float32, ldc int) {
	if kc <= 0 {
		return
	}
	var acc [16]float32
	for p := 0; p < kc; p++ {
		a4, b4 := a[p*4:p*4+4], b[p*4:p*4+4]
		for i := 0; i < 4; i++ {
			ai := a4[i]
			acc[i*4+0] += ai * b4[0]
			acc[i*4+1] += ai * b4[1]
			acc[i*4+2] += ai * b4[2]
			acc[i*4+3] += ai * b4[3]
		}
	}
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			c[i*ldc+j] += acc[i*4+j]
		}
	}
}
