package linalg

import (
	"math"
	"sync"

	"github.com/awd-toolkit/awd/kernels"
)

// Householder tridiagonalisation of a symmetric matrix, A = Q T Q^T.
//
// Storage (row-major, as LAPACK's DSYTRD with uplo='L' seen through the
// transpose): the symmetric n x n matrix is read from its upper triangle,
// row i holding A(i, i:n) = A(i:n, i). Step i builds the reflector
//
//	H(i) = I - tau_i v_i v_i^T,  v_i(0:i+1) = 0, v_i(i+1) = 1,
//
// that annihilates A(i, i+2:n); on return row i, columns i+2..n-1 hold
// v_i(i+2:n), d holds the diagonal of T, e its off-diagonal and
// Q = H(0) H(1) ... H(n-2).
//
// The blocked form (dlatrd) reduces nb rows at a time while accumulating
// W such that the trailing matrix is updated once per panel,
//
//	A22 := A22 - V W^T - W V^T   (a SYR2K, on the GEMM micro-kernel),
//
// so half the 4/3 n^3 flops run at GEMM speed; the other half are the
// symmetric matrix-vector products with the trailing matrix (symvPacked),
// which are memory-bound: the trailing matrix lives packed (see pkBlockOff)
// and each product streams it once. Both are split over a team of spinning
// goroutines (team.go) that lives as long as the reduction.

const (
	sytrdNB = 64  // panel width (64 measured ~5% faster than LAPACK's usual 32 here)
	sytrdNX = 128 // below this order the unblocked code finishes
)

// dsytrd reduces the symmetric matrix a (upper triangle of the rows read) to
// tridiagonal form; d (n), e (n-1), tau (n-1) receive T and the reflector
// scalars, and a the reflectors as described above. Cost 4/3 n^3 flops.
func dsytrd(a Dense, d, e, tau []float64) {
	n := a.Rows
	if !useBlocked(n) {
		dsytd2(a, d, e, tau)
		return
	}
	pk := make([]float64, pkSize(n))
	packUpper(a, pk)
	j, tail := dsytrdPacked(pk, n, d, e, tau)
	for i := 0; i < j; i++ {
		copy(a.Data[i*a.Stride+i:i*a.Stride+n], pkRow(pk, n, i))
	}
	a.View(j, j, n-j, n-j).Copy(tail)
}

// useBlocked says whether dsytrd of order n runs the blocked reduction,
// whose trailing matrix lives in packed storage.
func useBlocked(n int) bool { return n > sytrdNX }

// dsytrdPacked is the blocked dsytrd of the n x n matrix packed in pk
// (packUpper). The panels are reduced in place: on return rows 0..j-1 of pk
// hold the reflectors and tail (n-j x n-j, the rows reduced unblocked) the
// rest, laid out as dsytrd leaves them in a.
func dsytrdPacked(pk []float64, n int, d, e, tau []float64) (j int, tail Dense) {
	w := NewDense(sytrdNB, n)
	// Buffers of the trailing updates, allocated once: fresh large
	// allocations per panel cost page faults.
	tm := startTeam(min(Threads(), 8))
	buf := make([]float64, syr2kBuf(sytrdNB, n, tm.n))
	defer tm.close()
	for ; j < n-sytrdNX; j += sytrdNB {
		m := n - j
		// The panel is pk's first block (sytrdNB x m, stride m); dlatrd
		// reduces it in place, which the symmetric products, reading the
		// rows below the current one, never see.
		sub := Dense{Rows: sytrdNB, Cols: m, Stride: m, Data: pk[:sytrdNB*m]}
		wv := Dense{Rows: sytrdNB, Cols: m, Stride: w.Stride, Data: w.Data}
		dlatrd(tm, sub, pk, sytrdNB, e[j:], tau[j:], wv)
		// Trailing update A22 -= V W^T + W V^T of the packed rows.
		m2 := m - sytrdNB
		pk = pk[pkBlockOff(m, 1):]
		syr2kPacked(tm, -1, sub.View(0, sytrdNB, sytrdNB, m2), wv.View(0, sytrdNB, sytrdNB, m2), pk, m2, buf)
		for i := 0; i < sytrdNB; i++ {
			sub.Data[i*sub.Stride+i+1] = e[j+i]
			d[j+i] = sub.Data[i*sub.Stride+i]
		}
	}
	m := n - j
	tail = NewDense(m, m)
	for p := 0; p < m; p++ {
		copy(tail.Data[p*tail.Stride+p:p*tail.Stride+m], pkRow(pk, m, p))
	}
	dsytd2(tail, d[j:], e[j:], tau[j:])
	return j, tail
}

// syr2kPacked computes C += alpha (V^T W + W^T V) for nb x m row panels V,
// W and the packed m x m upper triangle pk: the product of inner size 2 nb
// alpha X^T Y, X = [V; W], Y = [W; V], in place on each block of pk's rows
// (the entries left of the diagonal, which pk does not use, get updated
// too). It drives the GEMM micro-kernel itself: Y is packed once for all
// blocks (a Gemm per block would pack the block's columns of Y again, as
// much work as the block's product with kernel width 128), X per block, and
// the blocks spread over the team; buf holds at least syr2kBuf(nb, m,
// members) values. Cost 2 nb m^2 flops.
func syr2kPacked(tm *team, alpha float64, v, w Dense, pk []float64, m int, buf []float64) {
	syr2kPackedThen(tm, alpha, v, w, pk, m, buf, nil)
}

// syr2kPackedThen is syr2kPacked that, when after0 is not nil, calls it as
// soon as block 0 (the first pkRows rows of the triangle) is updated, on
// the member that updated it, while the others go on with the other blocks:
// the look-ahead of dsy2sb, whose next panel is block 0.
func syr2kPackedThen(tm *team, alpha float64, v, w Dense, pk []float64, m int, buf []float64, after0 func()) {
	nb := v.Rows
	kc := 2 * nb
	mr, nr := kernels.DgemmShape()
	// Rows p of X and Y.
	xrow := func(p int) []float64 {
		if p < nb {
			return v.Data[p*v.Stride : p*v.Stride+m]
		}
		return w.Data[(p-nb)*w.Stride : (p-nb)*w.Stride+m]
	}
	yrow := func(p int) []float64 {
		if p < nb {
			return w.Data[p*w.Stride : p*w.Stride+m]
		}
		return v.Data[(p-nb)*v.Stride : (p-nb)*v.Stride+m]
	}
	npan := (m + nr - 1) / nr
	pb := buf[:npan*kc*nr]
	rest := buf[npan*kc*nr:]
	perMember := syr2kSlot(nb)
	// Pack Y in nr-column panels (zero past column m), panels split over
	// the team.
	const panelsPerChunk = 16
	tm.run((npan+panelsPerChunk-1)/panelsPerChunk, func(ch int) {
		for jp := ch * panelsPerChunk; jp < min((ch+1)*panelsPerChunk, npan); jp++ {
			c0 := jp * nr
			cols := min(nr, m-c0)
			dst := pb[jp*kc*nr : (jp+1)*kc*nr]
			for p := 0; p < kc; p++ {
				d := dst[p*nr : p*nr+nr]
				copy(d, yrow(p)[c0:c0+cols])
				clear(d[cols:])
			}
		}
	})
	nblk := (m + pkRows - 1) / pkRows
	// One chunk per block, each packing into one of tm.n buffers, taken
	// from a free list (at most tm.n chunks run at once).
	free := make(chan int, tm.n)
	for k := 0; k < tm.n; k++ {
		free <- k
	}
	tm.run(nblk, func(blk int) {
		if blk == 0 && after0 != nil {
			defer after0() // after the slot is returned (deferred calls run last first)
		}
		slot := <-free
		defer func() { free <- slot }()
		mine := rest[slot*perMember : (slot+1)*perMember]
		pa, tile := mine[:perMember-mr*nr], mine[perMember-mr*nr:]
		{
			r0 := blk * pkRows
			rows := min(pkRows, m-r0)
			lda := m - r0
			c := pk[pkBlockOff(m, blk):]
			// Pack alpha X(:, r0:r0+rows) in mr-row panels (zero padded).
			npa := (rows + mr - 1) / mr
			for ip := 0; ip < npa; ip++ {
				i0 := ip * mr
				cnt := min(mr, rows-i0)
				dst := pa[ip*kc*mr : (ip+1)*kc*mr]
				for p := 0; p < kc; p++ {
					src := xrow(p)[r0+i0 : r0+i0+cnt]
					d := dst[p*mr : p*mr+mr]
					for i, x := range src {
						d[i] = alpha * x
					}
					clear(d[cnt:])
				}
			}
			// Columns r0..m-1: panels from r0/nr (r0 is a multiple of nr).
			for jp := r0 / nr; jp < npan; jp++ {
				c0 := jp*nr - r0 // column within the block
				cols := min(nr, lda-c0)
				b := pb[jp*kc*nr : (jp+1)*kc*nr]
				for ip := 0; ip < npa; ip++ {
					i0 := ip * mr
					cnt := min(mr, rows-i0)
					a := pa[ip*kc*mr : (ip+1)*kc*mr]
					if cnt == mr && cols == nr {
						kernels.DgemmMicro(kc, a, b, c[i0*lda+c0:], lda)
						continue
					}
					kernels.DgemmMicroStore(kc, a, b, tile, nr)
					for i := 0; i < cnt; i++ {
						row := c[(i0+i)*lda+c0 : (i0+i)*lda+c0+cols]
						for j := range row {
							row[j] += tile[i*nr+j]
						}
					}
				}
			}
		}
	})
}

// syr2kBuf is the buffer length syr2kPacked needs.
func syr2kBuf(nb, m, members int) int {
	_, nr := kernels.DgemmShape()
	return (m+nr-1)/nr*2*nb*nr + members*syr2kSlot(nb)
}

// syr2kSlot is one member's share of syr2kPacked's buffer: a block's rows of
// [V; W] packed in mr-row panels, and an mr x nr edge tile.
func syr2kSlot(nb int) int {
	mr, nr := kernels.DgemmShape()
	return ((pkRows+mr-1)/mr)*mr*2*nb + mr*nr
}

// dsytd2 is the unblocked reduction (LAPACK DSYTD2, lower, transposed).
// Cost 4/3 n^3 flops, all of them level 2.
func dsytd2(a Dense, d, e, tau []float64) {
	n := a.Rows
	if n == 0 {
		return
	}
	y := make([]float64, n)
	for i := 0; i < n-1; i++ {
		row := a.Data[i*a.Stride : i*a.Stride+n]
		beta, t := dlarfg(row[i+1], row[i+2:])
		e[i] = beta
		tau[i] = t
		if t != 0 {
			row[i+1] = 1
			v := row[i+1:]
			m := n - i - 1
			yy := y[:m]
			clear(yy)
			a22 := a.View(i+1, i+1, m, m)
			symvUpper(a22, v, yy)
			kernels.Dscal(t, yy)
			alpha := -0.5 * t * kernels.Ddot(yy, v)
			kernels.Daxpy(alpha, v, yy)
			for r := 0; r < m; r++ {
				rr := a22.Data[r*a22.Stride+r : r*a22.Stride+m]
				kernels.Daxpy(-v[r], yy[r:], rr)
				kernels.Daxpy(-yy[r], v[r:], rr)
			}
			row[i+1] = beta
		}
		d[i] = row[i]
	}
	d[n-1] = a.Data[(n-1)*a.Stride+n-1]
}

// dlatrd reduces a, the first nb rows (nb x m) of an m x m symmetric matrix
// (LAPACK DLATRD, lower, transposed), and returns in w (nb x m, row p = column p of LAPACK's
// W) the matrix with which the caller updates the trailing block. Row i of
// a keeps the unit reflector v_i with a 1 at column i+1; e and tau receive
// the off-diagonal and the scalars.
//
// pk holds the upper triangle of a packed by row blocks (packUpper), read by the
// symmetric products four rows at a time (see pkBlockOff).
func dlatrd(tm *team, a Dense, pk []float64, nb int, e, tau []float64, w Dense) {
	m := a.Cols
	lda, ldw := a.Stride, w.Stride
	t := make([]float64, nb)
	scratch := make([]float64, m)
	for i := 0; i < nb; i++ {
		coli := a.Data[i*lda+i : i*lda+m]
		if i > 0 {
			// A(i:m, i) -= A(i:m, 0:i) W(i, 0:i)^T + W(i:m, 0:i) A(i, 0:i)^T
			for p := 0; p < i; p++ {
				t[p] = -w.Data[p*ldw+i]
			}
			axpyRows(coli, a.Data[i:], lda, t[:i])
			for p := 0; p < i; p++ {
				t[p] = -a.Data[p*lda+i]
			}
			axpyRows(coli, w.Data[i:], ldw, t[:i])
		}
		if i == m-1 {
			continue
		}
		beta, ti := dlarfg(coli[1], coli[2:])
		e[i] = beta
		tau[i] = ti
		coli[1] = 1
		v := coli[1:]
		wi := w.Data[i*ldw+i+1 : i*ldw+m]
		for k := range wi {
			wi[k] = 0
		}
		symvPacked(tm, pk, m, i+1, v, wi)
		// wi -= V^T (W v) + W^T (V v) over the panel's rows 0..i-1.
		dotRows(t[:i], w.Data[i+1:], ldw, v, scratch)
		kernels.Dscal(-1, t[:i])
		axpyRows(wi, a.Data[i+1:], lda, t[:i])
		dotRows(t[:i], a.Data[i+1:], lda, v, scratch)
		kernels.Dscal(-1, t[:i])
		axpyRows(wi, w.Data[i+1:], ldw, t[:i])
		kernels.Dscal(ti, wi)
		alpha := -0.5 * ti * kernels.Ddot(wi, v)
		kernels.Daxpy(alpha, v, wi)
	}
}

// axpyRows computes y += sum_p coef[p] r[p*stride : p*stride+len(y)], four
// rows per pass over y (kernels.Dsymv4, its dot products unused).
func axpyRows(y, r []float64, stride int, coef []float64) {
	n := len(y)
	var dot [4]float64
	p := 0
	for ; p+4 <= len(coef); p += 4 {
		alpha := [4]float64{coef[p], coef[p+1], coef[p+2], coef[p+3]}
		kernels.Dsymv4(r[p*stride:], stride, y, y, &alpha, &dot, nil, 0)
	}
	for ; p < len(coef); p++ {
		kernels.Daxpy(coef[p], r[p*stride:p*stride+n], y)
	}
}

// dotRows sets t[p] to the dot product of r[p*stride : p*stride+len(x)]
// with x, four rows per pass over x (kernels.Dsymv4 with zero coefficients
// into the scratch, at least as long as x).
func dotRows(t, r []float64, stride int, x, scratch []float64) {
	n := len(x)
	var zero [4]float64
	p := 0
	for ; p+4 <= len(t); p += 4 {
		var dot [4]float64
		kernels.Dsymv4(r[p*stride:], stride, x, scratch[:n], &zero, &dot, nil, 0)
		copy(t[p:p+4], dot[:])
	}
	for ; p < len(t); p++ {
		t[p] = kernels.Ddot(r[p*stride:p*stride+n], x)
	}
}

// dlarfg generates an elementary reflector H = I - tau (1, v)(1, v)^T with
// H (alpha, x) = (beta, 0) (LAPACK DLARFG); x is overwritten by v.
func dlarfg(alpha float64, x []float64) (beta, tau float64) {
	xnorm := dnrm2(x)
	if xnorm == 0 {
		return alpha, 0
	}
	beta = -math.Copysign(math.Hypot(alpha, xnorm), alpha)
	const safmin = 0x1p-1022 / 0x1p-53
	knt := 0
	if math.Abs(beta) < safmin {
		rsafmn := 1 / safmin
		for math.Abs(beta) < safmin && knt < 20 {
			knt++
			kernels.Dscal(rsafmn, x)
			beta *= rsafmn
			alpha *= rsafmn
		}
		xnorm = dnrm2(x)
		beta = -math.Copysign(math.Hypot(alpha, xnorm), alpha)
	}
	tau = (beta - alpha) / beta
	kernels.Dscal(1/(alpha-beta), x)
	for ; knt > 0; knt-- {
		beta *= safmin
	}
	return beta, tau
}

// dnrm2 returns the Euclidean norm of x without undue overflow or underflow:
// the plain sum of squares (kernels.Ddot) when it lies well inside the
// range, where it is as accurate, and otherwise LAPACK's scaled sum.
func dnrm2(x []float64) float64 {
	if ssq := kernels.Ddot(x, x); ssq > 0x1p-900 && ssq < 0x1p900 {
		return math.Sqrt(ssq)
	}
	var scale, ssq float64 = 0, 1
	for _, v := range x {
		if v == 0 {
			continue
		}
		av := math.Abs(v)
		if scale < av {
			r := scale / av
			ssq = 1 + ssq*r*r
			scale = av
		} else {
			r := av / scale
			ssq += r * r
		}
	}
	return scale * math.Sqrt(ssq)
}

// symvUpper computes y += A x for the symmetric m x m matrix A whose upper
// triangle is stored in the rows of a (the unblocked reduction's product,
// and the bulge chasing's; the blocked one uses symvPacked). Each four rows
// contribute their 4 x 4 triangle directly and the rectangle right of it
// through kernels.Dsymv4 (a dot product and an axpy per row in one pass), so
// the matrix is read once. Cost 2 m^2 flops.
func symvUpper(a Dense, x, y []float64) {
	m := a.Rows
	r := 0
	for ; r+4 <= m; r += 4 {
		var dot [4]float64
		for k := 0; k < 4; k++ {
			row := a.Data[(r+k)*a.Stride:]
			xk := x[r+k]
			dot[k] += row[r+k] * xk
			for c := r + k + 1; c < r+4; c++ {
				dot[k] += row[c] * x[c]
				y[c] += row[c] * xk
			}
		}
		if r+4 < m {
			alpha := [4]float64{x[r], x[r+1], x[r+2], x[r+3]}
			kernels.Dsymv4(a.Data[r*a.Stride+r+4:], a.Stride, x[r+4:m], y[r+4:m], &alpha, &dot, nil, 0)
		}
		for k := range dot {
			y[r+k] += dot[k]
		}
	}
	for ; r < m; r++ {
		row := a.Data[r*a.Stride+r : r*a.Stride+m]
		xr := x[r]
		y[r] += row[0]*xr + kernels.Ddot(row[1:], x[r+1:])
		kernels.Daxpy(xr, row[1:], y[r+1:])
	}
}

// symvScratch holds the partial products of symvPacked's team members.
var symvScratch = sync.Pool{New: func() any { return new([]float64) }}

// The trailing matrix of the blocked reduction lives in row-block packed
// storage: its rows in blocks of pkRows (the panel width), block b (rows
// r0 = b pkRows ...) a dense pkRows x (m-r0) rectangle holding columns
// r0..m-1 of its rows, the blocks one after the other. The entries left of
// the diagonal inside a block are unused. So the matrix is one stream with
// no gaps, which the hardware prefetchers follow at nearly twice the
// bandwidth of n separate rows; any four rows of a block share a stride,
// as kernels.Dsymv4 reads them; a block is a Dense for the trailing update's
// Gemm; and the trailing matrix after a panel is the suffix from block 1.
const pkRows = sytrdNB

// pkBlockOff is the offset of block b in the packed m x m triangle.
func pkBlockOff(m, b int) int { return pkRows*b*m - pkRows*pkRows*b*(b-1)/2 }

// pkSize is the length of the packed m x m triangle.
func pkSize(m int) int { return pkBlockOff(m, (m+pkRows-1)/pkRows) }

// pkRow returns row r of the packed m x m triangle, columns r..m-1.
func pkRow(pk []float64, m, r int) []float64 {
	r0 := r / pkRows * pkRows
	off := pkBlockOff(m, r/pkRows) + (r-r0)*(m-r0) + r - r0
	return pk[off : off+m-r]
}

// packUpper copies the upper triangle of the m x m matrix a into pk.
func packUpper(a Dense, pk []float64) {
	m := a.Rows
	for p := 0; p < m; p++ {
		copy(pkRow(pk, m, p), a.Data[p*a.Stride+p:p*a.Stride+m])
	}
}

// packLowerT copies the lower triangle of the n x n matrix a transposed into
// the packed pk (row r of pk = column r of a from the diagonal down) and
// zeroes pk's unused entries, so pk may hold anything on entry; it works in
// 64 x 64 tiles (one block of rows each) that stay in cache, tile columns
// spread over goroutines. It
// returns the largest magnitude copied and whether all values are finite.
func packLowerT(a Dense, pk []float64) (amax float64, finite bool) {
	n := a.Rows
	const bs = 64
	nt := (n + bs - 1) / bs
	workers := min(Threads(), nt)
	maxes := make([]float64, workers)
	bad := make([]bool, workers)
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Go(func() {
			var rows [bs][]float64
			var mx float64
			nan := false
			for tr := g; tr < nt; tr += workers {
				r0, r1 := tr*bs, min(tr*bs+bs, n)
				for r := r0; r < r1; r++ {
					rows[r-r0] = pkRow(pk, n, r)
					// The unused entries left of the diagonal: zero.
					clear(pk[pkBlockOff(n, tr)+(r-r0)*(n-r0) : pkBlockOff(n, tr)+(r-r0)*(n-r0)+r-r0])
				}
				for c := r0; c < n; c++ {
					src := a.Data[c*a.Stride+r0 : c*a.Stride+min(r1, c+1)]
					for k, v := range src {
						rows[k][c-r0-k] = v
						if av := math.Abs(v); av > mx {
							mx = av
						} else if !(av <= mx) { // NaN
							nan = true
						}
					}
				}
			}
			maxes[g], bad[g] = mx, nan
		})
	}
	wg.Wait()
	// The last block's rows past n, if it is short: zero too.
	if last := (n - 1) / pkRows * pkRows; n > 0 {
		clear(pk[pkBlockOff(n, last/pkRows)+(n-last)*(n-last) : pkSize(n)])
	}
	finite = true
	for g := range maxes {
		amax = math.Max(amax, maxes[g])
		finite = finite && !bad[g]
	}
	return amax, finite && !math.IsInf(amax, 0)
}

// symvPacked computes y += A(s:m, s:m) x for the packed symmetric m x m
// matrix pk (x and y indexed from s): the rows before the first whole block
// one by one (a dot and an axpy each), then each block of four in one pass
// with kernels.Dsymv4, so A streams from memory once. Large products are
// split into block ranges of equal work, one per member of the team tm (nil:
// none), whose partial y are summed in a fixed order (deterministic). Cost
// 2 (m-s)^2 flops.
func symvPacked(tm *team, pk []float64, m, s int, x, y []float64) {
	ms := m - s
	single := func(y []float64, r0, r1 int) {
		for r := r0; r < r1; r++ {
			row := pkRow(pk, m, r)
			i := r - s
			y[i] += row[0]*x[i] + kernels.Ddot(row[1:], x[i+1:])
			kernels.Daxpy(x[i], row[1:], y[i+1:])
		}
	}
	// groups handles the rows 4 g0 .. 4 g1 - 1, four at a time.
	groups := func(y []float64, g0, g1 int) {
		for g := g0; g < g1; g++ {
			r := 4 * g
			if r+4 > m {
				single(y, r, m)
				continue
			}
			b := r / pkRows
			r0 := b * pkRows
			lda := m - r0
			base := pkBlockOff(m, b) + (r-r0)*lda + r - r0 // A(r, r)
			blk := pk[base : base+3*lda+m-r]
			i0 := r - s
			// The 4 x 4 triangle on the diagonal, then the rectangle right of it.
			var dot [4]float64
			for k := 0; k < 4; k++ {
				row := blk[k*lda : k*lda+4]
				xk := x[i0+k]
				dot[k] += row[k] * xk
				for c := k + 1; c < 4; c++ {
					dot[k] += row[c] * x[i0+c]
					y[i0+c] += row[c] * xk
				}
			}
			// Prefetch hint: the next group's rows.
			var next []float64
			nlda := lda
			switch {
			case r+8 > m:
			case (r+4)%pkRows == 0:
				next, nlda = pk[pkBlockOff(m, b+1):], lda-pkRows
			default:
				next = pk[base+4*lda:]
			}
			alpha := [4]float64{x[i0], x[i0+1], x[i0+2], x[i0+3]}
			kernels.Dsymv4(blk[4:], lda, x[i0+4:], y[i0+4:], &alpha, &dot, next, nlda)
			for k := range dot {
				y[i0+k] += dot[k]
			}
		}
	}
	bs, nb := (s+3)/4, (m+3)/4 // first whole group of four rows, group count
	head := min(4*bs, m)
	chunks := 1
	if tm != nil && tm.n > 1 && ms >= 384 {
		// Many small chunks: the members finish within a small chunk of
		// each other (16 for two members measured 4% faster at n = 4096
		// than 4), for one more partial product to sum per chunk.
		chunks = min(8*tm.n, 32)
	}
	if chunks == 1 {
		single(y, s, head)
		groups(y, bs, nb)
		return
	}
	// Group g costs about m-4g; chunk bounds of equal area under the
	// triangle. Chunk 0 adds into y, chunk k > 0 into its own partial
	// product (from its first row on), summed in a fixed order.
	var bounds [33]int
	bounds[0] = bs
	for k := 1; k < chunks; k++ {
		frac := float64(k) / float64(chunks)
		r := head + int(float64(m-head)*(1-math.Sqrt(1-frac)))
		bounds[k] = min(max(r/4, bounds[k-1]), nb)
	}
	bounds[chunks] = nb
	scratch := symvScratch.Get().(*[]float64)
	need := (chunks - 1) * ms
	if cap(*scratch) < need {
		*scratch = make([]float64, need)
	}
	parts := (*scratch)[:need]
	tm.run(chunks, func(k int) {
		if k == 0 {
			single(y, s, head)
			groups(y, bounds[0], bounds[1])
			return
		}
		lo := max(4*bounds[k]-s, 0)
		part := parts[(k-1)*ms : k*ms]
		clear(part[lo:])
		groups(part, bounds[k], bounds[k+1])
	})
	for k := 1; k < chunks; k++ {
		lo := max(4*bounds[k]-s, 0)
		kernels.Daxpy(1, parts[(k-1)*ms+lo:k*ms], y[lo:])
	}
	symvScratch.Put(scratch)
}
