package linalg

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// countingOp counts the vectors the operator is applied to.
type countingOp struct {
	DenseOp
	vectors int
}

func (o *countingOp) Apply(dst, x Dense) { o.vectors += x.Cols; o.DenseOp.Apply(dst, x) }

// TestLanczosTop checks LanczosTop on every family of the eigensolver tests,
// including exactly repeated, clustered, zero and diagonal spectra, whose
// top eigenvalues have multiplicities far above the block size: the values
// equal the full solver's to the residual bound, the vectors are orthonormal
// and every residual is below the tolerance.
func TestLanczosTop(t *testing.T) {
	n, ks := 200, []int{1, 20}
	if !testing.Short() {
		n, ks = 800, []int{1, 6, 20}
	}
	for _, c := range eigCases {
		for _, k := range ks {
			for _, b := range []int{0, 3} {
				t.Run(fmt.Sprintf("%s/n=%d/k=%d/b=%d", c.name, n, k, b), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(n), 4))
					a := c.gen(n, rng)
					op := &countingOp{DenseOp: DenseOp{a}}
					tol := 1e-10
					e, err := LanczosTop(op, k, LanczosOptions{Tol: tol, Seed: 1, Block: b})
					if err != nil {
						t.Fatal(err)
					}
					checkTop(t, a, e, k, tol)
				})
			}
		}
	}
}

// checkTop compares e, the top k of a from LanczosTop at tolerance tol, with
// the full solver: |theta_i - lambda_i| <= |r_i| <= tol max|lambda| (plus
// the full solver's own error), orthonormal vectors, true residuals below
// the tolerance.
func checkTop(t *testing.T, a Dense, e Eigen, k int, tol float64) {
	t.Helper()
	n := a.Rows
	full, err := EigSym(a, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Values) != k || e.Vectors.Rows != n || e.Vectors.Cols != k {
		t.Fatalf("got %d values, vectors %dx%d, want %d and %dx%d", len(e.Values), e.Vectors.Rows, e.Vectors.Cols, k, n, k)
	}
	scale := math.Max(math.Abs(full.Values[0]), math.Abs(full.Values[n-1]))
	for i := 0; i < k; i++ {
		if d := math.Abs(e.Values[i] - full.Values[i]); d > 2*tol*scale+eigThresh*float64(n)*2*eps*scale {
			t.Errorf("value %d: %v, full solver %v", i, e.Values[i], full.Values[i])
		}
	}
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
}

// TestLanczosRepeatedTop puts the top eigenvalue at multiplicity 7, 13 and
// 40 above a decaying spectrum and asks for more pairs than that with blocks
// of 1, 2 and 4: a Krylov space from a b-vector block holds only b
// directions of an eigenspace, so the missing copies must come from the
// deflated check.
func TestLanczosRepeatedTop(t *testing.T) {
	n := 400
	cases := [][2]int{}
	for _, mult := range []int{7, 13, 40} {
		for _, b := range []int{1, 2, 4} {
			cases = append(cases, [2]int{mult, b})
		}
	}
	if testing.Short() {
		n, cases = 300, [][2]int{{7, 4}, {13, 1}, {40, 2}} // the last two need the check
	}
	for _, c := range cases {
		mult, b := c[0], c[1]
		t.Run(fmt.Sprintf("mult=%d/b=%d", mult, b), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(mult), uint64(b)))
			lam := make([]float64, n)
			for i := range lam {
				lam[i] = math.Pow(float64(i+1), -1.2)
				if i < mult {
					lam[i] = 2
				}
			}
			// a second plateau just below the wanted pairs
			for i := mult + 3; i < mult+9; i++ {
				lam[i] = 0.5
			}
			a := withSpectrum(lam, rng)
			k := mult + 6
			e, err := LanczosTop(DenseOp{a}, k, LanczosOptions{Tol: 1e-10, Block: b, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			checkTop(t, a, e, k, 1e-10)
		})
	}
}

// TestLanczosWork: a caller's buffer holds the basis and the vectors.
func TestLanczosWork(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	a := eigCases[0].gen(200, rng)
	const k, b, m = 10, 3, 30
	work := make([]float64, 200*(m+b))
	e, err := LanczosTop(DenseOp{a}, k, LanczosOptions{Block: b, Basis: m, Work: work, Tol: 1e-10})
	if err != nil {
		t.Fatal(err)
	}
	if &e.Vectors.Data[0] != &work[0] || e.Vectors.Stride != k {
		t.Error("the vectors are not the start of the work buffer")
	}
	checkTop(t, a, e, k, 1e-10)
}

// TestLanczosProgress checks the progress reports (converged counts never
// decrease and end at k) and that an error from the callback stops the
// solver and is returned.
func TestLanczosProgress(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	a := eigCases[0].gen(300, rng)
	var last LanczosStatus
	calls := 0
	_, err := LanczosTop(DenseOp{a}, 12, LanczosOptions{Block: 3, Progress: func(s LanczosStatus) error {
		if s.Converged < last.Converged || s.Applied < last.Applied || s.Wanted != 12 {
			t.Errorf("status %+v after %+v", s, last)
		}
		last = s
		calls++
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if last.Converged != 12 || calls < 2 {
		t.Errorf("last status %+v after %d calls", last, calls)
	}
	stop := errors.New("stop")
	_, err = LanczosTop(DenseOp{a}, 12, LanczosOptions{Block: 3, Progress: func(s LanczosStatus) error {
		if s.Applied >= 30 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want the callback's", err)
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
	// Negative options were taken as the defaults, which only zero means;
	// no operator crashed.
	for _, opt := range []LanczosOptions{{Tol: -1}, {Tol: math.NaN()}, {Block: -2}, {Basis: -1}, {MaxRestarts: -3}} {
		if _, err := LanczosTop(DenseOp{b}, 3, opt); err == nil || !strings.Contains(err.Error(), "want each >= 0") {
			t.Errorf("%+v: %v", opt, err)
		}
	}
	if _, err := LanczosTop(nil, 3, LanczosOptions{}); err == nil || !strings.Contains(err.Error(), "no operator") {
		t.Errorf("nil operator: %v", err)
	}
}
