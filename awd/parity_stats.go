package awd

import (
	"fmt"
	"math"
	"slices"

	"github.com/awd-toolkit/awd/linalg"
)

// PairRule summarises the matched pairs of one rule: how many samples have
// a partner (Pairs; a_n = 0 excluded), sigma^2 = mean ||dtheta_n||^2
// divided by d (Sigma2D) and by m (Sigma2M; both null without a pair), and
// the covariances it feeds.
type PairRule struct {
	Rule    string   `json:"rule"`
	Pairs   int      `json:"pairs"`
	Sigma2D Float    `json:"sigma2_d"`
	Sigma2M Float    `json:"sigma2_m"`
	Feeds   []string `json:"feeds"`
}

// newPairRule records a rule's pairs and sigma^2: the mean over no pairs is
// undefined (NaN, null in the JSON), not 0.
func newPairRule(rule string, pairs int, sigma2D, sigma2M float64) PairRule {
	if pairs == 0 {
		sigma2D, sigma2M = math.NaN(), math.NaN()
	}
	return PairRule{Rule: rule, Pairs: pairs, Sigma2D: Float(sigma2D), Sigma2M: Float(sigma2M)}
}

// Scales compares the sizes of the covariances in H's eigenbasis: each ratio
// is the geometric mean over the top-k directions of c_i(X) / c_i(Y) (the
// ratio of the fits at the centre of the data; exp of the intercept
// difference when the gammas agree). C_awd is (sigma^2/B) M2 with sigma^2
// per d (CAWDD) or per m (CAWDM); Sigma2Per says which C_awd the fits use.
type Scales struct {
	Sigma2Per        string `json:"sigma2_per"`
	COverCAWDD       Float  `json:"c_over_cawd_d"`
	COverCAWDM       Float  `json:"c_over_cawd_m"`
	CPairOverCAWDD   Float  `json:"cpair_over_cawd_d"`
	CPairOverCAWDM   Float  `json:"cpair_over_cawd_m"`
	CPair2OverCPair  Float  `json:"cpair2_over_cpair"`
	CMbOverC         Float  `json:"cmb_over_c"`
	CPair2CodeOverC2 Float  `json:"cpair2_code_over_cpair2"`
}

// finalizeParity finishes the code's accumulators of acc into cv, sets
// sigma^2 per cfg.Sigma2Per and records the pair rules and the estimators
// in r.
func finalizeParity(acc *Accumulation, mats *Matrices, cv *Covariances, r *Result) error {
	cfg := acc.Info.Config
	if acc.MB != nil {
		if slices.Contains(cfg.AlignWith, NameCMb) {
			c, err := acc.MB.Finish()
			if err != nil {
				return err
			}
			cv.X[NameCMb] = c
		} else {
			// Only its c_i are measured: from the batch gradients, at a
			// sixth of the d x d matrix's cost (nb = N/B rows against d).
			f, err := acc.MB.factor()
			if err != nil {
				return err
			}
			cv.factors = map[string]lowRank{NameCMb: f}
		}
	}
	if acc.Code != nil {
		// Without a single pair to measure (a layer whose inputs are all
		// zero) the code's C_pair2 is a fit that cannot be made: said in
		// FitErrors, and the rest of the analysis stands.
		if c, err := acc.Code.Finish(); err != nil {
			r.addFitError(NameCPair2Code, err)
		} else {
			cv.X[NameCPair2Code] = c
		}
	}
	first := newPairRule(cfg.stateRule(), mats.NPairs, mats.Sigma2, mats.Sigma2*float64(acc.Info.In))
	for _, n := range []string{NameCPair, NameCPair2, NameCPair2Code, NameCAWD} {
		if _, ok := cv.X[n]; ok || n == NameCAWD && mats.NPairs > 0 {
			first.Feeds = append(first.Feeds, n)
		}
	}
	r.PairRules = []PairRule{first}
	if acc.Anchor != nil {
		pm, err := acc.Anchor.Finish(cfg.Batch)
		if err != nil {
			return err
		}
		pr := newPairRule(PairsAnchor, pm.NPairs, pm.Sigma2, pm.Sigma2*float64(acc.Info.In))
		for n, x := range map[string]linalg.Dense{NameCPair: pm.CPair, NameCPair2: pm.CPair2, NameCPair2Code: pm.CPair2Code} {
			if x.Data != nil {
				cv.X[n+AnchorSuffix] = x
				pr.Feeds = append(pr.Feeds, n+AnchorSuffix)
			}
		}
		r.PairRules = append(r.PairRules, pr)
	}
	cv.sigma2D, cv.sigma2M = float64(first.Sigma2D), float64(first.Sigma2M)
	if cfg.Sigma2Per == Sigma2PerM {
		cv.Sigma2 = float64(first.Sigma2M)
	}
	if mats.NPairs == 0 {
		// No dtheta_n to average: sigma^2 is undefined, not 0.
		cv.Sigma2 = math.NaN()
		r.addNoPairErrors(cfg, mats.N)
	}
	cv.boot = acc.Boot
	r.Estimators = describeEstimators(cfg, acc, r)
	return nil
}

// describeEstimators says in words which estimator produced each number.
func describeEstimators(cfg Config, acc *Accumulation, r *Result) map[string]string {
	d := acc.Info.M * acc.Info.In
	e := map[string]string{}
	e[NameC] = cEstimator(cfg)
	e[NameM2] = "M2 = (1/N) sum_n H_n^2 (the code's H_2_d up to 1/B)"
	sig := "sigma^2 = mean ||dtheta_n||^2 / d"
	if cfg.Sigma2Per == Sigma2PerM {
		sig = "sigma^2 = mean ||dtheta_n||^2 / m"
	}
	e[NameCAWD] = fmt.Sprintf("C_awd = (sigma^2/B) M2, %s over the %s pairs (Thm 3.4); its gamma is M2's, the code's gamma_awd ('H_2_d' vs 'Hessian')", sig, cfg.stateRule())
	pairs := map[string]string{
		PairsBalanced: "balanced pairs (batch 2j against 2j+1, optimal one-to-one matching in each class by input distance)",
		PairsAnchor:   fmt.Sprintf("anchor pairs (the code's: %d random same-class anchors per batch of %d of one shuffled pass, nearest in the layer-input activity, self excluded, not one-to-one)", AnchorPerClass, AnchorBatch),
	}
	for _, pr := range r.PairRules {
		suf := ""
		if pr.Rule == PairsAnchor && cfg.Pairs == PairsBoth {
			suf = AnchorSuffix
		}
		e[NameCPair+suf] = "C_pair = (1/B)(1/N_pairs) sum_n (H_n dtheta_n)(H_n dtheta_n)^T on the " + pairs[pr.Rule] + " (the code's C1_dia, divided by B not 64)"
		e[NameCPair2+suf] = "C_pair2 = (1/B)(1/N_pairs) sum_n (H_n dtheta_n + vec(delta_n da_n^T))(same)^T, each sample's full square (Eq. 58), on the " + pairs[pr.Rule]
		div := cfg.Batch
		if pr.Rule == PairsAnchor {
			div = AnchorBatch
		}
		e[NameCPair2Code+suf] = fmt.Sprintf("the code's C_pair2 ('C' = C1 + C2 + C3 of AWD_cuda.cal_C_cuda): per batch s = sum H_n dtheta_n, t = sum vec(delta_n da_n^T), sum_b (s s^T + s t^T + t t^T)/(%d N), symmetric part, on the %s", div, pairs[pr.Rule])
	}
	if cfg.MiniBatch {
		e[NameCMb] = cmbEstimator(cfg)
	}
	if alignFull(cfg, d) {
		e["alignment"] = "rbar over the n(n-1)/2 pairs of X in H's full eigenbasis outside its null space (n = d - null_directions), R_ij = X_ij/sqrt(|X_ii X_jj|) (the code's compute_scale_invariant_stats, App. D, which takes all d directions)"
	} else {
		e["alignment"] = "rbar over the pairs of the top-k block of X in H's eigenbasis, directions of H's null space and pairs with a non-positive diagonal skipped"
	}
	e["commutator"] = "||HC - CH||_F / (||H||_F ||C||_F) (the code's utils.cal_commutation)"
	e["commutator_code"] = "||HC - CH||_F / ||CH||_F (the code's Figures.ipynb compute_commutativity)"
	if len(cfg.Interventions) > 0 {
		sp := cfg.Suppression
		if sp.Protocol == ProtocolRebuild {
			e["suppression"] = fmt.Sprintf("rebuild: H' and M2' rebuilt from the modified spectra of %s, H' re-diagonalised, fit of s'_i on lambda'_i (tau %g)", perClassWords(sp.PerClass), sp.Tau)
		} else {
			e["suppression"] = fmt.Sprintf("paper: diagonals h'_i, s'_i of the modified H', M2' of %s read in the original H's top-k eigenbasis, fit of s' on h' (Ablation_exp.ipynb; tau %g)", perClassWords(sp.PerClass), sp.Tau)
		}
	}
	return e
}

// cEstimator says which C cfg asks for, in the words of both paths:
// uncentered (the paper's text) or, with Centered, minus gbar gbar^T / B.
func cEstimator(cfg Config) string {
	if cfg.Centered {
		return "C = (1/B)((1/N) sum_n g_n g_n^T - gbar gbar^T), centered"
	}
	return "C = (1/B)(1/N) sum_n g_n g_n^T, uncentered (Eq. 2 as the paper's text; the code's Covar is C_mb)"
}

// cmbEstimator says which C_mb cfg asks for, in the words of both paths.
func cmbEstimator(cfg Config) string {
	if cfg.MiniBatchRule == MBShuffled {
		return fmt.Sprintf("C_mb = (1/nb) sum_b g_b g_b^T - gbar gbar^T over one shuffled pass in batches of %d, gbar the full gradient (the code's Covar, utils.cal_noise_covar_minibatch)", cfg.Batch)
	}
	c := "C_mb = (1/nb) sum_b g_b g_b^T over the balanced AWD batches (stratified: no between-class variance)"
	if cfg.Centered {
		c += ", minus the mean batch gradient's outer product"
	}
	return c
}

func perClassWords(p int) string {
	if p <= 0 {
		return "every analysis sample"
	}
	return fmt.Sprintf("%d samples per class", p)
}

// alignFull reports whether the alignment uses H's full eigenbasis.
func alignFull(cfg Config, d int) bool {
	return cfg.AlignBasis == AlignFull || cfg.AlignBasis == AlignAuto && d <= AlignFullMaxD
}

// eigenNeed is how many eigenpairs of H the statistics need: all of them
// for the full alignment, k' for the bootstrap, else k.
func eigenNeed(cfg Config, d int) int {
	switch {
	case alignFull(cfg, d) && len(cfg.AlignWith) > 0:
		return d
	case cfg.boot():
		return bootBasis(cfg.K, d)
	}
	return cfg.K
}

// boot reports whether the bootstrap runs.
func (c Config) boot() bool { return c.Extras.Bootstrap > 0 }

// topOf returns the leading k eigenpairs of e (a view of its vectors).
func topOf(e linalg.Eigen, k int) linalg.Eigen {
	return linalg.Eigen{Values: e.Values[:k], Vectors: e.Vectors.View(0, 0, e.Vectors.Rows, k)}
}

// parityStats adds to r what parity and the error bars derive from the
// projections: gamma(k), the maximum-likelihood fits, the scales and the
// bootstrap (eAll holds at least eigenNeed eigenpairs).
func parityStats(r *Result, cv Covariances, eAll linalg.Eigen, cfg Config) {
	k := cfg.K
	// H's null space is left out (NullFloor): gamma(k'), the
	// maximum-likelihood fits and the scales see its directions as zeros.
	floor := NullFloor(eAll.Values, cv.H.Rows)
	keep := inRange(r.Arrays.Lambda, floor)
	lambda := withoutNull(r.Arrays.Lambda, keep)
	cs := make(map[string][]float64, len(r.Arrays.C))
	for name, c := range r.Arrays.C {
		cs[name] = withoutNull(c, keep)
	}
	if cfg.Extras.GammaK {
		r.GammaK, r.Arrays.GammaK = map[string]GammaK{}, map[string][]float64{}
		for name, c := range cs {
			if name == NameM2 {
				continue // the same curve as C_awd
			}
			g := GammaPrefix(lambda, c)
			r.Arrays.GammaK[name] = g
			r.GammaK[name] = summarizeGammaK(g)
		}
	}
	if cfg.Extras.PowerLawML {
		r.PowerLawML = map[string]MLFit{}
		names, series := []string{"H"}, [][]float64{lambda}
		for _, name := range sortedKeys(cs) {
			if name != NameM2 { // M2's fit is C_awd's: the fit is scale-free
				names, series = append(names, name), append(series, cs[name])
			}
		}
		// The fits are independent (each seeded alike): one per goroutine.
		fits, errs := make([]MLFit, len(names)), make([]error, len(names))
		parallelEach(len(names), func(i int) {
			fits[i], errs[i] = FitPowerLawML(series[i], cfg.Extras.MLReps, cfg.Seed)
		})
		for i, name := range names {
			if errs[i] == nil {
				r.PowerLawML[name] = fits[i]
			} else {
				r.addFitError("ml_"+name, errs[i])
			}
		}
	}
	if len(r.PairRules) > 0 && r.PairRules[0].Rule == PairsAnchor {
		r.Spectrum.Pairs = r.PairRules[0].Pairs // samples with an anchor (not one-to-one couples)
	}
	sc := &Scales{Sigma2Per: cfg.Sigma2Per}
	nan := Float(math.NaN())
	sc.COverCAWDD, sc.COverCAWDM, sc.CPairOverCAWDD, sc.CPairOverCAWDM, sc.CPair2OverCPair, sc.CMbOverC, sc.CPair2CodeOverC2 = nan, nan, nan, nan, nan, nan, nan
	if m2, ok := cs[NameM2]; ok && cv.B > 0 {
		ad, am := make([]float64, k), make([]float64, k)
		for i, v := range m2 {
			ad[i], am[i] = cv.sigma2D/float64(cv.B)*v, cv.sigma2M/float64(cv.B)*v
		}
		sc.COverCAWDD, sc.COverCAWDM = geoRatio(cs[NameC], ad), geoRatio(cs[NameC], am)
		if cp, ok := cs[NameCPair]; ok {
			sc.CPairOverCAWDD, sc.CPairOverCAWDM = geoRatio(cp, ad), geoRatio(cp, am)
		}
	}
	sc.CPair2OverCPair = geoRatio(cs[NameCPair2], cs[NameCPair])
	sc.CMbOverC = geoRatio(cs[NameCMb], cs[NameC])
	sc.CPair2CodeOverC2 = geoRatio(cs[NameCPair2Code], cs[NameCPair2])
	r.Scales = sc
	if cfg.boot() && cv.boot != nil {
		kp := bootBasis(k, cv.H.Rows)
		groups := cv.boot.project(eAll.Vectors.View(0, 0, eAll.Vectors.Rows, kp))
		est := map[string]float64{NameC: r.Fits[NameC].Gamma, NameCAWD: r.Fits[NameCAWD].Gamma}
		r.Bootstrap = bootstrapGammas(groups, k, cfg.Extras.Bootstrap, cv.B, cfg.Centered, cfg.Extras.BootstrapLevel, cfg.Seed, floor, est)
		r.Jackknife = jackknifeGammas(groups, k, cv.B, cfg.Centered, cfg.Extras.BootstrapLevel, floor, est)
		r.Estimators["bootstrap"] = fmt.Sprintf("%d replicates of %d random groups of samples drawn with replacement, the groups' C, H, M2 sums merged with multiplicities and projected on H's top %d eigenvectors (Ritz pairs)", cfg.Extras.Bootstrap, len(groups), kp)
		r.Estimators["jackknife"] = fmt.Sprintf("delete-a-group jackknife over the same %d groups (bias-corrected gamma, Student interval)", len(groups))
	}
}

// geoRatio is exp(mean_i log(x_i/y_i)) over the i with both positive (NaN
// when there is none or either is missing).
func geoRatio(x, y []float64) Float {
	if x == nil || y == nil {
		return Float(math.NaN())
	}
	var s float64
	n := 0
	for i := range min(len(x), len(y)) {
		if x[i] > 0 && y[i] > 0 {
			s += math.Log(x[i] / y[i])
			n++
		}
	}
	if n == 0 {
		return Float(math.NaN())
	}
	return Float(math.Exp(s / float64(n)))
}

// suppressionNames are the interventions with the baseline first for the
// paper protocol.
func suppressionNames(cfg Config) []string {
	names := cfg.Interventions
	if cfg.Suppression.Protocol != ProtocolRebuild && (len(names) == 0 || names[0] != InterventionNone) {
		var rest []string
		for _, n := range names {
			if n != InterventionNone {
				rest = append(rest, n)
			}
		}
		names = append([]string{InterventionNone}, rest...)
	}
	return names
}

// alignAll measures the alignment of the covariances alignOf (matrix name
// -> label) over H's full eigenbasis (AlignAll), with one Haar frame.
func alignAll(r *Result, cv Covariances, eAll linalg.Eigen, alignOf map[string]string, cfg Config) map[string]linalg.Dense {
	d := cv.H.Rows
	frame := HaarFrame(d, cfg.K, cfg.Seed)
	keep := inRange(eAll.Values, NullFloor(eAll.Values, d))
	xts := map[string]linalg.Dense{}
	for _, name := range sortedKeys(alignOf) {
		label := alignOf[name]
		a, xt, xr := AlignAll(label, cv.X[name], eAll.Vectors, keep, frame, cfg.Seed)
		xts[name] = xt
		if a.M == 0 || math.IsNaN(a.KEff) {
			r.addAlignError(label, fmt.Errorf("%s has no off-diagonal pairs in H's eigenbasis", label))
			continue
		}
		r.Alignment = append(r.Alignment, a)
		b := min(cfg.RhoBlock, cfg.K)
		r.Arrays.Rho[label] = Rho(xt.View(0, 0, b, b))
		r.Arrays.RhoRand[label] = Rho(xr.View(0, 0, b, b))
	}
	return xts
}

// suppress runs the interventions with the protocol of cfg.Suppression on
// the per-sample spectra ss; e holds H's top-k eigenpairs.
func suppress(ss *SampleSpectra, e linalg.Eigen, cfg Config, done func()) ([]Intervention, error) {
	sp := cfg.Suppression
	if sp.PerClass > 0 {
		if len(ss.Label) != ss.N {
			return nil, fmt.Errorf("suppression: the per-sample spectra have no labels for the per-class subset")
		}
		ss = ss.Subset(SubsetPerClass(ss.Label, sp.PerClass, sp.Seed))
	}
	if sp.Protocol == ProtocolRebuild {
		return SuppressAll(ss, cfg.Interventions, cfg.K, sp, done)
	}
	ivs, err := SuppressInBasis(ss, e.Vectors, suppressionNames(cfg), sp)
	for range ivs {
		done()
	}
	return ivs, err
}

// parityWords is the memory (in float64 numbers) of the code's estimators,
// the bootstrap and the full eigenbasis beyond what MemoryEstimate counts:
// the shuffled mini-batch sums and their C_mb (nb d + d^2), the code's
// C_pair2 sums and result (2 nb d + d^2 per rule), the anchor rule's sums
// and matrices (d^2/4 + 2 d^2 with C_pair2) and activities (N n), the
// bootstrap groups (G (3 d^2/4 + d)) and their projections (3 G k'^2), and
// for the full alignment the d x d eigenvectors, Haar frame and sandwiches.
func parityWords(m, in, N int, cfg Config) float64 {
	d := float64(m) * float64(in)
	nb := float64(N)/float64(max(cfg.Batch, 1)) + 1
	var w float64
	if cfg.MiniBatch && cfg.MiniBatchRule == MBShuffled {
		w += nb*d + d*d
	}
	codeRules := 0.0
	if cfg.Pair2Code {
		codeRules = 1
		if cfg.Pairs == PairsBoth {
			codeRules = 2
		}
	}
	w += codeRules * (2*nb*d + d*d)
	if cfg.anchorRule() {
		w += float64(N) * float64(in)
	}
	if cfg.Pairs == PairsBoth {
		w += d*d/4 + d*d
		if cfg.Pair2 {
			w += 2 * d * d
		}
	}
	if cfg.boot() {
		g := float64(cfg.Extras.BootstrapShards)
		kp := float64(bootBasis(min(cfg.K, m*in), m*in))
		w += g*(3*d*d/4+d) + 3*g*kp*kp + d*d
	}
	if alignFull(cfg, m*in) && len(cfg.AlignWith) > 0 {
		w += 4 * d * d
	}
	return w
}

// matrixFreeEstimators describes what the matrix-free path computes: the
// estimators of the dense path that need only projections on the top-k
// eigenvectors; the anchor pairs, the bootstrap, the full-basis alignment
// and the commutator need d x d matrices it does not form.
func matrixFreeEstimators(cfg Config, conv bool) map[string]string {
	sig := "mean ||dtheta_n||^2 / d"
	if cfg.Sigma2Per == Sigma2PerM {
		sig = "mean ||dtheta_n||^2 / m"
	}
	e := map[string]string{
		NameC:        cEstimator(cfg) + ", matrix-free",
		NameM2:       "M2 = (1/N) sum_n H_n^2, matrix-free",
		NameCAWD:     "C_awd = (sigma^2/B) M2, sigma^2 = " + sig + " over the balanced pairs",
		NameCPair:    "C_pair on the balanced pairs, matrix-free",
		NameCPair2:   "C_pair2 (each sample's full square, Eq. 58) on the balanced pairs, matrix-free",
		"alignment":  "rbar over the top-k block (the matrix-free path has no full eigenbasis)",
		"commutator": "not computed on the matrix-free path",
	}
	if cfg.Pair2Code {
		e[NameCPair2Code] = fmt.Sprintf("the code's C_pair2 (batch sums s, t of the two terms, sum_b (s s^T + s t^T + t t^T)/(%d N), symmetric part) on the balanced pairs, matrix-free", cfg.Batch)
	}
	if cfg.MiniBatch {
		e[NameCMb] = cmbEstimator(cfg) + ", matrix-free"
	}
	if conv {
		for _, n := range []string{NameCAWD, NameCPair, NameCPair2, NameCPair2Code} {
			delete(e, n)
		}
		e["pairs"] = "none: the minimal-norm dW of matched pairs is defined for fully connected layers"
	}
	if cfg.Pairs != PairsBalanced || cfg.boot() {
		e["parity"] = "the anchor pairs and the bootstrap are computed on the dense path only"
	}
	return e
}
