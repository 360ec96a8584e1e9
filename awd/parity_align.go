package awd

import (
	"math"

	"github.com/awd-toolkit/awd/linalg"
)

// Alignment bases (Alignment.Basis).
const (
	// AlignTopK measures rbar over the k(k-1)/2 pairs of the leading k x k
	// block of X in H's eigenbasis, H's null space left out (this
	// project's default when not every eigenvector is affordable).
	AlignTopK = "top-k"
	// AlignFull measures rbar over all d(d-1)/2 pairs of X in H's full
	// eigenbasis, as the paper's Appendix D and its code
	// (Figures.ipynb, compute_scale_invariant_stats) do, H's null space
	// left out (AlignAll).
	AlignFull = "full"
)

// AlignFullMaxD is the largest d for which the full alignment is the
// default: it needs all d eigenvectors of H (about 4/3 d^3 + 2 d^3 flops,
// 1.5 s at d = 2500 on two cores) and a d x d sandwich per covariance
// (4 d^3 flops).
const AlignFullMaxD = 4096

// rbarCode is the paper code's rbar of the square matrix k = U^T X U
// (Figures.ipynb, compute_scale_invariant_stats): R_ij = k_ij /
// sqrt(|k_ii| |k_jj|), set to 0 where that root is not above 1e-38, and
// rbar = mean |R_ij| over all i != j, the zeros included; here over the
// directions keep marks (all when nil). It returns rbar and the number of
// pairs i < j, n(n-1)/2 for the n directions kept. Cost O(k^2).
func rbarCode(k linalg.Dense, keep []bool) (float64, int) {
	n := k.Rows
	var s float64
	for i := 0; i < n; i++ {
		if keep != nil && !keep[i] {
			continue
		}
		row := k.Row(i)
		for j := i + 1; j < n; j++ {
			if keep != nil && !keep[j] {
				continue
			}
			if nf := math.Sqrt(math.Abs(k.At(i, i)) * math.Abs(k.At(j, j))); nf > 1e-38 {
				s += math.Abs(row[j]) / nf
			}
		}
	}
	n -= nullCount(keep)
	pairs := n * (n - 1) / 2
	if pairs == 0 {
		return math.NaN(), 0
	}
	return s / float64(pairs), pairs
}

// AlignAll measures the alignment of X with H over the full eigenbasis u
// (d x d, all eigenvectors of H) with the paper's rule (rbarCode): rbar over
// the d(d-1)/2 pairs and the null statistics of App. C-D with
// M = d(d-1)/2; over the n directions keep marks (nil: all d) when H has a
// null space (inRange), M = n(n-1)/2. (The paper's code takes every
// direction; in H's null space the eigenbasis is arbitrary, its rho_ij are
// ratios of rounding errors, and their mean moves with that basis:
// TestAlignNullSpace.) rbar_rand is the same rule in the Haar-random frame (d x r,
// HaarFrame, shared by the covariances of one analysis): every pair of a
// random frame has the same null law, so a d x k frame estimates the mean
// |rho| of the code's d x d one (Q diag(lambda(X)) Q^T seen in H's basis)
// at a quarter of the cost. It also returns U^T X U and R^T X R, whose
// leading blocks are the heat maps. Cost 4 d^3 + 4 d^2 r flops.
func AlignAll(of string, x, u linalg.Dense, keep []bool, frame linalg.Dense, seed uint64) (Alignment, linalg.Dense, linalg.Dense) {
	d := x.Rows
	xt := Sandwich(x, u)
	a := Alignment{Of: of, K: d, Seed: seed, Basis: AlignFull, Null: nullCount(keep)}
	a.K -= a.Null
	a.RBar, a.M = rbarCode(xt, keep)
	a.KEff = KEff(x)
	xr := Sandwich(x, frame)
	var mr int
	a.RBarRand, mr = rbarCode(xr, nil)
	a.Mu0, a.SE, a.Z, a.P = NullStats(a.RBar, a.KEff, a.M)
	_, seR, _, _ := NullStats(a.RBarRand, a.KEff, mr) // the frame's own pairs
	a.ZRand = (a.RBarRand - a.Mu0) / seR
	return a, xt, xr
}

// Commutators returns the normalised commutator of symmetric H and C both
// ways: byNorms = ||HC - CH||_F / (||H||_F ||C||_F) (this project, and the
// paper code's utils.cal_commutation) and byProduct = ||HC - CH||_F /
// ||CH||_F (the paper code's Figures.ipynb, compute_commutativity, with
// A = C, B = H). Both are 0 when H and C commute; byProduct is scale-free in
// each matrix and at most 2. One product, 2 d^3 flops.
func Commutators(h, c linalg.Dense) (byNorms, byProduct float64) {
	hc := linalg.DenseOf(h.Rows, c.Cols, linalg.Scratch(h.Rows*c.Cols)) // every entry written
	defer linalg.Recycle(hc.Data)
	linalg.Gemm(false, false, 1, h, c, 0, hc)
	// The four sums in blocks of rows, each block's partial sums added in
	// block order: the result does not depend on the number of threads.
	// Block I pairs its rows with the columns of the blocks J >= I, reading
	// the transposed tile (J, I) a tile at a time so that it stays in cache.
	const nb = 64
	n := hc.Rows
	nblk := (n + nb - 1) / nb
	type part struct{ num, hh, cc, pp float64 }
	parts := make([]part, nblk)
	parallelEach(nblk, func(bi int) {
		i0, i1 := bi*nb, min(n, (bi+1)*nb)
		var p part
		for i := i0; i < i1; i++ {
			p.hh += sumSq(h.Row(i))
			p.cc += sumSq(c.Row(i))
			p.pp += sumSq(hc.Row(i))
		}
		for j0 := i0; j0 < n; j0 += nb {
			j1 := min(n, j0+nb)
			for i := i0; i < i1; i++ {
				row := hc.Row(i)
				for j := max(j0, i+1); j < j1; j++ {
					v := row[j] - hc.Data[j*hc.Stride+i]
					p.num += 2 * v * v
				}
			}
		}
		parts[bi] = p
	})
	var num, hh, cc, pp float64
	for _, p := range parts {
		num, hh, cc, pp = num+p.num, hh+p.hh, cc+p.cc, pp+p.pp
	}
	num = math.Sqrt(num)
	return num / (math.Sqrt(hh) * math.Sqrt(cc)), num / math.Sqrt(pp)
}

// sumSq returns the sum of the squares of x.
func sumSq(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s
}

// CommutatorsInBasis returns what Commutators does from H's eigenvalues
// lambda (all d, in the order of the basis) and Ct = U^T C U in H's full
// eigenbasis: there HC - CH has entries (lambda_i - lambda_j) Ct_ij and CH
// has Ct_ij lambda_j, so both norms cost O(d^2) instead of a d^3 product.
func CommutatorsInBasis(lambda []float64, ct linalg.Dense) (byNorms, byProduct float64) {
	var num, ch, cc, hh float64
	for i := 0; i < ct.Rows; i++ {
		row := ct.Row(i)
		hh += lambda[i] * lambda[i]
		for j, v := range row {
			v2 := v * v
			dl := lambda[i] - lambda[j]
			num += dl * dl * v2
			ch += lambda[j] * lambda[j] * v2
			cc += v2
		}
	}
	num = math.Sqrt(num)
	return num / (math.Sqrt(hh) * math.Sqrt(cc)), num / math.Sqrt(ch)
}
