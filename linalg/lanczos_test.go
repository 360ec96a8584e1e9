package linalg

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// countingOp counts operator calls (to check thick restarts reuse images).
type countingOp struct {
	DenseOp
	calls int
}

func (o *countingOp) Apply(dst, x Dense) { o.calls++; o.DenseOp.Apply(dst, x) }

func TestLanczosTop(t *testing.T) {
	n := 300
	if !testing.Short() {
		n = 800
	}
	for _, c := range eigCases {
		if c.name == "zero" || c.name == "diagonal" || c.name == "repeated" || c.name == "clustered" || c.name == "glued-wilkinson" {
			// Top eigenvalues of (numerical) multiplicity above the block
			// size: a Krylov space from one start block holds only one
			// direction of each exact eigenspace per start vector, so
			// these are outside what block Lanczos promises.
			continue
		}
		for _, k := range []int{1, 6, 20} {
			t.Run(fmt.Sprintf("%s/n=%d/k=%d", c.name, n, k), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), 4))
				a := c.gen(n, rng)
				full, err := EigSym(a, false)
				if err != nil {
					t.Fatal(err)
				}
				op := &countingOp{DenseOp: DenseOp{a}}
				tol := 1e-10
				e, err := LanczosTop(op, k, LanczosOptions{Tol: tol, Seed: 1, MaxRestarts: 2000})
				if err != nil {
					t.Fatal(err)
				}
				// |theta - lambda| <= |r| and |r| <= tol*|lambda_1| for each pair.
				scale := math.Max(math.Abs(full.Values[0]), math.Abs(full.Values[n-1]))
				for i := 0; i < k; i++ {
					if d := math.Abs(e.Values[i] - full.Values[i]); d > 2*tol*scale+eigThresh*float64(n)*2*eps*scale {
						t.Errorf("value %d: %v, full solver %v", i, e.Values[i], full.Values[i])
					}
				}
				// Orthonormal vectors with small residuals.
				_, orth := residualRatios(a, e)
				if orth > eigThresh {
					t.Errorf("orthogonality ratio %.3g", orth)
				}
				av := NewDense(n, k)
				Gemm(false, false, 1, a, e.Vectors, 0, av)
				for c := 0; c < k; c++ {
					var s float64
					for r := 0; r < n; r++ {
						d := (av.At(r, c) - e.Values[c]*e.Vectors.At(r, c)) / scale
						s += d * d
					}
					if math.Sqrt(s) > 2*tol {
						t.Errorf("pair %d: residual/scale %.3g > tol %.3g", c, math.Sqrt(s), tol)
					}
				}
			})
		}
	}
}

func TestLanczosErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	n := 200
	a := eigCases[0].gen(n, rng)
	// One restart at an unreachable tolerance: an error, not a hang.
	_, err := LanczosTop(DenseOp{a}, 5, LanczosOptions{Tol: 1e-300, MaxRestarts: 1, Basis: 20, Block: 2})
	if !errors.Is(err, ErrNoConvergence) {
		t.Errorf("unreachable tolerance: err = %v, want no convergence", err)
	}
	a.Set(3, 4, math.NaN())
	a.Set(4, 3, math.NaN())
	if _, err := LanczosTop(DenseOp{a}, 5, LanczosOptions{}); err != ErrNotFinite {
		t.Errorf("NaN operator: err = %v", err)
	}
	// Small n: the basis spans the whole space and the result is exact.
	b := eigCases[0].gen(7, rng)
	e, err := LanczosTop(DenseOp{b}, 3, LanczosOptions{})
	if err != nil {
		t.Fatal(err)
	}
	full, _ := EigSym(b, false)
	if r := valueRatio(b, e.Values, full.Values[:3]); r > eigThresh {
		t.Errorf("n=7: values %v, want %v", e.Values, full.Values[:3])
	}
}
