package awd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// lambdaCE is d2 CE/do^2 = diag(p) - p p^T (docs/math.md section 3).
func lambdaCE(p []float64) []float64 {
	l := len(p)
	lam := make([]float64, l*l)
	for i := 0; i < l; i++ {
		for j := 0; j < l; j++ {
			lam[i*l+j] = -p[i] * p[j]
		}
		lam[i*l+i] += p[i]
	}
	return lam
}

// lambdaMSE is d2/do^2 of (1/L) sum_k (p_k - e_y,k)^2 after softmax:
// (2/L) [S^T S + sum_k r_k D2p_k] (docs/math.md section 3).
func lambdaMSE(p []float64, y int) []float64 {
	l := len(p)
	s := lambdaCE(p)
	lam := make([]float64, l*l)
	for i := 0; i < l; i++ {
		for j := 0; j < l; j++ {
			var v float64
			for k := 0; k < l; k++ {
				v += s[k*l+i] * s[k*l+j]
			}
			for k := 0; k < l; k++ {
				r := p[k]
				if k == y {
					r--
				}
				ki, kj, ij := 0.0, 0.0, 0.0
				if k == i {
					ki = 1
				}
				if k == j {
					kj = 1
				}
				if i == j {
					ij = 1
				}
				v += r * p[k] * ((ki-p[i])*(kj-p[j]) - p[i]*(ij-p[j]))
			}
			lam[i*l+j] = 2 / float64(l) * v
		}
	}
	return lam
}

// randomPerSample builds n samples of an m x in layer with L logits whose
// activities, errors and Jacobians are random but shaped like a ReLU
// network's: about a third of a_n and of the units after z are zero (whole
// columns of J masked), and Lambda is the CE or MSE one at random logits.
func randomPerSample(rng *rand.Rand, n, m, in, l int, loss string) *nn.PerSample {
	ps := &nn.PerSample{N: n, M: m, In: in, L: l,
		A: make([]float64, n*in), Delta: make([]float64, n*m),
		J: make([]float64, n*l*m), Lambda: make([]float64, n*l*l),
		Label: make([]int, n)}
	for s := 0; s < n; s++ {
		for i := 0; i < in; i++ {
			if rng.Float64() > 0.33 {
				ps.A[s*in+i] = rng.Float64() * 2
			}
		}
		for p := 0; p < m; p++ {
			ps.Delta[s*m+p] = rng.NormFloat64()
			if rng.Float64() < 0.33 {
				continue // masked unit: column p of J is zero
			}
			for k := 0; k < l; k++ {
				ps.J[s*l*m+k*m+p] = rng.NormFloat64()
			}
		}
		o := make([]float64, l)
		var z float64
		for k := range o {
			o[k] = math.Exp(2 * rng.NormFloat64())
			z += o[k]
		}
		for k := range o {
			o[k] /= z
		}
		y := rng.IntN(l)
		ps.Label[s] = y
		var lam []float64
		if loss == "ce" {
			lam = lambdaCE(o)
		} else {
			lam = lambdaMSE(o, y)
		}
		copy(ps.Lambda[s*l*l:], lam)
	}
	return ps
}

// subSamples returns samples [s0, s1) of ps, sharing storage.
func subSamples(ps *nn.PerSample, s0, s1 int) *nn.PerSample {
	m, in, l := ps.M, ps.In, ps.L
	return &nn.PerSample{N: s1 - s0, M: m, In: in, L: l,
		A: ps.A[s0*in : s1*in], Delta: ps.Delta[s0*m : s1*m],
		J: ps.J[s0*l*m : s1*l*m], Lambda: ps.Lambda[s0*l*l : s1*l*l],
		Label: ps.Label[s0:s1]}
}

// bruteGamma is J^T Lambda J by the definition, m x m.
func bruteGamma(ps *nn.PerSample, s int) *mat.Dense {
	m, l := ps.M, ps.L
	j := mat.NewDense(l, m, append([]float64(nil), ps.J[s*l*m:(s+1)*l*m]...))
	lam := mat.NewDense(l, l, append([]float64(nil), ps.Lambda[s*l*l:(s+1)*l*l]...))
	var t, g mat.Dense
	t.Mul(lam, j)
	g.Mul(j.T(), &t)
	return &g
}

// bruteHn is the explicit d x d per-sample Hessian Gamma_n (x) a_n a_n^T.
func bruteHn(ps *nn.PerSample, s int) *mat.Dense {
	m, n := ps.M, ps.In
	g := bruteGamma(ps, s)
	a := ps.A[s*n : (s+1)*n]
	h := mat.NewDense(m*n, m*n, nil)
	for p := 0; p < m; p++ {
		for i := 0; i < n; i++ {
			for q := 0; q < m; q++ {
				for j := 0; j < n; j++ {
					h.Set(p*n+i, q*n+j, g.At(p, q)*a[i]*a[j])
				}
			}
		}
	}
	return h
}

// reference holds the matrices of docs/math.md section 4 computed the slow way:
// explicit d x d per-sample Hessians, explicit vectors and outer products.
type reference struct {
	C, CMB, H, M2, CAWD, CPair, CPair2 *mat.Dense
	Sigma2, LocMax                     float64
}

// bruteReference computes the matrices from their definitions with nothing
// of the code under test: explicit d x d per-sample Hessians, dtheta_n by a
// least-norm solve (minNormDTheta, not DTheta's closed form), the Eq. 57
// term as J_n^T g_n with J_n the Jacobian of W -> dtheta_n(W) by central
// differences (not the closed form delta_n da_n^T), and the centred C_mb as
// gonum's sample covariance of the mini-batch gradients rescaled to the
// population one.
func bruteReference(t *testing.T, ps *nn.PerSample, w linalg.Dense, partner []int, batches [][]int, batch int, centered bool) reference {
	m, n := ps.M, ps.In
	d := m * n
	var r reference
	r.C, r.H, r.M2 = mat.NewDense(d, d, nil), mat.NewDense(d, d, nil), mat.NewDense(d, d, nil)
	r.CPair, r.CPair2 = mat.NewDense(d, d, nil), mat.NewDense(d, d, nil)
	gbar := mat.NewVecDense(d, nil)
	r.LocMax = math.Inf(-1)
	grad := func(s int) *mat.VecDense {
		g := mat.NewVecDense(d, nil)
		for p := 0; p < m; p++ {
			for i := 0; i < n; i++ {
				g.SetVec(p*n+i, ps.Delta[s*m+p]*ps.A[s*n+i])
			}
		}
		return g
	}
	var sumDT float64
	np := 0
	for s := 0; s < ps.N; s++ {
		g := grad(s)
		r.C.RankOne(r.C, 1, g, g)
		gbar.AddVec(gbar, g)
		hn := bruteHn(ps, s)
		r.H.Add(r.H, hn)
		var h2 mat.Dense
		h2.Mul(hn, hn)
		r.M2.Add(r.M2, &h2)
		var es mat.EigenSym
		if !es.Factorize(mat.NewSymDense(d, hn.RawMatrix().Data), false) {
			panic("eigen")
		}
		vals := es.Values(nil)
		r.LocMax = math.Max(r.LocMax, vals[len(vals)-1])
		if partner == nil || partner[s] < 0 {
			continue
		}
		a, ap := ps.A[s*n:(s+1)*n], ps.A[partner[s]*n:(partner[s]+1)*n]
		if dotSlow(a, a) == 0 {
			continue // no W + dW maps a = 0 anywhere else
		}
		da := make([]float64, n)
		for i := range da {
			da[i] = ap[i] - a[i]
		}
		wd := append([]float64(nil), w.Data[:m*n]...)
		dt := minNormDTheta(t, wd, m, n, a, da)
		np++
		dtv := mat.NewVecDense(d, dt)
		sumDT += mat.Dot(dtv, dtv)
		var hd mat.VecDense
		hd.MulVec(hn, dtv)
		r.CPair.RankOne(r.CPair, 1, &hd, &hd)
		// Jacobian of W -> dtheta(W), column j by a central difference
		// (dtheta is linear in W, so the difference is exact up to rounding)
		jac := mat.NewDense(d, d, nil)
		const h = 1e-3
		for j := 0; j < d; j++ {
			wp, wm := append([]float64(nil), wd...), append([]float64(nil), wd...)
			wp[j] += h
			wm[j] -= h
			dp, dm := minNormDTheta(t, wp, m, n, a, da), minNormDTheta(t, wm, m, n, a, da)
			for i := 0; i < d; i++ {
				jac.Set(i, j, (dp[i]-dm[i])/(2*h))
			}
		}
		var term2 mat.VecDense
		term2.MulVec(jac.T(), g)
		hd.AddVec(&hd, &term2)
		r.CPair2.RankOne(r.CPair2, 1, &hd, &hd)
	}
	fb, fn := float64(batch), float64(ps.N)
	r.C.Scale(1/(fb*fn), r.C)
	if centered {
		r.C.RankOne(r.C, -1/(fb*fn*fn), gbar, gbar)
	}
	r.H.Scale(1/fn, r.H)
	r.M2.Scale(1/fn, r.M2)
	if np > 0 {
		r.Sigma2 = sumDT / float64(np) / float64(d)
		r.CAWD = mat.NewDense(d, d, nil)
		r.CAWD.Scale(r.Sigma2/fb, r.M2)
		r.CPair.Scale(1/(fb*float64(np)), r.CPair)
		r.CPair2.Scale(1/(fb*float64(np)), r.CPair2)
	}
	if len(batches) > 0 {
		gb := mat.NewDense(len(batches), d, nil)
		for b, idx := range batches {
			row := mat.NewVecDense(d, nil)
			for _, s := range idx {
				row.AddScaledVec(row, 1/float64(len(idx)), grad(s))
			}
			gb.SetRow(b, row.RawVector().Data)
		}
		nb := float64(len(batches))
		if centered {
			var cov mat.SymDense
			stat.CovarianceMatrix(&cov, gb, nil) // divides by nb - 1
			r.CMB = mat.NewDense(d, d, nil)
			r.CMB.Scale((nb-1)/nb, &cov)
		} else {
			r.CMB = mat.NewDense(d, d, nil)
			r.CMB.Mul(gb.T(), gb)
			r.CMB.Scale(1/nb, r.CMB)
		}
	}
	return r
}

// relErr is max|got - want| / max|want|.
func relErr(got linalg.Dense, want *mat.Dense) float64 {
	var num, den float64
	r, c := want.Dims()
	if got.Rows != r || got.Cols != c {
		return math.Inf(1)
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			num = math.Max(num, math.Abs(got.At(i, j)-want.At(i, j)))
			den = math.Max(den, math.Abs(want.At(i, j)))
		}
	}
	if den == 0 {
		return num
	}
	return num / den
}

// kronTol is the tolerance for a sum of N per-sample d x d terms whose
// entries are products of a few factors: the reference and the packed GEMM
// add in different orders, each term is rounded a few times, and cancellation
// between samples (MSE's indefinite Gamma, centering) can lose a factor of
// the ratio of the largest term to the largest sum. 1e-12 (the bar) is
// far above c N eps for the sizes here; it is asserted as it stands.
const kronTol = 1e-12

func randomW(rng *rand.Rand, m, n int) linalg.Dense {
	w := linalg.NewDense(m, n)
	for i := range w.Data {
		w.Data[i] = rng.NormFloat64() / math.Sqrt(float64(n))
	}
	return w
}

// randomPartner pairs the samples at random, leaving the last one out when N
// is odd, as MatchPairs does with leftovers.
func randomPartner(rng *rand.Rand, n int) []int {
	perm := rng.Perm(n)
	partner := make([]int, n)
	for i := range partner {
		partner[i] = -1
	}
	for i := 0; i+1 < n; i += 2 {
		partner[perm[i]], partner[perm[i+1]] = perm[i+1], perm[i]
	}
	return partner
}

func TestStateMatchesBruteForce(t *testing.T) {
	cases := []stateCase{
		{"ce", 23, 4, 5, 3, 0, 4, false},
		{"ce", 40, 5, 3, 10, 7, 8, true},
		{"mse", 23, 4, 5, 3, 0, 4, false},
		{"mse", 41, 3, 6, 4, 6, 5, true},
		{"ce", 12, 11, 2, 4, 5, 3, false}, // m > L
		{"mse", 9, 2, 7, 5, 2, 3, true},   // m < L
	}
	for _, tc := range cases {
		for fused := range 3 {
			name := fmt.Sprintf("%s/N=%d/m=%d/n=%d/L=%d/chunk=%d/centered=%v/fused=%d", tc.loss, tc.n, tc.m, tc.in, tc.l, tc.chunk, tc.centered, fused)
			t.Run(name, func(t *testing.T) {
				stateVsBrute(t, tc, fused)
			})
		}
	}
}

// stateCase is a case of TestStateMatchesBruteForce.
type stateCase struct {
	loss         string
	n, m, in, l  int
	chunk, batch int
	centered     bool
}

// stateVsBrute runs one case of TestStateMatchesBruteForce with the samples
// added by Add and AddPairs (fused 0) or AddSamples (1; 2 with LocMax from
// the spectra and finished as Finalize does).
func stateVsBrute(t *testing.T, tc stateCase, fused int) {
	rng := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.m*100+tc.in)))
	ps := randomPerSample(rng, tc.n, tc.m, tc.in, tc.l, tc.loss)
	clear(ps.A[:tc.in]) // a dead input: no dW for sample 0 (ZeroA)
	w := randomW(rng, tc.m, tc.in)
	partner := randomPartner(rng, tc.n)
	var batches [][]int
	perm := rng.Perm(tc.n)
	for b := 0; b+tc.batch <= tc.n; b += tc.batch {
		batches = append(batches, perm[b:b+tc.batch])
	}
	a := linalg.DenseOf(tc.n, tc.in, ps.A)

	st := NewState(tc.m, tc.in, StateOptions{Pair2: true, Chunk: tc.chunk})
	finish := st.Finish
	var atH linalg.Dense // H as finishConsume hands it to its callback
	switch fused {
	case 1:
		st.AddSamples(ps, w, PartnerDiff(a, partner), nil)
	case 2: // LocMax from the spectra, finished as Finalize does
		ss := NewSampleSpectra(tc.m, tc.in, tc.l)
		ss.Append(ps)
		st.AddSamples(ps, w, PartnerDiff(a, partner), ss)
		finish = func(batch int, centered bool) (*Matrices, error) {
			return st.finishConsume(batch, centered, func(h linalg.Dense) error {
				// Scribble on the warm cache as an eigensolver would: the
				// matrices unpacked after this must not depend on it.
				b := linalg.Scratch(h.Rows * h.Cols)
				for i := range b {
					b[i] = math.NaN()
				}
				linalg.Recycle(b)
				atH = h.Clone()
				return nil
			})
		}
	default:
		st.Add(ps)
		st.AddPairs(ps, w, PartnerDiff(a, partner))
	}
	st.AddMinibatches(ps, batches)
	got, err := finish(tc.batch, tc.centered)
	if err != nil {
		t.Fatal(err)
	}
	got.FillCAWD()
	if atH.Data != nil && !slices.Equal(atH.Data, got.H.Data) {
		t.Errorf("H changed after finishConsume's callback")
	}
	want := bruteReference(t, ps, w, partner, batches, tc.batch, tc.centered)
	for _, x := range []struct {
		name string
		got  linalg.Dense
		want *mat.Dense
	}{
		{"C", got.C, want.C}, {"CMB", got.CMB, want.CMB}, {"H", got.H, want.H},
		{"M2", got.M2, want.M2}, {"CAWD", got.CAWD, want.CAWD},
		{"CPair", got.CPair, want.CPair}, {"CPair2", got.CPair2, want.CPair2},
	} {
		if e := relErr(x.got, x.want); e > kronTol {
			t.Errorf("%s: relative error %.3g > %g", x.name, e, kronTol)
		}
	}
	if e := math.Abs(got.Sigma2-want.Sigma2) / want.Sigma2; e > kronTol {
		t.Errorf("Sigma2 = %v, want %v", got.Sigma2, want.Sigma2)
	}
	// LocMax: Jacobi on L x L against a dense d x d eigensolver; both
	// are backward stable, so they agree to a few d eps ||H_n||.
	if e := math.Abs(got.LocMax - want.LocMax); e > 1e-12*math.Max(1, math.Abs(want.LocMax)) {
		t.Errorf("LocMax = %v, want %v", got.LocMax, want.LocMax)
	}
	wantPairs := 0
	for s, q := range partner {
		if q >= 0 && dotSlow(ps.A[s*tc.in:(s+1)*tc.in], ps.A[s*tc.in:(s+1)*tc.in]) > 0 {
			wantPairs++
		}
	}
	if st.ZeroA == 0 && partner[0] >= 0 {
		t.Error("the sample with a = 0 was not counted in ZeroA")
	}
	if got.NPairs != wantPairs || got.N != tc.n || got.NBatch != len(batches) {
		t.Errorf("counts N=%d NPairs=%d NBatch=%d, want %d %d %d", got.N, got.NPairs, got.NBatch, tc.n, wantPairs, len(batches))
	}

}

func dotSlow(x, y []float64) float64 {
	var s float64
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

func TestKronSumMatchesBruteForce(t *testing.T) {
	for _, sz := range []struct{ n, m, in int }{{1, 1, 1}, {5, 3, 4}, {DefaultChunk + 3, 2, 3}} {
		t.Run(fmt.Sprintf("N=%d/m=%d/n=%d", sz.n, sz.m, sz.in), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(sz.n)))
			m, in := sz.m, sz.in
			p := linalg.NewDense(sz.n, m*m)
			a := linalg.NewDense(sz.n, in)
			want := mat.NewDense(m*in, m*in, nil)
			const alpha = -0.75
			for s := 0; s < sz.n; s++ {
				for i := 0; i < m; i++ {
					for j := i; j < m; j++ {
						v := rng.NormFloat64()
						p.Set(s, i*m+j, v)
						p.Set(s, j*m+i, v)
					}
				}
				for i := range a.Row(s) {
					a.Set(s, i, rng.NormFloat64())
				}
				for r := 0; r < m*in; r++ {
					for c := 0; c < m*in; c++ {
						pp, i, q, j := r/in, r%in, c/in, c%in
						want.Set(r, c, want.At(r, c)+alpha*p.At(s, pp*m+q)*a.At(s, i)*a.At(s, j))
					}
				}
			}
			got := linalg.NewDense(m*in, m*in)
			for i := range got.Data {
				got.Data[i] = 1 // KronSum adds
			}
			KronSum(got, alpha, p, a)
			for i := range got.Data {
				got.Data[i]--
			}
			if e := relErr(got, want); e > kronTol {
				t.Errorf("relative error %.3g", e)
			}
		})
	}
}

// TestStateMergeEqualsOnePass splits the samples into shards accumulated
// apart and merged; the sums agree with one pass up to the order of the
// additions.
func TestStateMergeEqualsOnePass(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, m, in, l, batch = 60, 4, 5, 6, 5
	for _, loss := range []string{"ce", "mse"} {
		t.Run(loss, func(t *testing.T) {
			ps := randomPerSample(rng, n, m, in, l, loss)
			w := randomW(rng, m, in)
			a := linalg.DenseOf(n, in, ps.A)
			da := PartnerDiff(a, randomPartner(rng, n))
			opt := StateOptions{Pair2: true, Chunk: 8}
			one := NewState(m, in, opt)
			one.Add(ps)
			one.AddPairs(ps, w, da)
			var batches [][]int
			for b := 0; b < n; b += batch {
				batches = append(batches, []int{b, b + 1, b + 2, b + 3, b + 4})
			}
			one.AddMinibatches(ps, batches)

			merged := NewState(m, in, opt)
			for _, sh := range [][2]int{{0, 17}, {17, 40}, {40, 60}} {
				part := NewState(m, in, opt)
				sub := subSamples(ps, sh[0], sh[1])
				part.Add(sub)
				part.AddPairs(sub, w, da.View(sh[0], 0, sh[1]-sh[0], in))
				var bs [][]int
				for _, b := range batches {
					if b[0] >= sh[0] && b[len(b)-1] < sh[1] {
						nb := make([]int, len(b))
						for i := range b {
							nb[i] = b[i] - sh[0]
						}
						bs = append(bs, nb)
					}
				}
				part.AddMinibatches(sub, bs)
				if err := merged.Merge(part); err != nil {
					t.Fatal(err)
				}
			}
			// batches straddling shard borders were left out of the shards;
			// add them to the merged state directly.
			var rest [][]int
			for _, b := range batches {
				if (b[0] < 17) != (b[4] < 17) || (b[0] < 40) != (b[4] < 40) {
					rest = append(rest, b)
				}
			}
			merged.AddMinibatches(ps, rest)
			g1, err := one.Finish(batch, true)
			if err != nil {
				t.Fatal(err)
			}
			// The merged state is used no more: finishConsume (Analyze's
			// path, no copies of C_pair2 and C_mb) must agree with Finish.
			g2, err := merged.finishConsume(batch, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			g1.FillCAWD()
			g2.FillCAWD()
			for _, x := range [][2]linalg.Dense{{g1.C, g2.C}, {g1.H, g2.H}, {g1.M2, g2.M2}, {g1.CAWD, g2.CAWD}, {g1.CPair, g2.CPair}, {g1.CPair2, g2.CPair2}, {g1.CMB, g2.CMB}} {
				if e := relErr(x[1], x[0].Mat()); e > kronTol {
					t.Errorf("merged differs from one pass by %.3g", e)
				}
			}
			if g1.LocMax != g2.LocMax || g1.N != g2.N || g1.NPairs != g2.NPairs || g1.NBatch != g2.NBatch {
				t.Errorf("merged LocMax/N/NPairs/NBatch %v %d %d %d, one pass %v %d %d %d", g2.LocMax, g2.N, g2.NPairs, g2.NBatch, g1.LocMax, g1.N, g1.NPairs, g1.NBatch)
			}
			if e := math.Abs(g1.Sigma2-g2.Sigma2) / g1.Sigma2; e > kronTol {
				t.Errorf("Sigma2 %v vs %v", g2.Sigma2, g1.Sigma2)
			}
		})
	}
}

func TestStateMergeRejectsMismatch(t *testing.T) {
	a := NewState(3, 4, StateOptions{})
	for _, b := range []*State{NewState(4, 3, StateOptions{}), NewState(3, 4, StateOptions{Pair2: true})} {
		if err := a.Merge(b); err == nil {
			t.Errorf("merge of %dx%d pair2=%v into 3x4 accepted", b.M, b.In, b.Opt.Pair2)
		}
	}
	if _, err := a.Finish(10, false); err == nil {
		t.Error("Finish of an empty state accepted")
	}
}

// TestThm51BoundsCE checks the property the bounds rest on, with the
// accumulated H, M2 and LocMax: for CE every direction v satisfies
// (v^T H v)^2 <= v^T M2 v <= LocMax v^T H v.
func TestThm51BoundsCE(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n, m, in, l = 50, 4, 6, 5
	ps := randomPerSample(rng, n, m, in, l, "ce")
	st := NewState(m, in, StateOptions{})
	st.Add(ps)
	r, err := st.Finish(1, false)
	if err != nil {
		t.Fatal(err)
	}
	es, err := linalg.EigSym(r.H, true)
	if err != nil {
		t.Fatal(err)
	}
	d := m * in
	tol := 8 * float64(d+n) * eps64
	for i, lam := range es.Values {
		u := make([]float64, d)
		for k := range u {
			u[k] = es.Vectors.At(k, i)
		}
		s := quad(r.M2, u)
		if lam*lam > s+tol*math.Max(lam*lam, s) {
			t.Errorf("direction %d: lambda^2 = %g > s = %g", i, lam*lam, s)
		}
		if s > r.LocMax*lam+tol*math.Max(s, r.LocMax*math.Abs(lam)) {
			t.Errorf("direction %d: s = %g > LocMax lambda = %g", i, s, r.LocMax*lam)
		}
	}
}

func quad(a linalg.Dense, u []float64) float64 {
	var s float64
	for i := range u {
		for j := range u {
			s += u[i] * a.At(i, j) * u[j]
		}
	}
	return s
}

// TestKronAccBlocks accumulates two blocks sharing a_n over several Add
// calls (one crossing a chunk border) and compares with KronSum per block,
// itself checked against brute force above.
func TestKronAccBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const n, m, in = DefaultChunk + 9, 3, 4
	a := linalg.NewDense(n, in)
	p := [2]linalg.Dense{linalg.NewDense(n, m*m), linalg.NewDense(n, m*m)}
	for s := 0; s < n; s++ {
		for i := range a.Row(s) {
			a.Set(s, i, rng.NormFloat64())
		}
		for _, pb := range p {
			for i := 0; i < m; i++ {
				for j := i; j < m; j++ {
					v := rng.NormFloat64()
					pb.Set(s, i*m+j, v)
					pb.Set(s, j*m+i, v)
				}
			}
		}
	}
	acc := NewKronAcc(m, in, 2)
	for _, r := range [][2]int{{0, 5}, {5, n - 2}, {n - 2, n}} {
		c := r[1] - r[0]
		acc.Add(a.View(r[0], 0, c, in), p[0].View(r[0], 0, c, m*m), p[1].View(r[0], 0, c, m*m))
	}
	if acc.Count() != n {
		t.Errorf("Count %d, want %d", acc.Count(), n)
	}
	for b := range p {
		want := linalg.NewDense(m*in, m*in)
		KronSum(want, 0.5, p[b], a)
		if e := relErr(acc.Matrix(b, 0.5), want.Mat()); e > kronTol {
			t.Errorf("block %d: relative error %.3g", b, e)
		}
	}
}
