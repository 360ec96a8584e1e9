package linalg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Matrix-free top-k eigenpairs: block Lanczos with full reorthogonalisation,
// thick restarts and locking.
//
// The basis V (n x m, orthonormal columns) holds the locked (converged) Ritz
// vectors Q, then the active basis; the next block X follows it. Applying A
// to X, orthogonalising the image against all of V (block classical
// Gram-Schmidt twice, each round closed by an SVQB orthonormalisation of the
// block) and taking what is left as the next X grows the active basis by one
// block of the block Krylov space of A deflated by Q. The coefficients of
// that orthogonalisation are the entries V^T A X, so the projected matrix
// T = V_a^T A V_a of the active basis is measured column block by column
// block and A V is never stored: memory is n (m + 2b) numbers plus O(m^2).
// When the basis is full, the eigenpairs (theta_i, y_i) of T give the Ritz
// pairs (theta_i, V_a y_i), whose residuals lie in the span of X:
// |A V_a y_i - theta_i V_a y_i| = |R y_i'|, R = X^T A V_last the coupling
// of the last block to X and y_i' the last rows of y_i. Leading pairs with
// residual <= Tol * max|theta| are locked (moved into Q, out of the active
// basis). A restart keeps the next unconverged Ritz vectors, with
// T = diag(theta), and continues from X (thick restart: the kept vectors'
// residuals lie in span(X), so no operator call is repeated).
//
// Multiplicity: from a start block of b vectors a Krylov space holds at most
// b directions of any eigenspace, so an eigenvalue of multiplicity above b
// would be found only b times. When the locked top k hold a cluster (values
// within 1000 Tol max|theta|) of b or more, the solver checks: it starts a
// fresh Krylov space from a random block orthogonal to Q (A deflated by the
// locked vectors, where the missing copies are now the top of the spectrum)
// and fills the whole basis; any Ritz value above the k-th locked one is
// converged and locked, and the check repeats until a fresh space finds
// nothing above it.
//
// Cost per restart: about (m - p)/b calls of the operator on n x b blocks
// (p the kept vectors), about 8 n m b flops of GEMM per block for the
// orthogonalisation, 2 n m^2 for the rotation of the basis and one dense
// m x m eigenproblem.

// SymOp is a symmetric linear operator given by its action on a block of
// vectors: Apply sets dst = A x for the n x b matrices dst and x. dst is
// never a view of x.
type SymOp interface {
	Dim() int
	Apply(dst, x Dense)
}

// DenseOp is the SymOp of a dense symmetric matrix.
type DenseOp struct{ A Dense }

// Dim returns the order of the matrix.
func (o DenseOp) Dim() int { return o.A.Rows }

// Apply sets dst = A x with Gemm.
func (o DenseOp) Apply(dst, x Dense) { Gemm(false, false, 1, o.A, x, 0, dst) }

// LanczosOptions configures LanczosTop; zero fields take the defaults.
type LanczosOptions struct {
	Block       int     // block size b (default min(k, 4), at least 1)
	Basis       int     // basis size m, locked vectors included (default max(2k + 2b, k + 3b, k + 32, 48)), capped at n
	Tol         float64 // relative residual |A u - theta u| / max|theta| (default 1e-10)
	MaxRestarts int     // restarts before giving up (default 1000)
	Seed        uint64  // seed of the random start block
	// Work, when at least n (m + b) long, holds the basis; the Vectors
	// returned are then its first n k numbers, and the rest is free for
	// the caller once LanczosTop returns.
	Work []float64
	// Progress, when set, is called after every block of operator calls
	// and every Rayleigh-Ritz step. A non-nil error stops the solver, which
	// returns it wrapped.
	Progress func(LanczosStatus) error
}

// LanczosStatus is the progress of LanczosTop.
type LanczosStatus struct {
	Restarts  int  // Rayleigh-Ritz steps so far
	Converged int  // pairs locked, at most Wanted
	Wanted    int  // k
	Applied   int  // vectors the operator has been applied to so far
	Checking  bool // a fresh deflated Krylov space is looking for missed copies of multiple eigenvalues
}

// LanczosTop computes the k algebraically largest eigenpairs of the
// symmetric operator op (Values descending, Vectors n x k), each with
// residual |A u - theta u| <= Tol max|theta|. Eigenvalues of any
// multiplicity are resolved (see the check above). It returns an error
// wrapping ErrNoConvergence when the pairs have not converged within
// MaxRestarts, ErrNotFinite when the operator returns NaN or Inf, and the
// Progress callback's error. Memory n (m + 2b) + O(m^2) numbers. Cost per
// restart: (m - p)/b calls of op on n x b blocks plus about 4 n m^2 flops
// of GEMM (m the basis size, p the kept Ritz vectors).
func LanczosTop(op SymOp, k int, opt LanczosOptions) (Eigen, error) {
	if op == nil {
		return Eigen{}, fmt.Errorf("linalg: LanczosTop: no operator (nil)")
	}
	n := op.Dim()
	if k < 0 || k > n {
		return Eigen{}, fmt.Errorf("linalg: LanczosTop: k=%d outside [0, %d]", k, n)
	}
	if k == 0 {
		return Eigen{Values: []float64{}, Vectors: NewDense(n, 0)}, nil
	}
	if opt.Block < 0 || opt.Basis < 0 || opt.MaxRestarts < 0 || opt.Tol < 0 || math.IsNaN(opt.Tol) {
		return Eigen{}, fmt.Errorf("linalg: LanczosTop: block %d, basis %d, max restarts %d, tol %g: want each >= 0 (0: the default)", opt.Block, opt.Basis, opt.MaxRestarts, opt.Tol)
	}
	b := opt.Block
	if b <= 0 {
		b = min(k, 4)
	}
	b = min(b, n)
	m := opt.Basis
	if m <= 0 {
		m = max(2*k+2*b, k+3*b, k+32, 48)
	}
	m = min(m, n)
	if m < k+2*b && m < n {
		return Eigen{}, fmt.Errorf("linalg: LanczosTop: basis %d too small for k=%d and block %d (need k + 2b)", m, k, b)
	}
	lz := &lanczos{op: op, n: n, k: k, b: b, m: m, tol: opt.Tol, maxRestarts: opt.MaxRestarts, progress: opt.Progress, work: opt.Work,
		rng: rand.New(rand.NewPCG(opt.Seed, 0x1a2c705))}
	if lz.tol <= 0 {
		lz.tol = 1e-10
	}
	if lz.maxRestarts <= 0 {
		lz.maxRestarts = 1000
	}
	return lz.run()
}

type lanczos struct {
	op          SymOp
	n, k, b, m  int
	tol         float64
	maxRestarts int
	progress    func(LanczosStatus) error
	rng         *rand.Rand
	work        []float64

	v    Dense // n x (m + b): locked | active | next
	t    Dense // m x m: T of the active basis, upper triangle measured
	w    Dense // n x b: operator images
	x0   Dense // n x b: scratch of the orthogonalisation
	coef Dense // m x b
	r    Dense // b x b: coupling of the last applied block to the next

	nl, na, nx int       // locked, active and next columns of v
	nlast      int       // width of the last applied block
	vals       []float64 // locked values, descending
	sc         float64   // A is handled as A/sc (0 until the first nonzero image)
	amax       float64   // largest |theta| seen (scale of the tolerance)
	applied    int
	restarts   int
	checking   bool // the active basis grew from a fresh deflated start
}

func (lz *lanczos) status() LanczosStatus {
	return LanczosStatus{Restarts: lz.restarts, Converged: min(lz.nl, lz.k), Wanted: lz.k, Applied: lz.applied, Checking: lz.checking}
}

func (lz *lanczos) report() error {
	if lz.progress == nil {
		return nil
	}
	if err := lz.progress(lz.status()); err != nil {
		return fmt.Errorf("linalg: LanczosTop: %w", err)
	}
	return nil
}

func (lz *lanczos) run() (Eigen, error) {
	n, b, m := lz.n, lz.b, lz.m
	if len(lz.work) >= n*(m+b) {
		lz.v = DenseOf(n, m+b, lz.work[:n*(m+b)])
	} else {
		lz.v = NewDense(n, m+b)
	}
	lz.t = NewDense(m, m)
	lz.w = NewDense(n, b)
	lz.x0 = NewDense(n, b)
	lz.coef = NewDense(m, b)
	lz.r = NewDense(b, b)
	lz.freshStart()
	for {
		if err := lz.expand(); err != nil {
			return Eigen{}, err
		}
		done, err := lz.rayleighRitz()
		if err != nil {
			return Eigen{}, err
		}
		if err := lz.report(); err != nil {
			return Eigen{}, err
		}
		if done {
			return lz.result(), nil
		}
		if lz.restarts >= lz.maxRestarts {
			return Eigen{}, fmt.Errorf("linalg: LanczosTop: %d of %d pairs converged to tol %g after %d restarts: %w",
				min(lz.nl, lz.k), lz.k, lz.tol, lz.restarts, ErrNoConvergence)
		}
	}
}

// freshStart empties the active basis and starts the next block from random
// vectors orthogonal to the locked ones.
func (lz *lanczos) freshStart() {
	lz.na = 0
	lz.nx = min(lz.b, lz.n-lz.nl)
	lz.nlast = 0
	x := lz.v.View(0, lz.nl, lz.n, lz.nx)
	lz.randomize(x)
	lz.reorth(lz.v.View(0, 0, lz.n, lz.nl), x, Dense{}, Dense{})
	clear(lz.t.Data)
}

func (lz *lanczos) randomize(x Dense) {
	for r := 0; r < x.Rows; r++ {
		row := x.Row(r)
		for c := range row {
			row[c] = lz.rng.NormFloat64()
		}
	}
}

// expand applies the operator block by block until the basis is full.
func (lz *lanczos) expand() error {
	n := lz.n
	for lz.nx > 0 && lz.nl+lz.na+lz.nx <= lz.m {
		c0, nb := lz.nl+lz.na, lz.nx
		w := lz.w.View(0, 0, n, nb)
		lz.op.Apply(w, lz.v.View(0, c0, n, nb))
		lz.applied += nb
		if err := lz.scaleImage(w); err != nil {
			return err
		}
		lz.na += nb
		lz.nlast = nb
		basis := lz.v.View(0, 0, n, lz.nl+lz.na)
		nxt := min(lz.b, n-lz.nl-lz.na)
		coef := lz.coef.View(0, 0, lz.nl+lz.na, nb)
		x := lz.v.View(0, lz.nl+lz.na, n, nxt)
		lz.orthNext(basis, w, coef, x)
		// Column block of T: the active rows of V^T A X.
		for i := 0; i < lz.na; i++ {
			copy(lz.t.Row(i)[lz.na-nb:lz.na], coef.Row(lz.nl+i))
		}
		lz.nx = nxt
		if err := lz.report(); err != nil {
			return err
		}
		if lz.enough() {
			return nil
		}
	}
	return nil
}

// enough reports, once the active basis could hold the pairs still wanted
// (and outside a check), whether the Ritz pairs of the basis built so far
// already complete the top k: then the Rayleigh-Ritz step comes now rather
// than after the basis is full, sparing the operator calls of the rest of
// the cycle. It costs one na x na eigenproblem per block, small beside a
// block of operator calls on the large problems this solver is for.
func (lz *lanczos) enough() bool {
	if lz.checking || lz.nl >= lz.k || lz.na < lz.k-lz.nl+lz.b || lz.nx == 0 {
		return false
	}
	theta, _, res, err := lz.ritz()
	if err != nil {
		return false
	}
	scale := math.Max(lz.amax, math.Max(math.Abs(theta[0]), math.Abs(theta[len(theta)-1])))
	if scale == 0 {
		scale = 1
	}
	conv := 0
	for conv < len(res) && res[conv] <= lz.tol*scale {
		conv++
	}
	return lz.nl+conv >= lz.k
}

// ritz returns the Ritz values of the active basis (descending), the
// eigenvectors of T and the residual norms |R y_i'|.
func (lz *lanczos) ritz() ([]float64, Dense, []float64, error) {
	na := lz.na
	s := NewDense(na, na)
	for i := 0; i < na; i++ {
		for c := i; c < na; c++ {
			v := lz.t.At(i, c)
			s.Data[i*na+c] = v
			s.Data[c*na+i] = v
		}
	}
	ev, err := EigSym(s, true)
	if err != nil {
		return nil, Dense{}, nil, fmt.Errorf("linalg: LanczosTop: Rayleigh-Ritz: %w", err)
	}
	res := make([]float64, na)
	if lz.nx > 0 && lz.nlast > 0 {
		r := lz.r.View(0, 0, lz.nx, lz.nlast)
		yl := ev.Vectors.View(na-lz.nlast, 0, lz.nlast, na)
		ry := NewDense(lz.nx, na)
		Gemm(false, false, 1, r, yl, 0, ry)
		res = colNorms(ry)
	}
	return ev.Values, ev.Vectors, res, nil
}

// scaleImage checks the image for NaN and Inf and divides it by sc, the
// power of two nearest the first nonzero image's largest entry, so that the
// sums of squares of extreme operators neither overflow nor underflow.
func (lz *lanczos) scaleImage(w Dense) error {
	var amax float64
	for r := 0; r < w.Rows; r++ {
		for _, val := range w.Row(r) {
			if math.IsNaN(val) || math.IsInf(val, 0) {
				return ErrNotFinite
			}
			amax = math.Max(amax, math.Abs(val))
		}
	}
	if lz.sc == 0 && amax > 0 {
		_, ex := math.Frexp(amax)
		lz.sc = math.Ldexp(1, ex)
	}
	if lz.sc != 0 && lz.sc != 1 {
		inv := 1 / lz.sc
		for r := 0; r < w.Rows; r++ {
			row := w.Row(r)
			for c := range row {
				row[c] *= inv
			}
		}
	}
	return nil
}

// orthNext orthogonalises the image w (n x nb) against the basis q, writes
// the coefficients q^T w into coef and an orthonormal basis of what is left
// into x (n x nx, nx <= nb; directions that vanish, where the Krylov space is
// exhausted, become random ones), and the coupling x^T w into lz.r. Block
// classical Gram-Schmidt twice and SVQB, then rounds of one more projection
// and SVQB (until no direction vanishes): with w = q c + x s before a round
// and x = q c' + x' s' in it, the coefficients become c + c' s and s' s.
func (lz *lanczos) orthNext(q, w, coef, x Dense) {
	nb, nx := w.Cols, x.Cols
	for i := 0; i < coef.Rows; i++ {
		clear(coef.Row(i))
	}
	norms := colNorms(w)
	lz.project(q, w, coef)
	lz.project(q, w, coef)
	s := NewDense(nx, nb)
	lz.svqbInto(x, w, norms, s)
	s = lz.reorth(q, x, coef, s)
	if nx > 0 {
		lz.r.View(0, 0, nx, nb).Copy(s)
	}
}

// reorth runs rounds of projection against q and SVQB on x until a round
// neither loses a direction of x, nor cancels much of one, nor leaves x
// short of orthonormal (at most four), updating coef (q.Cols x nb, when it
// has data) and returning the updated s (x.Cols x nb) as described at
// orthNext. A column that loses more than 1/sqrt(2) of its norm to the
// projection keeps the rounding error of the projected-out part relative to
// a smaller remainder ("twice is enough" holds only without such
// cancellation), which happens when x is a normalised remnant of an
// exhausted Krylov space. And SVQB's output is orthonormal only to about
// eps times the condition number of the block's Gram matrix: a block whose
// columns are nearly dependent needs a second SVQB.
func (lz *lanczos) reorth(q, x, coef, s Dense) Dense {
	nx := x.Cols
	if nx == 0 {
		return s
	}
	for round := 0; round < 4; round++ {
		var c Dense
		if coef.Data != nil && q.Cols > 0 {
			c = NewDense(q.Cols, nx)
		}
		ref := colNorms(x)
		lz.project(q, x, c)
		cancelled := false
		for j, v := range colNorms(x) {
			if v < ref[j]/math.Sqrt2 {
				cancelled = true
			}
		}
		if c.Data != nil && s.Data != nil {
			Gemm(false, false, 1, c, s, 1, coef)
		}
		y := lz.x0.View(0, 0, x.Rows, nx)
		s2 := NewDense(nx, nx)
		lz.svqbInto(y, x, ref, s2)
		x.Copy(y)
		if s.Data != nil {
			ns := NewDense(nx, s.Cols)
			Gemm(false, false, 1, s2, s, 0, ns)
			s = ns
		}
		random := false
		for c := 0; c < nx; c++ {
			if isZeroRow(s2.Row(c)) {
				random = true
			}
		}
		if !random && !cancelled && orthonormal(x) {
			break
		}
	}
	return s
}

// project subtracts q (q^T x) from x and adds q^T x to acc when acc has data.
func (lz *lanczos) project(q, x, acc Dense) {
	if q.Cols == 0 || x.Cols == 0 {
		return
	}
	c := NewDense(q.Cols, x.Cols)
	Gemm(true, false, 1, q, x, 0, c)
	Gemm(false, false, -1, q, c, 1, x)
	if acc.Data != nil {
		for i := 0; i < c.Rows; i++ {
			ar, cr := acc.Row(i), c.Row(i)
			for j := range ar {
				ar[j] += cr[j]
			}
		}
	}
}

// svqbTol is the relative size below which a direction counts as vanished:
// rounding leaves eps-sized remnants, and a remnant normalised from below
// ~1e-13 would not be made orthogonal again by one more round.
const svqbTol = 1e-13

// svqbInto writes into x (n x nx) an orthonormal basis of the leading
// directions of w (n x nb) by SVQB: with D the column norms ref (sizes
// before any projection) and D^-1 w^T w D^-1 = Z diag(l) Z^T, x_i =
// w D^-1 z_i / sqrt(l_i) for the nx largest l_i above svqbTol^2; missing
// columns are random. s (nx x nb) gets the coefficients with w = x s +
// (vanished parts): s_i = sqrt(l_i) z_i^T D, zero for random columns.
func (lz *lanczos) svqbInto(x, w Dense, ref []float64, s Dense) {
	n, nb, nx := w.Rows, w.Cols, x.Cols
	clear(s.Data)
	if nx == 0 {
		return
	}
	g := NewDense(nb, nb)
	Gemm(true, false, 1, w, w, 0, g)
	dinv := make([]float64, nb)
	for j, v := range ref {
		if v > 0 {
			dinv[j] = 1 / v
		}
	}
	for i := 0; i < nb; i++ {
		row := g.Row(i)
		for j := range row {
			row[j] *= dinv[i] * dinv[j]
		}
	}
	symmetrize(g)
	e, err := EigSym(g, true)
	kept := 0
	if err == nil {
		for kept < nx && e.Values[kept] > svqbTol*svqbTol {
			kept++
		}
	}
	if kept > 0 {
		// x[:, :kept] = w D^-1 Z_kept diag(l)^-1/2
		t := NewDense(nb, kept)
		for i := 0; i < nb; i++ {
			for c := 0; c < kept; c++ {
				t.Data[i*kept+c] = dinv[i] * e.Vectors.At(i, c) / math.Sqrt(e.Values[c])
			}
		}
		Gemm(false, false, 1, w, t, 0, x.View(0, 0, n, kept))
		for c := 0; c < kept; c++ {
			sr := s.Row(c)
			sq := math.Sqrt(e.Values[c])
			for j := range sr {
				if dinv[j] != 0 {
					sr[j] = sq * e.Vectors.At(j, c) / dinv[j]
				}
			}
		}
	}
	if kept < nx {
		lz.randomize(x.View(0, kept, n, nx-kept))
	}
}

// orthonormal reports whether the columns of x are orthonormal to 1e-13
// (x^T x within 1e-13 of I, entry by entry). Cost 2 n b^2 flops.
func orthonormal(x Dense) bool {
	g := NewDense(x.Cols, x.Cols)
	Gemm(true, false, 1, x, x, 0, g)
	for i := 0; i < g.Rows; i++ {
		for j, v := range g.Row(i) {
			if i == j {
				v--
			}
			if math.Abs(v) > 1e-13 {
				return false
			}
		}
	}
	return true
}

func isZeroRow(r []float64) bool {
	for _, v := range r {
		if v != 0 {
			return false
		}
	}
	return true
}

// rayleighRitz diagonalises T, locks the leading converged Ritz pairs and
// restarts; it reports whether the k wanted pairs are final.
func (lz *lanczos) rayleighRitz() (bool, error) {
	n, na := lz.n, lz.na
	lz.restarts++
	if na == 0 {
		return false, fmt.Errorf("linalg: LanczosTop: empty basis (n=%d, %d locked)", n, lz.nl)
	}
	theta, y, res, err := lz.ritz()
	if err != nil {
		return false, err
	}
	lz.amax = math.Max(lz.amax, math.Max(math.Abs(theta[0]), math.Abs(theta[na-1])))
	scale := lz.amax
	if scale == 0 {
		scale = 1
	}
	exhausted := lz.nx == 0
	thresh := lz.tol * scale
	lock := 0
	if exhausted {
		lock = na // the locked and active bases span the whole space: every pair is exact
	} else {
		for lock < na && res[lock] <= thresh {
			lock++
		}
	}
	// Decide what comes after this step, before the basis moves.
	kth := func(vals []float64) float64 { return vals[lz.k-1] }
	merged := slices.Clone(lz.vals)
	merged = append(merged, theta[:lock]...)
	slices.SortFunc(merged, func(a, b float64) int { return -cmpFloat(a, b) })
	haveK := len(merged) >= lz.k
	pending := lock < na // an active pair not locked
	var above bool       // an unlocked Ritz value above the k-th locked one
	if haveK && pending {
		above = theta[lock] > kth(merged)+thresh
	}
	// In a check, a newly locked value above the k-th one before it means
	// the check found missed copies: check again.
	found := lz.checking && lock > 0 && len(lz.vals) >= lz.k && theta[0] > lz.vals[lz.k-1]+thresh
	done, fresh := false, false
	switch {
	case exhausted:
		done = true
	case haveK && !above:
		if lz.checking && !found || !lz.checking && !lz.suspectMultiple(merged[:lz.k], scale) {
			done = true
		} else {
			fresh = true
		}
	}
	lz.rotate(y, theta, lock, done, fresh)
	switch {
	case fresh:
		lz.checking = true
		lz.freshStart()
	case !done:
		// Either no check yet, or the check found a value above the k-th
		// that is not converged yet: once it is, suspectMultiple sees
		// its cluster and checks again.
		lz.checking = false
	}
	return done, nil
}

// suspectMultiple reports whether the top k locked values hold b or more
// within 1000 Tol scale of each other: Krylov spaces from a b-vector block
// may then have missed further copies of a multiple eigenvalue.
func (lz *lanczos) suspectMultiple(vals []float64, scale float64) bool {
	gap := 1000 * lz.tol * scale
	for i := 0; i+lz.b-1 < len(vals); i++ {
		if vals[i]-vals[i+lz.b-1] <= gap {
			return true
		}
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// rotate moves the basis to the Ritz vectors: the first lock of them join
// the locked set (sorted, at most k kept), and unless the solver is done or
// starts afresh, the next unconverged ones stay as the active basis with
// T = diag(theta) and the next block moves behind them.
func (lz *lanczos) rotate(y Dense, theta []float64, lock int, done, fresh bool) {
	n, na := lz.n, lz.na
	keep := 0
	if !done && !fresh {
		capAct := lz.m - (lz.nl + lock) // active capacity once locked
		want := max(capAct/2, lz.k-(lz.nl+lock)+lz.b)
		keep = min(want, capAct-2*lz.b, na-lock)
		keep = max(keep, 0)
		if lz.nl+lock+keep+lz.nx > lz.m {
			keep = max(0, lz.m-lz.nl-lock-lz.nx)
		}
	}
	q := lock + keep
	c0 := lz.nl
	if q > 0 {
		rotateCols(lz.v.View(0, c0, n, na), y.View(0, 0, na, q))
	}
	// Merge the new locked pairs (columns c0..c0+lock) into the sorted
	// locked set and keep the top k.
	nl := lz.nl + lock
	vals := append(lz.vals, theta[:lock]...)
	perm := make([]int, nl)
	for i := range perm {
		perm[i] = i
	}
	sort.SliceStable(perm, func(a, b int) bool { return vals[perm[a]] > vals[perm[b]] })
	permuteCols(lz.v.View(0, 0, n, nl), perm)
	sorted := make([]float64, nl)
	for i, p := range perm {
		sorted[i] = vals[p]
	}
	drop := 0
	if !done {
		drop = max(0, nl-lz.k)
	}
	lz.vals = sorted[:nl-drop]
	newNl := nl - drop
	if drop > 0 && keep > 0 {
		moveCols(lz.v, newNl, nl, keep)
	}
	if done {
		lz.nl = nl
		return
	}
	// The next block moves behind the kept vectors.
	if !fresh && lz.nx > 0 {
		moveCols(lz.v, newNl+keep, c0+na, lz.nx)
	}
	lz.nl, lz.na = newNl, keep
	clear(lz.t.Data)
	for i := 0; i < keep; i++ {
		lz.t.Set(i, i, theta[lock+i])
	}
}

// result returns the top k locked pairs, rescaled.
func (lz *lanczos) result() Eigen {
	n, k := lz.n, lz.k
	vals := append([]float64(nil), lz.vals[:k]...)
	if lz.sc != 0 {
		for i := range vals {
			vals[i] *= lz.sc
		}
	}
	// Compact the first k columns in place (row r moves down from r*stride
	// to r*k), sparing a copy of n x k.
	v := lz.v
	for r := 0; r < n; r++ {
		copy(v.Data[r*k:r*k+k], v.Data[r*v.Stride:r*v.Stride+k])
	}
	return Eigen{Values: vals, Vectors: DenseOf(n, k, v.Data[:n*k:n*k])}
}

// rotateCols sets the first q columns of v (n x c) to v y (y is c x q) in
// place, a block of rows at a time.
func rotateCols(v, y Dense) {
	const rows = 256
	q := y.Cols
	tmp := NewDense(min(rows, v.Rows), q)
	for r0 := 0; r0 < v.Rows; r0 += rows {
		h := min(rows, v.Rows-r0)
		t := tmp.View(0, 0, h, q)
		Gemm(false, false, 1, v.View(r0, 0, h, v.Cols), y, 0, t)
		v.View(r0, 0, h, q).Copy(t)
	}
}

// permuteCols reorders the columns of v: column i becomes the old column
// perm[i].
func permuteCols(v Dense, perm []int) {
	if slices.IsSorted(perm) {
		return
	}
	tmp := make([]float64, v.Cols)
	for r := 0; r < v.Rows; r++ {
		row := v.Row(r)
		for i, p := range perm {
			tmp[i] = row[p]
		}
		copy(row, tmp)
	}
}

// moveCols copies cnt columns of v starting at src to start at dst.
func moveCols(v Dense, dst, src, cnt int) {
	if dst == src || cnt == 0 {
		return
	}
	for r := 0; r < v.Rows; r++ {
		row := v.Data[r*v.Stride : r*v.Stride+v.Cols]
		copy(row[dst:dst+cnt], row[src:src+cnt])
	}
}

func colNorms(a Dense) []float64 {
	s := make([]float64, a.Cols)
	// Scaled sums of squares would be safer; the operator images are
	// scaled to about one (scaleImage), so plain sums neither overflow
	// nor underflow here.
	for r := 0; r < a.Rows; r++ {
		for c, x := range a.Row(r) {
			s[c] += x * x
		}
	}
	for c := range s {
		s[c] = math.Sqrt(s[c])
	}
	return s
}

// symmetrize replaces a by (a + a^T)/2.
func symmetrize(a Dense) {
	for i := 0; i < a.Rows; i++ {
		for j := 0; j < i; j++ {
			x := (a.Data[i*a.Stride+j] + a.Data[j*a.Stride+i]) / 2
			a.Data[i*a.Stride+j] = x
			a.Data[j*a.Stride+i] = x
		}
	}
}
