package linalg

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// bandDense expands the band matrix to a dense symmetric one, failing if
// an entry more than b below the diagonal is not zero.
func bandDense(t *testing.T, s band) Dense {
	t.Helper()
	a := NewDense(s.n, s.n)
	for c := 0; c < s.n; c++ {
		for k := 0; k < s.ld && c+k < s.n; k++ {
			x := s.ab[c*s.ld+k]
			if k > s.b && x != 0 {
				t.Fatalf("A(%d,%d) = %g, more than %d below the diagonal", c+k, c, x, s.b)
			}
			a.Set(c+k, c, x)
			a.Set(c, c+k, x)
		}
	}
	return a
}

// The bulge chasing with small bandwidths, so that small orders run many
// sweeps and block steps (including short last ones): the tridiagonal
// matrix keeps the band matrix's eigenvalues (gonum's Dsyev the reference),
// and is the same whether one goroutine or three chase the bulges.
func TestDsb2st(t *testing.T) {
	for _, b := range []int{1, 2, 3, 4, 7, 16} {
		for _, n := range []int{1, 2, 3, b + 1, b + 2, 2*b + 1, 2*b + 3, 3*b + 2, 41, 100} {
			for _, c := range eigCases {
				t.Run(fmt.Sprintf("%s/b=%d/n=%d", c.name, b, n), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(n), uint64(b)))
					a := c.gen(n, rng)
					s := newBand(n, b)
					for col := 0; col < n; col++ {
						for k := 0; k <= b && col+k < n; k++ {
							s.ab[col*s.ld+k] = a.At(col+k, col)
						}
					}
					ab := bandDense(t, s)
					want := gonumValues(ab)
					s1 := band{n: s.n, b: s.b, ld: s.ld, ab: append([]float64(nil), s.ab...)}
					prev := SetThreads(1)
					d1, e1 := dsb2st(s1)
					SetThreads(3)
					d, e := dsb2st(s)
					SetThreads(prev)
					if r := valueRatio(ab, gonumValues(tridiagDense(d, e)), want); r > eigThresh {
						t.Errorf("tridiagonal's eigenvalues vs the band's: ratio %.3g", r)
					}
					for k := range d {
						if d[k] != d1[k] || (k < len(e) && e[k] != e1[k]) {
							t.Fatalf("three goroutines' T differs from one's at %d", k)
						}
					}
				})
			}
		}
	}
}

// The reduction to band form, at orders around its block of rows and with
// teams of one to three: the band keeps A's eigenvalues.
func TestDsy2sb(t *testing.T) {
	sizes := []int{1, 2, 64, 65, 66, 127, 129, 130, 200, 389}
	teams := []int{1, 2, 3}
	if testing.Short() {
		sizes = []int{1, 66, 129, 200}
		teams = []int{1, 3}
	}
	for _, threads := range teams {
		for _, n := range sizes {
			for _, c := range eigCases {
				t.Run(fmt.Sprintf("%s/n=%d/threads=%d", c.name, n, threads), func(t *testing.T) {
					defer SetThreads(SetThreads(threads))
					rng := rand.New(rand.NewPCG(uint64(n), 7))
					a := c.gen(n, rng)
					want := gonumValues(a)
					pk := make([]float64, pkSize(n))
					packLowerT(a, pk)
					ab := bandDense(t, dsy2sb(pk, n))
					if r := valueRatio(a, gonumValues(ab), want); r > eigThresh {
						t.Errorf("band's eigenvalues vs A's: ratio %.3g", r)
					}
				})
			}
		}
	}
}

// The eigenvalue drivers without vectors on the two-stage path (taken from
// order twoStageMin, lowered here): all values, the top k and an interval
// agree with gonum's Dsyev on every test family, scaled ones included.
func TestEigSymTwoStage(t *testing.T) {
	defer func(m int) { twoStageMin = m }(twoStageMin)
	twoStageMin = 257
	sizes := []int{257, 389}
	if testing.Short() {
		sizes = sizes[:1]
	}
	for _, c := range eigCases {
		for _, n := range sizes {
			t.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), 3))
				a := c.gen(n, rng)
				orig := a.Clone()
				want := gonumValues(a)
				e, err := EigSym(a, false)
				if err != nil {
					t.Fatal(err)
				}
				for i := range a.Data {
					if a.Data[i] != orig.Data[i] {
						t.Fatal("input modified")
					}
				}
				if r := valueRatio(a, e.Values, want); r > eigThresh {
					t.Errorf("EigSym values vs gonum Dsyev: ratio %.3g", r)
				}
				k := n / 10
				top, err := EigSymTop(a, k, false)
				if err != nil {
					t.Fatal(err)
				}
				if r := valueRatio(a, top.Values, want[:k]); r > eigThresh {
					t.Errorf("EigSymTop(%d) values vs gonum Dsyev: ratio %.3g", k, r)
				}
				// An interval whose ends lie midway in gaps between values
				// 0 and 1 and between k and k+1, when those gaps are wide
				// against the values' error: it holds values 1..k.
				tol := 100 * float64(n) * eps * norm1(a)
				if want[0]-want[1] > tol && want[k]-want[k+1] > tol {
					in, err := EigSymInterval(a, (want[k]+want[k+1])/2, (want[0]+want[1])/2, false)
					if err != nil {
						t.Fatal(err)
					}
					if len(in.Values) != k {
						t.Fatalf("EigSymInterval found %d values, want %d", len(in.Values), k)
					}
					if r := valueRatio(a, in.Values, want[1:k+1]); r > eigThresh {
						t.Errorf("EigSymInterval values vs gonum Dsyev: ratio %.3g", r)
					}
				}
			})
		}
	}
}
