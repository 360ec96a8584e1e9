package awd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
)

// Alignment measures how nearly a covariance X is diagonal in H's
// eigenbasis, written here for the top-k block U_k (paper 2.2, App. C-D). With Xt = U_k^T X U_k and
// rho_ij = Xt_ij / sqrt(Xt_ii Xt_jj), RBar is the mean of |rho_ij| over the
// M = k(k-1)/2 pairs i < j. RBarRand is the same for a Haar-random
// orthonormal d x k frame R (seeded by Seed). Under the null hypothesis that
// H's eigenbasis is no better than a random one, rho_ij ~ N(0, 1/k_eff) with
// k_eff = (tr X)^2 / ||X||_F^2, so E|rho| = Mu0 = sqrt(2 / (pi k_eff)) and
// the mean over M pairs has SE = sqrt((1 - 2/pi) / (k_eff M)).
// Z = (RBar - Mu0) / SE and P = Phi(Z) is the one-sided p-value for "more
// aligned than random"; ZRand is the same statistic for the random frame.
// This is the paper's null, right for large k_eff only (its pairs are not
// independent, and at small k_eff E|rho| < Mu0): ZRand far from 0 says how
// far off it is, and RBar against RBarRand is the direct comparison. With
// Basis AlignFull the pairs are those of H's full eigenbasis (above its
// null floor), with AlignTopK those of the top-k block.
type Alignment struct {
	Of       string  `json:"of"`
	K        int     `json:"k"`
	M        int     `json:"pairs"`
	RBar     float64 `json:"rbar"`
	RBarRand float64 `json:"rbar_rand"`
	KEff     float64 `json:"k_eff"`
	Mu0      float64 `json:"mu0"`
	SE       float64 `json:"se"`
	Z        float64 `json:"z"`
	P        float64 `json:"p"`
	ZRand    float64 `json:"z_rand"`
	Seed     uint64  `json:"seed"`
	// Basis is AlignTopK (the k x k block, pairs with a non-positive
	// diagonal skipped) or AlignFull (all d(d-1)/2 pairs, the paper's rule).
	Basis string `json:"basis"`
	// Null is the number of H's directions left out as its null space
	// (|lambda_i| <= NullFloor): in it the eigenbasis is arbitrary, so its
	// rho_ij are not defined by H and C. K counts the directions used.
	Null int `json:"null_directions,omitempty"`
}

// Rho returns the correlation matrix rho_ij = Xt_ij / sqrt(Xt_ii Xt_jj) of
// the k x k matrix xt; rows and columns with a non-positive diagonal are NaN.
func Rho(xt linalg.Dense) linalg.Dense {
	k := xt.Rows
	r := linalg.NewDense(k, k)
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			di, dj := xt.At(i, i), xt.At(j, j)
			if di <= 0 || dj <= 0 {
				r.Data[i*k+j] = math.NaN()
				continue
			}
			r.Data[i*k+j] = xt.At(i, j) / math.Sqrt(di*dj)
		}
	}
	return r
}

// MeanAbsRho returns rbar = mean |rho_ij| over i < j of the k x k matrix xt
// and the number of pairs used (pairs with a non-positive diagonal entry are
// skipped). Cost O(k^2).
func MeanAbsRho(xt linalg.Dense) (rbar float64, pairs int) {
	return meanAbsRho(xt, nil)
}

// meanAbsRho is MeanAbsRho over the directions keep marks (all when nil).
func meanAbsRho(xt linalg.Dense, keep []bool) (rbar float64, pairs int) {
	k := xt.Rows
	sq := make([]float64, k)
	for i := range sq {
		sq[i] = math.Sqrt(xt.At(i, i))
		if keep != nil && !keep[i] {
			sq[i] = 0
		}
	}
	for i := 0; i < k; i++ {
		if !(sq[i] > 0) {
			continue
		}
		row := xt.Row(i)
		for j := i + 1; j < k; j++ {
			if !(sq[j] > 0) {
				continue
			}
			rbar += math.Abs(row[j]) / (sq[i] * sq[j])
			pairs++
		}
	}
	if pairs == 0 {
		return math.NaN(), 0
	}
	return rbar / float64(pairs), pairs
}

// KEff returns the effective rank (tr X)^2 / ||X||_F^2 of the square matrix
// x (NaN for x = 0); another shape is a programming error and panics, as
// the package's other shape mismatches do.
func KEff(x linalg.Dense) float64 {
	if x.Rows != x.Cols {
		panic(fmt.Sprintf("awd: KEff of a %dx%d matrix", x.Rows, x.Cols))
	}
	var tr, f2 float64
	for i := 0; i < x.Rows; i++ {
		for _, v := range x.Row(i) {
			f2 += v * v
		}
		tr += x.At(i, i)
	}
	if f2 == 0 {
		return math.NaN()
	}
	return tr * tr / f2
}

// NullStats returns the random-frame expectation mu0 = sqrt(2/(pi keff)) of
// rbar, its standard error SE = sqrt((1-2/pi)/(keff M)) over M pairs, the
// z-score (rbar - mu0)/SE and the one-sided p = Phi(z).
func NullStats(rbar, keff float64, pairs int) (mu0, se, z, p float64) {
	mu0 = math.Sqrt(2 / (math.Pi * keff))
	se = math.Sqrt((1 - 2/math.Pi) / (keff * float64(pairs)))
	z = (rbar - mu0) / se
	return mu0, se, z, Phi(z)
}

// Phi is the standard normal cumulative distribution function.
func Phi(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// HaarFrame returns a d x k matrix with orthonormal columns distributed
// uniformly (Haar) on the Stiefel manifold: the Q factor, with R's diagonal
// positive, of a d x k standard Gaussian matrix drawn from
// PCG(seed, seed^golden). Block Gram-Schmidt yields exactly that Q: it runs
// in blocks of 128 columns, each projected against the previous ones and
// then orthonormalised by Cholesky QR.
//
// Both steps are repeated only when rounding asks for it ("twice is
// enough"). A projection loses orthogonality in proportion to how much of
// a column it removes: a second one runs when some column kept less than
// half of its norm, which for a Gaussian matrix happens only once k nears
// d. A Cholesky QR step leaves an error of about cond(w)^2 eps: its result
// is kept when w^T w is the identity to 16 eps per entry, else the step
// runs again on it (the Gram matrix tested is the second step's first
// product). Cost about 2 d k^2 flops for k up to about 3d/4 (twice that
// near k = d), all in GEMM and SYRK. It panics when k is outside [0, d]
// (no such frame exists).
func HaarFrame(d, k int, seed uint64) linalg.Dense {
	return haarFrameInto(nil, d, k, seed)
}

// haarFrameInto is HaarFrame writing into buf when it holds d k numbers.
func haarFrameInto(buf []float64, d, k int, seed uint64) linalg.Dense {
	if k > d || k < 0 {
		panic(fmt.Sprintf("awd: HaarFrame: k=%d outside [0, d=%d]", k, d))
	}
	var q linalg.Dense
	if len(buf) >= d*k {
		q = linalg.DenseOf(d, k, buf[:d*k:d*k])
	} else {
		q = linalg.NewDense(d, k)
	}
	if k == 0 {
		return q
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range q.Data {
		q.Data[i] = rng.NormFloat64()
	}
	const nb = 128
	tmp := linalg.Scratch(d * min(nb, k))
	defer linalg.Recycle(tmp)
	const tol = 16 * 0x1p-52 // a second Cholesky QR step leaves 3-8 eps
	kept := make([]float64, nb)
	for j0 := 0; j0 < k; j0 += nb {
		jb := min(nb, k-j0)
		w := q.View(0, j0, d, jb)
		g := linalg.NewDense(jb, jb)
		gram := func() { linalg.Syrk(linalg.Upper, true, 1, w, 0, g, false) }
		if j0 == 0 {
			gram()
		} else {
			prev := q.View(0, 0, d, j0)
			p := linalg.NewDense(j0, jb)
			for pass := 0; pass < 2; pass++ {
				linalg.Gemm(true, false, 1, prev, w, 0, p)
				linalg.Gemm(false, false, -1, prev, p, 1, w)
				gram()
				// What each column kept, |w'|^2, against what it had,
				// |w'|^2 + |p|^2 (Pythagoras: prev is orthonormal).
				lost := false
				for c := range jb {
					kept[c] = g.At(c, c)
				}
				for r := range j0 {
					for c, v := range p.Row(r) {
						kept[c] -= v * v / 3
					}
				}
				for c := range jb {
					lost = lost || kept[c] < 0 // |w'|^2 < (|w'|^2 + |p|^2)/4
				}
				if !lost {
					break
				}
			}
		}
		t := linalg.DenseOf(d, jb, tmp[:d*jb])
		if !cholQRStep(w, g, t) {
			gramSchmidt(w)
			continue
		}
		gram()
		if !nearIdentity(g, tol) && !cholQRStep(w, g, t) {
			gramSchmidt(w)
		}
	}
	return q
}

// nearIdentity reports whether the upper triangle of the Gram matrix g is
// the identity to tol per entry.
func nearIdentity(g linalg.Dense, tol float64) bool {
	for i := 0; i < g.Rows; i++ {
		row := g.Row(i)
		if !(math.Abs(row[i]-1) <= tol) {
			return false
		}
		for _, v := range row[i+1:] {
			if !(math.Abs(v) <= tol) {
				return false
			}
		}
	}
	return true
}

// cholQRStep replaces the d x b block w by w R^-1, where R is the Cholesky
// factor of g = w^T w (its upper triangle; g is overwritten): one step of
// Cholesky QR, orthonormal up to cond(w)^2 eps. t is d x b scratch. It
// returns false, leaving w as it was (and g spoilt), when w^T w is too
// close to singular.
func cholQRStep(w, g, t linalg.Dense) bool {
	b := w.Cols
	// g <- R, upper: R_jj = sqrt(g_jj - sum_i R_ij^2), R_jl = (g_jl - sum_i R_ij R_il) / R_jj.
	// A pivot below 1e-10 of its column's squared norm (cond(w) beyond
	// about 1e5, where two steps may not reach orthogonality) refuses.
	for j := 0; j < b; j++ {
		rj := g.Row(j)
		norm2 := rj[j]
		for i := 0; i < j; i++ {
			ri := g.Row(i)
			kernels.Daxpy(-ri[j], ri[j:b], rj[j:b])
		}
		if !(rj[j] > 1e-10*norm2) {
			return false
		}
		rj[j] = math.Sqrt(rj[j])
		inv := 1 / rj[j]
		for l := j + 1; l < b; l++ {
			rj[l] *= inv
		}
	}
	// R^-1 by back substitution, row by row from the bottom (upper
	// triangular): row r of R^-1 is (e_r - sum_{l>r} R_rl (R^-1)_l) / R_rr.
	ri := linalg.NewDense(b, b)
	for r := b - 1; r >= 0; r-- {
		gr, out := g.Row(r), ri.Row(r)
		out[r] = 1
		for l := r + 1; l < b; l++ {
			kernels.Daxpy(-gr[l], ri.Row(l)[l:b], out[l:b])
		}
		inv := 1 / gr[r]
		for c := r; c < b; c++ {
			out[c] *= inv
		}
	}
	linalg.Gemm(false, false, 1, w, ri, 0, t)
	w.Copy(t)
	return true
}

// gramSchmidt orthonormalises the columns of w in place by modified
// Gram-Schmidt applied twice: the fallback of cholQRStep for a block too
// ill-conditioned for Cholesky QR (never seen for a Gaussian frame).
func gramSchmidt(w linalg.Dense) {
	wt := w.T() // the block's columns as rows
	d, b := w.Rows, w.Cols
	for c := 0; c < b; c++ {
		v := wt.Row(c)
		for pass := 0; pass < 2; pass++ {
			for e := 0; e < c; e++ {
				qe := wt.Row(e)
				kernels.Daxpy(-kernels.Ddot(qe, v), qe, v)
			}
		}
		inv := 1 / math.Sqrt(kernels.Ddot(v, v))
		for i := range v {
			v[i] *= inv
		}
	}
	for r := 0; r < d; r++ {
		row := w.Row(r)
		for c := range row {
			row[c] = wt.Data[c*d+r]
		}
	}
}

// Sandwich returns R^T X R (k x k) for the d x d symmetric X and the d x k
// frame R (its lower triangle computed, mirrored). Cost 2 d^2 k + d k^2 flops.
// The result comes from the warm cache, like Project's Xt.
func Sandwich(x, r linalg.Dense) linalg.Dense {
	xr := linalg.DenseOf(x.Rows, r.Cols, linalg.Scratch(x.Rows*r.Cols)) // every entry written
	defer linalg.Recycle(xr.Data)
	linalg.Gemm(false, false, 1, x, r, 0, xr)
	out := linalg.DenseOf(r.Cols, r.Cols, linalg.Scratch(r.Cols*r.Cols)) // every entry written
	linalg.Gemmt(linalg.Lower, true, false, 1, r, xr, 0, out)            // symmetric: half the product
	linalg.Mirror(linalg.Lower, out)
	return out
}

// Align computes the alignment statistics of X given xt = U_k^T X U_k (from
// Project) and the random frame r (d x k, from HaarFrame; shared by every
// covariance of one analysis), over the directions keep marks (nil: all;
// see inRange and NullFloor). It also returns R^T X R, whose leading block
// is the random-frame heat map. Cost that of Sandwich.
func Align(of string, x, xt linalg.Dense, keep []bool, r linalg.Dense, seed uint64) (Alignment, linalg.Dense) {
	a := Alignment{Of: of, K: xt.Rows, Seed: seed, Basis: AlignTopK}
	if a.Null = nullCount(keep); a.Null > 0 {
		a.K -= a.Null
	}
	a.RBar, a.M = meanAbsRho(xt, keep)
	a.KEff = KEff(x)
	xr := Sandwich(x, r)
	a.RBarRand, _ = MeanAbsRho(xr)
	a.Mu0, a.SE, a.Z, a.P = NullStats(a.RBar, a.KEff, a.M)
	a.ZRand = (a.RBarRand - a.Mu0) / a.SE
	return a, xr
}

// Commutator returns ||HC - CH||_F / (||H||_F ||C||_F) for symmetric H and
// C, 0 when they commute (Commutators gives the paper code's normalisation
// too). Since CH = (HC)^T it costs one product, 2 d^3 flops.
func Commutator(h, c linalg.Dense) float64 {
	v, _ := Commutators(h, c)
	return v
}

func frob(a linalg.Dense) float64 {
	var s float64
	for i := 0; i < a.Rows; i++ {
		for _, v := range a.Row(i) {
			s += v * v
		}
	}
	return math.Sqrt(s)
}

// symmetrize replaces a by (a + a^T)/2, removing rounding asymmetry.
func symmetrize(a linalg.Dense) {
	for i := 0; i < a.Rows; i++ {
		for j := i + 1; j < a.Cols; j++ {
			v := 0.5 * (a.Data[i*a.Stride+j] + a.Data[j*a.Stride+i])
			a.Data[i*a.Stride+j], a.Data[j*a.Stride+i] = v, v
		}
	}
}

// alignmentLabel is the name the alignment of the covariance name is
// recorded under in r (Alignment.Of, AlignErrors, rho_<X>): M2 for C_awd
// where r measured no C_awd (a convolution layer, whose matched pairs have
// no minimal-norm dW), for what is aligned there is M2 (rbar is invariant
// to the scale sigma^2/B of C_awd = (sigma^2/B) M2).
func alignmentLabel(r *Result, name string) string {
	if name == NameCAWD && !r.measuresCAWD() {
		return NameM2
	}
	return name
}

// measuresCAWD reports whether r measured C_awd: it has C_awd's fit or
// the reason the fit failed.
func (r *Result) measuresCAWD() bool {
	_, fit := r.Fits[NameCAWD]
	_, failed := r.FitErrors[NameCAWD]
	return fit || failed
}

// relabelAlignments renames to M2 the alignment of a results file written
// before awd named it so, which recorded M2's alignment as C_awd's where
// there is no C_awd (alignmentLabel); an entry of M2 itself is kept and
// the old one dropped (they are the same measurement).
func (r *Result) relabelAlignments() {
	if r.measuresCAWD() {
		return
	}
	hasM2 := slices.ContainsFunc(r.Alignment, func(a Alignment) bool { return a.Of == NameM2 })
	kept := r.Alignment[:0]
	for _, a := range r.Alignment {
		if a.Of == NameCAWD {
			if hasM2 {
				continue
			}
			a.Of = NameM2
		}
		kept = append(kept, a)
	}
	r.Alignment = kept
	if e, ok := r.AlignErrors[NameCAWD]; ok {
		delete(r.AlignErrors, NameCAWD)
		if _, ok := r.AlignErrors[NameM2]; !ok && !hasM2 {
			r.AlignErrors[NameM2] = e
		}
	}
	if mf := r.MatrixFree; mf != nil && slices.Contains(mf.KEffEstimated, NameCAWD) {
		names := []string{}
		for _, n := range mf.KEffEstimated {
			if n == NameCAWD {
				n = NameM2
			}
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		mf.KEffEstimated = names
	}
}
