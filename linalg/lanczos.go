package linalg

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Matrix-free top-k eigenpairs: block Lanczos with full reorthogonalisation
// and thick restarts.
//
// The basis V (n x m, orthonormal columns) grows by blocks of b vectors,
// X_{j+1} = orth(A X_j) against all of V (classical Gram-Schmidt with GEMM,
// twice, then modified Gram-Schmidt inside the block), so V spans the block
// Krylov space K_j(A, X_0) = span{X_0, A X_0, ..., A^{j-1} X_0}. A V is kept
// alongside V, so once V is full the Rayleigh quotient H = V^T (A V) costs
// one GEMM and no operator calls; its eigenpairs (theta_i, y_i) give Ritz
// pairs (theta_i, V y_i) with residuals r_i = (A V) y_i - theta_i V y_i.
// Pairs with |r_i| <= tol max(|theta_1|, tiny) are converged. A restart keeps
// the p leading Ritz vectors and their images (thick restart: no operator
// calls) and continues the Krylov sequence from the residuals of the
// leading unconverged pairs, which are orthogonal to V by the Galerkin
// condition. The cost per restart is (m - p)/b operator calls on n x b
// blocks plus O(n m^2) flops of GEMM.

// SymOp is a symmetric linear operator given by its action on a block of
// vectors: Apply sets dst = A x for the n x b matrices dst and x.
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
	Basis       int     // basis size m (default max(2k + 2b, k + 32, 48)), capped at n
	Tol         float64 // relative residual |A u - theta u| / |theta_1| (default 1e-10)
	MaxRestarts int     // restarts before giving up (default 200)
	Seed        uint64  // seed of the random start block
}

// LanczosTop computes the k algebraically largest eigenpairs of the
// symmetric operator op (Values descending, Vectors n x k). It returns an
// error wrapping the convergence failure when the pairs have not converged
// within MaxRestarts, and ErrNotFinite when the operator returns NaN or Inf.
// Cost per restart: (m - p)/b calls of op on n x b blocks, about 4 n m^2
// flops of GEMM for orthogonalisation and Rayleigh-Ritz, and one dense
// m x m eigenproblem (m the basis size, p the kept Ritz vectors).
func LanczosTop(op SymOp, k int, opt LanczosOptions) (Eigen, error) {
	n := op.Dim()
	if k < 0 || k > n {
		return Eigen{}, fmt.Errorf("linalg: LanczosTop: k=%d outside [0, %d]", k, n)
	}
	if k == 0 {
		return Eigen{Values: []float64{}, Vectors: NewDense(n, 0)}, nil
	}
	b := opt.Block
	if b <= 0 {
		b = min(k, 4)
	}
	b = min(b, n)
	m := opt.Basis
	if m <= 0 {
		m = max(2*k+2*b, k+32, 48)
	}
	m = min(m, n)
	if m < k+b && m < n {
		return Eigen{}, fmt.Errorf("linalg: LanczosTop: basis %d too small for k=%d and block %d", m, k, b)
	}
	tol := opt.Tol
	if tol <= 0 {
		tol = 1e-10
	}
	maxRestarts := opt.MaxRestarts
	if maxRestarts <= 0 {
		maxRestarts = 200
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x1a2c705))
	v := NewDense(n, m)
	av := NewDense(n, m)
	// Start block.
	cur := 0
	x := NewDense(n, b)
	for i := range x.Data {
		x.Data[i] = rng.NormFloat64()
	}
	nconv := 0
	var sc float64 // scale of A (0 until the first nonzero image)
	for restart := 0; ; restart++ {
		// Expand the basis with x (n x nb), then with images of the last block.
		for cur < m {
			nb := min(x.Cols, m-cur)
			blk := x.View(0, 0, n, nb)
			added := orthBlock(v.View(0, 0, n, cur), blk, rng)
			v.View(0, cur, n, nb).Copy(blk)
			dst := av.View(0, cur, n, nb)
			op.Apply(dst, v.View(0, cur, n, nb))
			var amax float64
			for r := 0; r < n; r++ {
				for _, val := range dst.Row(r) {
					if math.IsNaN(val) || math.IsInf(val, 0) {
						return Eigen{}, ErrNotFinite
					}
					amax = math.Max(amax, math.Abs(val))
				}
			}
			// A is handled as A/sc with sc the power of two nearest the
			// first image's size, so that sums of squares of extreme
			// operators neither overflow nor underflow.
			if sc == 0 && amax > 0 {
				_, ex := math.Frexp(amax)
				sc = math.Ldexp(1, ex)
			}
			if sc != 0 && sc != 1 {
				for r := 0; r < n; r++ {
					row := dst.Row(r)
					for c := range row {
						row[c] /= sc
					}
				}
			}
			_ = added
			cur += nb
			if cur < m {
				nx := min(b, m-cur)
				x = dst.View(0, 0, n, min(nb, nx)).Clone()
				if x.Cols < nx {
					x = NewDense(n, nx)
					x.View(0, 0, n, nb).Copy(dst)
					for r := 0; r < n; r++ {
						for c := nb; c < nx; c++ {
							x.Data[r*nx+c] = rng.NormFloat64()
						}
					}
				}
			}
		}
		// Rayleigh-Ritz.
		h := NewDense(m, m)
		Gemm(true, false, 1, v, av, 0, h)
		symmetrize(h)
		ev, err := EigSym(h, true)
		if err != nil {
			return Eigen{}, fmt.Errorf("linalg: LanczosTop: Rayleigh-Ritz: %w", err)
		}
		p := min(m, max(k+b, (m+k)/2))
		if m == n {
			p = k
		}
		y := ev.Vectors.View(0, 0, m, p)
		u := NewDense(n, p)
		au := NewDense(n, p)
		Gemm(false, false, 1, v, y, 0, u)
		Gemm(false, false, 1, av, y, 0, au)
		scale := math.Max(math.Abs(ev.Values[0]), math.Abs(ev.Values[m-1]))
		if scale == 0 {
			scale = 1
		}
		res := NewDense(n, p)
		for r := 0; r < n; r++ {
			ur, ar, rr := u.Row(r), au.Row(r), res.Row(r)
			for c := 0; c < p; c++ {
				rr[c] = ar[c] - ev.Values[c]*ur[c]
			}
		}
		rn := colNorms(res)
		nconv = 0
		for nconv < k && rn[nconv] <= tol*scale {
			nconv++
		}
		if nconv == k || m == n {
			out := Eigen{Values: append([]float64(nil), ev.Values[:k]...), Vectors: u.View(0, 0, n, k).Clone()}
			if sc != 0 {
				for i := range out.Values {
					out.Values[i] *= sc
				}
			}
			return out, nil
		}
		if restart >= maxRestarts {
			return Eigen{}, fmt.Errorf("linalg: LanczosTop: %d of %d pairs converged to tol %g after %d restarts: %w", nconv, k, tol, restart, ErrNoConvergence)
		}
		// Thick restart: keep the p Ritz pairs, continue from the residuals
		// of the leading unconverged ones.
		v.View(0, 0, n, p).Copy(u)
		av.View(0, 0, n, p).Copy(au)
		cur = p
		nx := min(b, m-p)
		x = NewDense(n, nx)
		for c := 0; c < nx; c++ {
			src := min(nconv+c, p-1)
			for r := 0; r < n; r++ {
				x.Data[r*nx+c] = res.Data[r*p+src]
			}
		}
	}
}

// orthBlock orthonormalises the columns of x against the orthonormal
// columns of q and among themselves (CGS twice, then MGS twice inside the
// block); columns that vanish (the Krylov space is exhausted) are replaced
// by random directions. It returns the number of columns kept from x.
func orthBlock(q, x Dense, rng *rand.Rand) int {
	n, b := x.Rows, x.Cols
	kept := b
	c := NewDense(max(q.Cols, 1), b)
	orthQ := func(x Dense) {
		if q.Cols == 0 {
			return
		}
		cc := c.View(0, 0, q.Cols, x.Cols)
		for pass := 0; pass < 2; pass++ {
			Gemm(true, false, 1, q, x, 0, cc)
			Gemm(false, false, -1, q, cc, 1, x)
		}
	}
	orthQ(x)
	col := make([]float64, n)
	for j := 0; j < b; j++ {
		for attempt := 0; attempt < 4; attempt++ {
			for r := 0; r < n; r++ {
				col[r] = x.Data[r*x.Stride+j]
			}
			before := dnrm2(col)
			for pass := 0; pass < 2; pass++ {
				for i := 0; i < j; i++ {
					var s float64
					for r := 0; r < n; r++ {
						s += x.Data[r*x.Stride+i] * col[r]
					}
					for r := 0; r < n; r++ {
						col[r] -= s * x.Data[r*x.Stride+i]
					}
				}
			}
			after := dnrm2(col)
			if after > 1e-8*before && after > 0 {
				for r := 0; r < n; r++ {
					x.Data[r*x.Stride+j] = col[r] / after
				}
				break
			}
			// Replace by a random direction orthogonal to q.
			if attempt == 0 {
				kept--
			}
			xj := x.View(0, j, n, 1)
			for r := 0; r < n; r++ {
				xj.Data[r*xj.Stride] = rng.NormFloat64()
			}
			orthQ(xj)
		}
	}
	return kept
}

func colNorms(a Dense) []float64 {
	s := make([]float64, a.Cols)
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
