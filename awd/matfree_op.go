package awd

import (
	"fmt"

	"github.com/awd-toolkit/awd/internal/hugepage"
	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// The matrix-free path, for layers where no d x d matrix fits (d ~ 10^6)
// and for convolution layers. Every quantity of docs/math.md section 4 has the
// form
//
//	X = scale sum_s J_s^T M_s J_s
//
// with J_s = do/dtheta (L x d, see nn.LayerSamples) and a small L x L
// middle M_s: Lambda_s for H, Lambda_s K_s Lambda_s for M2 (K_s = J_s J_s^T,
// since H_s^2 = J_s^T Lambda_s K_s Lambda_s J_s), G_s G_s^T for C
// (g_s = J_s^T G_s, G_s = dl_s/do) and w_s w_s^T for C_pair
// (H_s dtheta_s = J_s^T w_s, w_s = Lambda_s J_s dtheta_s). So X V for a
// block V (d x b) is a forward pass F_s = J_s V (L x b), the middle, and
// an adjoint pass sum_s J_s^T W_s, chunk by chunk of samples; and the
// k x k projected blocks U^T X U are scale sum_s F_s^T M_s F_s from the one
// forward pass F = J U (N L x k), with no d x d matrix anywhere.
//
// How J_s V is computed depends on the layer:
//
//   - fully connected (J_s = Jz_s (x) a_s^T, Jz_s = do/dz_s L x m): with
//     V_j reshaped m x n, J_s v_j = Jz_s (V_j a_s), so one GEMM
//     A (N x n) times V' (n x m b, V permuted) gives every V_j a_s, then
//     one small product per sample; the adjoint mirrors it. 4 N d b flops
//     per application plus 4 N L m b: memory O(N (L m + n)).
//   - convolution: J_s (L x d) is formed chunk by chunk from Jz_s (L x P m)
//     and the im2col patches of a_s (2 L d P flops per sample), or read
//     when stored (nn.LayerSamples.J), then two GEMMs: 4 N L d b flops.

// Quantity selects the middle M_s of a matrix-free operator.
type Quantity int

const (
	QuantityH     Quantity = iota // M_s = Lambda_s, scale 1/N: H
	QuantityM2                    // M_s = Lambda_s K_s Lambda_s, scale 1/N: M2
	QuantityC                     // M_s = G_s G_s^T, scale 1/(B N): C (minus gbar gbar^T / B when centered)
	QuantityCPair                 // M_s = w_s w_s^T over the matched samples, scale 1/(B Np): C_pair
)

func (q Quantity) String() string {
	switch q {
	case QuantityH:
		return "H"
	case QuantityM2:
		return NameM2
	case QuantityC:
		return NameC
	case QuantityCPair:
		return NameCPair
	}
	return fmt.Sprintf("Quantity(%d)", int(q))
}

// jacobian applies the per-sample Jacobians J_s of one layer to blocks of
// vectors, chunk by chunk of samples.
type jacobian interface {
	// apply computes, for each chunk [s0, s0+c) of samples, F (c L x b,
	// rows (s, l)) = (J_s x)_l and calls mid(s0, c, F); when dst has data
	// it then adds sum_s J_s^T W_s to dst (d x b), W being what mid left
	// in F. dst is overwritten, not accumulated into.
	apply(x, dst linalg.Dense, mid func(s0, c int, f linalg.Dense))
	// adjoint sets dst (d x b) = sum_s J_s^T W_s for w (N L x b).
	adjoint(w, dst linalg.Dense)
	// gram writes K_s = J_s J_s^T (N x L x L) into k.
	gram(k []float64)
	// chunkBytes is the scratch an apply with b vectors allocates.
	chunkBytes(b int) int64
}

// newJacobian returns the Jacobian of ls; a formed one keeps up to cache
// bytes of formed chunks for the next applications, in float32 when f32
// is set.
func newJacobian(ls *nn.LayerSamples, cache int64, f32 bool) jacobian {
	if !ls.Conv && ls.J == nil {
		return &kronJac{ls: ls}
	}
	return &explicitJac{ls: ls, cacheLeft: max(0, cache), f32: f32 && ls.J == nil}
}

// kronJac is the Jacobian of a fully connected layer, J_s = Jz_s (x) a_s^T.
type kronJac struct {
	ls *nn.LayerSamples
	sc scratch
}

// scratch keeps the buffers of the operator applications between calls:
// on this VM the first touch of fresh memory costs about 3 ms per MB, and
// the permuted copies alone are d x b numbers. Applications run one at a
// time.
type scratch struct {
	bufs [4][]float64
}

// get returns an r x c matrix on buffer i, zeroed when zero is set.
func (s *scratch) get(i, r, c int, zero bool) linalg.Dense {
	if cap(s.bufs[i]) < r*c {
		s.bufs[i] = make([]float64, r*c)
		zero = false
	}
	d := linalg.DenseOf(r, c, s.bufs[i][:r*c])
	if zero {
		clear(d.Data)
	}
	return d
}

// kronChunk is the number of samples per GEMM of kronJac: the chunk's
// m x b blocks (2 of them, c m b numbers each) stay near 100 MB.
func kronChunk(m, b int) int { return max(16, min(DefaultChunk, (12<<20)/max(1, m*b))) }

// chunkBytes is the scratch of one application to b vectors; a chunk
// holds at most the N samples there are, as apply allocates it.
func (j *kronJac) chunkBytes(b int) int64 {
	ls := j.ls
	c := min(kronChunk(ls.Out, b), max(ls.N, 1))
	return 8 * int64(2*ls.D()*b+2*c*ls.Out*b+c*ls.L*b)
}

func (j *kronJac) apply(x, dst linalg.Dense, mid func(s0, c int, f linalg.Dense)) {
	ls := j.ls
	m, n, l, N := ls.Out, ls.In, ls.L, ls.N
	b := x.Cols
	if x.Rows != m*n || dst.Data != nil && (dst.Rows != m*n || dst.Cols != b) {
		panic(fmt.Sprintf("awd: matrix-free apply: x %dx%d, dst %dx%d, d=%d", x.Rows, x.Cols, dst.Rows, dst.Cols, m*n))
	}
	// V' (n x m b): V'[i, p b + c] = x[p n + i, c].
	xp := j.sc.get(0, n, m*b, false)
	for p := 0; p < m; p++ {
		for i := 0; i < n; i++ {
			copy(xp.Data[i*m*b+p*b:i*m*b+(p+1)*b], x.Row(p*n+i))
		}
	}
	var yp linalg.Dense
	if dst.Data != nil {
		yp = j.sc.get(1, n, m*b, true)
	}
	chunk := kronChunk(m, b)
	t := j.sc.get(2, min(chunk, N), m*b, false)
	f := j.sc.get(3, min(chunk, N)*l, b, false)
	for s0 := 0; s0 < N; s0 += chunk {
		c := min(chunk, N-s0)
		a := linalg.DenseOf(c, n, ls.A[s0*n:(s0+c)*n])
		tc, fc := t.View(0, 0, c, m*b), f.View(0, 0, c*l, b)
		linalg.Gemm(false, false, 1, a, xp, 0, tc) // row s: V_j a_s as m x b
		parallelRows(c, func(_, r0, r1 int) {
			for r := r0; r < r1; r++ {
				jz := linalg.DenseOf(l, m, ls.Jz[(s0+r)*l*m:(s0+r+1)*l*m])
				gemmSmall(false, 1, jz, linalg.DenseOf(m, b, tc.Row(r)), fc.View(r*l, 0, l, b))
			}
		})
		mid(s0, c, fc)
		if dst.Data == nil {
			continue
		}
		parallelRows(c, func(_, r0, r1 int) {
			for r := r0; r < r1; r++ {
				jz := linalg.DenseOf(l, m, ls.Jz[(s0+r)*l*m:(s0+r+1)*l*m])
				gemmSmall(true, 1, jz, fc.View(r*l, 0, l, b), linalg.DenseOf(m, b, tc.Row(r)))
			}
		})
		linalg.Gemm(true, false, 1, a, tc, 1, yp)
	}
	if dst.Data == nil {
		return
	}
	for p := 0; p < m; p++ {
		for i := 0; i < n; i++ {
			copy(dst.Row(p*n+i), yp.Data[i*m*b+p*b:i*m*b+(p+1)*b])
		}
	}
}

func (j *kronJac) adjoint(w, dst linalg.Dense) {
	ls := j.ls
	m, n, l, N := ls.Out, ls.In, ls.L, ls.N
	b := w.Cols
	if w.Rows != N*l || dst.Rows != m*n || dst.Cols != b {
		panic(fmt.Sprintf("awd: matrix-free adjoint: w %dx%d, dst %dx%d, N L=%d, d=%d", w.Rows, w.Cols, dst.Rows, dst.Cols, N*l, m*n))
	}
	yp := j.sc.get(1, n, m*b, true)
	chunk := kronChunk(m, b)
	t := j.sc.get(2, min(chunk, N), m*b, false)
	for s0 := 0; s0 < N; s0 += chunk {
		c := min(chunk, N-s0)
		a := linalg.DenseOf(c, n, ls.A[s0*n:(s0+c)*n])
		tc := t.View(0, 0, c, m*b)
		parallelRows(c, func(_, r0, r1 int) {
			for r := r0; r < r1; r++ {
				jz := linalg.DenseOf(l, m, ls.Jz[(s0+r)*l*m:(s0+r+1)*l*m])
				gemmSmall(true, 1, jz, w.View((s0+r)*l, 0, l, b), linalg.DenseOf(m, b, tc.Row(r)))
			}
		})
		linalg.Gemm(true, false, 1, a, tc, 1, yp)
	}
	for p := 0; p < m; p++ {
		for i := 0; i < n; i++ {
			copy(dst.Row(p*n+i), yp.Data[i*m*b+p*b:i*m*b+(p+1)*b])
		}
	}
}

// bilinear returns the N x b matrix out[s, j] = coef_s^T V_j rows_s for
// the fully connected layer's shapes (rows N x In, coef N x Out, V_j the
// columns of x reshaped Out x In). Cost 2 N d b flops.
func (j *kronJac) bilinear(rows, coef []float64, x linalg.Dense) linalg.Dense {
	ls := j.ls
	m, n, N := ls.Out, ls.In, ls.N
	b := x.Cols
	xp := j.sc.get(0, n, m*b, false)
	for p := 0; p < m; p++ {
		for i := 0; i < n; i++ {
			copy(xp.Data[i*m*b+p*b:i*m*b+(p+1)*b], x.Row(p*n+i))
		}
	}
	out := linalg.NewDense(N, b)
	chunk := kronChunk(m, b)
	t := j.sc.get(2, min(chunk, N), m*b, false)
	for s0 := 0; s0 < N; s0 += chunk {
		c := min(chunk, N-s0)
		tc := t.View(0, 0, c, m*b)
		linalg.Gemm(false, false, 1, linalg.DenseOf(c, n, rows[s0*n:(s0+c)*n]), xp, 0, tc)
		parallelRows(c, func(_, r0, r1 int) {
			for r := r0; r < r1; r++ {
				row := out.Row(s0 + r)
				tr := tc.Row(r)
				for p, v := range coef[(s0+r)*m : (s0+r+1)*m] {
					if v != 0 {
						kernels.Daxpy(v, tr[p*b:(p+1)*b], row)
					}
				}
			}
		})
	}
	return out
}

// gemmSmall sets c = alpha op(a) b for the small per-sample products
// (a is L x m; op(a) = a or a^T) with row-wise axpys, which beat the
// packed GEMM at these sizes.
func gemmSmall(trans bool, alpha float64, a, b, c linalg.Dense) {
	for i := 0; i < c.Rows; i++ {
		clear(c.Row(i))
	}
	if !trans { // c (L x b) = a (L x m) b (m x b)
		for k := 0; k < a.Rows; k++ {
			ck := c.Row(k)
			for p, v := range a.Row(k) {
				if v != 0 {
					kernels.Daxpy(alpha*v, b.Row(p), ck)
				}
			}
		}
		return
	}
	// c (m x b) = a^T (m x L) b (L x b)
	for k := 0; k < a.Rows; k++ {
		bk := b.Row(k)
		for p, v := range a.Row(k) {
			if v != 0 {
				kernels.Daxpy(alpha*v, bk, c.Row(p))
			}
		}
	}
}

func (j *kronJac) gram(k []float64) {
	ls := j.ls
	m, n, l := ls.Out, ls.In, ls.L
	parallelRows(ls.N, func(_, r0, r1 int) {
		for s := r0; s < r1; s++ {
			a := ls.A[s*n : (s+1)*n]
			na2 := kernels.Ddot(a, a)
			jz := ls.Jz[s*l*m : (s+1)*l*m]
			ks := k[s*l*l : (s+1)*l*l]
			for p := 0; p < l; p++ {
				for q := 0; q <= p; q++ {
					v := na2 * kernels.Ddot(jz[p*m:(p+1)*m], jz[q*m:(q+1)*m])
					ks[p*l+q], ks[q*l+p] = v, v
				}
			}
		}
	})
}

// explicitJac is the Jacobian of a convolution layer (or of any layer whose
// J_s is stored): J_s is read or formed chunk by chunk.
//
// Forming J_s costs 2 L d P flops (P output positions), against 2 L d b
// for applying it to b vectors: on the CNN's features.3 (P = 196, block b =
// 32) forming is most of an application. So the formed chunks are kept,
// as many as cacheLeft bytes allow (the memory budget's room beyond the
// analysis's own need, see mfPlan.cache), and every later application
// reads them instead of forming them again.
//
// With f32 set (MatFreeConfig.JacobianFloat32) the kept chunks are rounded
// to float32: J takes half the memory, and the products with kept chunks
// run in float32 (linalg.Gemm32, twice the float64 rate), each entry of J
// and of the vectors carrying a relative rounding of 6e-8 and every sum
// float32's accumulation error. The Grams K_s are computed from the
// float64 chunks before rounding, and chunks that are not kept are formed
// and applied in float64 as without f32.
type explicitJac struct {
	ls   *nn.LayerSamples
	sc   scratch
	sc32 [3][]float32 // the float32 x, F and result of applications with f32

	cache     [][]float64 // formed chunks by index s0 / size(), nil where not kept
	cache32   [][]float32 // with f32: the kept chunks, rounded
	cacheLeft int64       // bytes still allowed for cache
	per       int         // samples per chunk; 0: explicitChunk
	f32       bool        // keep formed chunks in float32
}

// size returns the number of samples per chunk.
func (j *explicitJac) size() int {
	if j.per > 0 {
		return j.per
	}
	return explicitChunk(j.ls.L, j.ls.D())
}

// explicitChunk bounds a chunk's J (c L d numbers) near 256 MB: the
// adjoint's GEMM reads and writes all of its d x b result once per chunk,
// so chunks of a few samples (K = c L of a few dozen) would make it a
// memory-bound sweep; 20 samples of the CNN's features.8 (c L = 200) keep
// it compute-bound.
func explicitChunk(l, d int) int { return max(1, min(DefaultChunk, (32<<20)/max(1, l*d))) }

// chunkBytes is the scratch of one application to b vectors; a chunk
// holds at most the N samples there are, as apply allocates it (counting
// a whole chunk of J, some 256 MB, for a few samples refused analyses
// that fit, with the remedy of fewer samples, which changed nothing).
func (j *explicitJac) chunkBytes(b int) int64 {
	ls := j.ls
	d := ls.D()
	c := min(explicitChunk(ls.L, d), max(ls.N, 1))
	n := 8 * int64(c*ls.L*d+c*ls.L*b+2*ls.P()*ls.K())
	if j.f32 {
		n += 4 * int64(2*d*b+c*ls.L*b)
	}
	return n
}

// chunk returns J of samples [s0, s0+c) as a (c L x d) matrix: stored,
// kept from an earlier application, or formed (into a new kept chunk while
// cacheLeft allows, else into buf).
func (j *explicitJac) chunk(s0, c int, buf []float64) linalg.Dense {
	ls := j.ls
	l, d := ls.L, ls.D()
	if ls.J != nil {
		return linalg.DenseOf(c*l, d, ls.J[s0*l*d:(s0+c)*l*d])
	}
	i := s0 / j.size()
	if i < len(j.cache) && j.cache[i] != nil {
		return linalg.DenseOf(c*l, d, j.cache[i])
	}
	if size := int64(c*l*d) * 8; !j.f32 && size <= j.cacheLeft {
		if j.cache == nil {
			j.cache = make([][]float64, (ls.N+j.size()-1)/j.size())
		}
		j.cacheLeft -= size
		buf = hugepage.Make[float64](c * l * d)
		j.cache[i] = buf
	}
	// One sample at a time: each J_s is a GEMM of 2 L d P flops that
	// linalg.Gemm already spreads over the cores.
	var scratch []float64
	for r := 0; r < c; r++ {
		scratch = ls.Patches(s0+r, scratch)
		ls.Jacobian(s0+r, buf[r*l*d:(r+1)*l*d], scratch)
	}
	if size := int64(c*l*d) * 4; j.f32 && size <= j.cacheLeft && (i >= len(j.cache32) || j.cache32[i] == nil) {
		if j.cache32 == nil {
			j.cache32 = make([][]float32, (ls.N+j.size()-1)/j.size())
		}
		j.cacheLeft -= size
		k := hugepage.Make[float32](c * l * d)
		parallelRows(c*l, func(_, r0, r1 int) { toFloat32(k[r0*d:r1*d], buf[r0*d:r1*d]) })
		j.cache32[i] = k
	}
	return linalg.DenseOf(c*l, d, buf[:c*l*d])
}

// kept32 returns the chunk of samples [s0, s0+c) kept in float32, if it is.
func (j *explicitJac) kept32(s0, c int) (linalg.Dense32, bool) {
	if j.ls.J != nil {
		return linalg.Dense32{}, false
	}
	i := s0 / j.size()
	if i >= len(j.cache32) || j.cache32[i] == nil {
		return linalg.Dense32{}, false
	}
	return linalg.Dense32Of(c*j.ls.L, j.ls.D(), j.cache32[i]), true
}

// get32 returns an r x c float32 matrix on buffer i (not zeroed).
func (j *explicitJac) get32(i, r, c int) linalg.Dense32 {
	if cap(j.sc32[i]) < r*c {
		j.sc32[i] = make([]float32, r*c)
	}
	return linalg.Dense32Of(r, c, j.sc32[i][:r*c])
}

// toFloat32 rounds src into dst (same length).
func toFloat32(dst []float32, src []float64) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float32(v)
	}
}

// dense32 rounds the matrix a into dst (same shape).
func dense32(dst linalg.Dense32, a linalg.Dense) {
	parallelRows(a.Rows, func(_, r0, r1 int) {
		for i := r0; i < r1; i++ {
			toFloat32(dst.Row(i), a.Row(i))
		}
	})
}

// addDense64 sets (or, when add is set, adds to) dst the matrix a.
func addDense64(dst linalg.Dense, a linalg.Dense32, add bool) {
	parallelRows(a.Rows, func(_, r0, r1 int) {
		for i := r0; i < r1; i++ {
			dr := dst.Row(i)
			for c, v := range a.Row(i) {
				if add {
					dr[c] += float64(v)
				} else {
					dr[c] = float64(v)
				}
			}
		}
	})
}

// sum32 is the float32 side of an application or adjoint: the products
// with the chunks kept in float32 (kept32), accumulated in res (d x b)
// and added to the float64 side's result at the end.
type sum32 struct {
	j      *explicitJac
	x      linalg.Dense32 // x rounded (apply)
	res    linalg.Dense32
	wrote  bool // res holds a sum
	rounds bool // x has been rounded
}

// forward sets fc = J_c x for the kept chunk jc.
func (s *sum32) forward(jc linalg.Dense32, x, fc linalg.Dense) {
	if !s.rounds {
		s.x = s.j.get32(0, x.Rows, x.Cols)
		dense32(s.x, x)
		s.rounds = true
	}
	f := s.j.get32(1, fc.Rows, fc.Cols)
	linalg.Gemm32(false, false, 1, jc, s.x, 0, f)
	addDense64(fc, f, false)
}

// adjoint adds J_c^T w to the float32 result (d x b).
func (s *sum32) adjoint(jc linalg.Dense32, w linalg.Dense) {
	f := s.j.get32(1, w.Rows, w.Cols)
	dense32(f, w)
	beta := float32(1)
	if !s.wrote {
		s.res, beta = s.j.get32(2, jc.Cols, w.Cols), 0
	}
	linalg.Gemm32(true, false, 1, jc, f, beta, s.res)
	s.wrote = true
}

// finish adds the float32 result to dst, or sets dst to it when the
// float64 side wrote nothing.
func (s *sum32) finish(dst linalg.Dense, add bool) {
	if s.wrote {
		addDense64(dst, s.res, add)
	}
}

func (j *explicitJac) apply(x, dst linalg.Dense, mid func(s0, c int, f linalg.Dense)) {
	ls := j.ls
	l, d, N := ls.L, ls.D(), ls.N
	b := x.Cols
	if x.Rows != d || dst.Data != nil && (dst.Rows != d || dst.Cols != b) {
		panic(fmt.Sprintf("awd: matrix-free apply: x %dx%d, dst %dx%d, d=%d", x.Rows, x.Cols, dst.Rows, dst.Cols, d))
	}
	chunk := j.size()
	var buf []float64
	if ls.J == nil {
		buf = j.sc.get(0, min(chunk, N)*l, d, false).Data
	}
	f := j.sc.get(1, min(chunk, N)*l, b, false)
	s32 := sum32{j: j}
	wrote := false
	for s0 := 0; s0 < N; s0 += chunk {
		c := min(chunk, N-s0)
		fc := f.View(0, 0, c*l, b)
		if jc, ok := j.kept32(s0, c); ok {
			s32.forward(jc, x, fc)
			mid(s0, c, fc)
			if dst.Data != nil {
				s32.adjoint(jc, fc)
			}
			continue
		}
		jc := j.chunk(s0, c, buf)
		linalg.Gemm(false, false, 1, jc, x, 0, fc)
		mid(s0, c, fc)
		if dst.Data != nil {
			beta := 1.0
			if !wrote {
				beta = 0
			}
			linalg.Gemm(true, false, 1, jc, fc, beta, dst)
			wrote = true
		}
	}
	if dst.Data != nil {
		s32.finish(dst, wrote)
	}
}

func (j *explicitJac) adjoint(w, dst linalg.Dense) {
	ls := j.ls
	l, d, N := ls.L, ls.D(), ls.N
	if w.Rows != N*l || dst.Rows != d || dst.Cols != w.Cols {
		panic(fmt.Sprintf("awd: matrix-free adjoint: w %dx%d, dst %dx%d, N L=%d, d=%d", w.Rows, w.Cols, dst.Rows, dst.Cols, N*l, d))
	}
	chunk := j.size()
	var buf []float64
	if ls.J == nil {
		buf = j.sc.get(0, min(chunk, N)*l, d, false).Data
	}
	s32 := sum32{j: j}
	wrote := false
	for s0 := 0; s0 < N; s0 += chunk {
		c := min(chunk, N-s0)
		wc := w.View(s0*l, 0, c*l, w.Cols)
		if jc, ok := j.kept32(s0, c); ok {
			s32.adjoint(jc, wc)
			continue
		}
		beta := 1.0
		if !wrote {
			beta = 0
		}
		linalg.Gemm(true, false, 1, j.chunk(s0, c, buf), wc, beta, dst)
		wrote = true
	}
	s32.finish(dst, wrote)
}

func (j *explicitJac) gram(k []float64) {
	ls := j.ls
	l, d, N := ls.L, ls.D(), ls.N
	chunk := j.size()
	var buf []float64
	if ls.J == nil {
		buf = j.sc.get(0, min(chunk, N)*l, d, false).Data
	}
	for s0 := 0; s0 < N; s0 += chunk {
		c := min(chunk, N-s0)
		jc := j.chunk(s0, c, buf)
		parallelRows(c, func(_, r0, r1 int) {
			for r := r0; r < r1; r++ {
				js := jc.View(r*l, 0, l, d)
				linalg.Gemm(false, true, 1, js, js, 0, linalg.DenseOf(l, l, k[(s0+r)*l*l:(s0+r+1)*l*l]))
			}
		})
	}
}

// MatFree holds one layer's per-sample factors for the matrix-free
// analysis (docs/math.md section 5.2): every quantity is
// X = scale sum_s J_s^T M_s J_s, with J_s = do/dtheta (L x d, from
// nn.LayerSamples) and a small L x L middle M_s (see Quantity). It gives
// the operators H, M2, C and C_pair applied to blocks of vectors, and the
// projections of every covariance onto a block of directions. Memory: the
// LayerSamples plus O(N L^2).
type MatFree struct {
	LS       *nn.LayerSamples
	Batch    int  // B, the 1/B of C and C_pair
	Centered bool // C minus gbar gbar^T / B

	jac  jacobian
	K    []float64 // K_s = J_s J_s^T, N x L x L
	GBar []float64 // gbar = (1/N) sum_s g_s, d; nil unless Centered

	// Matched pairs (fully connected layers, SetPairs): w_s = Lambda_s J_s
	// dtheta_s (N x L, zero for unmatched samples), da_s, and sigma^2.
	PairW  []float64
	DA     []float64
	Paired []bool
	NPairs int
	Sigma2 float64
}

// NewMatFree prepares the matrix-free quantities of ls: the Grams K_s
// (2 L^2 d flops per sample for a convolution, L^2 m for a fully connected
// layer) and, when centered, gbar (one adjoint pass). A nil ls, one with
// no samples, or a batch below 1 is an error.
func NewMatFree(ls *nn.LayerSamples, batch int, centered bool) (*MatFree, error) {
	return newMatFree(ls, batch, centered, 0, false)
}

// newMatFree is NewMatFree keeping up to cache bytes of a formed Jacobian's
// chunks between applications, in float32 when f32 is set (see
// explicitJac); the Grams' pass fills it.
func newMatFree(ls *nn.LayerSamples, batch int, centered bool, cache int64, f32 bool) (*MatFree, error) {
	if ls == nil {
		return nil, fmt.Errorf("awd: matrix-free: no layer samples (nil): give those of nn.Model.LayerSamples")
	}
	if ls.N == 0 {
		return nil, fmt.Errorf("awd: matrix-free: no samples")
	}
	if batch < 1 {
		return nil, fmt.Errorf("awd: matrix-free: batch size %d", batch)
	}
	mf := &MatFree{LS: ls, Batch: batch, Centered: centered, jac: newJacobian(ls, cache, f32)}
	mf.K = make([]float64, ls.N*ls.L*ls.L)
	mf.jac.gram(mf.K)
	if centered {
		d := ls.D()
		g := linalg.NewDense(d, 1)
		l := ls.L
		mf.jac.apply(linalg.NewDense(d, 1), g, func(s0, c int, f linalg.Dense) {
			for r := 0; r < c*l; r++ {
				f.Data[r*f.Stride] = ls.G[s0*l+r] / float64(ls.N)
			}
		})
		mf.GBar = g.Data
	}
	return mf, nil
}

// D returns the dimension of theta.
func (mf *MatFree) D() int { return mf.LS.D() }

// SetPairs sets the matched-pair quantities of a fully connected layer
// with weight w (Out x In) and partner[s] the sample matched with s (-1:
// none): v_s = W da_s, da_s = a_{partner} - a_s, w_s = Lambda_s Jz_s v_s,
// sigma^2 = (1/Np) sum ||v_s||^2 / ||a_s||^2 / d over the Np matched
// samples with a_s != 0 (as State.AddPairs).
func (mf *MatFree) SetPairs(w linalg.Dense, partner []int) error {
	ls := mf.LS
	if ls.Conv {
		return fmt.Errorf("awd: matrix-free: matched pairs of the convolution layer %s: the minimal-norm dW of matched pairs is defined for fully connected layers", ls.Layer)
	}
	m, n, l, N := ls.Out, ls.In, ls.L, ls.N
	if w.Rows != m || w.Cols != n || len(partner) != N {
		panic(fmt.Sprintf("awd: MatFree.SetPairs: W %dx%d, %d partners for a %dx%d layer and %d samples", w.Rows, w.Cols, len(partner), m, n, N))
	}
	mf.PairW = make([]float64, N*l)
	mf.DA = make([]float64, N*n)
	mf.Paired = make([]bool, N)
	dt2 := make([]float64, N)
	parallelRows(N, func(_, r0, r1 int) {
		v := make([]float64, m)
		jv := make([]float64, l)
		for s := r0; s < r1; s++ {
			q := partner[s]
			if q < 0 {
				continue
			}
			a, aq := ls.A[s*n:(s+1)*n], ls.A[q*n:(q+1)*n]
			da := mf.DA[s*n : (s+1)*n]
			for i := range da {
				da[i] = aq[i] - a[i]
			}
			na2 := kernels.Ddot(a, a)
			if na2 == 0 {
				continue
			}
			mf.Paired[s] = true
			for p := 0; p < m; p++ {
				v[p] = kernels.Ddot(w.Row(p), da)
			}
			dt2[s] = kernels.Ddot(v, v) / na2
			jz := ls.Jz[s*l*m : (s+1)*l*m]
			for k := 0; k < l; k++ {
				jv[k] = kernels.Ddot(jz[k*m:(k+1)*m], v)
			}
			lam := ls.Lambda[s*l*l : (s+1)*l*l]
			ws := mf.PairW[s*l : (s+1)*l]
			for k := 0; k < l; k++ {
				ws[k] = kernels.Ddot(lam[k*l:(k+1)*l], jv)
			}
		}
	})
	mf.NPairs = 0
	var sum float64
	for s, ok := range mf.Paired {
		if ok {
			mf.NPairs++
			sum += dt2[s]
		}
	}
	if mf.NPairs > 0 {
		mf.Sigma2 = sum / float64(mf.NPairs) / float64(m*n)
	}
	return nil
}

// middle writes M_s of quantity q for sample s into dst (L x L); work
// holds L^2 numbers.
func (mf *MatFree) middle(q Quantity, s int, dst, work []float64) {
	ls := mf.LS
	l := ls.L
	lam := ls.Lambda[s*l*l : (s+1)*l*l]
	switch q {
	case QuantityH:
		copy(dst, lam)
	case QuantityM2:
		// Lambda K Lambda
		ks := mf.K[s*l*l : (s+1)*l*l]
		for i := 0; i < l; i++ {
			for j := 0; j < l; j++ {
				var v float64
				for p := 0; p < l; p++ {
					v += ks[i*l+p] * lam[p*l+j]
				}
				work[i*l+j] = v
			}
		}
		for i := 0; i < l; i++ {
			for j := 0; j < l; j++ {
				var v float64
				for p := 0; p < l; p++ {
					v += lam[i*l+p] * work[p*l+j]
				}
				dst[i*l+j] = v
			}
		}
	case QuantityC, QuantityCPair:
		var g []float64
		if q == QuantityC {
			g = ls.G[s*l : (s+1)*l]
		} else {
			g = mf.PairW[s*l : (s+1)*l]
		}
		for i := 0; i < l; i++ {
			for j := 0; j < l; j++ {
				dst[i*l+j] = g[i] * g[j]
			}
		}
	}
}

// scale returns the normalisation of quantity q.
func (mf *MatFree) scale(q Quantity) float64 {
	n, b := float64(mf.LS.N), float64(mf.Batch)
	switch q {
	case QuantityC:
		return 1 / (b * n)
	case QuantityCPair:
		return 1 / (b * float64(mf.NPairs))
	}
	return 1 / n
}

// Operator returns the linalg.SymOp of quantity q (QuantityCPair needs
// SetPairs with at least one pair). Each Apply costs one forward and one
// adjoint pass: 4 N d b flops plus O(N L m b) for a fully connected layer,
// 4 N L d b plus the formation of J (2 N L d P) for a convolution.
func (mf *MatFree) Operator(q Quantity) (linalg.SymOp, error) {
	switch q {
	case QuantityH, QuantityM2, QuantityC:
	case QuantityCPair:
		if mf.NPairs == 0 {
			return nil, fmt.Errorf("awd: matrix-free C_pair of %s: no matched pairs", mf.LS.Layer)
		}
	default:
		return nil, fmt.Errorf("awd: matrix-free: unknown quantity %d", int(q))
	}
	return &ggnOp{mf: mf, q: q}, nil
}

// ggnOp is X = scale sum_s J_s^T M_s J_s (see Operator).
type ggnOp struct {
	mf *MatFree
	q  Quantity
}

func (o *ggnOp) Dim() int { return o.mf.D() }

func (o *ggnOp) Apply(dst, x linalg.Dense) {
	mf := o.mf
	sc := mf.scale(o.q)
	mf.jac.apply(x, dst, func(s0, c int, f linalg.Dense) {
		mf.applyMiddle(o.q, s0, c, sc, f)
	})
	if o.q == QuantityC && mf.Centered {
		// minus gbar (gbar^T x) / B
		b := x.Cols
		gx := make([]float64, b)
		for r, g := range mf.GBar {
			if g != 0 {
				kernels.Daxpy(g, x.Row(r), gx)
			}
		}
		inv := -1 / float64(mf.Batch)
		for r, g := range mf.GBar {
			if g != 0 {
				kernels.Daxpy(inv*g, gx, dst.Row(r))
			}
		}
	}
}

// applyMiddle replaces the rows (s, .) of f (c L x b) by sc M_s F_s.
func (mf *MatFree) applyMiddle(q Quantity, s0, c int, sc float64, f linalg.Dense) {
	l := mf.LS.L
	b := f.Cols
	parallelRows(c, func(_, r0, r1 int) {
		ms := make([]float64, l*l)
		work := make([]float64, l*l)
		tmp := make([]float64, l*b)
		for r := r0; r < r1; r++ {
			s := s0 + r
			fs := f.View(r*l, 0, l, b)
			if q == QuantityCPair && !mf.Paired[s] {
				for i := 0; i < l; i++ {
					clear(fs.Row(i))
				}
				continue
			}
			mf.middle(q, s, ms, work)
			for i := 0; i < l; i++ {
				copy(tmp[i*b:(i+1)*b], fs.Row(i))
			}
			for i := 0; i < l; i++ {
				row := fs.Row(i)
				clear(row)
				for j := 0; j < l; j++ {
					if v := sc * ms[i*l+j]; v != 0 {
						kernels.Daxpy(v, tmp[j*b:(j+1)*b], row)
					}
				}
			}
		}
	})
}

// Forward returns F = J U (N L x k, rows (s, l) = (J_s u_i)_l) for the k
// columns of u (d x k): the one pass the projections need. Cost half an
// operator application with k vectors.
func (mf *MatFree) Forward(u linalg.Dense) linalg.Dense {
	ls := mf.LS
	l, k := ls.L, u.Cols
	f := linalg.NewDense(ls.N*l, k)
	// A fully connected layer's scratch holds a permuted copy of the block:
	// in blocks of forwardCols columns it stays d x forwardCols. A formed
	// Jacobian takes every column at once, so that each chunk of J is
	// formed once.
	cols := forwardCols
	if _, ok := mf.jac.(*explicitJac); ok {
		cols = max(k, 1)
	}
	for c0 := 0; c0 < k; c0 += cols {
		kb := min(cols, k-c0)
		mf.jac.apply(u.View(0, c0, u.Rows, kb), linalg.Dense{}, func(s0, c int, fc linalg.Dense) {
			f.View(s0*l, c0, c*l, kb).Copy(fc)
		})
	}
	return f
}

// forwardCols is the widest block Forward passes at once.
const forwardCols = 64

// Block returns Xt = U^T X U = scale sum_s F_s^T M_s F_s (k x k) of
// quantity q from F = Forward(U), including the centering of C. Cost
// 2 N L k^2 + O(N L^2 k) flops.
func (mf *MatFree) Block(q Quantity, f linalg.Dense) linalg.Dense {
	ls := mf.LS
	l, N, k := ls.L, ls.N, f.Cols
	if f.Rows != N*l {
		panic(fmt.Sprintf("awd: MatFree.Block: F is %dx%d, want %d rows", f.Rows, f.Cols, N*l))
	}
	mfm := linalg.NewDense(N*l, k) // rows (s, .) = sc M_s F_s
	mfm.Copy(f)
	mf.applyMiddle(q, 0, N, mf.scale(q), mfm)
	xt := linalg.NewDense(k, k)
	linalg.Gemm(true, false, 1, f, mfm, 0, xt)
	if q == QuantityC && mf.Centered {
		gu := mf.meanGradProj(f)
		inv := -1 / float64(mf.Batch)
		for i := 0; i < k; i++ {
			kernels.Daxpy(inv*gu[i], gu, xt.Row(i))
		}
	}
	symmetrize(xt)
	return xt
}

// GradProj returns the N x k matrix of g_s . u_i = G_s^T F_s[:, i].
func (mf *MatFree) GradProj(f linalg.Dense) linalg.Dense {
	ls := mf.LS
	l, N, k := ls.L, ls.N, f.Cols
	p := linalg.NewDense(N, k)
	parallelRows(N, func(_, r0, r1 int) {
		for s := r0; s < r1; s++ {
			row := p.Row(s)
			for i, g := range ls.G[s*l : (s+1)*l] {
				if g != 0 {
					kernels.Daxpy(g, f.Row(s*l+i), row)
				}
			}
		}
	})
	return p
}

// meanGradProj returns gbar . u_i from F.
func (mf *MatFree) meanGradProj(f linalg.Dense) []float64 {
	p := mf.GradProj(f)
	out := make([]float64, p.Cols)
	for s := 0; s < p.Rows; s++ {
		kernels.Daxpy(1/float64(p.Rows), p.Row(s), out)
	}
	return out
}

// Trace returns tr X = scale sum_s tr(M_s K_s) of quantity q (without the
// centering of C, which subtracts |gbar|^2 / B).
func (mf *MatFree) Trace(q Quantity) float64 {
	ls := mf.LS
	l := ls.L
	ms := make([]float64, l*l)
	work := make([]float64, l*l)
	var t float64
	for s := 0; s < ls.N; s++ {
		if q == QuantityCPair && !mf.Paired[s] {
			continue
		}
		mf.middle(q, s, ms, work)
		ks := mf.K[s*l*l : (s+1)*l*l]
		for i, v := range ms {
			t += v * ks[i] // M and K symmetric: tr(M K) = sum M_ij K_ij
		}
	}
	t *= mf.scale(q)
	if q == QuantityC && mf.Centered {
		t -= kernels.Ddot(mf.GBar, mf.GBar) / float64(mf.Batch)
	}
	return t
}
