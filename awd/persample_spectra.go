package awd

import (
	"fmt"
	"math"

	"github.com/awd-toolkit/awd/internal/hugepage"
	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// SampleSpectra holds the nonzero eigenpairs of every per-sample Hessian
// H_n = Gamma_n (x) a_n a_n^T (docs/math.md section 3): lambda_k^n = |a_n|^2 mu_k^n
// with vector gamma_k^n (x) a_n/|a_n|, where (mu_k^n, gamma_k^n) are the
// eigenpairs of Gamma_n (m x m, rank <= L). Only R = L pairs per sample are
// kept, zero-padded, in descending order of mu, and of the vectors only the
// first V (R, or 1 when only gamma_1 is needed):
//
//	A[s*In+i]            a_s
//	Norm2[s]             |a_s|^2
//	Mu[s*R+k]            mu_k^s
//	G[(s*V+k)*M+p]       gamma_k^s[p], k < V
type SampleSpectra struct {
	N, M, In, R int
	// V is the number of eigenvectors kept per sample: R, or 1 when only
	// gamma_1 is needed (the correlations need no other; the
	// interventions need all R). With V = 1 the vectors take L times less
	// memory: 72 of the 80 MB for N = 20,000 samples of a 50 x 50 layer.
	V int

	A     []float64
	Norm2 []float64
	Mu    []float64
	G     []float64
	// Scale[s] = ||J_s||_F^2 max(1, max|Lambda_s|), the size that rounding
	// in Lambda_s is relative to: its entries are computed from
	// probabilities of size up to 1 (diag(p) - p p^T for CE), so their
	// absolute error is O(eps) however small they are. mu_k^s below
	// -eps Scale[s] (times a small factor) is a real negative curvature.
	Scale []float64
	// Label[s] is the sample's label (the per-class subsets of the paper's
	// suppression protocol); nil when the blocks came without labels.
	Label []int
}

// NewSampleSpectra returns an empty set for a layer with M outputs, In
// inputs and R = L eigenpairs kept per sample.
func NewSampleSpectra(m, in, r int) *SampleSpectra {
	return &SampleSpectra{M: m, In: in, R: r, V: r}
}

// NewSampleSpectraTop is NewSampleSpectra keeping of the eigenvectors only
// gamma_1 (V = 1): enough for Correlation, not for the interventions.
func NewSampleSpectraTop(m, in, r int) *SampleSpectra {
	return &SampleSpectra{M: m, In: in, R: r, V: min(1, r)}
}

// allVectors returns an error naming what when ss keeps fewer than R
// eigenvectors per sample.
func (ss *SampleSpectra) allVectors(what string) error {
	if v := ss.Kept(); v != ss.R {
		return fmt.Errorf("awd: %s needs all %d eigenvectors of every Gamma_n, the per-sample spectra keep %d (made for the correlations only)", what, ss.R, v)
	}
	return nil
}

// Kept returns the number of eigenvectors kept per sample: V, or R when V
// is not set (a SampleSpectra made as a literal keeps all of them).
func (ss *SampleSpectra) Kept() int {
	if ss.V <= 0 || ss.V > ss.R {
		return ss.R
	}
	return ss.V
}

// Lambda1 returns lambda_1(H_s) = |a_s|^2 mu_1^s.
func (ss *SampleSpectra) Lambda1(s int) float64 { return ss.Norm2[s] * ss.Mu[s*ss.R] }

// LocMax returns max_s lambda_1(H_s), the lambda_loc_max of Thm 5.1.
func (ss *SampleSpectra) LocMax() float64 {
	l := math.Inf(-1)
	for s := 0; s < ss.N; s++ {
		l = math.Max(l, ss.Lambda1(s))
	}
	return l
}

// Append adds the per-sample spectra of a block of samples. Gamma_s is
// never formed: with Q (r x M) an orthonormal basis of the row space of J_s,
// Gamma_s = Q^T (T^T Lambda_s T) Q with T = J_s Q^T (L x r), so the
// eigenpairs come from an r x r matrix, r <= L. Cost O(L^2 M + L^3) per
// sample.
func (ss *SampleSpectra) Append(ps *nn.PerSample) {
	if ps.M != ss.M || ps.In != ss.In || ps.L != ss.R {
		panic(fmt.Sprintf("awd: SampleSpectra.Append: block M=%d In=%d L=%d, want %d %d %d", ps.M, ps.In, ps.L, ss.M, ss.In, ss.R))
	}
	m, l, in := ps.M, ps.L, ps.In
	n0 := ss.N
	ss.Grow(ps.N)
	ss.N += ps.N
	ss.A = ss.A[:ss.N*in]
	ss.Norm2 = ss.Norm2[:ss.N]
	ss.Scale = ss.Scale[:ss.N]
	ss.Mu = ss.Mu[:ss.N*l]
	v := ss.Kept()
	ss.G = ss.G[:ss.N*v*m]
	if ps.Label != nil && len(ss.Label) == n0 {
		ss.Label = append(ss.Label, ps.Label[:ps.N]...)
	}
	copy(ss.A[n0*in:], ps.A[:ps.N*in])
	parallelRows(ps.N, func(_, r0, r1 int) {
		w := newEigenWork(l, m)
		for s := r0; s < r1; s++ {
			a := ps.A[s*in : (s+1)*in]
			jr, lr := ps.J[s*l*m:(s+1)*l*m], ps.Lambda[s*l*l:(s+1)*l*l]
			lmax := 1.0
			for _, v := range lr {
				lmax = math.Max(lmax, math.Abs(v))
			}
			o := n0 + s
			ss.Norm2[o] = kernels.Ddot(a, a)
			ss.Scale[o] = kernels.Ddot(jr, jr) * lmax
			gammaEigen(jr, lr, l, m, w, ss.Mu[o*l:(o+1)*l], ss.G[o*v*m:(o+1)*v*m])
		}
	})
}

// eigenWork is gammaEigen's scratch for J of l x m.
type eigenWork struct {
	q, t, lt, b, vals, vecs []float64
}

func newEigenWork(l, m int) *eigenWork {
	return &eigenWork{q: make([]float64, l*m), t: make([]float64, l*l), lt: make([]float64, l*l),
		b: make([]float64, l*l), vals: make([]float64, l), vecs: make([]float64, l*l)}
}

// Grow makes room for n more samples without reallocating.
func (ss *SampleSpectra) Grow(n int) {
	ss.A = growCap(ss.A, n*ss.In)
	ss.Norm2 = growCap(ss.Norm2, n)
	ss.Scale = growCap(ss.Scale, n)
	ss.Mu = growCap(ss.Mu, n*ss.R)
	ss.G = growCap(ss.G, n*ss.Kept()*ss.M)
}

// growCap is slices.Grow for large float64 buffers: a new array, when one
// is needed, is advised for huge pages before its first touch.
func growCap(s []float64, n int) []float64 {
	if cap(s)-len(s) >= n {
		return s
	}
	t := hugepage.Make[float64](len(s) + n)[:len(s)]
	copy(t, s)
	return t
}

// gammaEigen writes the L eigenvalues (descending, zero-padded) of
// J^T Lambda J for J (l x m) into mu and its first len(g)/m eigenvectors
// (rows of length m, zero rows for the padding) into g.
func gammaEigen(j, lam []float64, l, m int, w *eigenWork, mu, g []float64) {
	q, t, b := w.q, w.t, w.b
	// Orthonormal basis of the rows of J by Gram-Schmidt applied twice
	// ("twice is enough"), dropping rows that are numerically dependent.
	var jmax float64
	for a := 0; a < l; a++ {
		jmax = math.Max(jmax, math.Sqrt(kernels.Ddot(j[a*m:(a+1)*m], j[a*m:(a+1)*m])))
	}
	r := 0
	for a := 0; a < l && jmax > 0; a++ {
		v := q[r*m : (r+1)*m]
		copy(v, j[a*m:(a+1)*m])
		for pass := 0; pass < 2; pass++ {
			for c := 0; c < r; c++ {
				kernels.Daxpy(-kernels.Ddot(q[c*m:(c+1)*m], v), q[c*m:(c+1)*m], v)
			}
		}
		nv := math.Sqrt(kernels.Ddot(v, v))
		if nv <= 64*float64(m)*eps*jmax {
			continue
		}
		for p := range v {
			v[p] /= nv
		}
		r++
	}
	// T = J Q^T (l x r), B = T^T Lambda T (r x r).
	for a := 0; a < l; a++ {
		for c := 0; c < r; c++ {
			t[a*r+c] = kernels.Ddot(j[a*m:(a+1)*m], q[c*m:(c+1)*m])
		}
	}
	// Lambda T once (l x r), then B = T^T (Lambda T): l^2 r + l r^2
	// multiply-adds instead of l^2 r^2, each entry summed in the same order.
	lt := w.lt
	for a := 0; a < l; a++ {
		for e := 0; e < r; e++ {
			var v float64
			for f := 0; f < l; f++ {
				v += lam[a*l+f] * t[f*r+e]
			}
			lt[a*r+e] = v
		}
	}
	for c := 0; c < r; c++ {
		for e := 0; e < r; e++ {
			var v float64
			for a := 0; a < l; a++ {
				v += t[a*r+c] * lt[a*r+e]
			}
			b[c*r+e] = v
		}
	}
	vals, vecs := w.vals[:r], w.vecs[:r*r]
	if err := linalg.EigSymSmall(r, b[:r*r], vals, vecs); err != nil {
		for k := range vals {
			vals[k] = math.NaN() // non-finite Lambda or J: let it show
		}
	}
	clear(mu[:l])
	clear(g)
	for k := 0; k < r; k++ {
		mu[k] = vals[k]
		if (k+1)*m > len(g) {
			continue
		}
		gk := g[k*m : (k+1)*m]
		for c := 0; c < r; c++ {
			kernels.Daxpy(vecs[c*r+k], q[c*m:(c+1)*m], gk)
		}
	}
}

// NegativeSamples counts the samples whose H_n has an eigenvalue below
// -64 L eps Scale[s] (the rounding of Lambda_s and of the r x r
// eigenproblem); for CE there are none, since Lambda_n is PSD.
func (ss *SampleSpectra) NegativeSamples() int {
	cnt := 0
	for s := 0; s < ss.N; s++ {
		mu := ss.Mu[s*ss.R : (s+1)*ss.R]
		for _, v := range mu {
			if v < -64*float64(ss.R)*eps*ss.Scale[s] {
				cnt++
				break
			}
		}
	}
	return cnt
}
