package awd

import (
	"math"

	"github.com/awd-toolkit/awd/linalg"
)

// Correlation returns, for each column u_i of U (d x k), the Pearson
// correlation across samples of lambda1[n] (lambda_1(H_n), or a modified
// value) and (v_1^n . u_i)^2, where v_1^n = gamma_1^n (x) a_n/|a_n| is H_n's
// top eigenvector (paper 5.3, the eigenvalue-alignment correlation). With
// U_i = u_i reshaped m x n, v_1^n . u_i = gamma_1^T U_i a_n / |a_n|; the
// samples go through in chunks as one GEMM V U, cost 2 N d k flops. Samples
// with a_n = 0 are skipped; a correlation with zero variance is NaN.
func Correlation(ss *SampleSpectra, lambda1 []float64, u linalg.Dense) []float64 {
	m, in, nv := ss.M, ss.In, ss.Kept()
	d, k := u.Rows, u.Cols
	if d != m*in || len(lambda1) != ss.N {
		panic("awd: Correlation: shapes do not match the sample spectra")
	}
	const chunk = 512
	// Rows of v are written whole before the product reads them, and proj
	// is the product's output: borrowed buffers do.
	v := linalg.DenseOf(chunk, d, linalg.Scratch(chunk*d))
	defer linalg.Recycle(v.Data)
	proj := linalg.DenseOf(chunk, k, linalg.Scratch(chunk*k))
	defer linalg.Recycle(proj.Data)
	// x is centred on its mean first so that the one-pass sums below do not
	// cancel when lambda_1 varies little around a large value.
	var xbar float64
	for _, x := range lambda1 {
		xbar += x / float64(len(lambda1))
	}
	var sx, sxx float64
	sy, syy, sxy := make([]float64, k), make([]float64, k), make([]float64, k)
	cnt := 0
	idx := make([]int, 0, chunk)
	for s0 := 0; s0 < ss.N; s0 += chunk {
		idx = idx[:0]
		for s := s0; s < min(s0+chunk, ss.N); s++ {
			if ss.Norm2[s] > 0 {
				idx = append(idx, s)
			}
		}
		c := len(idx)
		if c == 0 {
			continue
		}
		parallelRows(c, func(_, t0, t1 int) {
			for t := t0; t < t1; t++ {
				s := idx[t]
				g := ss.G[(s*nv)*m : (s*nv+1)*m]
				a := ss.A[s*in : (s+1)*in]
				inv := 1 / math.Sqrt(ss.Norm2[s])
				row := v.Row(t)
				for p, gp := range g {
					dst := row[p*in : (p+1)*in]
					for i, ai := range a {
						dst[i] = gp * ai * inv
					}
				}
			}
		})
		vc, pc := v.View(0, 0, c, d), proj.View(0, 0, c, k)
		linalg.Gemm(false, false, 1, vc, u, 0, pc)
		for t, s := range idx {
			x := lambda1[s] - xbar
			sx += x
			sxx += x * x
			for i, p := range pc.Row(t) {
				y := p * p
				sy[i] += y
				syy[i] += y * y
				sxy[i] += x * y
			}
		}
		cnt += c
	}
	out := make([]float64, k)
	n := float64(cnt)
	vx := sxx - sx*sx/n
	for i := range out {
		vy := syy[i] - sy[i]*sy[i]/n
		if vx <= 0 || vy <= 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = (sxy[i] - sx*sy[i]/n) / math.Sqrt(vx*vy)
	}
	return out
}
