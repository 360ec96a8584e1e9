package awd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// TestKronOpMatchesDense applies the matrix-free operators to random blocks
// of vectors and compares with the dense matrices accumulated by State
// (themselves checked against brute force), for samples split over two
// PerSample blocks and a chunk border.
func TestKronOpMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const m, in, l, batch = 4, 5, 6, 3
	n0, n1 := DefaultChunk+5, 9
	for _, loss := range []string{"ce", "mse"} {
		ps := randomPerSample(rng, n0+n1, m, in, l, loss)
		st := NewState(m, in, StateOptions{})
		st.Add(ps)
		mats, err := st.Finish(batch, false)
		if err != nil {
			t.Fatal(err)
		}
		blocks := [2]*nn.PerSample{subSamples(ps, 0, n0), subSamples(ps, n0, n0+n1)}
		fn := float64(n0 + n1)
		for _, tc := range []struct {
			q     Quantity
			scale float64
			want  linalg.Dense
		}{
			{QuantityH, 1 / fn, mats.H},
			{QuantityM2, 1 / fn, mats.M2},
			{QuantityC, 1 / (batch * fn), mats.C},
		} {
			for _, b := range []int{1, 3} {
				t.Run(fmt.Sprintf("%s/%v/b=%d", loss, tc.q, b), func(t *testing.T) {
					op, err := NewKronOp(tc.q, tc.scale, blocks[0], blocks[1])
					if err != nil {
						t.Fatal(err)
					}
					d := op.Dim()
					x := linalg.NewDense(d, b)
					for i := range x.Data {
						x.Data[i] = rng.NormFloat64()
					}
					got := linalg.NewDense(d, b)
					for i := range got.Data {
						got.Data[i] = math.NaN() // Apply overwrites
					}
					op.Apply(got, x)
					want := linalg.NewDense(d, b)
					linalg.Gemm(false, false, 1, tc.want, x, 0, want)
					if e := relErr(got, want.Mat()); e > kronTol {
						t.Errorf("relative error %.3g", e)
					}
				})
			}
		}
	}
	if _, err := NewKronOp(QuantityH, 1); err == nil {
		t.Error("an operator without samples was accepted")
	}
}

var _ linalg.SymOp = (*KronOp)(nil)

// TestKronOpLanczos runs the matrix-free top-k eigensolver on the operator
// of H: its eigenvalues are those of the dense H to the solver's residual
// tolerance (|A u - theta u| <= tol |theta_1| bounds the eigenvalue error).
func TestKronOpLanczos(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	const n, m, in, l, k = 200, 6, 7, 10, 4
	ps := randomPerSample(rng, n, m, in, l, "ce")
	st := NewState(m, in, StateOptions{})
	st.Add(ps)
	mats, err := st.Finish(1, false)
	if err != nil {
		t.Fatal(err)
	}
	want, err := linalg.EigSymTop(mats.H, k, false)
	if err != nil {
		t.Fatal(err)
	}
	op, err := NewKronOp(QuantityH, 1.0/n, ps)
	if err != nil {
		t.Fatal(err)
	}
	const tol = 1e-10
	got, err := linalg.LanczosTop(op, k, linalg.LanczosOptions{Tol: tol, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Values {
		if e := math.Abs(got.Values[i] - want.Values[i]); e > 10*tol*want.Values[0] {
			t.Errorf("eigenvalue %d: Lanczos %v, dense %v", i, got.Values[i], want.Values[i])
		}
	}
}
