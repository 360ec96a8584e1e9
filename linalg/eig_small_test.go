package linalg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestEigSymSmall checks the small dense solver on every test family at the
// orders of its three workspace tiers and past them (65 allocates), and at
// the per-sample orders of the analysis (r <= L = 10 logits): residual and
// orthogonality by LAPACK's test ratio, the values against gonum's Dsyev.
func TestEigSymSmall(t *testing.T) {
	for _, c := range eigCases {
		for _, n := range []int{1, 2, 3, 5, 8, 10, 17, 64, 65} {
			t.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), 3))
				a := c.gen(n, rng)
				orig := a.Clone()
				want := gonumValues(a)
				w := make([]float64, n)
				v := make([]float64, n*n)
				if err := EigSymSmall(n, a.Data, w, v); err != nil {
					t.Fatal(err)
				}
				for i := range a.Data {
					if a.Data[i] != orig.Data[i] {
						t.Fatal("input modified")
					}
				}
				e := Eigen{Values: w, Vectors: DenseOf(n, n, v)}
				res, orth := residualRatios(a, e)
				if res > eigThresh || orth > eigThresh {
					t.Errorf("residual ratio %.3g, orthogonality %.3g", res, orth)
				}
				if r := valueRatio(a, w, want); r > eigThresh {
					t.Errorf("values vs gonum: ratio %.3g", r)
				}
				w2 := make([]float64, n)
				if err := EigSymSmall(n, a.Data, w2, nil); err != nil {
					t.Fatal(err)
				}
				if r := valueRatio(a, w2, want); r > eigThresh {
					t.Errorf("values-only vs gonum: ratio %.3g", r)
				}
			})
		}
	}
	a := []float64{1, math.NaN(), math.NaN(), 1}
	if err := EigSymSmall(2, a, make([]float64, 2), make([]float64, 4)); err != ErrNotFinite {
		t.Errorf("NaN input: err = %v", err)
	}
}
