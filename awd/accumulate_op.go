package awd

import (
	"fmt"

	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// The matrix-free path, for layers where no d x d matrix fits (d ~ 10^6).
// For S = sum_n P_n (x) a_n a_n^T and a vector x = vec(X) (X m x n,
// row-major like theta),
//
//	S x = sum_n vec(P_n X a_n a_n^T) = vec(sum_n (P_n t_n) a_n^T),  t_n = X a_n,
//
// so a product costs O(N d) and never forms S. With A (N x n) the
// activities, a block of b vectors is two rounds of m GEMMs: T_p = A X_p
// (N x b, X_p = rows p*n..p*n+n-1 of the d x b block), u_n = P_n t_n from
// the factored P_n (O(L m b) per sample), and dst_p += A^T U_p. Cost
// 4 N d b flops plus O(N L m b).

// Quantity selects the per-sample matrix P_n of a KronOp.
type Quantity int

const (
	QuantityH  Quantity = iota // P_n = Gamma_n: the operator is N H
	QuantityM2                 // P_n = ||a_n||^2 Gamma_n^2: N M2
	QuantityC                  // P_n = delta_n delta_n^T: N B C (uncentered)
)

func (q Quantity) String() string {
	switch q {
	case QuantityH:
		return "H"
	case QuantityM2:
		return "M2"
	case QuantityC:
		return "C"
	}
	return fmt.Sprintf("Quantity(%d)", int(q))
}

// KronOp is the linalg.SymOp x -> Scale sum_n (P_n (x) a_n a_n^T) x over the
// samples of Blocks, matrix-free (see above). With Scale = 1/N it applies
// H (QuantityH) or M2 (QuantityM2); with 1/(B N), C. It is safe for one
// Apply at a time.
type KronOp struct {
	Blocks []*nn.PerSample
	Which  Quantity
	Scale  float64

	t, u, w []float64 // scratch
}

// NewKronOp checks that the blocks share one layer shape.
func NewKronOp(which Quantity, scale float64, blocks ...*nn.PerSample) (*KronOp, error) {
	if len(blocks) == 0 {
		return nil, fmt.Errorf("awd: KronOp: no samples")
	}
	for i, b := range blocks[1:] {
		if b.M != blocks[0].M || b.In != blocks[0].In || b.L != blocks[0].L {
			return nil, fmt.Errorf("awd: KronOp: block %d is %dx%d (L=%d), block 0 %dx%d (L=%d)", i+1, b.M, b.In, b.L, blocks[0].M, blocks[0].In, blocks[0].L)
		}
	}
	if which < QuantityH || which > QuantityC {
		return nil, fmt.Errorf("awd: KronOp: unknown quantity %d", int(which))
	}
	return &KronOp{Blocks: blocks, Which: which, Scale: scale}, nil
}

// Dim returns d = M*In.
func (o *KronOp) Dim() int { return o.Blocks[0].M * o.Blocks[0].In }

// Apply sets dst = Scale sum_n (P_n (x) a_n a_n^T) x for the d x b blocks
// dst and x. Cost 4 N d b flops plus O(N L m b).
func (o *KronOp) Apply(dst, x linalg.Dense) {
	m, n, l := o.Blocks[0].M, o.Blocks[0].In, o.Blocks[0].L
	d, b := m*n, x.Cols
	if x.Rows != d || dst.Rows != d || dst.Cols != b {
		panic(fmt.Sprintf("awd: KronOp.Apply: x %dx%d, dst %dx%d, d=%d", x.Rows, x.Cols, dst.Rows, dst.Cols, d))
	}
	for i := 0; i < d; i++ {
		clear(dst.Row(i))
	}
	for _, ps := range o.Blocks {
		for s0 := 0; s0 < ps.N; s0 += DefaultChunk {
			c := min(DefaultChunk, ps.N-s0)
			o.applyChunk(dst, x, ps, s0, c, m, n, l, b)
		}
	}
}

func (o *KronOp) applyChunk(dst, x linalg.Dense, ps *nn.PerSample, s0, c, m, n, l, b int) {
	if len(o.t) < c*m*b {
		o.t = make([]float64, c*m*b)
		o.u = make([]float64, c*m*b)
	}
	if len(o.w) < 2*l*b {
		o.w = make([]float64, 2*l*b)
	}
	a := linalg.DenseOf(c, n, ps.A[s0*n:(s0+c)*n])
	t := linalg.DenseOf(c, m*b, o.t) // row s: t_s as m x b
	u := linalg.DenseOf(c, m*b, o.u)
	for p := 0; p < m; p++ {
		linalg.Gemm(false, false, 1, a, x.View(p*n, 0, n, b), 0, t.View(0, p*b, c, b))
	}
	for r := 0; r < c; r++ {
		s := s0 + r
		ts, us := t.Row(r), u.Row(r)
		switch o.Which {
		case QuantityC:
			delta := ps.Delta[s*m : (s+1)*m]
			clear(us)
			for col := 0; col < b; col++ {
				var dt float64
				for p, dp := range delta {
					dt += dp * ts[p*b+col]
				}
				for p, dp := range delta {
					us[p*b+col] = dp * dt
				}
			}
		case QuantityH:
			gammaApply(us, ts, ps, s, b, 1, o.w)
		case QuantityM2:
			ar := ps.A[s*n : (s+1)*n]
			var na2 float64
			for _, v := range ar {
				na2 += v * v
			}
			gammaApply(us, ts, ps, s, b, 1, o.w)
			copy(ts, us) // t is free after this sample
			gammaApply(us, ts, ps, s, b, na2, o.w)
		}
	}
	for p := 0; p < m; p++ {
		linalg.Gemm(true, false, o.Scale, a, u.View(0, p*b, c, b), 1, dst.View(p*n, 0, n, b))
	}
}

// gammaApply sets u = alpha Gamma_s t for the m x b row-major blocks u and t,
// from the factors: J^T (Lambda (J t)). work has length >= 2 L b.
func gammaApply(u, t []float64, ps *nn.PerSample, s, b int, alpha float64, work []float64) {
	m, l := ps.M, ps.L
	j := ps.J[s*l*m : (s+1)*l*m]
	lam := ps.Lambda[s*l*l : (s+1)*l*l]
	jt, ljt := work[:l*b], work[l*b:2*l*b]
	clear(jt)
	for k := 0; k < l; k++ {
		row := jt[k*b : (k+1)*b]
		for p, jkp := range j[k*m : (k+1)*m] {
			if jkp == 0 {
				continue
			}
			for col, v := range t[p*b : (p+1)*b] {
				row[col] += jkp * v
			}
		}
	}
	clear(ljt)
	for k := 0; k < l; k++ {
		row := ljt[k*b : (k+1)*b]
		for q := 0; q < l; q++ {
			v := alpha * lam[k*l+q]
			for col, x := range jt[q*b : (q+1)*b] {
				row[col] += v * x
			}
		}
	}
	clear(u[:m*b])
	for k := 0; k < l; k++ {
		row := ljt[k*b : (k+1)*b]
		for p, jkp := range j[k*m : (k+1)*m] {
			if jkp == 0 {
				continue
			}
			up := u[p*b : (p+1)*b]
			for col, v := range row {
				up[col] += jkp * v
			}
		}
	}
}
