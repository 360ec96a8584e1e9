package awd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// relDiff is |a - b| / max(|b|, floor).
func relDiff(a, b, floor float64) float64 {
	return math.Abs(a-b) / math.Max(math.Abs(b), floor)
}

// compareSpectra checks the matrix-free eigenvalues against the dense ones
// to 1e-9 relative (of lambda_1 for the tiny ones near zero) and every fit
// of want present in got to 1e-6 in gamma.
func compareResults(t *testing.T, got, want *Result) {
	t.Helper()
	l1 := math.Abs(want.Arrays.Lambda[0])
	for i, w := range want.Arrays.Lambda {
		if e := relDiff(got.Arrays.Lambda[i], w, 1e-3*l1); e > 1e-9 {
			t.Errorf("lambda_%d: matrix-free %.15g, dense %.15g (relative %.2g)", i+1, got.Arrays.Lambda[i], w, e)
		}
	}
	for name, wf := range want.Fits {
		gf, ok := got.Fits[name]
		if !ok {
			t.Errorf("fit %s missing (%v)", name, got.FitErrors)
			continue
		}
		if math.Abs(gf.Gamma-wf.Gamma) > 1e-6 || gf.Used != wf.Used {
			t.Errorf("gamma %s: matrix-free %.12g (%d used), dense %.12g (%d used)", name, gf.Gamma, gf.Used, wf.Gamma, wf.Used)
		}
	}
}

// TestMatrixFreeMatchesDense analyses the same trained MLP layer (d = 900,
// small enough for the dense path) both ways: eigenvalues to 1e-9
// relative, every gamma (C, C_awd, C_pair, C_pair2, C_mb, M2) to 1e-6, and
// the scalars, bounds, alignment statistics and correlations alike, and
// the estimators of C and C_mb described as the dense path's. The
// Lanczos basis is smaller than d, so restarts and locking run.
func TestMatrixFreeMatchesDense(t *testing.T) {
	for _, tc := range []struct {
		loss     string
		centered bool
	}{{"ce", false}, {"mse", true}} {
		t.Run(fmt.Sprintf("%s/centered=%v", tc.loss, tc.centered), func(t *testing.T) {
			model, sub := trained(t, tc.loss, 3, 100, 30, 3, 2)
			cfg := smallConfig(tc.loss, 60, 10)
			cfg.Centered = tc.centered
			cfg.AlignWith = []string{NameC, NameCAWD, NameCPair}
			cfg.MatFree = MatFreeConfig{Tol: 1e-11, Block: 8, Basis: 100} // a small basis: restarts and locking run
			cfg.AlignBasis = AlignTopK                                    // the matrix-free path has no full eigenbasis
			if tc.centered {
				cfg.MiniBatchRule, cfg.Sigma2Per = MBStratified, Sigma2PerM // the other estimators
			}
			want, err := Analyze(context.Background(), model, sub, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := AnalyzeMatrixFree(context.Background(), model, sub, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Config.MatrixFree || got.MatrixFree == nil || got.MatrixFree.Restarts < 2 || got.MatrixFree.Jacobian != "kronecker" {
				t.Errorf("matrix-free record: config %v, info %+v", got.Config.MatrixFree, got.MatrixFree)
			}
			if got.D != want.D || got.N != want.N || got.K != want.K || got.M != want.M || got.In != want.In {
				t.Fatalf("shapes d=%d N=%d k=%d, dense %d %d %d", got.D, got.N, got.K, want.D, want.N, want.K)
			}
			for i, s := range want.Arrays.SampleIndices {
				if got.Arrays.SampleIndices[i] != s {
					t.Fatalf("sample %d: index %d, dense %d", i, got.Arrays.SampleIndices[i], s)
				}
			}
			compareResults(t, got, want)
			if got.Spectrum.LeftOut != want.Spectrum.LeftOut {
				t.Errorf("samples left out %d, dense %d", got.Spectrum.LeftOut, want.Spectrum.LeftOut)
			}
			// No commutator on this path: both forms are null, not 0.
			if !math.IsNaN(float64(got.Commutator)) || !math.IsNaN(float64(got.CommutatorCode)) {
				t.Errorf("commutators %v, %v; want NaN (not computed)", got.Commutator, got.CommutatorCode)
			}
			for _, name := range []string{NameC, NameCAWD, NameCPair, NameCPair2, NameCPair2Code, NameCMb, NameM2} {
				if _, ok := got.Fits[name]; !ok {
					t.Errorf("no fit for %s", name)
				}
			}
			// The same estimators, described in the same words: the
			// matrix-free C was said to be centered whether it was or not.
			for _, name := range []string{NameC, NameCMb} {
				if g, w := got.Estimators[name], want.Estimators[name]+", matrix-free"; g != w {
					t.Errorf("estimator of %s: %q, dense %q", name, g, w)
				}
			}
			if len(got.PairRules) != 1 || !pairRuleClose(got.PairRules[0], want.PairRules[0]) {
				t.Errorf("pair rules %+v, dense %+v", got.PairRules, want.PairRules)
			}
			for name, w := range want.Arrays.GammaK {
				g := got.Arrays.GammaK[name]
				for i := 2; i < len(w); i++ { // gamma(k') from the prefix fits, k' >= 3
					if len(g) != len(w) || math.Abs(g[i]-w[i]) > 1e-5 {
						t.Errorf("gamma(k) %s at k'=%d: %v, dense %v", name, i+1, g, w[i])
						break
					}
				}
			}
			for name, w := range want.PowerLawML {
				if g, ok := got.PowerLawML[name]; !ok || math.Abs(g.Alpha-w.Alpha) > 1e-6 {
					t.Errorf("power-law ML fit %s: %+v, dense %+v", name, g, w)
				}
			}
			gs, ws := got.Spectrum, want.Spectrum
			for _, v := range []struct {
				name      string
				got, want float64
			}{
				{"trace H", gs.TraceH, ws.TraceH}, {"trace C", gs.TraceC, ws.TraceC}, {"loc max", gs.LocMax, ws.LocMax},
				{"sigma2", float64(gs.Sigma2), float64(ws.Sigma2)}, {"sample loss", float64(got.SampleLoss), float64(want.SampleLoss)},
			} {
				if relDiff(v.got, v.want, 1e-300) > 1e-10 {
					t.Errorf("%s: matrix-free %.15g, dense %.15g", v.name, v.got, v.want)
				}
			}
			if gs.NegativeHn != ws.NegativeHn || gs.Pairs != ws.Pairs || gs.Positive != ws.Positive {
				t.Errorf("negative H_n %d, pairs %d, positive %d; dense %d %d %d", gs.NegativeHn, gs.Pairs, gs.Positive, ws.NegativeHn, ws.Pairs, ws.Positive)
			}
			if got.Bounds.Lower.Holds != want.Bounds.Lower.Holds || got.Bounds.Upper.Holds != want.Bounds.Upper.Holds || got.AllPSD != want.AllPSD {
				t.Errorf("bounds %+v, dense %+v", got.Bounds, want.Bounds)
			}
			if len(got.Alignment) != len(want.Alignment) {
				t.Fatalf("%d alignments, dense %d (%v)", len(got.Alignment), len(want.Alignment), got.AlignErrors)
			}
			for i, wa := range want.Alignment {
				ga := got.Alignment[i]
				if ga.Of != wa.Of || ga.M != wa.M || math.Abs(ga.RBar-wa.RBar) > 1e-6 || math.Abs(ga.RBarRand-wa.RBarRand) > 1e-9 ||
					relDiff(ga.KEff, wa.KEff, 0) > 1e-9 || math.Abs(ga.Z-wa.Z) > 1e-3 {
					t.Errorf("alignment %s: %+v, dense %+v", wa.Of, ga, wa)
				}
			}
			if len(got.MatrixFree.KEffEstimated) != 0 {
				t.Errorf("k_eff estimated for %v, want exact", got.MatrixFree.KEffEstimated)
			}
			for i, w := range want.Arrays.Corr {
				if math.Abs(got.Arrays.Corr[i]-w) > 1e-6 {
					t.Errorf("correlation %d: %v, dense %v", i, got.Arrays.Corr[i], w)
					break
				}
			}
			for i, w := range want.Arrays.Lambda1 {
				if relDiff(got.Arrays.Lambda1[i], w, 1e-12*ws.LocMax) > 1e-10 {
					t.Errorf("lambda_1(H_%d): %v, dense %v", i, got.Arrays.Lambda1[i], w)
					break
				}
			}
		})
	}
}

func pairRuleClose(a, b PairRule) bool {
	return a.Rule == b.Rule && a.Pairs == b.Pairs && relDiff(float64(a.Sigma2D), float64(b.Sigma2D), 0) < 1e-12 && relDiff(float64(a.Sigma2M), float64(b.Sigma2M), 0) < 1e-12 &&
		slices.Equal(a.Feeds, b.Feeds)
}

// tinyImages is a data set of n random 1 x 8 x 8 images with labels below
// classes, balanced.
func tinyImages(rng *rand.Rand, n, classes int) *nn.Dataset {
	ds := &nn.Dataset{Name: "tiny", N: n, C: 1, H: 8, W: 8, Classes: classes, X: make([]float32, n*64), Y: make([]int, n)}
	for i := range ds.X {
		ds.X[i] = float32(rng.Float64())
	}
	for i := range ds.Y {
		ds.Y[i] = i % classes
	}
	return ds
}

// TestMatrixFreeConvMatchesDense analyses every layer of a tiny CNN (the
// four convolutions, stored and formed Jacobians, and the two fully
// connected layers) in one AnalyzeLayers call and compares each with a
// dense reference built from the explicit per-sample Jacobians (checked
// against finite-difference Hessians in package nn): H, C and M2 as d x d
// matrices, C_mb from explicit mini-batch gradients, the full eigensolver,
// Project and FitPowerLaw.
func TestMatrixFreeConvMatchesDense(t *testing.T) {
	model := tinyCNN(t, 51)
	rng := rand.New(rand.NewPCG(51, 52))
	data := tinyImages(rng, 60, 3)
	for _, tc := range []struct {
		loss     nn.Loss
		centered bool
	}{{nn.CE, false}, {nn.MSE, true}} {
		t.Run(fmt.Sprintf("%s/centered=%v", tc.loss, tc.centered), func(t *testing.T) {
			cfg := smallConfig(tc.loss.String(), 12, 5)
			cfg.Centered = tc.centered
			if tc.centered {
				cfg.MiniBatchRule = MBStratified
			}
			cfg.MatFree = MatFreeConfig{Tol: 1e-11, Block: 2}
			layers := model.WeightLayers()
			rs, err := AnalyzeLayers(context.Background(), model, data, cfg, layers, nil)
			if err != nil {
				t.Fatal(err)
			}
			idx := rs[0].Arrays.SampleIndices
			all, err := model.LayerSamples(layers, data.Float64(idx), data.Labels(idx), tc.loss)
			if err != nil {
				t.Fatal(err)
			}
			jacs := map[string]bool{}
			for i, ls := range all {
				got := rs[i]
				jacs[got.MatrixFree.Jacobian] = true
				if got.Layer != ls.Layer || got.D != ls.D() {
					t.Fatalf("result %d: layer %s d=%d, want %s d=%d", i, got.Layer, got.D, ls.Layer, ls.D())
				}
				want := denseConvReference(t, ls, cfg)
				t.Run(ls.Layer, func(t *testing.T) { compareResults(t, got, want) })
			}
			for _, j := range []string{"kronecker", "stored", "formed"} {
				if !jacs[j] {
					t.Errorf("no layer with a %s Jacobian", j)
				}
			}
		})
	}
}

// denseConvReference is the analysis of one layer from dense matrices
// built by the definitions: eigenvalues of H and the fits of C, M2 and C_mb
// (over one shuffled pass centred on the full gradient, or over the
// consecutive AWD batches).
func denseConvReference(t *testing.T, ls *nn.LayerSamples, cfg Config) *Result {
	n, d, l, b := ls.N, ls.D(), ls.L, cfg.Batch
	h := denseFromJ(ls, QuantityH, 1/float64(n))
	m2 := denseFromJ(ls, QuantityM2, 1/float64(n))
	c := denseFromJ(ls, QuantityC, 1/float64(b*n))
	g := linalg.NewDense(n, d) // g_s = J_s^T G_s
	for s := 0; s < n; s++ {
		j := ls.Jacobian(s, nil, nil)
		for k := 0; k < l; k++ {
			for i := 0; i < d; i++ {
				g.Data[s*d+i] += j[k*d+i] * ls.G[s*l+k]
			}
		}
	}
	batches := ShuffledBatches(n, b, cfg.Seed) // C_mb of one shuffled pass, centred on gbar
	if cfg.MiniBatchRule == MBStratified {
		batches = nil
		for s := 0; s+b <= n; s += b {
			batches = append(batches, seq(s, b))
		}
	}
	nb := len(batches)
	gb := linalg.NewDense(nb, d)
	for bi, idx := range batches {
		for _, s := range idx {
			for i := 0; i < d; i++ {
				gb.Data[bi*d+i] += g.Data[s*d+i] / float64(len(idx))
			}
		}
	}
	cmb := linalg.NewDense(d, d)
	linalg.Gemm(true, false, 1/float64(nb), gb, gb, 0, cmb)
	gbar := make([]float64, d)
	for s := 0; s < n; s++ {
		for i := range gbar {
			gbar[i] += g.Data[s*d+i] / float64(n)
		}
	}
	if cfg.Centered {
		syr(c, -1/float64(b), gbar)
	}
	switch {
	case cfg.MiniBatchRule == MBShuffled:
		syr(cmb, -1, gbar)
	case cfg.Centered:
		gbm := make([]float64, d)
		for bi := 0; bi < nb; bi++ {
			for i := range gbm {
				gbm[i] += gb.Data[bi*d+i] / float64(nb)
			}
		}
		syr(cmb, -1, gbm)
	}
	e, err := TopH(h, cfg.K)
	if err != nil {
		t.Fatal(err)
	}
	r := &Result{Fits: map[string]Fit{}}
	r.Arrays.Lambda = e.Values
	for name, x := range map[string]linalg.Dense{NameC: c, NameM2: m2, NameCMb: cmb} {
		ci, _ := Project(x, e.Vectors, false)
		f, err := FitPowerLaw(e.Values, ci)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r.Fits[name] = f
	}
	return r
}

// TestMatrixFreeErrors: bad layers and k, and a memory budget too small,
// whose error names the need and the largest k that fits.
func TestMatrixFreeErrors(t *testing.T) {
	model := tinyCNN(t, 61)
	rng := rand.New(rand.NewPCG(61, 62))
	data := tinyImages(rng, 40, 2)
	cfg := smallConfig("ce", 12, 5)
	ctx := context.Background()
	if _, err := AnalyzeLayers(ctx, model, data, cfg, []string{"features.1"}, nil); err == nil {
		t.Error("a ReLU accepted as a layer")
	}
	if _, err := AnalyzeLayers(ctx, model, data, cfg, []string{"features.0", "features.0"}, nil); err == nil {
		t.Error("a layer listed twice accepted")
	}
	big := cfg
	big.K = 19 // features.0 has d = 18
	if _, err := AnalyzeLayers(ctx, model, data, big, []string{"features.0"}, nil); err == nil || !strings.Contains(err.Error(), "k=19") {
		t.Errorf("k > d: err = %v", err)
	}
	// A budget between the needs of k = 6 and k = 12.
	info, _ := model.LayerInfo("features.8")
	small := cfg
	small.K = 6
	p6 := newMFPlan(model, "features.8", 40, small)
	p12 := newMFPlan(model, "features.8", 40, cfg)
	if p6.factorBytes()+p6.workBytes() >= p12.factorBytes()+p12.workBytes() {
		t.Fatalf("memory plan does not grow with k (d=%d)", info.D())
	}
	tight := cfg
	tight.Memory = (p6.factorBytes() + p6.workBytes() + p12.factorBytes() + p12.workBytes()) / 2
	_, err := AnalyzeLayers(ctx, model, data, tight, []string{"features.8"}, nil)
	if err == nil || !strings.Contains(err.Error(), "needs about") || !strings.Contains(err.Error(), "largest k that fits") {
		t.Fatalf("tight memory: err = %v", err)
	}
	var kfit int
	if _, e := fmt.Sscanf(err.Error()[strings.LastIndex(err.Error(), "is ")+3:], "%d", &kfit); e != nil || kfit < 6 || kfit >= 12 {
		t.Errorf("largest k %d from %q", kfit, err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := AnalyzeLayers(canceled, model, data, cfg, []string{"features.3"}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
}

// TestMatrixFreeConvFloat32 analyses every layer of a small CNN with the
// formed Jacobian kept in float32 and in float64 (a memory budget makes
// room for all of J): the formed layer's float32 cache holds all of J in
// half the bytes, its eigenvalues agree to 1e-5 of lambda_1 and its gammas
// to 1e-4; the other layers, which ignore the switch, agree exactly.
func TestMatrixFreeConvFloat32(t *testing.T) {
	model := tinyCNN(t, 53)
	rng := rand.New(rand.NewPCG(53, 54))
	data := tinyImages(rng, 60, 3)
	cfg := smallConfig("ce", 12, 5)
	cfg.Memory = 4 << 30
	cfg.MatFree = MatFreeConfig{Tol: 1e-9, Block: 2}
	layers := model.WeightLayers()
	r64, err := AnalyzeLayers(context.Background(), model, data, cfg, layers, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MatFree.JacobianFloat32 = true
	r32, err := AnalyzeLayers(context.Background(), model, data, cfg, layers, nil)
	if err != nil {
		t.Fatal(err)
	}
	formed := 0
	for i, got := range r32 {
		want := r64[i]
		if !got.Config.MatFree.JacobianFloat32 {
			t.Errorf("%s: the result's config does not record jacobian_float32", got.Layer)
		}
		if got.MatrixFree.Jacobian != "formed" {
			if !slices.Equal(got.Arrays.Lambda, want.Arrays.Lambda) {
				t.Errorf("%s (%s Jacobian): eigenvalues changed with the float32 switch", got.Layer, got.MatrixFree.Jacobian)
			}
			continue
		}
		formed++
		if !slices.ContainsFunc(got.Notes, func(n string) bool { return strings.HasPrefix(n, "formed Jacobian kept in float32: 100% of") }) {
			t.Errorf("%s: no note of the float32 Jacobian kept whole: %q", got.Layer, got.Notes)
		}
		if full := int64(4 * got.N * model.Arch.Outputs * got.D); got.MatrixFree.JacobianCache != full || want.MatrixFree.JacobianCache != 2*full {
			t.Errorf("%s: Jacobian cache %d bytes in float32, %d in float64; want %d and %d", got.Layer, got.MatrixFree.JacobianCache, want.MatrixFree.JacobianCache, full, 2*full)
		}
		l1 := math.Abs(want.Arrays.Lambda[0])
		var worstL, worstG float64
		for j, w := range want.Arrays.Lambda {
			e := math.Abs(got.Arrays.Lambda[j]-w) / l1
			if !(e < 1e-5) {
				t.Errorf("%s: lambda_%d: float32 J %.10g, float64 %.10g (%.2g of lambda_1)", got.Layer, j+1, got.Arrays.Lambda[j], w, e)
			}
			worstL = max(worstL, e)
		}
		for name, wf := range want.Fits {
			gf, ok := got.Fits[name]
			if e := math.Abs(gf.Gamma - wf.Gamma); !ok || !(e < 1e-4) {
				t.Errorf("%s: gamma %s: float32 J %.8g, float64 %.8g", got.Layer, name, gf.Gamma, wf.Gamma)
			} else {
				worstG = max(worstG, e)
			}
		}
		t.Logf("%s: eigenvalues within %.2g of lambda_1, gammas within %.2g", got.Layer, worstL, worstG)
	}
	if formed == 0 {
		t.Fatal("no layer with a formed Jacobian")
	}
}

// cancelAt cancels its context when the stage named stage starts.
type cancelAt struct {
	stage  string
	cancel context.CancelFunc
	seen   bool
}

func (p *cancelAt) Start(stage string, total int) {
	if stage == p.stage {
		p.seen = true
		p.cancel()
	}
}
func (p *cancelAt) Add(int) {}
func (p *cancelAt) Finish() {}

// TestMatrixFreeCancelInStatistics: a context cancelled while the
// matrix-free path measures its statistics stops the analysis with
// context.Canceled, as at every other stage, instead of finishing it and
// returning a Result as if nothing had been asked.
func TestMatrixFreeCancelInStatistics(t *testing.T) {
	model, sub := trained(t, "ce", 3, 40, 8, 1, 1)
	cfg := smallConfig("ce", 20, 10)
	cfg.MatrixFree = true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &cancelAt{stage: "statistics fc2", cancel: cancel}
	r, err := Analyze(ctx, model, sub, cfg, p)
	if !p.seen {
		t.Fatal("no statistics stage started")
	}
	if !errors.Is(err, context.Canceled) || r != nil {
		t.Errorf("cancelled in the statistics: result %v, err %v; want no result and context.Canceled", r != nil, err)
	}
}

// TestMatFreeConfigChecked: the matrix-free options are checked with the
// rest of the Config. A Tol of +Inf (or of 1 or more, silently) took any
// vectors for converged eigenpairs and returned a Result whose report could not be written (JSON
// has no infinity); NaN failed deep in the eigensolve without naming the
// option.
func TestMatFreeConfigChecked(t *testing.T) {
	for name, c := range map[string]struct {
		mc   MatFreeConfig
		want string
	}{
		"tol +Inf":   {MatFreeConfig{Tol: math.Inf(1)}, "MatFree.Tol=+Inf"},
		"tol NaN":    {MatFreeConfig{Tol: math.NaN()}, "MatFree.Tol=NaN"},
		"tol -1":     {MatFreeConfig{Tol: -1}, "MatFree.Tol=-1"},
		"tol 1":      {MatFreeConfig{Tol: 1}, "MatFree.Tol=1: must be below 1"},
		"tol 10":     {MatFreeConfig{Tol: 10}, "MatFree.Tol=10: must be below 1"},
		"block -1":   {MatFreeConfig{Block: -1}, "MatFree.Block=-1"},
		"basis -1":   {MatFreeConfig{Basis: -1}, "MatFree.Basis=-1"},
		"defaults":   {MatFreeConfig{}, ""},
		"tol chosen": {MatFreeConfig{Tol: 1e-6, Block: 4, Basis: 100}, ""},
	} {
		cfg := DefaultConfig("ce")
		cfg.MatrixFree, cfg.MatFree = true, c.mc
		err := cfg.Validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want an error naming %q", name, err, c.want)
		}
	}
	model, sub := trained(t, "ce", 3, 40, 8, 1, 1)
	cfg := smallConfig("ce", 20, 10)
	cfg.MatrixFree, cfg.MatFree.Tol = true, math.Inf(1)
	if r, err := Analyze(context.Background(), model, sub, cfg, nil); err == nil || r != nil {
		t.Errorf("Analyze with Tol +Inf: result %v, err %v; want an error", r != nil, err)
	}
	// A basis too small for k and two blocks is refused before any work,
	// naming the option and the smallest basis that fits; the eigensolver
	// refused it after the per-sample pass, naming neither.
	cfg.MatFree = MatFreeConfig{Basis: 25, Block: 4}
	want := "MatFree.Basis=25: too small for k=20 and Lanczos blocks of 4: give at least k + 2 blocks = 28"
	if _, err := cfg.ForModel(model); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("ForModel with basis 25: %v, want %q", err, want)
	}
	if _, err := Analyze(context.Background(), model, sub, cfg, nil); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Analyze with basis 25: %v, want %q", err, want)
	}
	cfg.MatFree.Basis = 28
	if _, err := cfg.ForModel(model); err != nil {
		t.Errorf("ForModel with basis 28: %v", err)
	}
}

// TestLayersKAgainstSmallestD: a k above the d of several of the layers
// listed is refused naming the smallest of them, whose d bounds the k
// that fits every layer; the first listed was named, and the k its error
// gave was refused again by the next layer.
func TestLayersKAgainstSmallestD(t *testing.T) {
	model := tinyCNN(t, 63)
	rng := rand.New(rand.NewPCG(63, 64))
	data := tinyImages(rng, 40, 2)
	layers := []string{"features.3", "features.0", "fc"} // d = 54, 18, 80
	cfg := smallConfig("ce", 60, 5)
	want := "layer features.0 has d=18 weights, so k must be in [2, 18]"
	if _, err := AnalyzeLayers(context.Background(), model, data, cfg, layers, nil); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("AnalyzeLayers with k=60: err = %v, want %q", err, want)
	}
	if err := Preflight(model, data, cfg, layers, 0, 0); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Preflight with k=60: err = %v, want %q", err, want)
	}
	cfg.K = 18
	if err := Preflight(model, data, cfg, layers, 0, 0); err != nil {
		t.Errorf("Preflight with k=18, the smallest d: %v", err)
	}
}

// TestConvSigma2Null: a convolution layer has no matched-pair dtheta_n,
// so its sigma^2 is null in results.json, not the 0 it was recorded as
// (from which C_awd = (sigma^2/B) M2 would read as zero); a fully
// connected layer of the same analysis has its sigma^2 > 0.
func TestConvSigma2Null(t *testing.T) {
	model := tinyCNN(t, 65)
	rng := rand.New(rand.NewPCG(65, 66))
	data := tinyImages(rng, 40, 2)
	rs, err := AnalyzeLayers(context.Background(), model, data, smallConfig("ce", 6, 5), []string{"features.0", "fc"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	conv, fc := rs[0].Spectrum.Sigma2, rs[1].Spectrum.Sigma2
	if !math.IsNaN(float64(conv)) {
		t.Errorf("features.0: sigma2 %v, want NaN (no matched-pair dtheta)", conv)
	}
	if !(fc > 0) || math.IsInf(float64(fc), 0) {
		t.Errorf("fc: sigma2 %v, want > 0", fc)
	}
	b, err := json.Marshal(rs[0].Spectrum)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"sigma2":null`) {
		t.Errorf("features.0 spectrum in JSON: %s, want sigma2 null", b)
	}
}

// TestMatFreeNoKFits: when no k fits the budget, the refusal names the
// samples given and says to use fewer, and fewer layers only when several
// were asked.
func TestMatFreeNoKFits(t *testing.T) {
	model := tinyCNN(t, 61)
	data := tinyImages(rand.New(rand.NewPCG(61, 62)), 40, 2)
	cfg := smallConfig("ce", 12, 5)
	cfg.Memory = 1 << 10
	for _, layers := range [][]string{{"features.8"}, {"features.0", "features.8"}} {
		_, err := AnalyzeLayers(context.Background(), model, data, cfg, layers, nil)
		if err == nil || !strings.Contains(err.Error(), "on the N=40 samples given") ||
			!strings.Contains(err.Error(), "no k >= 2 fits: use fewer samples (--per-class, or a smaller data set)") ||
			strings.Contains(err.Error(), "fewer layers") != (len(layers) > 1) {
			t.Errorf("layers %v: %v", layers, err)
		}
	}
}

// TestNoMatchedPairSameRecord: with fc1 zeroed, fc2's input a_n is 0 for
// every sample, so no pair is matched with a dtheta_n. Both paths record
// sigma^2 as null, no C_awd and the same fit error saying why, for sigma^2
// per d and per m. The dense path recorded sigma^2 = 0 and a C_awd of
// zeros, while the matrix-free path recorded null and no C_awd.
func TestNoMatchedPairSameRecord(t *testing.T) {
	model, sub := trained(t, "ce", 3, 40, 12, 1, 1)
	p, ok := model.Param("fc1.weight")
	if !ok {
		t.Fatal("no fc1.weight")
	}
	clear(p.Data) // the MLP has no biases: fc1's outputs are ReLU(0) = 0
	for _, per := range []string{Sigma2PerD, Sigma2PerM} {
		t.Run("sigma2-per="+per, func(t *testing.T) {
			cfg := smallConfig("ce", 20, 10)
			cfg.Layer, cfg.AlignBasis, cfg.Sigma2Per = "fc2", AlignTopK, per
			cfg.Pair2, cfg.Pair2Code = true, true
			dense, err := Analyze(context.Background(), model, sub, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			mf, err := AnalyzeMatrixFree(context.Background(), model, sub, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []struct {
				path string
				r    *Result
			}{{"dense", dense}, {"matrix-free", mf}} {
				b, err := json.Marshal(r.r.Spectrum)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), `"sigma2":null`) {
					t.Errorf("%s: spectrum %s, want sigma2 null", r.path, b)
				}
				if c, ok := r.r.Arrays.C[NameCAWD]; ok {
					t.Errorf("%s: C_awd recorded (%v) without a matched pair", r.path, c)
				}
				if f, ok := r.r.Fits[NameCAWD]; ok {
					t.Errorf("%s: C_awd fitted (%+v) without a matched pair", r.path, f)
				}
				if got := r.r.FitErrors[NameCAWD]; got != errNoPairs.Error() {
					t.Errorf("%s: C_awd's fit error %q, want %q", r.path, got, errNoPairs)
				}
				if got, ok := r.r.FitErrors["ml_"+NameCAWD]; ok {
					t.Errorf("%s: an ML fit of C_awd was tried (%q)", r.path, got)
				}
				// The other covariances of matched pairs are missing
				// too, each with the reason, the same on both paths.
				for _, name := range []string{NameCPair, NameCPair2, NameCPair2Code} {
					if c, ok := r.r.Arrays.C[name]; ok {
						t.Errorf("%s: %s recorded (%v) without a matched pair", r.path, name, c)
					}
					if got, want := r.r.FitErrors[name], dense.FitErrors[name]; got == "" || got != want {
						t.Errorf("%s: %s's fit error %q, want the dense path's %q, not empty", r.path, name, got, want)
					}
				}
				if len(r.r.PairRules) != 1 || r.r.PairRules[0].Pairs != 0 || len(r.r.PairRules[0].Feeds) != 0 {
					t.Errorf("%s: pair rules %+v, want one with no pair feeding nothing", r.path, r.r.PairRules)
				} else if b, err := json.Marshal(r.r.PairRules[0]); err != nil || !strings.Contains(string(b), `"sigma2_d":null,"sigma2_m":null`) {
					t.Errorf("%s: pair rule recorded as %s (%v), want sigma^2 null: a mean over no pair", r.path, b, err)
				}
			}
		})
	}
}
