package awd

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
)

// bootFixture accumulates n random per-sample blocks (ce) of an m x in
// layer into a State and into G bootstrap groups, in two shards.
func bootFixture(t *testing.T, n, m, in, G int) (*State, *BootGroups) {
	rng := rand.New(rand.NewPCG(21, 22))
	ps := randomPerSample(rng, n, m, in, 6, "ce")
	st := NewState(m, in, StateOptions{})
	st.Add(ps)
	b := NewBootGroups(m, in, n, G, 5)
	other := NewBootGroups(m, in, n, G, 5)
	half := n / 2
	b.Add(subSamples(ps, 0, half), seq(0, half))
	other.Add(subSamples(ps, half, n), seq(half, n-half))
	if err := b.Merge(other); err != nil {
		t.Fatal(err)
	}
	return st, b
}

// exactReplicate builds the replicate's d x d H, C and M2 from the groups'
// sums with multiplicities w and returns its exact top-k analysis.
func exactReplicate(t *testing.T, b *BootGroups, w []int, k, batch int) (lambda, c, s []float64) {
	d := b.States[0].D()
	h, cm, m2 := linalg.NewDense(d, d), linalg.NewDense(d, d), linalg.NewDense(d, d)
	buf := linalg.NewDense(d, d)
	var n float64
	for g, st := range b.States {
		f := float64(w[g])
		n += f * float64(st.Count)
		for blk, dst := range []linalg.Dense{cm, h, m2} {
			st.kron.set(buf, blk, 1)
			for i := range buf.Data {
				dst.Data[i] += f * buf.Data[i]
			}
		}
	}
	scale(h, 1/n)
	scale(m2, 1/n)
	scale(cm, 1/(float64(batch)*n))
	e, err := linalg.EigSymTop(h, k, true)
	if err != nil {
		t.Fatal(err)
	}
	c, _ = Project(cm, e.Vectors, false)
	s, _ = Project(m2, e.Vectors, false)
	return e.Values, c, s
}

func TestBootstrapProjectedMatchesExact(t *testing.T) {
	const n, m, in, G, k, batch = 900, 8, 12, 10, 20, 5
	st, b := bootFixture(t, n, m, in, G)
	d := m * in
	full, err := st.Finish(batch, false)
	if err != nil {
		t.Fatal(err)
	}
	kp := bootBasis(k, d)
	e, err := linalg.EigSymTop(full.H, kp, true)
	if err != nil {
		t.Fatal(err)
	}
	groups := b.project(e.Vectors)
	// All multiplicities 1: the full analysis, exactly (U' holds H's top k
	// eigenvectors, so the Ritz pairs are eigenpairs).
	ones := make([]int, G)
	for i := range ones {
		ones[i] = 1
	}
	lam, c, s, err := bootReplicate(groups, ones, k, batch, false)
	if err != nil {
		t.Fatal(err)
	}
	cFull, _ := Project(full.C, e.Vectors.View(0, 0, d, k), false)
	sFull, _ := Project(full.M2, e.Vectors.View(0, 0, d, k), false)
	for i := 0; i < k; i++ {
		if math.Abs(lam[i]-e.Values[i]) > 1e-10*e.Values[0] || math.Abs(c[i]-cFull[i]) > 1e-9*cFull[0] || math.Abs(s[i]-sFull[i]) > 1e-9*sFull[0] {
			t.Fatalf("direction %d: lambda %v/%v c %v/%v s %v/%v", i, lam[i], e.Values[i], c[i], cFull[i], s[i], sFull[i])
		}
	}
	// Random replicates: the projected gamma against the exact one.
	rng := rand.New(rand.NewPCG(1, 1))
	for r := 0; r < 5; r++ {
		w := make([]int, G)
		for range G {
			w[rng.IntN(G)]++
		}
		lp, cp, sp, err := bootReplicate(groups, w, k, batch, false)
		if err != nil {
			t.Fatal(err)
		}
		le, ce, se := exactReplicate(t, b, w, k, batch)
		fp, _ := FitPowerLaw(lp, cp)
		fe, _ := FitPowerLaw(le, ce)
		gp, _ := FitPowerLaw(lp, sp)
		ge, _ := FitPowerLaw(le, se)
		t.Logf("replicate %d: gamma C %.5f (exact %.5f), M2 %.5f (exact %.5f), lambda_k %.4g (exact %.4g)", r, fp.Gamma, fe.Gamma, gp.Gamma, ge.Gamma, lp[k-1], le[k-1])
		if math.Abs(fp.Gamma-fe.Gamma) > 0.01 || math.Abs(gp.Gamma-ge.Gamma) > 0.01 {
			t.Errorf("replicate %d: projected gammas %v %v, exact %v %v", r, fp.Gamma, gp.Gamma, fe.Gamma, ge.Gamma)
		}
	}
	f, _ := FitPowerLaw(e.Values[:k], cFull)
	fs, _ := FitPowerLaw(e.Values[:k], sFull)
	cis := bootstrapGammas(groups, k, 40, batch, false, 0.9, 3, 0, map[string]float64{NameC: f.Gamma, NameCAWD: fs.Gamma})
	ci := cis[NameC]
	t.Logf("gamma C %.4f, bootstrap %+v", f.Gamma, ci)
	if !(ci.Low <= ci.High) || ci.Reps != 40 || ci.Groups != G || !(float64(ci.SE) > 0) || ci.Estimate != f.Gamma {
		t.Errorf("interval %+v", ci)
	}
	// The jackknife against one written out with exact replicates.
	jk := jackknifeGammas(groups, k, batch, false, 0.9, 0, map[string]float64{NameC: f.Gamma, NameCAWD: fs.Gamma})[NameC]
	var gs []float64
	for g := 0; g < G; g++ {
		w := make([]int, G)
		for i := range w {
			w[i] = 1
		}
		w[g] = 0
		le, ce, _ := exactReplicate(t, b, w, k, batch)
		fe, _ := FitPowerLaw(le, ce)
		gs = append(gs, fe.Gamma)
	}
	var mean, ss float64
	for _, v := range gs {
		mean += v / G
	}
	for _, v := range gs {
		ss += (v - mean) * (v - mean)
	}
	se, bias := math.Sqrt((G-1)/float64(G)*ss), (G-1)*(mean-f.Gamma)
	t.Logf("jackknife %+v; exact replicates: se %.4f bias %.4f", jk, se, bias)
	if math.Abs(float64(jk.Bias)-bias) > 0.02 || math.Abs(float64(jk.SE)-se) > 0.3*se || !(jk.Low < jk.Gamma && jk.Gamma < jk.High) {
		t.Errorf("jackknife %+v, exact se %v bias %v", jk, se, bias)
	}
	// the basic interval is the percentile one reflected about the estimate
	if math.Abs(float64(ci.BasicLow)-(2*f.Gamma-float64(ci.High))) > 1e-12 || math.Abs(float64(ci.Bias)-(float64(ci.Mean)-f.Gamma)) > 1e-12 {
		t.Errorf("basic interval or bias: %+v", ci)
	}
}

func TestQuantile(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {1, 5}, {0.5, 3}, {0.25, 2}, {0.1, 1.4}} {
		if got := quantile(x, c.q); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("q %v: %v, want %v", c.q, got, c.want)
		}
	}
}
