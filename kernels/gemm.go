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

type dgemmKernel struct {
	mr, nr int
	fn     func(kc int, a, b, c []float64, ldc int)
}

type sgemmKernel struct {
	mr, nr int
	fn     func(kc int, a, b, c []float32, ldc int)
}

var (
	dgemm = dgemmKernel{4, 4, dgemmGeneric4x4}
	sgemm = sgemmKernel{4, 4, sgemmGeneric4x4}
	// The storing variants of dgemm.fn and sgemm.fn (c = a*b), where the
	// level has them; nil means clear the tile and accumulate.
	dgemmStore func(kc int, a, b, c []float64, ldc int)
	sgemmStore func(kc int, a, b, c []float32, ldc int)
)

// DgemmShape returns the register block (mr, nr) of the current DgemmMicro.
func DgemmShape() (mr, nr int) { return dgemm.mr, dgemm.nr }

// DgemmMicro adds the product of a packed mr x kc panel a and a packed kc x nr
// panel b into the row-major tile c (stride ldc). See the package comment for
// the layout. Flops: 2*mr*nr*kc.
func DgemmMicro(kc int, a, b, c []float64, ldc int) {
	mr, nr := dgemm.mr, dgemm.nr
	if len(a) < kc*mr || len(b) < kc*nr || (kc > 0 && len(c) < (mr-1)*ldc+nr) {
		panic("kernels: DgemmMicro: panel or tile too short")
	}
	dgemm.fn(kc, a, b, c, ldc)
}

// DgemmMicroStore is DgemmMicro that overwrites the tile with the product
// (c = a*b) instead of adding to it: the old contents of c, NaN included,
// are never read. With kc <= 0 it stores zeros.
func DgemmMicroStore(kc int, a, b, c []float64, ldc int) {
	mr, nr := dgemm.mr, dgemm.nr
	if len(a) < kc*mr || len(b) < kc*nr || len(c) < (mr-1)*ldc+nr {
		panic("kernels: DgemmMicroStore: panel or tile too short")
	}
	if kc > 0 && dgemmStore != nil {
		dgemmStore(kc, a, b, c, ldc)
		return
	}
	for i := 0; i < mr; i++ {
		clear(c[i*ldc : i*ldc+nr])
	}
	dgemm.fn(kc, a, b, c, ldc)
}

// SgemmMicroStore is DgemmMicroStore in float32.
func SgemmMicroStore(kc int, a, b, c []float32, ldc int) {
	mr, nr := sgemm.mr, sgemm.nr
	if len(a) < kc*mr || len(b) < kc*nr || len(c) < (mr-1)*ldc+nr {
		panic("kernels: SgemmMicroStore: panel or tile too short")
	}
	if kc > 0 && sgemmStore != nil {
		sgemmStore(kc, a, b, c, ldc)
		return
	}
	for i := 0; i < mr; i++ {
		clear(c[i*ldc : i*ldc+nr])
	}
	sgemm.fn(kc, a, b, c, ldc)
}

// SgemmShape returns the register block (mr, nr) of the current SgemmMicro.
func SgemmShape() (mr, nr int) { return sgemm.mr, sgemm.nr }

// SgemmMicro is DgemmMicro in float32.
func SgemmMicro(kc int, a, b, c []float32, ldc int) {
	mr, nr := sgemm.mr, sgemm.nr
	if len(a) < kc*mr || len(b) < kc*nr || (kc > 0 && len(c) < (mr-1)*ldc+nr) {
		panic("kernels: SgemmMicro: panel or tile too short")
	}
	sgemm.fn(kc, a, b, c, ldc)
}

// DsyrkMicroLower is DgemmMicro for a tile on the diagonal of a symmetric
// update: it adds only the entries with j <= i+off (the lower triangle of the
// whole matrix when the tile's top-left corner sits at (r, r-off)); the
// others are neither read nor written. The AVX-512 level does it in one
// kernel with masked loads and stores; the others compute the tile into a
// temporary and add its triangle.
func DsyrkMicroLower(kc int, a, b, c []float64, ldc int, off int) {
	dsyrkMicro(false, kc, a, b, c, ldc, off)
}

// DsyrkMicroUpper is DsyrkMicroLower for the upper triangle: it adds only the
// entries with j >= i+off.
func DsyrkMicroUpper(kc int, a, b, c []float64, ldc int, off int) {
	dsyrkMicro(true, kc, a, b, c, ldc, off)
}

func dsyrkMicro(upper bool, kc int, a, b, c []float64, ldc int, off int) {
	mr, nr := dgemm.mr, dgemm.nr
	if len(a) < kc*mr || len(b) < kc*nr || (kc > 0 && len(c) < (mr-1)*ldc+nr) {
		if upper {
			panic("kernels: DsyrkMicroUpper: panel or tile too short")
		}
		panic("kernels: DsyrkMicroLower: panel or tile too short")
	}
	if kc <= 0 {
		return
	}
	if f := dsyrk[b2i(upper)]; f != nil {
		f(kc, a, b, c, ldc, off)
		return
	}
	var tile [maxTile]float64
	t := tile[:mr*nr]
	dgemm.fn(kc, a, b, t, nr)
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

// dsyrk holds the level's triangle-masked diagonal kernels for dgemm's
// register block, lower ([0]) and upper ([1]); nil where the level has none.
var dsyrk [2]func(kc int, a, b, c []float64, ldc int, off int)

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// DpackAT packs rows [0, kc) and columns [0, mc) of the row-major block src
// (stride lds), transposed and scaled by alpha, as the A panels DgemmMicro
// reads: column i of src (row i of op(A) = src^T) goes to panel i/mr, step p
// at dst[(i/mr)*mr*kc + p*mr + i%mr]; a last partial panel is padded with
// zeros. dst needs ceil(mc/mr)*mr*kc values. The AVX-512 level packs whole
// panels in assembly that prefetches the rows of src ahead: on a wide src
// each row is on its own page, out of the hardware prefetchers' reach.
func DpackAT(dst, src []float64, lds, kc, mc int, alpha float64) {
	packAT("DpackAT", dpackAT, dgemm.mr, dst, src, lds, kc, mc, alpha)
}

// SpackAT is DpackAT in float32, for SgemmMicro's mr.
func SpackAT(dst, src []float32, lds, kc, mc int, alpha float32) {
	packAT("SpackAT", spackAT, sgemm.mr, dst, src, lds, kc, mc, alpha)
}

// float is the element type of a GEMM kernel.
type float interface{ ~float32 | ~float64 }

// packAT is DpackAT and SpackAT: fast, where not nil, packs the full
// panels; the Go loop packs the rest.
func packAT[T float](name string, fast func(dst, src []T, lds, kc, panels int, alpha T), mr int, dst, src []T, lds, kc, mc int, alpha T) {
	if kc <= 0 || mc <= 0 {
		return
	}
	if len(dst) < ceilDiv(mc, mr)*mr*kc || len(src) < (kc-1)*lds+mc {
		panic("kernels: " + name + ": block or destination too short")
	}
	full := 0
	if fast != nil {
		full = mc / mr
		fast(dst, src, lds, kc, full, alpha)
	}
	for p := 0; p < kc; p++ {
		row := src[p*lds : p*lds+mc]
		for ir := full * mr; ir < mc; ir += mr {
			h := min(mr, mc-ir)
			d := dst[ir*kc+p*mr:][:mr]
			for i, v := range row[ir : ir+h] {
				d[i] = alpha * v
			}
			clear(d[h:])
		}
	}
}

// DpackA packs rows [0, mc) and columns [0, kc) of the row-major block src
// (stride lda), scaled by alpha, as the A panels DgemmMicro reads: row i goes
// to panel i/mr, column p at dst[(i/mr)*mr*kc + p*mr + i%mr]; a last partial
// panel is padded with zeros. dst needs ceil(mc/mr)*mr*kc values. The
// AVX-512 level packs whole panels in assembly (two rows per 128-bit store),
// about twice as fast as the Go loop.
func DpackA(dst, src []float64, lda, kc, mc int, alpha float64) {
	packA("DpackA", dpackA, dgemm.mr, dst, src, lda, kc, mc, alpha)
}

// SpackA is DpackA in float32, for SgemmMicro's mr (the AVX-512 level
// joins four rows per 128-bit store).
func SpackA(dst, src []float32, lda, kc, mc int, alpha float32) {
	packA("SpackA", spackA, sgemm.mr, dst, src, lda, kc, mc, alpha)
}

// packA is DpackA and SpackA, as packAT is DpackAT and SpackAT.
func packA[T float](name string, fast func(dst, src []T, lda, kc, panels int, alpha T), mr int, dst, src []T, lda, kc, mc int, alpha T) {
	if kc <= 0 || mc <= 0 {
		return
	}
	if len(dst) < ceilDiv(mc, mr)*mr*kc || len(src) < (mc-1)*lda+kc {
		panic("kernels: " + name + ": block or destination too short")
	}
	full := 0
	if fast != nil {
		full = mc / mr
		fast(dst, src, lda, kc, full, alpha)
	}
	for ir := full * mr; ir < mc; ir += mr {
		h := min(mr, mc-ir)
		panel := dst[ir*kc : ir*kc+mr*kc]
		for i := 0; i < h; i++ {
			row := src[(ir+i)*lda:][:kc]
			for p, v := range row {
				panel[p*mr+i] = alpha * v
			}
		}
		for p := 0; p < kc; p++ {
			clear(panel[p*mr+h : p*mr+mr])
		}
	}
}

// DpackB packs rows [0, kc) and columns [0, nc) of the row-major block src
// (stride lds) as the B panels DgemmMicro reads: column j goes to panel
// j/nr, row p at dst[(j/nr)*nr*kc + p*nr + j%nr]; a last partial panel is
// padded with zeros. dst needs ceil(nc/nr)*nr*kc values. The AVX-512 level
// packs whole panels in assembly that prefetches the rows of src ahead, as
// DpackAT does.
func DpackB(dst, src []float64, lds, kc, nc int) {
	packB("DpackB", dpackB, dgemm.nr, dst, src, lds, kc, nc)
}

// SpackB is DpackB in float32, for SgemmMicro's nr.
func SpackB(dst, src []float32, lds, kc, nc int) {
	packB("SpackB", spackB, sgemm.nr, dst, src, lds, kc, nc)
}

// packB is DpackB and SpackB, as packAT is DpackAT and SpackAT.
func packB[T float](name string, fast func(dst, src []T, lds, kc, panels int), nr int, dst, src []T, lds, kc, nc int) {
	if kc <= 0 || nc <= 0 {
		return
	}
	if len(dst) < ceilDiv(nc, nr)*nr*kc || len(src) < (kc-1)*lds+nc {
		panic("kernels: " + name + ": block or destination too short")
	}
	full := 0
	if fast != nil {
		full = nc / nr
		fast(dst, src, lds, kc, full)
	}
	for p := 0; p < kc; p++ {
		row := src[p*lds : p*lds+nc]
		for jr := full * nr; jr < nc; jr += nr {
			w := min(nr, nc-jr)
			d := dst[jr*kc+p*nr:][:nr]
			copy(d, row[jr:jr+w])
			clear(d[w:])
		}
	}
}

// The level's packers of full panels for its dgemm and sgemm blocks (nil:
// pure Go).
var (
	dpackA, dpackAT func(dst, src []float64, lds, kc, panels int, alpha float64)
	dpackB          func(dst, src []float64, lds, kc, panels int)
	spackA, spackAT func(dst, src []float32, lds, kc, panels int, alpha float32)
	spackB          func(dst, src []float32, lds, kc, panels int)
)

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// maxTile bounds mr*nr of every level's dgemm kernel (a stack buffer).
const maxTile = 16 * 16

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

func setGeneric() {
	ddotImpl, daxpyImpl, dscalImpl, drotImpl = ddotGeneric, daxpyGeneric, dscalGeneric, drotGeneric
	dgemm = dgemmKernel{4, 4, dgemmGeneric4x4}
	sgemm = sgemmKernel{4, 4, sgemmGeneric4x4}
	dgemmStore, sgemmStore = nil, nil
	dsyrk = [2]func(kc int, a, b, c []float64, ldc int, off int){}
	dpackA, dpackAT, dpackB = nil, nil, nil
	spackA, spackAT, spackB = nil, nil, nil
	peak = peakKernel{peakGenericFlops, peakGeneric}
}
