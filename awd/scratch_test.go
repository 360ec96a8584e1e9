package awd

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
)

// TestScratchGarbage: the statistics' work matrices come from the solvers'
// warm cache with arbitrary contents. With NaN- and Inf-filled buffers of
// exactly the sizes they ask for put in the emptied cache first, Project, Sandwich,
// Commutators, Correlation, a low-rank covariance's projection and the Haar
// frame return the same bits as before.
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
	g := linalg.NewDense(5, d) // a low-rank covariance's factor (C_mb's batch gradients)
	for i := range g.Data {
		g.Data[i] = rng.NormFloat64()
	}
	lr := lowRank{G: g, Alpha: 0.2, Minus: g.Row(0)}
	type out struct {
		c, corr, cf []float64
		xt, xr, fr  linalg.Dense
		cn, cp      float64
	}
	run := func() out {
		var o out
		o.c, o.xt = Project(x, u, true)
		o.xr = Sandwich(x, u)
		o.cn, o.cp = Commutators(h, x)
		o.corr = Correlation(ss, l1, u)
		o.cf = lr.project(u)
		o.fr = haarFrameInto(linalg.Scratch(d*k), d, k, 3).Clone()
		return o
	}
	want := run()
	for _, fill := range []float64{math.NaN(), math.Inf(1)} {
		linalg.DropScratch()
		for _, n := range []int{d * k, d * d, 512 * d, 512 * k, 5 * k} {
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
			!same(got.corr, want.corr) || !same(got.cf, want.cf) || !same(got.fr.Data, want.fr.Data) ||
			got.cn != want.cn || got.cp != want.cp {
			t.Errorf("fill %v: results changed with garbage in the borrowed buffers", fill)
		}
	}
}
