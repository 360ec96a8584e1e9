package linalg

import (
	"math"

	"github.com/awd-toolkit/awd/kernels"
)

// Two-stage reduction to tridiagonal form, for eigenvalues without vectors
// (LAPACK's DSYTRD_2STAGE, JOBZ='N').
//
// The one-stage dsytrd spends half its flops in symmetric matrix-vector
// products that stream the trailing matrix from memory once per column;
// on two cores they are bound by memory bandwidth. The two-stage form
// replaces them by matrix-matrix products:
//
//  1. dsy2sb reduces A to a symmetric band matrix of half-bandwidth b by
//     blocked QR of b-column panels and two-sided block updates (all GEMM);
//  2. dsb2st chases the band down to tridiagonal form with Householder
//     reflectors of length b applied to b x b blocks that stay in cache
//     (6 b n^2 flops, see dsb2st).
//
// The reflectors are not kept: without eigenvectors nothing needs them.

// dsy2sb reduces the symmetric n x n matrix packed in pk (packLowerT, row r
// = column r of the lower triangle from the diagonal on) to a band matrix
// of half-bandwidth b = pkRows (the packed storage's block height, so that
// each panel is one block of rows), returned in band storage; pk is
// destroyed.
//
// Step j takes the panel P = A(j+b:n, j:j+b) (the rows of pk's first
// block right of its diagonal block), factors P = Q R with Q = I - V^T T V
// (V's rows the reflectors, geqr2Rows and dlarftRows), and updates the
// trailing matrix A22 = A(j+b:n, j+b:n) to Q^T A22 Q as
//
//	U = V A22,  Y = T^T U,  Z = Y - 1/2 (Y V^T T) V,
//	A22 -= V^T Z + Z^T V,
//
// U by symmPacked and the update by syr2kPacked, each 2 b m^2 flops for
// m = n-j-b, on the team: 4/3 n^3 flops in all, as many as dsytrd but all
// of them in the GEMM micro-kernel.
//
// The panel's factorisation is level 2 and serial, about 12% of the
// reduction's time on two cores, so it is taken off the critical path
// (look-ahead): step j+1's panel is the first block of rows of step j's
// updated A22, so the member that updates that block factors the next
// panel at once, while the others update the rest of A22. Two sets of
// panel buffers alternate between steps.
func dsy2sb(pk []float64, n int) band {
	const b = pkRows
	s := newBand(n, b)
	tm := startTeam(min(Threads(), 8))
	defer tm.close()
	m0 := max(n-b, 0)
	// All work buffers from one warm one (contents arbitrary: each is
	// written before it is read).
	chunks := symmChunks(tm)
	nbuf := []int{b * m0, b * m0, b * m0, b * m0, b * m0, b * m0, syr2kBuf(b, m0, tm.n), (m0 + zCols - 1) / zCols * b * b, (chunks - 1) * m0 * b}
	total := 0
	for _, l := range nbuf {
		total += l
	}
	arena := getWarm(total)
	defer putWarm(arena)
	bufs := make([][]float64, len(nbuf))
	for i, l := range nbuf {
		bufs[i], arena = arena[:l:l], arena[l:]
	}
	zbuf, ubuf, pbuf, vtbuf, buf, gparts := bufs[0], bufs[1], bufs[2], bufs[3], bufs[6], bufs[7]
	// The panel being applied and the next one, factored meanwhile: V
	// and T twice; the factorisation's scratch and V^T once (V^T is read
	// by symmPacked, which is done before the next panel is factored).
	panels := [2]*sy2sbPanel{newSy2sbPanel(b, pbuf, bufs[4], vtbuf), newSy2sbPanel(b, pbuf, bufs[5], vtbuf)}
	sm := &symmWork{chunks: chunks, part: make([]Dense, chunks)}
	for c := 1; c < chunks; c++ {
		sm.part[c] = Dense{Rows: m0, Cols: b, Stride: b, Data: bufs[8][(c-1)*m0*b : c*m0*b]}
	}
	mm := NewDense(b, b)
	mirrorDiagBlocks(pk, n)
	j := 0
	if n-j > b+1 {
		panels[0].factor(s, pk, j, n-b)
	}
	for step := 0; n-j > b+1; j, step = j+b, step+1 {
		m := n - j - b
		p := panels[step%2]
		v, t, vt := p.v, p.t, p.vt
		k := v.Rows
		pk = pk[pkBlockOff(b+m, 1):]
		ut := Dense{Rows: m, Cols: k, Stride: k, Data: ubuf[:m*k]}
		symmPacked(tm, sm, pk, m, vt, ut)
		z := Dense{Rows: k, Cols: m, Stride: m, Data: zbuf[:k*m]}
		formZ(tm, t, ut, v, z, mm.View(0, 0, k, k), gparts)
		var next func()
		if jn := j + b; n-jn > b+1 {
			np, npk := panels[(step+1)%2], pk
			next = func() { np.factor(s, npk, jn, n-jn-b) }
		}
		syr2kPackedThen(tm, -1, v, z, pk, m, buf, next)
	}
	// The rest is already a band.
	m := n - j
	for p := 0; p < m; p++ {
		copy(s.ab[(j+p)*s.ld:], pkRow(pk, m, p))
	}
	return s
}

// sy2sbPanel is one panel of dsy2sb, factored: V (k x m, its implicit
// zeros and ones explicit) and T of the block reflector I - V^T T V.
type sy2sbPanel struct {
	pbuf, vbuf, vtbuf []float64 // the factorisation's scratch (b x m), V's and V^T's storage
	v, vt, t          Dense
	tmat, g           Dense
	tau               []float64
}

func newSy2sbPanel(b int, pbuf, vbuf, vtbuf []float64) *sy2sbPanel {
	return &sy2sbPanel{pbuf: pbuf, vbuf: vbuf, vtbuf: vtbuf, tmat: NewDense(b, b), g: NewDense(b, b), tau: make([]float64, b)}
}

// factor factors the panel of step j (m = n-j-b rows below its diagonal
// block): the rows of pk's first block right of its diagonal block. It
// writes the band's columns j..j+b-1, which are final, V, T and V^T, and
// reads nothing of pk but that block.
func (p *sy2sbPanel) factor(s band, pk []float64, j, m int) {
	const b = pkRows
	k := min(b, m) // reflectors in this panel
	blk := Dense{Rows: b, Cols: b + m, Stride: b + m, Data: pk[:b*(b+m)]}
	pan := Dense{Rows: b, Cols: m, Stride: m, Data: p.pbuf[:b*m]}
	pan.Copy(blk.View(0, b, b, m))
	geqr2Rows(pan, p.tau[:k])
	// The band's columns j..j+b-1 are final: the diagonal block, then R.
	for q := 0; q < b; q++ {
		col := s.ab[(j+q)*s.ld : (j+q)*s.ld+b+1]
		copy(col[:b-q], blk.Data[q*blk.Stride+q:q*blk.Stride+b])
		for r := 0; r <= q && r < m; r++ {
			col[b-q+r] = pan.Data[q*pan.Stride+r]
		}
	}
	// V with its implicit zeros and ones made explicit.
	p.v = Dense{Rows: k, Cols: m, Stride: m, Data: p.vbuf[:k*m]}
	p.v.Copy(pan.View(0, 0, k, m))
	for q := 0; q < k; q++ {
		row := p.v.Row(q)
		clear(row[:q])
		row[q] = 1
	}
	p.t = p.tmat.View(0, 0, k, k)
	gk := p.g.View(0, 0, k, k)
	gemmSerial(false, true, 1, p.v, p.v, 0, gk)
	dlarftRows(gk, p.tau[:k], p.t)
	p.vt = Dense{Rows: m, Cols: k, Stride: k, Data: p.vtbuf[:m*k]}
	transposeInto(p.vt, p.v)
}

// zCols is the width of the column chunks in which formZ splits its
// products over the team.
const zCols = 256

// formZ computes Z = Y - 1/2 (Y V^T T) V from Y = T^T U (ut = U^T) for the
// k x m matrices v and z, with mm (k x k) and gparts (k*k per chunk of
// zCols columns) as workspace: the products with T^T and V by column
// chunks on the team, the chunks' parts of Y V^T summed in order. Cost
// 6 k^2 m flops.
func formZ(tm *team, t, ut, v, z, mm Dense, gparts []float64) {
	k, m := v.Rows, v.Cols
	nch := (m + zCols - 1) / zCols
	part := func(c int) Dense { return Dense{Rows: k, Cols: k, Stride: k, Data: gparts[c*k*k : (c+1)*k*k]} }
	tm.run(nch, func(c int) {
		c0 := c * zCols
		w := min(zCols, m-c0)
		zc := z.View(0, c0, k, w)
		gemmSerial(true, true, 1, t, ut.View(c0, 0, w, k), 0, zc) // Y = T^T U
		gemmSerial(false, true, 1, zc, v.View(0, c0, k, w), 0, part(c))
	})
	g := part(0)
	for c := 1; c < nch; c++ {
		pc := part(c)
		for i := range k * k {
			g.Data[i] += pc.Data[i]
		}
	}
	gemmSerial(false, false, 1, g, t, 0, mm) // Y V^T T
	tm.run(nch, func(c int) {
		c0 := c * zCols
		w := min(zCols, m-c0)
		gemmSerial(false, false, -0.5, mm, v.View(0, c0, k, w), 1, z.View(0, c0, k, w))
	})
}

// symmWork holds symmPacked's per-chunk partial products.
type symmWork struct {
	chunks int
	part   []Dense // partial products of chunks 1.., m x k
}

// symmChunks is the number of chunks symmPacked splits its blocks into on
// the team: two per member, so that one descheduled member delays the
// product by half its share at most.
func symmChunks(tm *team) int {
	if tm.n > 1 {
		return 2 * tm.n
	}
	return 1
}

// symmPacked computes U^T = A V^T, ut = A vt, for the m x k matrix vt and
// the symmetric m x m matrix packed in pk with its diagonal blocks stored
// whole (mirrorDiagBlocks). Block I of pk (rows r0 = I pkRows ...) holds the
// rows P_I = A(I, r0:m): its diagonal block and the rectangle R_I right of
// it, which contribute
//
//	U^T(I, :) += P_I V^T(r0:m, :),   U^T(after I, :) += R_I^T V^T(I, :),
//
// two products on the GEMM kernels with every operand in the layout its
// assembly packer reads. The blocks are split into chunks of equal work,
// each summing into its own partial product (chunk 0 into ut itself),
// added in a fixed order at the end. Cost 2 k m^2 flops.
func symmPacked(tm *team, w *symmWork, pk []float64, m int, vt, ut Dense) {
	k := vt.Cols
	nblk := (m + pkRows - 1) / pkRows
	chunks := min(w.chunks, nblk)
	bounds := make([]int, chunks+1)
	for c := 1; c < chunks; c++ {
		// Block I costs about m - I pkRows: equal areas under the line.
		frac := float64(c) / float64(chunks)
		bounds[c] = min(max(int(float64(nblk)*(1-math.Sqrt(1-frac))), bounds[c-1]), nblk)
	}
	bounds[chunks] = nblk
	tm.run(chunks, func(c int) {
		out := ut
		if c > 0 {
			out = w.part[c].View(0, 0, m, k)
		}
		first := bounds[c] * pkRows
		if first >= m {
			return
		}
		for r := first; r < m; r++ {
			clear(out.Data[r*out.Stride : r*out.Stride+k])
		}
		for blk := bounds[c]; blk < bounds[c+1]; blk++ {
			r0 := blk * pkRows
			rows := min(pkRows, m-r0)
			ld := m - r0
			p := Dense{Rows: rows, Cols: ld, Stride: ld, Data: pk[pkBlockOff(m, blk):][:rows*ld]}
			gemmSerial(false, false, 1, p, vt.View(r0, 0, ld, k), 1, out.View(r0, 0, rows, k))
			if wd := ld - rows; wd > 0 {
				gemmSerial(true, false, 1, p.View(0, rows, rows, wd), vt.View(r0, 0, rows, k), 1, out.View(r0+rows, 0, wd, k))
			}
		}
	})
	if chunks == 1 {
		return
	}
	// ut += the partials, in chunk order, split over the team by blocks of rows.
	tm.run(nblk, func(blk int) {
		r0 := blk * pkRows
		r1 := min(r0+pkRows, m)
		for c := 1; c < chunks; c++ {
			if first := bounds[c] * pkRows; first > r0 {
				continue
			}
			part := w.part[c]
			for r := r0; r < r1; r++ {
				kernels.Daxpy(1, part.Data[r*part.Stride:r*part.Stride+k], ut.Data[r*ut.Stride:r*ut.Stride+k])
			}
		}
	})
}

// mirrorDiagBlocks fills the unused entries of pk's blocks, those left of
// the diagonal, with their mirror images, so that each block holds its rows
// whole from the block's first column on. syr2kPacked keeps them so: it
// updates them with the same symmetric product.
func mirrorDiagBlocks(pk []float64, m int) {
	for blk := 0; blk*pkRows < m; blk++ {
		r0 := blk * pkRows
		rows := min(pkRows, m-r0)
		ld := m - r0
		a := pk[pkBlockOff(m, blk):]
		for r := 0; r < rows; r++ {
			for q := r + 1; q < rows; q++ {
				a[q*ld+r] = a[r*ld+q]
			}
		}
	}
}

// gemmSerial is Gemm on the calling goroutine alone, for the products of
// team members.
func gemmSerial(tA, tB bool, alpha float64, a, b Dense, beta float64, c Dense) {
	m, k := a.Rows, a.Cols
	if tA {
		m, k = k, m
	}
	n := b.Cols
	if tB {
		n = b.Rows
	}
	mr, nr := kernels.DgemmShape()
	g := gemmJob[float64]{
		a: operand[float64]{a.Data, a.Stride, tA}, b: operand[float64]{b.Data, b.Stride, tB},
		c: c.Data, ldc: c.Stride, m: m, n: n, k: k, alpha: alpha, beta: beta,
		mr: mr, nr: nr, micro: kernels.DgemmMicro, store: kernels.DgemmMicroStore,
	}
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		g.scaleC()
		return
	}
	kc, mc, nc := blockSizes(mr, nr, 8)
	kc = ceilDiv(k, ceilDiv(k, kc))
	g.run(0, m, 0, n, kc, mc, nc, nil)
}

// geqr2Rows computes the QR factorisation of the m x c matrix P = a^T (a's
// rows P's columns) by k = len(tau) <= min(m, c) Householder reflectors
// (LAPACK DGEQR2 on the transpose): on return row p < k of a holds
// R(0:p+1, p) in columns 0..p and the reflector v_p below (v_p(p) = 1
// implicit), tau[p] its scalar; rows from k on hold Q^T's product with
// P's remaining columns.
func geqr2Rows(a Dense, tau []float64) {
	c, m := a.Rows, a.Cols
	work := make([]float64, c+m)
	for p := range tau {
		row := a.Row(p)
		beta, t := dlarfg(row[p], row[p+1:])
		tau[p] = t
		row[p] = beta
		if t == 0 {
			continue
		}
		// Apply H_p = I - t v v^T to the columns p+1.. of P, four at a time.
		row[p] = 1
		vp := row[p:m]
		if q := p + 1; q < c {
			rq := a.Data[q*a.Stride+p:]
			coef := work[:c-q]
			dotRows(coef, rq, a.Stride, vp, work[c:])
			kernels.Dscal(-t, coef)
			gerRows(rq, a.Stride, vp, coef)
		}
		row[p] = beta
	}
}

// dlarftRows forms the upper triangular T of the block reflector
// H_0 H_1 ... H_{k-1} = I - V^T T V (LAPACK DLARFT, forward, with the
// reflectors as rows of V) from the Gram matrix g = V V^T and the scalars.
func dlarftRows(g Dense, tau []float64, t Dense) {
	k := len(tau)
	for p := 0; p < k; p++ {
		for r := 0; r < k; r++ {
			t.Data[r*t.Stride+p] = 0
		}
		t.Data[p*t.Stride+p] = tau[p]
		if tau[p] == 0 {
			continue
		}
		// T(0:p, p) = -tau_p T(0:p, 0:p) g(0:p, p).
		for r := 0; r < p; r++ {
			var s float64
			for l := r; l < p; l++ {
				s += t.Data[r*t.Stride+l] * g.Data[l*g.Stride+p]
			}
			t.Data[r*t.Stride+p] = -tau[p] * s
		}
	}
}

// use2stage says whether the eigenvalues of order n come from the
// two-stage reduction rather than dsytrd: from the crossover measured on
// this machine (see tuning.go), never below calibrateMin.
func use2stage(n int) bool {
	if twoStageMin > 0 {
		return n >= twoStageMin
	}
	return n >= calibrateMin && n >= twoStageOrder()
}

// twoStageMin, when positive, replaces the measured crossover: the tests
// take the two-stage path at small orders with it.
var twoStageMin int

// tridiagonalize2 is tridiagonalize for eigenvalues only, by the two-stage
// reduction: T in d and e, no reflectors.
func tridiagonalize2(a Dense) (tridiag, error) {
	n := a.Rows
	pk := getWarm(pkSize(n))
	defer putWarm(pk)
	anrm, finite := packLowerT(a, pk)
	if !finite {
		return tridiag{}, ErrNotFinite
	}
	scale := reductionScale(anrm)
	if scale != 1 {
		// pk's unused entries are zero: harmless to the scaling.
		for i := range pk {
			pk[i] /= scale
		}
	}
	d, e := dsb2st(dsy2sb(pk, n))
	if !allFinite(d) || !allFinite(e) {
		return tridiag{}, ErrNotFinite
	}
	return tridiag{n: n, d: d, e: e, scale: scale}, nil
}

// transposeInto sets dst = src^T.
func transposeInto(dst, src Dense) {
	const bs = 32
	for i0 := 0; i0 < src.Rows; i0 += bs {
		for j0 := 0; j0 < src.Cols; j0 += bs {
			for i := i0; i < min(i0+bs, src.Rows); i++ {
				row := src.Data[i*src.Stride : i*src.Stride+src.Cols]
				for j := j0; j < min(j0+bs, src.Cols); j++ {
					dst.Data[j*dst.Stride+i] = row[j]
				}
			}
		}
	}
}
