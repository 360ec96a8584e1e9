package awd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// The bootstrap of gamma over samples. The analysis samples are dealt at
// random into G groups, and each group accumulates its own additive sums of
// C, H and M2 (a State without pair sums: 3 d^2/4 numbers). A replicate
// draws G groups with replacement and merges their sums with those
// multiplicities, which is the analysis of a resampled set of samples
// without touching a sample again. To keep a replicate cheap, every group's
// sums are projected once onto U', the top k' eigenvectors of the full H
// (k' = bootBasis(k, d) > k); a replicate's H, C and M2 are then k' x k'
// weighted sums, its top-k eigenpairs the Ritz pairs of H in span(U'), and
// c_i = y_i^T C y_i. Projection is linear, so the projected merge is the
// merge projected; the Ritz pairs are the exact eigenpairs up to the part of
// the replicate's top-k eigenvectors outside span(U'), which the margin
// k' - k keeps small (TestBootstrapProjectedMatchesExact).

// BootGroups holds the groups' sums.
type BootGroups struct {
	Group  []int    // Group[pos] = group of the sample at position pos
	States []*State // per group: C, H, M2 sums, sum g, count (no pair sums)
}

// NewBootGroups deals n positions into groups random groups of nearly equal
// size (a permutation from PCG(seed, "awdboots") cut in order) for an
// m x in layer. Memory groups * (3 d^2/4 + d) numbers.
func NewBootGroups(m, in, n, groups int, seed uint64) *BootGroups {
	if groups < 1 || n < groups {
		panic(fmt.Sprintf("awd: NewBootGroups: %d groups of %d samples", groups, n))
	}
	b := &BootGroups{Group: make([]int, n), States: make([]*State, groups)}
	for i, p := range rand.New(rand.NewPCG(seed, 0x617764626f6f7473)).Perm(n) {
		b.Group[p] = i * groups / n
	}
	for g := range b.States {
		b.States[g] = newBootState(m, in)
	}
	return b
}

// newBootState is a State that accumulates only C, H and M2 (Add), without
// the pair sums.
func newBootState(m, in int) *State {
	return &State{M: m, In: in, Opt: StateOptions{Chunk: DefaultChunk}, kron: newKron(m, in, nBlocks),
		SumG: make([]float64, m*in), LocMax: math.Inf(-1)}
}

// Add adds the samples of ps (positions pos) to their groups' sums.
func (b *BootGroups) Add(ps *nn.PerSample, pos []int) {
	by := make([][]int, len(b.States))
	for i, p := range pos {
		g := b.Group[p]
		by[g] = append(by[g], i)
	}
	for g, idx := range by {
		if len(idx) > 0 {
			b.States[g].Add(subsetPerSample(ps, idx))
		}
	}
}

// Merge adds the sums of o (the same groups, other samples) into b.
func (b *BootGroups) Merge(o *BootGroups) error {
	if !slices.Equal(b.Group, o.Group) || len(b.States) != len(o.States) {
		return fmt.Errorf("awd: merge bootstrap groups: other groups")
	}
	for g, s := range b.States {
		t := o.States[g]
		kernels.Daxpy(1, t.kron.g.Data, s.kron.g.Data)
		kernels.Daxpy(1, t.SumG, s.SumG)
		s.Count += t.Count
		s.LocMax = math.Max(s.LocMax, t.LocMax)
	}
	return nil
}

// subsetPerSample copies the samples idx of ps.
func subsetPerSample(ps *nn.PerSample, idx []int) *nn.PerSample {
	m, in, l := ps.M, ps.In, ps.L
	out := &nn.PerSample{N: len(idx), M: m, In: in, L: l}
	for _, s := range idx {
		out.A = append(out.A, ps.A[s*in:(s+1)*in]...)
		out.Delta = append(out.Delta, ps.Delta[s*m:(s+1)*m]...)
		out.J = append(out.J, ps.J[s*l*m:(s+1)*l*m]...)
		out.Lambda = append(out.Lambda, ps.Lambda[s*l*l:(s+1)*l*l]...)
	}
	return out
}

// bootBasis is k', the size of the subspace of a replicate's eigenpairs:
// k plus a margin of max(50, k/4) below it, at most d.
func bootBasis(k, d int) int { return min(d, k+max(50, k/4)) }

// projGroup is one group's sums projected on U' (k' x k'), and U'^T sum g.
type projGroup struct {
	n        int
	h, c, m2 linalg.Dense
	g        []float64
}

// project returns every group's sums projected on u (d x k'). Cost per group
// three expansions of a packed sum (d^2 each) and three projections
// (2 d^2 k' + 2 d k'^2 flops each), with one d x d buffer.
func (b *BootGroups) project(u linalg.Dense) []projGroup {
	d, kp := u.Rows, u.Cols
	buf := linalg.NewDense(d, d)
	out := make([]projGroup, len(b.States))
	for g, s := range b.States {
		p := projGroup{n: s.Count, g: make([]float64, kp)}
		for blk, dst := range []*linalg.Dense{&p.c, &p.h, &p.m2} { // blockC, blockH, blockM2
			s.kron.set(buf, blk, 1)
			*dst = Sandwich(buf, u)
		}
		for r := 0; r < d; r++ {
			if v := s.SumG[r]; v != 0 {
				kernels.Daxpy(v, u.Row(r), p.g)
			}
		}
		out[g] = p
	}
	return out
}

// BootstrapCI is the bootstrap distribution of a gamma over the analysis
// samples: Reps replicates, each the analysis of Groups groups of samples
// drawn with replacement. Estimate is the gamma of all samples; Low and
// High are the (1-Level)/2 and (1+Level)/2 quantiles of the replicates'
// gammas (percentile interval), SE their standard deviation, Mean their
// mean and Bias = Mean - Estimate. Resampling duplicates samples, which
// spreads the spectrum of H, so the replicates' gammas can be biased; the
// basic interval [BasicLow, BasicHigh] = [2 Estimate - High, 2 Estimate -
// Low] corrects that to first order. Basis is k', the subspace of the
// replicates' eigenpairs; Failed counts replicates whose fit failed.
type BootstrapCI struct {
	Reps      int     `json:"reps"`
	Groups    int     `json:"groups"`
	Basis     int     `json:"basis"`
	Level     float64 `json:"level"`
	Estimate  float64 `json:"estimate"`
	Low       Float   `json:"low"`
	High      Float   `json:"high"`
	BasicLow  Float   `json:"basic_low"`
	BasicHigh Float   `json:"basic_high"`
	SE        Float   `json:"se"`
	Mean      Float   `json:"mean"`
	Bias      Float   `json:"bias"`
	Failed    int     `json:"failed,omitempty"`
	Seed      uint64  `json:"seed"`
}

// bootReplicate returns the top-k Ritz values of the replicate with group
// multiplicities w and the projections c_i (C) and s_i (M2).
func bootReplicate(groups []projGroup, w []int, k, batch int, centered bool) (lambda, c, s []float64, err error) {
	kp := groups[0].h.Rows
	h, cm, m2 := linalg.NewDense(kp, kp), linalg.NewDense(kp, kp), linalg.NewDense(kp, kp)
	g := make([]float64, kp)
	var n float64
	for i, p := range groups {
		if w[i] == 0 {
			continue
		}
		f := float64(w[i])
		n += f * float64(p.n)
		kernels.Daxpy(f, p.h.Data, h.Data)
		kernels.Daxpy(f, p.c.Data, cm.Data)
		kernels.Daxpy(f, p.m2.Data, m2.Data)
		kernels.Daxpy(f, p.g, g)
	}
	if n == 0 {
		return nil, nil, nil, fmt.Errorf("empty replicate")
	}
	scale(h, 1/n)
	scale(m2, 1/n)
	scale(cm, 1/(float64(batch)*n))
	if centered {
		syr(cm, -1/(float64(batch)*n*n), g)
	}
	e, err := linalg.EigSymTop(h, k, true)
	if err != nil {
		return nil, nil, nil, err
	}
	c, _ = Project(cm, e.Vectors, false)
	s, _ = Project(m2, e.Vectors, false)
	return e.Values, c, s, nil
}

// bootstrapGammas runs reps replicates (multiplicities from PCG(seed)) and
// returns the intervals of gamma for C and C_awd (= that of M2) around the
// full-sample estimates est, each replicate's fit over the eigenvalues above
// floor (the full sample's NullFloor).
func bootstrapGammas(groups []projGroup, k, reps, batch int, centered bool, level float64, seed uint64, floor float64, est map[string]float64) map[string]BootstrapCI {
	rng := rand.New(rand.NewPCG(seed, 0x626f6f74))
	G := len(groups)
	w := make([]int, G)
	gam := map[string][]float64{NameC: nil, NameCAWD: nil}
	failed := map[string]int{}
	for r := 0; r < reps; r++ {
		clear(w)
		for range G {
			w[rng.IntN(G)]++
		}
		lambda, c, s, err := bootReplicate(groups, w, k, batch, centered)
		for name, x := range map[string][]float64{NameC: c, NameCAWD: s} {
			if err != nil {
				failed[name]++
				continue
			}
			f, ferr := FitPowerLawAbove(lambda, x, floor)
			if ferr != nil {
				failed[name]++
				continue
			}
			gam[name] = append(gam[name], f.Gamma)
		}
	}
	out := map[string]BootstrapCI{}
	for name, gs := range gam {
		nan := Float(math.NaN())
		ci := BootstrapCI{Reps: reps, Groups: G, Basis: groups[0].h.Rows, Level: level, Failed: failed[name], Seed: seed,
			Estimate: est[name], Low: nan, High: nan, BasicLow: nan, BasicHigh: nan, SE: nan, Mean: nan, Bias: nan}
		if len(gs) > 1 {
			slices.Sort(gs)
			lo, hi := quantile(gs, (1-level)/2), quantile(gs, (1+level)/2)
			ci.Low, ci.High = Float(lo), Float(hi)
			ci.BasicLow, ci.BasicHigh = Float(2*ci.Estimate-hi), Float(2*ci.Estimate-lo)
			ms := Summarize(gs)
			ci.Mean, ci.SE, ci.Bias = Float(ms.Mean), Float(ms.Std), Float(ms.Mean-ci.Estimate)
		}
		out[name] = ci
	}
	return out
}

// JackknifeCI is the delete-a-group jackknife of a gamma: Groups replicates,
// replicate g the analysis of every group but g (distinct samples only, so
// unlike the bootstrap no sample counts twice). With gamma_(g) their
// values and gbar their mean, SE = sqrt((G-1)/G sum_g (gamma_(g) -
// gbar)^2), Bias = (G-1)(gbar - Estimate), the bias-corrected Gamma =
// Estimate - Bias and the interval Gamma -+ t SE with t the Student
// quantile of G-1 degrees of freedom at (1+Level)/2. The jackknife's bias
// estimate is exact for a bias proportional to 1/N, the leading term of an
// eigenvalue's.
type JackknifeCI struct {
	Groups   int     `json:"groups"`
	Level    float64 `json:"level"`
	Estimate float64 `json:"estimate"`
	Gamma    Float   `json:"gamma"`
	SE       Float   `json:"se"`
	Bias     Float   `json:"bias"`
	Low      Float   `json:"low"`
	High     Float   `json:"high"`
	Failed   int     `json:"failed,omitempty"`
}

// jackknifeGammas runs the G leave-one-group-out replicates and returns the
// jackknife of gamma for C and C_awd around the estimates est (fits over
// the eigenvalues above floor, as bootstrapGammas).
func jackknifeGammas(groups []projGroup, k, batch int, centered bool, level float64, floor float64, est map[string]float64) map[string]JackknifeCI {
	G := len(groups)
	w := make([]int, G)
	gam := map[string][]float64{NameC: nil, NameCAWD: nil}
	failed := map[string]int{}
	for g := range groups {
		for i := range w {
			w[i] = 1
		}
		w[g] = 0
		lambda, c, s, err := bootReplicate(groups, w, k, batch, centered)
		for name, x := range map[string][]float64{NameC: c, NameCAWD: s} {
			if err != nil {
				failed[name]++
				continue
			}
			f, ferr := FitPowerLawAbove(lambda, x, floor)
			if ferr != nil {
				failed[name]++
				continue
			}
			gam[name] = append(gam[name], f.Gamma)
		}
	}
	out := map[string]JackknifeCI{}
	for name, gs := range gam {
		nan := Float(math.NaN())
		j := JackknifeCI{Groups: G, Level: level, Estimate: est[name], Gamma: nan, SE: nan, Bias: nan, Low: nan, High: nan, Failed: failed[name]}
		if n := len(gs); n > 1 {
			var mean float64
			for _, v := range gs {
				mean += v / float64(n)
			}
			var ss float64
			for _, v := range gs {
				ss += (v - mean) * (v - mean)
			}
			se := math.Sqrt(float64(n-1) / float64(n) * ss)
			bias := float64(n-1) * (mean - j.Estimate)
			t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile((1 + level) / 2)
			j.Gamma, j.SE, j.Bias = Float(j.Estimate-bias), Float(se), Float(bias)
			j.Low, j.High = Float(j.Estimate-bias-t*se), Float(j.Estimate-bias+t*se)
		}
		out[name] = j
	}
	return out
}

// quantile is the q-quantile of the ascending x by linear interpolation
// between order statistics (type 7 of Hyndman and Fan, numpy's default).
func quantile(x []float64, q float64) float64 {
	h := q * float64(len(x)-1)
	lo := int(math.Floor(h))
	if lo >= len(x)-1 {
		return x[len(x)-1]
	}
	return x[lo] + (h-float64(lo))*(x[lo+1]-x[lo])
}
