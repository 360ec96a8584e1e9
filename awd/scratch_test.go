package awd

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
	"gonum.org/v1/gonum/mat"
)

// TestCommutatorsBlocked checks the blocked sums of Commutators against
// gonum's products at orders that leave a partial block (64-row blocks).
func TestCommutatorsBlocked(t *testing.T) {
	for _, d := range []int{63, 64, 65, 150} {
		h, c := wishart(d, d/2, 3), wishart(d, d+5, 4)
		hm, cm := h.Mat(), c.Mat()
		var hc, ch, diff mat.Dense
		hc.Mul(hm, cm)
		ch.Mul(cm, hm)
		diff.Sub(&hc, &ch)
		wantN := mat.Norm(&diff, 2) / (mat.Norm(hm, 2) * mat.Norm(cm, 2))
		wantP := mat.Norm(&diff, 2) / mat.Norm(&ch, 2)
		gn, gp := Commutators(h, c)
		if math.Abs(gn-wantN) > 64*float64(d)*eps*wantN || math.Abs(gp-wantP) > 64*float64(d)*eps*wantP {
			t.Errorf("d=%d: Commutators %v %v, gonum %v %v", d, gn, gp, wantN, wantP)
		}
	}
}

// TestScratchGarbage: the statistics' work matrices come from the solvers'
// warm cache with arbitrary contents. With NaN- and Inf-filled buffers of
// exactly the sizes they ask for put in the emptied cache first, Project, Sandwich,
// Commutators and Correlation return the same bits as before.
func TestScratchGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	m, in, L, N := 4, 6, 3, 600
	d, k := m*in, 7
	x, h := wishart(d, 40, 5), wishart(d, 30, 6)
	u := HaarFrame(d, k, 9)
	ss := NewSampleSpectra(m, in, L)
	ss.Append(synthPerSample(rng, "ce", N, m, in, L, false))
	l1 := make([]float64, N)
	for s := range l1 {
		l1[s] = ss.Lambda1(s)
	}
	type out struct {
		c, corr []float64
		xt, xr  linalg.Dense
		cn, cp  float64
	}
	run := func() out {
		var o out
		o.c, o.xt = Project(x, u, true)
		o.xr = Sandwich(x, u)
		o.cn, o.cp = Commutators(h, x)
		o.corr = Correlation(ss, l1, u)
		return o
	}
	want := run()
	for _, fill := range []float64{math.NaN(), math.Inf(1)} {
		linalg.DropScratch()
		for _, n := range []int{d * k, d * d, 512 * d, 512 * k} {
			b := make([]float64, n)
			for i := range b {
				b[i] = fill
			}
			linalg.Recycle(b)
		}
		got := run()
		same := func(a, b []float64) bool {
			if len(a) != len(b) {
				return false
			}
			for i := range a {
				if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
					return false
				}
			}
			return true
		}
		if !same(got.c, want.c) || !same(got.xt.Data, want.xt.Data) || !same(got.xr.Data, want.xr.Data) ||
			!same(got.corr, want.corr) || got.cn != want.cn || got.cp != want.cp {
			t.Errorf("fill %v: results changed with garbage in the borrowed buffers", fill)
		}
	}
}
