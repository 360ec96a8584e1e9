package linalg

import (
	"math"
	"sort"
	"sync"
)

// Divide and conquer for the symmetric tridiagonal eigenproblem (Cuppen;
// LAPACK DSTEDC/DLAED0-3 with Gu and Eisenstat's eigenvectors).
//
// Tearing T at m with beta = e_{m-1} gives
//
//	T = diag(T1, T2) + |beta| u u^T,  u = e_{m-1} + sign(beta) e_m,
//
// where T1, T2 have |beta| subtracted from their last and first diagonal
// entries. With T1 = Q1 D1 Q1^T and T2 = Q2 D2 Q2^T solved recursively,
//
//	T = Q (D + rho z z^T) Q^T,  Q = diag(Q1, Q2),
//	z = (last row of Q1, sign(beta) first row of Q2)/sqrt 2,  rho = 2|beta|.
//
// Deflation (DLAED2): components with rho |z_i| <= tol keep (d_i, Q e_i); two
// poles closer than tol/(c s) are merged by a plane rotation that zeroes one
// z component. The remaining K poles give K roots of the secular equation
// (dlaed4); Gu and Eisenstat's recomputed
//
//	zhat_i^2 = prod_j (lambda_j - d_i) / (rho prod_{j != i} (d_j - d_i))
//
// makes the eigenvectors u_j = (zhat_i/(d_i - lambda_j))_i / norm numerically
// orthogonal, and the new eigenvectors are Q U, computed with two GEMMs on the
// row blocks of Q (columns grouped by the block they live in, DLAED3's
// trick), 2 n K^2 flops at most. Leaves of size <= dstedcLeaf use dsteqr.
// The two halves of a split run concurrently. When only some of the
// vectors are wanted (dstedcRange), the last merge forms only those: its
// GEMMs, the largest of all, shrink in proportion.

// dstedcLeaf is the largest block solved by dsteqr (a variable so that tests
// can push small problems through the merge code).
var dstedcLeaf = 32

// dstedc computes all eigenvalues (ascending in d) and eigenvectors (the
// columns of q, n x n, which must be zero on entry) of the tridiagonal (d, e).
func dstedc(d, e []float64, q Dense) error {
	return dstedcRange(d, e, q, 0, len(d))
}

// dstedcRange is dstedc for the eigenvectors of the ascending positions
// [lo, hi) only: q's other columns are left undefined (all eigenvalues are
// computed).
func dstedcRange(d, e []float64, q Dense, lo, hi int) error {
	n := len(d)
	if lo < 0 || hi > n || lo > hi {
		panic("linalg: dstedcRange: bad range")
	}
	if q.Rows != n || q.Cols != n {
		panic("linalg: dstedc: q has the wrong shape")
	}
	if n == 0 {
		return nil
	}
	// Scale to unit max norm so that tolerances are absolute in ||T||.
	var scale float64
	for i := 0; i < n; i++ {
		scale = math.Max(scale, math.Abs(d[i]))
		if i < n-1 {
			scale = math.Max(scale, math.Abs(e[i]))
		}
	}
	if scale == 0 {
		for i := 0; i < n; i++ {
			q.Data[i*q.Stride+i] = 1
		}
		return nil
	}
	dd := make([]float64, n)
	ee := make([]float64, max(n-1, 0))
	for i := range dd {
		dd[i] = d[i] / scale
	}
	for i := range ee {
		ee[i] = e[i] / scale
	}
	par := Threads()
	// One n x n scratch for all merges: siblings use disjoint diagonal
	// blocks of it, and a merge runs only after its children are done.
	scr := DenseOf(n, n, getWarm(n*n))
	defer putWarm(scr.Data)
	if err := dlaed0(dd, ee, q, scr, par, lo, hi); err != nil {
		return err
	}
	for i := range dd {
		d[i] = dd[i] * scale
	}
	return nil
}

// dlaed0 solves one level of the recursion into q (which is zero on entry),
// with scr (same shape) as workspace. par is the number of goroutines this
// call may use; the vectors of positions [lo, hi) are wanted (the halves
// want all of theirs).
func dlaed0(d, e []float64, q, scr Dense, par, lo, hi int) error {
	n := len(d)
	if n <= dstedcLeaf {
		for i := 0; i < n; i++ {
			q.Data[i*q.Stride+i] = 1
		}
		ec := make([]float64, max(n-1, 0))
		copy(ec, e)
		return dsteqr(d, ec, q)
	}
	m := n / 2
	beta := e[m-1]
	d[m-1] -= math.Abs(beta)
	d[m] -= math.Abs(beta)
	q1, s1 := q.View(0, 0, m, m), scr.View(0, 0, m, m)
	q2, s2 := q.View(m, m, n-m, n-m), scr.View(m, m, n-m, n-m)
	var err1, err2 error
	if par > 1 && n >= 256 {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			err1 = dlaed0(d[:m], e[:m-1], q1, s1, par/2, 0, m)
		}()
		err2 = dlaed0(d[m:], e[m:], q2, s2, par-par/2, 0, n-m)
		wg.Wait()
	} else {
		err1 = dlaed0(d[:m], e[:m-1], q1, s1, 1, 0, m)
		err2 = dlaed0(d[m:], e[m:], q2, s2, 1, 0, n-m)
	}
	if err1 != nil {
		return err1
	}
	if err2 != nil {
		return err2
	}
	return dlaed1(d, q, scr, m, beta, par, lo, hi)
}

// dlaed1 merges the solved halves (d[:n1], q's leading block; d[n1:], q's
// trailing block) coupled by beta into the eigen-decomposition of the whole,
// with the vectors of the ascending positions [lo, hi) (the others are
// left undefined); res (n x n) is workspace.
func dlaed1(d []float64, q, res Dense, n1 int, beta float64, par, lo, hi int) error {
	n := len(d)
	rho := 2 * math.Abs(beta)
	z := make([]float64, n)
	s2 := 1 / math.Sqrt2
	copy(z[:n1], q.Data[(n1-1)*q.Stride:(n1-1)*q.Stride+n1])
	sb := s2
	if beta < 0 {
		sb = -s2
	}
	for i := 0; i < n1; i++ {
		z[i] *= s2
	}
	for i := n1; i < n; i++ {
		z[i] = sb * q.Data[n1*q.Stride+i]
	}
	// Column types: 1 = lives in the top rows, 2 = bottom, 3 = both.
	ctype := make([]uint8, n)
	for i := range ctype {
		if i < n1 {
			ctype[i] = 1
		} else {
			ctype[i] = 2
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return d[idx[a]] < d[idx[b]] })
	var dmax, zmax float64
	for i := range d {
		dmax = math.Max(dmax, math.Abs(d[i]))
		zmax = math.Max(zmax, math.Abs(z[i]))
	}
	tol := 8 * eps * math.Max(dmax, rho*zmax)
	var keep, defl []int
	prev := -1
	for _, c := range idx {
		if rho*math.Abs(z[c]) <= tol {
			defl = append(defl, c)
			continue
		}
		if prev < 0 {
			prev = c
			continue
		}
		s, cc := z[prev], z[c]
		r := math.Hypot(cc, s)
		cs, sn := cc/r, s/r
		t := d[c] - d[prev]
		if math.Abs(t*cs*sn) <= tol {
			z[c] = r
			z[prev] = 0
			rotCols(q, prev, c, cs, sn)
			dp, dc := d[prev], d[c]
			d[prev] = cs*cs*dp + sn*sn*dc
			d[c] = sn*sn*dp + cs*cs*dc
			u := ctype[prev] | ctype[c]
			ctype[prev], ctype[c] = u, u
			defl = append(defl, prev)
			prev = c
			continue
		}
		keep = append(keep, prev)
		prev = c
	}
	if prev >= 0 {
		keep = append(keep, prev)
	}
	k := len(keep)
	vals := make([]float64, n)
	var ut Dense
	if k > 0 {
		dk := make([]float64, k)
		zk := make([]float64, k)
		for s, c := range keep {
			dk[s] = d[c]
			zk[s] = z[c]
		}
		lam := make([]float64, k)
		// ut(j, i) = dk_i - lambda_j, then component i of eigenvector j
		// (rows are vectors, so every pass below is row-wise).
		utBuf := getScratch(k * k)
		defer putScratch(utBuf)
		ut = DenseOf(k, k, *utBuf)
		secularRoots(dk, zk, rho, lam, ut, par)
		eigvecsGE(dk, zk, rho, ut, par)
		copy(vals, lam)
	}
	for t, c := range defl {
		vals[k+t] = d[c]
	}
	// The ascending order of the merged values: entry i of the result is
	// vals[ord[i]].
	ord := make([]int, n)
	for i := range ord {
		ord[i] = i
	}
	sort.SliceStable(ord, func(a, b int) bool { return vals[ord[a]] < vals[ord[b]] })
	if k > 0 {
		// The roots whose vectors are wanted: those that land in [lo, hi).
		// The roots ascend with j, so they are the contiguous [j0, j1).
		j0, j1 := k, 0
		for i := lo; i < hi; i++ {
			if j := ord[i]; j < k {
				j0, j1 = min(j0, j), max(j1, j+1)
			}
		}
		// Group the kept columns: top-only, mixed, bottom-only.
		var g1, g2 []int // indices s into keep
		for s, c := range keep {
			if ctype[c] == 1 {
				g1 = append(g1, s)
			}
		}
		for s, c := range keep {
			if ctype[c] == 3 {
				g1 = append(g1, s)
				g2 = append(g2, s)
			}
		}
		for s, c := range keep {
			if ctype[c] == 2 {
				g2 = append(g2, s)
			}
		}
		if j0 < j1 {
			n2 := n - n1
			prodRows(q, keep, g1, 0, n1, ut.View(j0, 0, j1-j0, k), res.View(0, j0, n1, j1-j0))
			prodRows(q, keep, g2, n1, n2, ut.View(j0, 0, j1-j0, k), res.View(n1, j0, n2, j1-j0))
		}
	}
	if len(defl) > 0 {
		// The deflated columns, row by row (a column at a time would miss
		// the cache on every entry).
		splitRange(par, n, 256, func(r0, r1 int) {
			for r := r0; r < r1; r++ {
				src := q.Data[r*q.Stride : r*q.Stride+n]
				dst := res.Data[r*res.Stride+k : r*res.Stride+n]
				for t, c := range defl {
					dst[t] = src[c]
				}
			}
		})
	}
	// Write back in ascending order.
	for i, j := range ord {
		d[i] = vals[j]
	}
	splitRange(par, n, 256, func(r0, r1 int) {
		permuteRows(q.View(r0, 0, r1-r0, n), res.View(r0, 0, r1-r0, n), ord)
	})
	return nil
}

// permuteRows sets dst(r, i) = src(r, ord[i]) for every row, four rows per
// pass over ord.
func permuteRows(dst, src Dense, ord []int) {
	n := len(ord)
	r := 0
	for ; r+4 <= dst.Rows; r += 4 {
		d0 := dst.Data[r*dst.Stride : r*dst.Stride+n]
		d1 := dst.Data[(r+1)*dst.Stride : (r+1)*dst.Stride+n]
		d2 := dst.Data[(r+2)*dst.Stride : (r+2)*dst.Stride+n]
		d3 := dst.Data[(r+3)*dst.Stride : (r+3)*dst.Stride+n]
		s0 := src.Data[r*src.Stride : r*src.Stride+n]
		s1 := src.Data[(r+1)*src.Stride : (r+1)*src.Stride+n]
		s2 := src.Data[(r+2)*src.Stride : (r+2)*src.Stride+n]
		s3 := src.Data[(r+3)*src.Stride : (r+3)*src.Stride+n]
		for i, j := range ord {
			d0[i], d1[i], d2[i], d3[i] = s0[j], s1[j], s2[j], s3[j]
		}
	}
	for ; r < dst.Rows; r++ {
		d := dst.Data[r*dst.Stride : r*dst.Stride+n]
		s := src.Data[r*src.Stride : r*src.Stride+n]
		for i, j := range ord {
			d[i] = s[j]
		}
	}
}

// prodRows computes out = Q(r0:r0+nr, cols) U(rows, :) where cols are the
// q columns keep[s] and rows the U rows s for s in g; ut holds U^T, or
// the rows of U^T (the columns of U, of out) that are wanted.
func prodRows(q Dense, keep, g []int, r0, nr int, ut, out Dense) {
	k := ut.Rows
	if len(g) == 0 {
		for r := 0; r < nr; r++ {
			clear(out.Data[r*out.Stride : r*out.Stride+k])
		}
		return
	}
	qcBuf := getScratch(nr * len(g))
	defer putScratch(qcBuf)
	qc := DenseOf(nr, len(g), *qcBuf)
	ucBuf := getScratch(k * len(g))
	defer putScratch(ucBuf)
	uc := DenseOf(k, len(g), *ucBuf) // uc(j, x) = U(g[x], j)
	// The gathers on every thread: at the top merge of n = 2500 they move
	// about 40 MB, which on one thread took as long as a third of the
	// product after them.
	splitRange(Threads(), nr+k, 256, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if i < nr {
				src := q.Data[(r0+i)*q.Stride:]
				dst := qc.Data[i*qc.Stride:]
				for x, s := range g {
					dst[x] = src[keep[s]]
				}
				continue
			}
			j := i - nr
			src := ut.Data[j*ut.Stride:]
			dst := uc.Data[j*uc.Stride:]
			for x, s := range g {
				dst[x] = src[s]
			}
		}
	})
	Gemm(false, true, 1, qc, uc, 0, out)
}

// rotCols applies col_p, col_c = cs col_p - sn col_c, sn col_p + cs col_c.
func rotCols(q Dense, p, c int, cs, sn float64) {
	for r := 0; r < q.Rows; r++ {
		row := q.Data[r*q.Stride:]
		x, y := row[p], row[c]
		row[p] = cs*x - sn*y
		row[c] = sn*x + cs*y
	}
}

// secularRoots solves for all k roots; row j of ut receives d_i - lambda_j.
func secularRoots(d, z []float64, rho float64, lam []float64, ut Dense, par int) {
	k := len(d)
	splitRange(par, k, 128, func(j0, j1 int) {
		for j := j0; j < j1; j++ {
			lam[j] = dlaed4(j, d, z, rho, ut.Data[j*ut.Stride:j*ut.Stride+k])
		}
	})
}

// splitRange runs f on [0, n) cut into par contiguous parts, each on its own
// goroutine (the last on the caller), or on the caller alone when par <= 1
// or n < minN. The parts of a merge's O(n^2) passes are independent rows or
// columns, so the result does not depend on par.
func splitRange(par, n, minN int, f func(lo, hi int)) {
	if par <= 1 || n < minN {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + par - 1) / par
	for lo := 0; lo+chunk < n; lo += chunk {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, lo+chunk)
		}()
	}
	f((n-1)/chunk*chunk, n)
	wg.Wait()
}

// eigvecsGE overwrites ut (ut(j, i) = d_i - lambda_j) with the unit
// eigenvectors of D + rho z z^T as rows, by Gu and Eisenstat's formula:
// zhat_i^2 = (lambda_{k-1} - d_i)/rho prod_{j<i} (lambda_j - d_i)/(d_j - d_i)
// prod_{i<=j<k-1} (lambda_j - d_i)/(d_{j+1} - d_i).
func eigvecsGE(d, z []float64, rho float64, ut Dense, par int) {
	k := len(d)
	p := make([]float64, k)
	last := ut.Data[(k-1)*ut.Stride : (k-1)*ut.Stride+k]
	// The products of component i run over j in the same order whatever
	// the split: the workers take columns i.
	splitRange(par, k, 256, func(i0, i1 int) {
		for i := i0; i < i1; i++ {
			p[i] = -last[i] / rho
		}
		for j := 0; j < k-1; j++ {
			row := ut.Data[j*ut.Stride : j*ut.Stride+k]
			for i := i0; i < min(j+1, i1); i++ { // j >= i: pair with d_{j+1}
				p[i] *= -row[i] / (d[j+1] - d[i])
			}
			for i := max(j+1, i0); i < i1; i++ { // j < i: pair with d_j
				p[i] *= -row[i] / (d[j] - d[i])
			}
		}
		for i := i0; i < i1; i++ {
			p[i] = math.Copysign(math.Sqrt(math.Abs(p[i])), z[i])
		}
	})
	splitRange(par, k, 256, func(j0, j1 int) {
		for j := j0; j < j1; j++ {
			row := ut.Data[j*ut.Stride : j*ut.Stride+k]
			var nrm float64
			for i := range row {
				v := p[i] / row[i]
				row[i] = v
				nrm += v * v
			}
			inv := 1 / math.Sqrt(nrm)
			for i := range row {
				row[i] *= inv
			}
		}
	})
}

// getScratch and putScratch lend the large merge buffers, which are
// overwritten entirely before use, from the warm cache (warm.go).
func getScratch(n int) *[]float64 {
	b := getWarm(n)
	return &b
}

func putScratch(b *[]float64) { putWarm(*b) }
