package awd

import (
	"math"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
)

// lSpectra are the top eigenpairs of every per-sample Hessian
// H_s = J_s^T Lambda_s J_s from L x L problems: with K_s = J_s J_s^T =
// Q D Q^T (the positive part, rank r), the nonzero eigenvalues of H_s are
// those of D^1/2 Q^T Lambda_s Q D^1/2 (r x r), and an eigenvector z gives
// H_s's as J_s^T y, y = Q D^-1/2 z. So lambda_1(H_s), its eigenvector's
// projections v_1^s . u = y^T (J_s u) and the sign of the smallest
// eigenvalue cost O(L^3) per sample, for any layer.
type lSpectra struct {
	lambda1  []float64 // lambda_1(H_s)
	y1       []float64 // N x L: v_1^s = J_s^T y1_s
	rank     []int     // r_s, 0 when J_s = 0
	locMax   float64   // max_s lambda_1(H_s)
	negative int       // samples with an eigenvalue below -64 L eps tr(K_s) max(1, max|Lambda_s|)
}

func sampleSpectraL(mf *MatFree) *lSpectra {
	ls := mf.LS
	n, l := ls.N, ls.L
	sp := &lSpectra{lambda1: make([]float64, n), y1: make([]float64, n*l), rank: make([]int, n)}
	neg := make([]bool, n)
	bad := make([]bool, n) // non-finite K_s or Lambda_s: left out, as a sample with J_s = 0
	parallelRows(n, func(_, r0, r1 int) {
		k := make([]float64, l*l)
		t := make([]float64, l*l)
		b := make([]float64, l*l)
		vals0, vecs0 := make([]float64, l), make([]float64, l*l)
		mu, z := make([]float64, l), make([]float64, l*l)
		for s := r0; s < r1; s++ {
			copy(k, mf.K[s*l*l:(s+1)*l*l])
			var trK float64
			for i := 0; i < l; i++ {
				trK += k[i*l+i]
			}
			vals, vecs := vals0, vecs0
			if err := linalg.EigSymSmall(l, k, vals, vecs); err != nil {
				bad[s] = true
				continue
			}
			r := 0
			for r < l && vals[r] > 64*float64(l)*eps*math.Max(vals[0], 0) {
				r++
			}
			sp.rank[s] = r
			if r == 0 {
				continue
			}
			lam := ls.Lambda[s*l*l : (s+1)*l*l]
			lmax := 1.0
			for _, v := range lam {
				lmax = math.Max(lmax, math.Abs(v))
			}
			// T = Q_r D_r^1/2 (l x r), B = T^T Lambda T (r x r)
			for i := 0; i < l; i++ {
				for c := 0; c < r; c++ {
					t[i*r+c] = vecs[i*l+c] * math.Sqrt(vals[c])
				}
			}
			for c := 0; c < r; c++ {
				for e := 0; e < r; e++ {
					var v float64
					for i := 0; i < l; i++ {
						var w float64
						for j := 0; j < l; j++ {
							w += lam[i*l+j] * t[j*r+e]
						}
						v += t[i*r+c] * w
					}
					b[c*r+e] = v
				}
			}
			if err := linalg.EigSymSmall(r, b[:r*r], mu[:r], z[:r*r]); err != nil {
				bad[s] = true
				continue
			}
			sp.lambda1[s] = mu[0]
			y := sp.y1[s*l : (s+1)*l]
			for i := 0; i < l; i++ {
				var v float64
				for c := 0; c < r; c++ {
					v += vecs[i*l+c] / math.Sqrt(vals[c]) * z[c*r]
				}
				y[i] = v
			}
			neg[s] = mu[r-1] < -64*float64(l)*eps*trK*lmax
		}
	})
	sp.locMax = math.Inf(-1)
	for s := 0; s < n; s++ {
		sp.locMax = math.Max(sp.locMax, sp.lambda1[s])
		if neg[s] {
			sp.negative++
		}
	}
	return sp
}

// correlation returns, for the first kc columns of F = J U, the Pearson
// correlation across samples (those with J_s != 0) of lambda_1(H_s) and
// (v_1^s . u_i)^2 = (y1_s^T F_s[:, i])^2, as Correlation does with dense
// per-sample spectra.
func (sp *lSpectra) correlation(f linalg.Dense, kc int) []float64 {
	n := len(sp.lambda1)
	l := len(sp.y1) / max(n, 1)
	var xbar float64
	cnt := 0
	for s := 0; s < n; s++ {
		if sp.rank[s] > 0 {
			xbar += sp.lambda1[s]
			cnt++
		}
	}
	out := make([]float64, kc)
	if cnt == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	xbar /= float64(cnt)
	var sx, sxx float64
	sy, syy, sxy := make([]float64, kc), make([]float64, kc), make([]float64, kc)
	proj := make([]float64, kc)
	for s := 0; s < n; s++ {
		if sp.rank[s] == 0 {
			continue
		}
		clear(proj)
		for c, y := range sp.y1[s*l : (s+1)*l] {
			if y != 0 {
				kernels.Daxpy(y, f.Row(s*l + c)[:kc], proj)
			}
		}
		x := sp.lambda1[s] - xbar
		sx += x
		sxx += x * x
		for i, p := range proj {
			v := p * p
			sy[i] += v
			syy[i] += v * v
			sxy[i] += x * v
		}
	}
	nn := float64(cnt)
	vx := sxx - sx*sx/nn
	for i := range out {
		vy := syy[i] - sy[i]*sy[i]/nn
		if vx <= 0 || vy <= 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = (sxy[i] - sx*sy[i]/nn) / math.Sqrt(vx*vy)
	}
	return out
}

// frob2 returns ||X||_F^2 of quantity q (C, M2 or C_pair, whose middles
// are PSD: M_s = R_s R_s^T) exactly: with the rows Z_s = R_s^T J_s,
// ||X||_F^2 = scale^2 sum_{s,t} ||Z_s Z_t^T||_F^2, a Gram over samples.
// For a fully connected layer Z_s = (R_s^T Jz_s) (x) a_s^T, so
// Z_s Z_t^T = (R_s^T Jz_s Jz_t^T R_t)(a_s . a_t): 2 (N r)^2 m flops plus
// N^2 n (r = 1 for C and C_pair, L for M2); with stored J, 2 (N r)^2 d.
// The centering of C adds -(2/B) gbar^T C gbar + |gbar|^4 / B^2. It is not
// available for a formed Jacobian (see mfPlan).
func (mf *MatFree) frob2(q Quantity) float64 {
	ls := mf.LS
	n, l := ls.N, ls.L
	r := 1
	if q == QuantityM2 {
		r = l
	}
	// R_s (l x r) per sample, columns the factor of M_s.
	rf := make([]float64, n*l*r)
	parallelRows(n, func(_, r0, r1 int) {
		ms := make([]float64, l*l)
		work := make([]float64, l*l)
		vals, vecs := make([]float64, l), make([]float64, l*l)
		for s := r0; s < r1; s++ {
			dst := rf[s*l*r : (s+1)*l*r]
			switch q {
			case QuantityC:
				copy(dst, ls.G[s*l:(s+1)*l])
			case QuantityCPair:
				if mf.Paired[s] {
					copy(dst, mf.PairW[s*l:(s+1)*l])
				}
			case QuantityM2:
				mf.middle(q, s, ms, work)
				if linalg.EigSymSmall(l, ms, vals, vecs) != nil {
					continue
				}
				for i := 0; i < l; i++ {
					for c := 0; c < l; c++ {
						if vals[c] > 0 {
							dst[i*r+c] = vecs[i*l+c] * math.Sqrt(vals[c])
						}
					}
				}
			}
		}
	})
	// Z (N r x w): rows R_s^T Jz_s (w = Out) or R_s^T J_s (w = d).
	kron := !ls.Conv && ls.J == nil
	w := ls.D()
	if kron {
		w = ls.Out
	}
	z := linalg.NewDense(n*r, w)
	parallelRows(n, func(_, r0, r1 int) {
		var js []float64
		for s := r0; s < r1; s++ {
			var jm []float64
			if kron {
				jm = ls.Jz[s*l*w : (s+1)*l*w]
			} else {
				js = ls.Jacobian(s, js, nil)
				jm = js
			}
			for c := 0; c < r; c++ {
				row := z.Row(s*r + c)
				for i := 0; i < l; i++ {
					if v := rf[s*l*r+i*r+c]; v != 0 {
						kernels.Daxpy(v, jm[i*w:(i+1)*w], row)
					}
				}
			}
		}
	})
	var aa linalg.Dense
	if kron {
		a := linalg.DenseOf(n, ls.In, ls.A)
		aa = linalg.NewDense(n, n)
		linalg.Gemm(false, true, 1, a, a, 0, aa)
	}
	chunk := max(1, (4<<20)/(n*r*r))
	g := linalg.NewDense(min(chunk, n)*r, n*r)
	var total float64
	for s0 := 0; s0 < n; s0 += chunk {
		c := min(chunk, n-s0)
		gc := g.View(0, 0, c*r, n*r)
		linalg.Gemm(false, true, 1, z.View(s0*r, 0, c*r, w), z, 0, gc)
		for i := 0; i < c; i++ {
			for ri := 0; ri < r; ri++ {
				row := gc.Row(i*r + ri)
				for t := 0; t < n; t++ {
					var sq float64
					for _, v := range row[t*r : (t+1)*r] {
						sq += v * v
					}
					if kron {
						av := aa.At(s0+i, t)
						sq *= av * av
					}
					total += sq
				}
			}
		}
	}
	sc := mf.scale(q)
	total *= sc * sc
	if q == QuantityC && mf.Centered {
		gb := linalg.DenseOf(ls.D(), 1, mf.GBar)
		gp := mf.GradProj(mf.Forward(gb))
		var gcg float64
		for s := 0; s < n; s++ {
			v := gp.At(s, 0)
			gcg += v * v
		}
		gcg *= sc
		g2 := kernels.Ddot(mf.GBar, mf.GBar)
		bb := float64(mf.Batch)
		total += -2/bb*gcg + g2*g2/(bb*bb)
	}
	return total
}
