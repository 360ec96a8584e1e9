package linalg

import (
	"errors"
	"fmt"
	"math"
)

// Eigen holds eigenpairs of a symmetric matrix: Values in descending order
// and, when asked for, the matching unit eigenvectors as the columns of
// Vectors (n x len(Values)).
type Eigen struct {
	Values  []float64
	Vectors Dense
}

// ErrNotFinite is returned for input with NaN or Inf.
var ErrNotFinite = errors.New("linalg: matrix has NaN or Inf entries")

// EigSym computes all eigenvalues of the symmetric n x n matrix a (both
// triangles are read as equal; the lower one is used) in descending order,
// and the eigenvectors if vectors is set. a is not modified.
//
// Method: Householder tridiagonalisation (dsytrd, 4/3 n^3 flops, half in
// GEMM), then divide and conquer on T (dstedc) and the blocked
// back-transformation (dormtr, 2 n^3 flops in GEMM). Without vectors the
// reduction is the two-stage one (dense to band by GEMM, band to
// tridiagonal by bulge chasing; see sy2sb.go) from the order where it is
// faster, measured once per machine (see tuning.go), and the
// tridiagonal eigenvalues come from implicit QL (dsterf, O(n^2)).
func EigSym(a Dense, vectors bool) (Eigen, error) {
	n := checkSquare("EigSym", a)
	t, err := reduction(n, vectors)(a)
	if err != nil {
		return Eigen{}, err
	}
	defer t.release()
	if n == 0 {
		return Eigen{Values: []float64{}, Vectors: NewDense(0, 0)}, nil
	}
	if !vectors {
		if err := dsterf(t.d, t.e); err != nil {
			return Eigen{}, fmt.Errorf("EigSym n=%d: %w", n, err)
		}
		return Eigen{Values: t.unscaled(reversed(t.d)), Vectors: NewDense(n, 0)}, nil
	}
	z := NewDense(n, n)
	if err := dstedc(t.d, t.e, z); err != nil {
		return Eigen{}, fmt.Errorf("EigSym n=%d: %w", n, err)
	}
	reverseCols(z)
	dormtr(t, z)
	return Eigen{Values: t.unscaled(reversed(t.d)), Vectors: z}, nil
}

// EigSymTop computes the k largest eigenvalues of the symmetric matrix a in
// descending order, and their eigenvectors (n x k) if vectors is set. For
// k <= n/2 (k < n/8 without vectors) it uses bisection and inverse
// iteration on the tridiagonal form and back-transforms only k vectors
// (EigSymIndex, 4/3 n^3 + 2 n^2 k flops plus O(n k)); otherwise EigSym.
func EigSymTop(a Dense, k int, vectors bool) (Eigen, error) {
	n := checkSquare("EigSymTop", a)
	if k < 0 || k > n {
		return Eigen{}, fmt.Errorf("linalg: EigSymTop: k=%d outside [0, %d]", k, n)
	}
	if useFull(n, k, vectors) {
		e, err := EigSym(a, vectors)
		if err != nil {
			return Eigen{}, err
		}
		return truncate(e, k, vectors), nil
	}
	return EigSymIndex(a, n-k, n, vectors)
}

// EigSymBottom computes the k smallest eigenvalues (returned in descending
// order, like all of Eigen) and, if asked, their eigenvectors (n x k), by
// EigSymIndex: 4/3 n^3 + 2 n^2 k flops plus O(n k).
func EigSymBottom(a Dense, k int, vectors bool) (Eigen, error) {
	n := checkSquare("EigSymBottom", a)
	if k < 0 || k > n {
		return Eigen{}, fmt.Errorf("linalg: EigSymBottom: k=%d outside [0, %d]", k, n)
	}
	return EigSymIndex(a, 0, k, vectors)
}

// useFull says whether the full solver beats the subset path. Measured at
// n = 2500 (one core): divide and conquer plus the full back-transformation
// cost about as much as bisection, inverse iteration and back-transformation
// of n/2 vectors; without vectors QL is O(n^2) with a small constant, and
// bisection pays ~60 Sturm counts per value, so it only wins for k < n/8.
func useFull(n, k int, vectors bool) bool {
	if k == n {
		return true
	}
	if !vectors {
		return 8*k >= n
	}
	return 2*k > n
}

func truncate(e Eigen, k int, vectors bool) Eigen {
	out := Eigen{Values: e.Values[:k:k]}
	if vectors {
		out.Vectors = e.Vectors.View(0, 0, e.Vectors.Rows, k).Clone()
	} else {
		out.Vectors = NewDense(len(e.Values), 0)
	}
	return out
}

// reduction picks the reduction to tridiagonal form for order n: the
// two-stage one (tridiagonalize2) when no vectors are wanted and n is large
// enough for its band to pay, else dsytrd (tridiagonalize), whose
// reflectors the back-transformation needs.
func reduction(n int, vectors bool) func(Dense) (tridiag, error) {
	if !vectors && use2stage(n) {
		return tridiagonalize2
	}
	return tridiagonalize
}

// tridiag is the result of the reduction: T = (d, e), and Q = H(0) ... H(n-2)
// from tau and the reflectors, rows 0..j-1 in the packed pk, the others in
// tail (see dsytrdPacked), or all in tail (j = 0) when n is small.
type tridiag struct {
	n     int
	pk    []float64
	j     int
	tail  Dense
	d, e  []float64
	tau   []float64
	scale float64 // eigenvalues of a = eigenvalues of T * scale
}

// release returns the packed storage to the warm cache; t's reflectors
// are gone after it.
func (t *tridiag) release() {
	putWarm(t.pk)
	t.pk = nil
}

// reflector returns v_i(i+2:n), the stored part of reflector i (its
// entries before i+1 are zero, entry i+1 is one).
func (t tridiag) reflector(i int) []float64 {
	if i < t.j {
		return pkRow(t.pk, t.n, i)[2:]
	}
	r := i - t.j
	return t.tail.Data[r*t.tail.Stride+r+2 : r*t.tail.Stride+t.tail.Cols]
}

func checkSquare(op string, a Dense) int {
	a.check(op, "A")
	if a.Rows != a.Cols {
		panic(fmt.Sprintf("linalg: %s: matrix is %dx%d, not square", op, a.Rows, a.Cols))
	}
	return a.Rows
}

// tridiagonalize copies the lower triangle of a into work storage (packed,
// for the blocked reduction, or the rows of a work matrix, i.e. its upper
// triangle) and reduces it; it rejects NaN and Inf.
func tridiagonalize(a Dense) (tridiag, error) {
	n := a.Rows
	// The stored triangle, as one slice (pk) or row by row (w).
	var pk []float64
	var w Dense
	var each func(f func(row []float64))
	var anrm float64
	finite := true
	if useBlocked(n) {
		pk = getWarm(pkSize(n))
		anrm, finite = packLowerT(a, pk)
		// pk's padding entries are zero: harmless to the scaling.
		each = func(f func(row []float64)) { f(pk) }
	} else {
		w = NewDense(n, n)
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				v := a.Data[j*a.Stride+i]
				w.Data[i*w.Stride+j] = v
				if math.IsNaN(v) || math.IsInf(v, 0) {
					finite = false
				}
				anrm = math.Max(anrm, math.Abs(v))
			}
		}
		each = func(f func(row []float64)) {
			for i := 0; i < n; i++ {
				f(w.Data[i*w.Stride+i : i*w.Stride+n])
			}
		}
	}
	if !finite {
		return tridiag{}, ErrNotFinite
	}
	scale := reductionScale(anrm)
	if scale != 1 {
		each(func(row []float64) {
			for j := range row {
				row[j] /= scale
			}
		})
	}
	t := tridiag{n: n, pk: pk, tail: w, scale: scale, d: make([]float64, n), e: make([]float64, max(n-1, 0)), tau: make([]float64, max(n-1, 0))}
	if pk != nil {
		t.j, t.tail = dsytrdPacked(pk, n, t.d, t.e, t.tau)
	} else {
		dsytd2(w, t.d, t.e, t.tau)
	}
	if !allFinite(t.d) || !allFinite(t.e) {
		return tridiag{}, ErrNotFinite
	}
	return t, nil
}

// reductionScale is the factor by which a matrix of largest magnitude anrm
// is divided before the reduction: it brings the entries into
// [2^-500, 2^500], so that sums of squares neither overflow nor underflow
// (LAPACK's DSYEV does the same with its own bounds).
func reductionScale(anrm float64) float64 {
	if anrm > 0x1p500 || (anrm > 0 && anrm < 0x1p-500) {
		return anrm
	}
	return 1
}

func allFinite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func reversed(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[len(x)-1-i] = v
	}
	return out
}

func reverseCols(z Dense) {
	for r := 0; r < z.Rows; r++ {
		row := z.Row(r)
		for i, j := 0, len(row)-1; i < j; i, j = i+1, j-1 {
			row[i], row[j] = row[j], row[i]
		}
	}
}

// EigSymIndex computes the eigenvalues with ascending indices il <= i < iu
// of the symmetric matrix a (lower triangle read), returned in descending
// order, and their eigenvectors if vectors is set. Method: dsytrd, then
// bisection (dstebz) for the k = iu-il values and inverse iteration
// (dstein) for their vectors, back-transformed with dormtr: 4/3 n^3 +
// O(n k) + 2 n^2 k flops.
func EigSymIndex(a Dense, il, iu int, vectors bool) (Eigen, error) {
	n := checkSquare("EigSymIndex", a)
	if il < 0 || iu > n || il > iu {
		return Eigen{}, fmt.Errorf("linalg: EigSymIndex: index range [%d, %d) outside [0, %d]", il, iu, n)
	}
	t, err := reduction(n, vectors)(a)
	if err != nil {
		return Eigen{}, err
	}
	defer t.release()
	k := iu - il
	if k == 0 {
		return Eigen{Values: []float64{}, Vectors: NewDense(n, 0)}, nil
	}
	if !vectors {
		s := dstebz(t.d, t.e, il, iu)
		return Eigen{Values: t.unscaled(reversed(s.w)), Vectors: NewDense(n, 0)}, nil
	}
	return subsetVectors(t, il, iu)
}

// EigSymInterval computes the eigenvalues in the half-open interval
// (lo, hi] (descending) and, if asked, their eigenvectors (n x k for the k
// found), like EigSymIndex and at its cost.
func EigSymInterval(a Dense, lo, hi float64, vectors bool) (Eigen, error) {
	n := checkSquare("EigSymInterval", a)
	if !(lo <= hi) {
		return Eigen{}, fmt.Errorf("linalg: EigSymInterval: empty interval (%g, %g]", lo, hi)
	}
	t, err := reduction(n, vectors)(a)
	if err != nil {
		return Eigen{}, err
	}
	defer t.release()
	if n == 0 {
		return Eigen{Values: []float64{}, Vectors: NewDense(0, 0)}, nil
	}
	// Indices from Sturm counts at the ends (counts are of eigenvalues < x,
	// so nudge the ends up by one ulp to make the interval (lo, hi]).
	e2 := make([]float64, n-1)
	var pm float64 = 1
	for i, v := range t.e {
		e2[i] = v * v
		pm = math.Max(pm, e2[i])
	}
	pm *= safmin
	lo, hi = lo/t.scale, hi/t.scale
	il := sturmCount(t.d, e2, pm, math.Nextafter(lo, math.Inf(1)))
	iu := sturmCount(t.d, e2, pm, math.Nextafter(hi, math.Inf(1)))
	k := iu - il
	if k <= 0 {
		return Eigen{Values: []float64{}, Vectors: NewDense(n, 0)}, nil
	}
	if !vectors {
		s := dstebz(t.d, t.e, il, iu)
		return Eigen{Values: t.unscaled(reversed(s.w)), Vectors: NewDense(n, 0)}, nil
	}
	return subsetVectors(t, il, iu)
}

// unscaled multiplies eigenvalues of T by the scale of the reduction.
func (t tridiag) unscaled(w []float64) []float64 {
	if t.scale != 1 {
		for i := range w {
			w[i] *= t.scale
		}
	}
	return w
}

// subsetVectors computes the eigenpairs with ascending indices il..iu-1 of
// T and back-transforms the vectors. Inverse iteration costs about 4 m c^2
// flops of level-1 reorthogonalisation per cluster of c vectors in a block
// of order m; a heavy-tailed spectrum (a network Hessian's) puts hundreds
// of small eigenvalues within 1e-3 ||T|| of each other, and then divide and
// conquer on all of T (at most ~4/3 n^3 flops, mostly GEMM, less with
// deflation) followed by the back-transformation of the k wanted columns
// is faster; the switch is at a level-1 cost of n^3/4. The clusters are
// seen from eigenvalues bisected to 1e-6 ||T|| (a third of the full
// bisection's counts); divide and conquer brings its own values, and
// inverse iteration refines them to full accuracy from where the probe
// stopped (the same values as a full bisection, for no extra counts).
func subsetVectors(t tridiag, il, iu int) (Eigen, error) {
	n := len(t.d)
	k := iu - il
	// z (n x k, 20 MB at n = 2500, k = 1000) comes from the warm cache:
	// memory the caller's earlier work mapped, where a new slice would be
	// cleared (and, after the runtime gave its pages back, faulted in) on
	// this thread alone while the other threads wait.
	var z Dense
	var values []float64
	if s := dstebzTol(t.d, t.e, il, iu, steinProbeTol); steinCost(t.d, t.e, s) > steinSwitch*float64(n)*float64(n)*float64(n) {
		z = DenseOf(n, k, getWarm(n*k)) // every entry copied below
		d := append([]float64(nil), t.d...)
		e := append([]float64(nil), t.e...)
		// T's vectors by divide and conquer, whose last merge forms only
		// the k wanted; the n x n matrix from the warm cache (dstedc wants
		// it zero).
		q := DenseOf(n, n, getWarmZero(n*n))
		defer putWarm(q.Data)
		if err := dstedcRange(d, e, q, il, iu); err != nil {
			return Eigen{}, fmt.Errorf("eigenvectors n=%d k=%d: %w", n, k, err)
		}
		inParts(n*k, func(i0, i1 int) {
			for r := i0 / k; r < i1/k; r++ {
				copy(z.Row(r), q.Row(r)[il:iu])
			}
		})
		values = d[il:iu]
	} else {
		z = DenseOf(n, k, getWarmZero(n*k)) // dstein writes each vector's block only
		s = s.refine(t.d, t.e, il, iu)
		dstein(t.d, t.e, s, z)
		values = s.w
	}
	reverseCols(z)
	dormtr(t, z)
	return Eigen{Values: t.unscaled(reversed(values)), Vectors: z}, nil
}

// steinProbeTol is the relative accuracy of the eigenvalues steinCost
// judges the clusters from: far below its 1e-3 gaps.
const steinProbeTol = 1e-6

// steinSwitch is the level-1 cost, in units of n^3, above which
// subsetVectors uses divide and conquer (a variable for tests).
var steinSwitch = 0.25

// steinCost estimates the reorthogonalisation flops of dstein for s.
func steinCost(d, e []float64, s tridiagSubset) float64 {
	var cost float64
	start := 0
	for j := 1; j <= len(s.w); j++ {
		if j < len(s.w) && s.block[j] == s.block[start] {
			bl := s.blocks[s.block[j]]
			if s.w[j]-s.w[j-1] <= 1e-3*blockNorm(d, e, bl) {
				continue
			}
		}
		c := float64(j - start)
		bl := s.blocks[s.block[start]]
		cost += 4 * float64(bl[1]-bl[0]) * c * c
		start = j
	}
	return cost
}
