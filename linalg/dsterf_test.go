package linalg

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
)

// TestDsterf checks the Pal-Walker-Kahan QL/QR against two independent
// solvers of the same tridiagonal: gonum's Dsterf and (at scale 1) the
// rotation-based QL of dsteqr without vectors, on random, graded, split,
// constant, Wilkinson and glued matrices, at scales from 2^-1000 to 2^1000
// (where the squares of the entries would underflow or overflow without
// the block scaling), and against closed forms: the 1-2-1 matrix
// (eigenvalues 2 - 2 cos(k pi / (n+1))) and diagonal matrices. Every
// eigenvalue must agree within 8 n eps times the matrix's largest entry.
func TestDsterf(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	type tri struct {
		name string
		d, e []float64
	}
	var cases []tri
	for _, n := range []int{2, 3, 4, 5, 17, 64, 300} {
		d, e := make([]float64, n), make([]float64, n-1)
		for i := range d {
			d[i] = rng.NormFloat64()
		}
		for i := range e {
			e[i] = rng.NormFloat64()
		}
		cases = append(cases, tri{fmt.Sprintf("random n=%d", n), d, e})
		// Graded: entries spanning 60 orders of magnitude.
		gd, ge := make([]float64, n), make([]float64, n-1)
		for i := range gd {
			gd[i] = math.Pow(10, -60*float64(i)/float64(n)) * (1 + rng.Float64())
		}
		for i := range ge {
			ge[i] = math.Pow(10, -60*(float64(i)+0.5)/float64(n)) * rng.NormFloat64()
		}
		cases = append(cases, tri{fmt.Sprintf("graded n=%d", n), gd, ge})
		rd, re := slices.Clone(gd), slices.Clone(ge)
		slices.Reverse(rd)
		slices.Reverse(re)
		cases = append(cases, tri{fmt.Sprintf("graded upwards n=%d", n), rd, re})
		// Split: every third off-diagonal entry zero.
		sd, se := slices.Clone(d), slices.Clone(e)
		for i := 0; i < len(se); i += 3 {
			se[i] = 0
		}
		cases = append(cases, tri{fmt.Sprintf("split n=%d", n), sd, se})
		cd, ce := make([]float64, n), make([]float64, n-1)
		for i := range cd {
			cd[i] = 2
		}
		for i := range ce {
			ce[i] = 1
		}
		cases = append(cases, tri{fmt.Sprintf("constant n=%d", n), cd, ce})
	}
	// Wilkinson's W21+ (pairs of nearly equal eigenvalues) and two copies
	// of it glued by a tiny entry (clusters of close eigenvalues).
	w, we := make([]float64, 21), make([]float64, 20)
	for i := range w {
		w[i] = math.Abs(float64(i - 10))
	}
	for i := range we {
		we[i] = 1
	}
	cases = append(cases, tri{"W21+", w, we})
	gd := append(slices.Clone(w), w...)
	ge := append(append(slices.Clone(we), 1e-12), we...)
	cases = append(cases, tri{"W21+ glued", gd, ge})
	cases = append(cases, tri{"zero", make([]float64, 7), make([]float64, 6)})

	var impl lapackgonum.Implementation
	for _, c := range cases {
		for _, scale := range []int{0, -1000, -600, 600, 1000} {
			n := len(c.d)
			d, e := make([]float64, n), make([]float64, n-1)
			amax := 0.0
			for i, v := range c.d {
				d[i] = math.Ldexp(v, scale)
				amax = math.Max(amax, math.Abs(d[i]))
			}
			for i, v := range c.e {
				e[i] = math.Ldexp(v, scale)
				amax = math.Max(amax, math.Abs(e[i]))
			}
			got := slices.Clone(d)
			if err := dsterf(got, slices.Clone(e)); err != nil {
				t.Fatalf("%s, scale 2^%d: %v", c.name, scale, err)
			}
			if !slices.IsSorted(got) {
				t.Fatalf("%s, scale 2^%d: not ascending: %v", c.name, scale, got)
			}
			tol := 8 * float64(n) * eps * amax
			// The rotation-based QL (at scale 1; see below).
			ql := slices.Clone(d)
			if scale == 0 {
				if err := dsteqr(ql, slices.Clone(e), Dense{}); err != nil {
					t.Fatalf("%s: dsteqr: %v", c.name, err)
				}
			}
			// gonum's Dsterf, on entries brought near 1 by an exact power
			// of two (its own rescaling fails at the extreme scales).
			gd, ge := slices.Clone(c.d), slices.Clone(c.e)
			if !impl.Dsterf(n, gd, ge) {
				t.Fatalf("%s: gonum Dsterf failed", c.name)
			}
			for i := range got {
				g := math.Ldexp(gd[i], scale)
				// dsteqr does not scale its blocks (its callers scale the
				// matrix first): from 2^-600 and 2^600 on, products of two
				// off-diagonal entries in its sweep underflow or overflow, so
				// it is the reference at scale 1 only.
				qlBad := scale == 0 && math.Abs(got[i]-ql[i]) > tol
				if qlBad || math.Abs(got[i]-g) > tol || math.IsNaN(got[i]) {
					t.Fatalf("%s, scale 2^%d: eigenvalue %d = %v, dsteqr %v, gonum %v (tol %v)", c.name, scale, i, got[i], ql[i], g, tol)
				}
			}
		}
	}

	// Closed forms: the 1-2-1 matrix and a diagonal one.
	for _, n := range []int{1, 2, 10, 250} {
		d, e := make([]float64, n), make([]float64, max(n-1, 0))
		for i := range d {
			d[i] = 2
		}
		for i := range e {
			e[i] = -1
		}
		if err := dsterf(d, e); err != nil {
			t.Fatal(err)
		}
		for k := 1; k <= n; k++ {
			want := 2 - 2*math.Cos(float64(k)*math.Pi/float64(n+1))
			if math.Abs(d[k-1]-want) > 16*float64(n)*eps {
				t.Fatalf("1-2-1 n=%d: eigenvalue %d = %v, want %v", n, k, d[k-1], want)
			}
		}
	}
	diag := []float64{3, -1, 7, 0, -5, 2}
	got := slices.Clone(diag)
	if err := dsterf(got, make([]float64, len(diag)-1)); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(diag)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("diagonal: %v, want %v", got, want)
	}
}

// TestDsterfNotFinite: NaN or Inf in the matrix is ErrNotFinite, not a
// hang or a silent answer.
func TestDsterfNotFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		d, e := []float64{1, 2, 3, 4}, []float64{1, bad, 1}
		if err := dsterf(d, e); !errors.Is(err, ErrNotFinite) {
			t.Errorf("e with %v: err %v", bad, err)
		}
		d, e = []float64{1, bad, 3, 4}, []float64{1, 1, 1}
		if err := dsterf(d, e); !errors.Is(err, ErrNotFinite) {
			t.Errorf("d with %v: err %v", bad, err)
		}
	}
}
