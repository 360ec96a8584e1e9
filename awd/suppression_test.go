package awd

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// synthPerSample draws a block of per-sample quantities in nn's layout; when
// rank1 is set only the first row of each J_s is nonzero, so every Gamma_s
// and H_s has a single nonzero eigenvalue.
func synthPerSample(rng *rand.Rand, loss string, N, m, in, L int, rank1 bool) *nn.PerSample {
	ps := &nn.PerSample{N: N, M: m, In: in, L: L,
		A: make([]float64, N*in), Delta: make([]float64, N*m), J: make([]float64, N*L*m), Lambda: make([]float64, N*L*L)}
	for s := 0; s < N; s++ {
		for i := 0; i < in; i++ {
			ps.A[s*in+i] = math.Max(0, rng.NormFloat64())
		}
		ps.A[s*in+rng.IntN(in)] += 0.1
		for k := 0; k < L; k++ {
			if rank1 && k > 0 {
				break
			}
			for p := 0; p < m; p++ {
				if rng.IntN(4) != 0 {
					ps.J[s*L*m+k*m+p] = rng.NormFloat64()
				}
			}
		}
		p := make([]float64, L)
		var z float64
		for k := range p {
			p[k] = math.Exp(rng.NormFloat64())
			z += p[k]
		}
		for k := range p {
			p[k] /= z
		}
		copy(ps.Lambda[s*L*L:], lossHessian(loss, p, rng.IntN(L)))
	}
	return ps
}

func toSynth(ps *nn.PerSample) []synthSample {
	out := make([]synthSample, ps.N)
	for s := range out {
		out[s] = synthSample{a: ps.A[s*ps.In : (s+1)*ps.In], gamma: ps.Gamma(s, nil)}
	}
	return out
}

func maxAbs(a linalg.Dense) float64 {
	var v float64
	for i := 0; i < a.Rows; i++ {
		for _, x := range a.Row(i) {
			v = math.Max(v, math.Abs(x))
		}
	}
	return v
}

func maxDiff(a, b linalg.Dense) float64 {
	var v float64
	for i := 0; i < a.Rows; i++ {
		for j := 0; j < a.Cols; j++ {
			v = math.Max(v, math.Abs(a.At(i, j)-b.At(i, j)))
		}
	}
	return v
}

// TestSampleSpectraRebuild checks the per-sample eigenpairs against the
// explicit Gamma_s, and that rebuilding with unmodified eigenvalues gives the
// brute-force H and M2.
func TestSampleSpectraRebuild(t *testing.T) {
	for _, loss := range []string{"ce", "mse"} {
		rng := rand.New(rand.NewPCG(3, 3))
		m, in, L, N := 4, 5, 6, 300
		ps := synthPerSample(rng, loss, N, m, in, L, false)
		ss := NewSampleSpectra(m, in, L)
		ss.Append(ps)
		for s := 0; s < N; s++ {
			g := ps.Gamma(s, nil)
			norm := maxAbs(linalg.DenseOf(m, m, g))
			for p := 0; p < m; p++ {
				for q := 0; q < m; q++ {
					var v float64
					for k := 0; k < L; k++ {
						v += ss.Mu[s*L+k] * ss.G[(s*L+k)*m+p] * ss.G[(s*L+k)*m+q]
					}
					if math.Abs(v-g[p*m+q]) > 64*float64(L*m)*eps*norm {
						t.Fatalf("%s sample %d: rebuilt Gamma[%d][%d] %v, want %v", loss, s, p, q, v, g[p*m+q])
					}
				}
			}
		}
		h, m2 := Rebuild(ss, ss.Mu)
		bh, bm2, locMax, _ := bruteHM2(t, toSynth(ps), m, in)
		d := m * in
		if e := maxDiff(h, bh); e > 64*float64(d+N)*eps*maxAbs(bh) {
			t.Errorf("%s: H rebuilt differs by %v", loss, e)
		}
		if e := maxDiff(m2, bm2); e > 64*float64(d+N)*eps*maxAbs(bm2) {
			t.Errorf("%s: M2 rebuilt differs by %v", loss, e)
		}
		if math.Abs(ss.LocMax()-locMax) > 64*float64(d)*eps*locMax {
			t.Errorf("%s: LocMax %v, brute force %v", loss, ss.LocMax(), locMax)
		}
	}
}

func TestSuppressionRank1ChangesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	m, in, L, N := 3, 4, 5, 200
	ps := synthPerSample(rng, "ce", N, m, in, L, true)
	ss := NewSampleSpectra(m, in, L)
	ss.Append(ps)
	bh, bm2, _, _ := bruteHM2(t, toSynth(ps), m, in)
	mu, _, err := ModifiedMu(ss, InterventionRank1, DefaultSuppression)
	if err != nil {
		t.Fatal(err)
	}
	h, m2 := Rebuild(ss, mu)
	d := m * in
	// The tails are zero up to rounding, so rank1 changes nothing beyond
	// the rounding of the eigen-decomposition of each Gamma_s.
	if e := maxDiff(h, bh); e > 64*float64(d+N)*eps*maxAbs(bh) {
		t.Errorf("H changed by %v", e)
	}
	if e := maxDiff(m2, bm2); e > 64*float64(d+N)*eps*maxAbs(bm2) {
		t.Errorf("M2 changed by %v", e)
	}
	k := 6
	before, err := Suppress(ss, InterventionRank1, k, SuppressionConfig{TailEps: 1})
	if err != nil {
		t.Fatal(err)
	}
	after, err := Suppress(ss, InterventionRank1, k, DefaultSuppression)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(before.Fit.Gamma-after.Fit.Gamma) > 1e-9 {
		t.Errorf("gamma %v before, %v after rank1", before.Fit.Gamma, after.Fit.Gamma)
	}
}

// TestShuffleDestroysCorrelation injects samples whose top eigenvector is a
// fixed direction w and whose lambda_1 is large: lambda_1 then correlates with
// (v_1 . u_1)^2. Shuffling lambda_1 across samples keeps u_1 ~ w but must
// remove the correlation to within sampling noise.
func TestShuffleDestroysCorrelation(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	m, in, L, N := 3, 4, 2, 2000
	ps := &nn.PerSample{N: N, M: m, In: in, L: L,
		A: make([]float64, N*in), Delta: make([]float64, N*m), J: make([]float64, N*L*m), Lambda: make([]float64, N*L*L)}
	for s := 0; s < N; s++ {
		aligned := s%2 == 0
		scale := 1.0
		if aligned {
			scale = 3 + rng.Float64()
		}
		for p := 0; p < m; p++ {
			if aligned {
				ps.J[s*L*m+p] = scale * float64(p+1)
			} else {
				ps.J[s*L*m+p] = rng.NormFloat64()
			}
		}
		for i := 0; i < in; i++ {
			if aligned {
				ps.A[s*in+i] = 1
			} else {
				ps.A[s*in+i] = rng.Float64()
			}
		}
		ps.Lambda[s*L*L] = 1 // Gamma_s = j j^T, a single eigenvalue
	}
	ss := NewSampleSpectra(m, in, L)
	ss.Append(ps)
	before, err := Suppress(ss, InterventionRank1, 3, DefaultSuppression)
	if err != nil {
		t.Fatal(err)
	}
	after, err := Suppress(ss, InterventionShuffle, 3, DefaultSuppression)
	if err != nil {
		t.Fatal(err)
	}
	noise := 4 / math.Sqrt(float64(N)) // 4 standard errors of a null correlation
	if !(before.Corr[0] > 0.5) {
		t.Errorf("injected correlation %v, want > 0.5", before.Corr[0])
	}
	if math.Abs(after.Corr[0]) > noise {
		t.Errorf("after shuffle correlation %v, want |.| < %v", after.Corr[0], noise)
	}
}

// TestSuppressAllMatchesSuppress checks the one-pass rebuild of every
// intervention (shared a_n a_n^T, shared tails) against one Rebuild per
// intervention, and, with tails that differ between interventions (the
// path without shared tails), the rebuilt H' and M2' block by block.
func TestSuppressAllMatchesSuppress(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	m, in, L, N := 3, 4, 5, 300
	ps := synthPerSample(rng, "ce", N, m, in, L, true)
	ss := NewSampleSpectra(m, in, L)
	ss.Append(ps)
	d, k := m*in, 6
	all, err := SuppressAll(ss, Interventions, k, DefaultSuppression, nil)
	if err != nil {
		t.Fatal(err)
	}
	for j, name := range Interventions {
		one, err := Suppress(ss, name, k, DefaultSuppression)
		if err != nil {
			t.Fatal(err)
		}
		if all[j].Name != name || all[j].Stiff != one.Stiff {
			t.Errorf("%s: got %s with %d stiff, want %d", name, all[j].Name, all[j].Stiff, one.Stiff)
		}
		// Same sums in another order: rounding of d + N terms, relative to
		// the largest value.
		tol := 64 * float64(d+N) * eps
		for i := range one.Lambda {
			if e := math.Abs(all[j].Lambda[i] - one.Lambda[i]); e > tol*one.Lambda[0] {
				t.Errorf("%s: lambda_%d %v, want %v", name, i, all[j].Lambda[i], one.Lambda[i])
			}
			if e := math.Abs(all[j].S[i] - one.S[i]); e > tol*slices.Max(one.S) {
				t.Errorf("%s: s_%d %v, want %v", name, i, all[j].S[i], one.S[i])
			}
		}
	}
	// Different tails: no sharing.
	mu1, _, _ := ModifiedMu(ss, InterventionRank1, SuppressionConfig{TailEps: 1})
	mu2, _, _ := ModifiedMu(ss, InterventionMean, DefaultSuppression)
	acc := rebuildAcc(ss, [][]float64{mu1, mu2})
	for j, mu := range [][]float64{mu1, mu2} {
		h, m2 := Rebuild(ss, mu)
		inv := 1 / float64(N)
		for b, want := range []linalg.Dense{h, m2} {
			got := linalg.NewDense(d, d)
			acc.set(got, 2*j+b, inv)
			if e := maxDiff(got, want); e > 64*float64(d+N)*eps*maxAbs(want) {
				t.Errorf("mu %d block %d differs by %v", j, b, e)
			}
		}
	}
}
