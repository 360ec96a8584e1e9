package awd

import (
	"fmt"
	"math"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// CodePair2Acc accumulates C_pair2 as the paper's code computes it
// (AWD_cuda.cal_C_cuda: the saved key 'C' = C1 + C2 + C3, lines 199-205,
// 250; cal_C_cuda_multi.py line 63). With the per-sample Term I
// u_n = H_n dtheta_n = vec(Gamma_n W da_n a_n^T) and Term II
// v_n = vec(delta_n da_n^T) (Eq. 57) summed over each batch b of the AWD
// loader, s_b = sum_{n in b} u_n and t_b = sum_{n in b} v_n, the code has
//
//	C1 = sum_b s_b s_b^T,  C2 = sum_b s_b t_b^T,  C3 = sum_b t_b t_b^T,
//	C_code = (C1 + C2 + C3) / (B' N)
//
// where B' is the loader's batch size (64) and N the samples processed. It
// differs from this project's C_pair2 = (1/B)(1/N) sum_n (u_n + v_n)(u_n +
// v_n)^T (the paper's Eq. 58) in two ways: the products of different samples of a
// batch are kept (the code's 'C1_dia' etc. drop them), and of the two cross
// terms u v^T + v u^T only one is added. C_code is not symmetric; its
// diagonal in any orthonormal basis (all that the c_i and gamma use) is
// that of its symmetric part, which Finish returns:
//
//	(s + t/2)(s + t/2)^T + (3/4) t t^T   summed over b.
//
// Per batch, s_b and t_b are kept (2 nb d numbers), so samples may arrive in
// any order and in any shards, and accumulations of disjoint samples Merge
// exactly.
type CodePair2Acc struct {
	M, In int
	Batch []int        // Batch[pos] = batch of position pos
	S, T  linalg.Dense // nb x d: s_b, t_b over the samples added so far
	Div   int          // B', the divisor of the code
	Count int          // samples added (N of the divisor)
	Pairs int          // of which with a partner and a_n != 0
}

// NewCodePair2Acc returns an empty accumulator for an m x in layer, the
// loader's batches of the positions 0..N-1 and the divisor div (the code
// divides by its batch_size). Memory 2 nb d numbers.
func NewCodePair2Acc(m, in int, batches [][]int, div int) *CodePair2Acc {
	n := 0
	for _, b := range batches {
		n += len(b)
	}
	if div < 1 {
		panic(fmt.Sprintf("awd: NewCodePair2Acc: divisor %d", div))
	}
	a := &CodePair2Acc{M: m, In: in, Batch: make([]int, n), Div: div,
		S: linalg.NewDense(len(batches), m*in), T: linalg.NewDense(len(batches), m*in)}
	for i := range a.Batch {
		a.Batch[i] = -1
	}
	for b, idx := range batches {
		for _, p := range idx {
			if p < 0 || p >= n || a.Batch[p] >= 0 {
				panic(fmt.Sprintf("awd: NewCodePair2Acc: position %d out of 0..%d or in two batches", p, n-1))
			}
			a.Batch[p] = b
		}
	}
	return a
}

// Add adds the samples of ps at positions pos: w is the layer's weight
// (M x In) and row i of da is a_{partner} - a_n for sample i (NaN: no
// partner, contributes nothing). Cost O(N (d + L M)) flops.
func (a *CodePair2Acc) Add(ps *nn.PerSample, pos []int, w, da linalg.Dense) {
	m, n, l := a.M, a.In, ps.L
	if ps.M != m || ps.In != n || len(pos) != ps.N || da.Rows != ps.N || da.Cols != n || w.Rows != m || w.Cols != n {
		panic(fmt.Sprintf("awd: CodePair2Acc.Add: %d samples of %dx%d, %d positions, da %dx%d, W %dx%d into %dx%d",
			ps.N, ps.M, ps.In, len(pos), da.Rows, da.Cols, w.Rows, w.Cols, m, n))
	}
	v, u, work := make([]float64, m), make([]float64, m), make([]float64, 2*l)
	for s, p := range pos {
		a.Count++
		ar, dar := ps.A[s*n:(s+1)*n], da.Row(s)
		if math.IsNaN(dar[0]) || kernels.Ddot(ar, ar) == 0 {
			continue
		}
		for q := 0; q < m; q++ {
			v[q] = kernels.Ddot(w.Row(q), dar)
		}
		gammaVec(u, ps, s, v, work)
		a.addVec(p, u, ar, ps.Delta[s*m:(s+1)*m], dar)
	}
}

// addVec adds the terms of one sample with a partner at position p:
// u_n a_n^T to s_b and delta_n da_n^T to t_b. It counts a pair, not a
// sample (the caller counts those).
func (a *CodePair2Acc) addVec(p int, u, ar, delta, dar []float64) {
	if p < 0 || p >= len(a.Batch) {
		panic(fmt.Sprintf("awd: CodePair2Acc: position %d of %d", p, len(a.Batch)))
	}
	n := a.In
	a.Pairs++
	sb, tb := a.S.Row(a.Batch[p]), a.T.Row(a.Batch[p])
	for q := range u {
		if u[q] != 0 {
			kernels.Daxpy(u[q], ar, sb[q*n:(q+1)*n])
		}
		if delta[q] != 0 {
			kernels.Daxpy(delta[q], dar, tb[q*n:(q+1)*n])
		}
	}
}

// Merge adds the sums of o (the same batches, other samples) into a.
func (a *CodePair2Acc) Merge(o *CodePair2Acc) error {
	if a.M != o.M || a.In != o.In || len(a.Batch) != len(o.Batch) || a.S.Rows != o.S.Rows || a.Div != o.Div {
		return fmt.Errorf("awd: merge C_pair2 (code): %d batches of %d samples (%dx%d, divisor %d) into %d of %d (%dx%d, divisor %d)",
			o.S.Rows, len(o.Batch), o.M, o.In, o.Div, a.S.Rows, len(a.Batch), a.M, a.In, a.Div)
	}
	for p, b := range a.Batch {
		if o.Batch[p] != b {
			return fmt.Errorf("awd: merge C_pair2 (code): position %d is in batch %d here, %d there", p, b, o.Batch[p])
		}
	}
	kernels.Daxpy(1, o.S.Data, a.S.Data)
	kernels.Daxpy(1, o.T.Data, a.T.Data)
	a.Count += o.Count
	a.Pairs += o.Pairs
	return nil
}

// errNoCodePairs says why the code's C_pair2 of count samples cannot be
// measured.
func errNoCodePairs(count int) error {
	return fmt.Errorf("C_pair2 (code): %d samples, none with a partner and a nonzero layer input a_n (a layer whose inputs are all zero): no pair to measure", count)
}

// Finish returns the symmetric part of C_code (d x d, both triangles).
// Cost 2 nb d^2 flops (one SYRK).
func (a *CodePair2Acc) Finish() (linalg.Dense, error) {
	if a.Count == 0 || a.Pairs == 0 {
		return linalg.Dense{}, errNoCodePairs(a.Count)
	}
	nb, d := a.S.Rows, a.M*a.In
	r := linalg.NewDense(2*nb, d)
	h := math.Sqrt(3) / 2
	for b := 0; b < nb; b++ {
		r1, r2 := r.Row(2*b), r.Row(2*b+1)
		copy(r1, a.S.Row(b))
		kernels.Daxpy(0.5, a.T.Row(b), r1)
		kernels.Daxpy(h, a.T.Row(b), r2)
	}
	c := linalg.NewDense(d, d)
	linalg.Syrk(linalg.Upper, true, 1/float64(a.Div*a.Count), r, 0, c, true)
	return c, nil
}
