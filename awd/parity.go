package awd

import (
	"fmt"

	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// Parity with the paper's code (github.com/Yikuan-PKU/AWCH; docs/parity.md):
// where this project's estimators and the code's differ, both are here and
// Config chooses; Result.Estimators records which produced every number.

// C_mb's batches (Config.MiniBatchRule).
const (
	// MBShuffled: one seeded shuffled pass over the analysis samples in
	// batches of B, the covariance centred on the full gradient
	// (MinibatchAcc; utils.cal_noise_covar_minibatch of the code).
	MBShuffled = "shuffled"
	// MBStratified: the balanced AWD batches, which hold every class in
	// equal numbers and so drop the between-class variance.
	MBStratified = "stratified"
)

// PairsBoth runs both pair rules: PairsBalanced feeds C_pair, C_pair2 and
// sigma^2, PairsAnchor the same quantities under the suffix AnchorSuffix.
const PairsBoth = "both"

// AlignAuto takes AlignFull when d <= AlignFullMaxD, else AlignTopK.
const AlignAuto = "auto"

// Normalisations of sigma^2 (Config.Sigma2Per).
const (
	// Sigma2PerD: sigma^2 = mean ||dtheta_n||^2 / d (docs/math.md; isotropy over
	// all d directions of theta).
	Sigma2PerD = "d"
	// Sigma2PerM: sigma^2 = mean ||dtheta_n||^2 / m. dtheta_n = vec(v a_n^T)
	// / ||a_n||^2 lies in the m-dimensional subspace {x a_n^T} that also
	// holds every eigenvector of H_n, so the local isotropy of Thm 3.4
	// (equal variance along H_n's eigen-directions) spreads ||dtheta_n||^2
	// over m directions, not d (docs/parity.md).
	Sigma2PerM = "m"
)

// Names of the covariances of the code's estimators.
const (
	// NameCPair2Code is the code's C_pair2 (CodePair2Acc).
	NameCPair2Code = "C_pair2_code"
	// AnchorSuffix marks the quantities of the anchor rule when both rules
	// run (C_pair_anchor, C_pair2_anchor, C_pair2_code_anchor).
	AnchorSuffix = "_anchor"
)

// Extras are the error bars beyond the paper.
type Extras struct {
	// GammaK fits gamma on every prefix i <= k' of the top k (O(k)).
	GammaK bool `json:"gamma_k"`
	// Bootstrap is the number of bootstrap replicates of gamma over the
	// samples (0: none); the samples are resampled in BootstrapShards
	// groups whose States are merged with multiplicities.
	Bootstrap       int     `json:"bootstrap"`
	BootstrapShards int     `json:"bootstrap_shards"`
	BootstrapLevel  float64 `json:"bootstrap_level"` // of the percentile interval
	// PowerLawML fits a power-law tail p(x) ~ x^-alpha, x >= xmin, to the
	// spectra by maximum likelihood, with a goodness-of-fit p-value from
	// MLReps synthetic data sets (0: no test).
	PowerLawML bool `json:"powerlaw_ml"`
	MLReps     int  `json:"ml_reps"`
}

// DefaultExtras: gamma(k) and the maximum-likelihood fits with 100
// synthetic sets; no bootstrap (it costs a projected eigensolve per
// replicate, see Bootstrap).
var DefaultExtras = Extras{GammaK: true, BootstrapShards: 20, BootstrapLevel: 0.95, PowerLawML: true, MLReps: 100}

func (c Config) validateParity() error {
	switch {
	case c.MiniBatchRule != MBShuffled && c.MiniBatchRule != MBStratified:
		return nn.BadOption("minibatch-rule", c.MiniBatchRule, "want %s or %s", MBShuffled, MBStratified)
	case c.Pairs != PairsBalanced && c.Pairs != PairsAnchor && c.Pairs != PairsBoth:
		return nn.BadOption("pairs", c.Pairs, "want %s, %s or %s", PairsBalanced, PairsAnchor, PairsBoth)
	case c.AlignBasis != AlignAuto && c.AlignBasis != AlignFull && c.AlignBasis != AlignTopK:
		return nn.BadOption("align-basis", c.AlignBasis, "want %s, %s or %s", AlignAuto, AlignFull, AlignTopK)
	case c.Sigma2Per != Sigma2PerD && c.Sigma2Per != Sigma2PerM:
		return nn.BadOption("sigma2-per", c.Sigma2Per, "want %s or %s", Sigma2PerD, Sigma2PerM)
	case c.Extras.Bootstrap < 0:
		return nn.BadOption("bootstrap", c.Extras.Bootstrap, "must be at least 0 (0: none)")
	case c.Extras.Bootstrap > 0 && c.Extras.BootstrapShards < 2:
		return nn.BadOption("bootstrap-groups", c.Extras.BootstrapShards, "must be at least 2")
	case (c.Extras.Bootstrap > 0 || c.Extras.BootstrapLevel != 0) && !(c.Extras.BootstrapLevel > 0 && c.Extras.BootstrapLevel < 1):
		// Checked whenever set, bootstrap or not: a NaN level reached the
		// results file and broke its JSON.
		return nn.BadOption("bootstrap-level", c.Extras.BootstrapLevel, "must be in (0, 1)")
	case c.Extras.MLReps < 0:
		return nn.BadOption("ml-reps", c.Extras.MLReps, "must be at least 0 (0: no goodness-of-fit test)")
	}
	return nil
}

// stateRule is the pair rule that feeds the State's C_pair, C_pair2 and
// sigma^2 (the anchor rule only when it runs alone).
func (c Config) stateRule() string {
	if c.Pairs == PairsAnchor {
		return PairsAnchor
	}
	return PairsBalanced
}

// anchorRule reports whether the anchor rule runs.
func (c Config) anchorRule() bool { return c.Pairs == PairsAnchor || c.Pairs == PairsBoth }

// parityAcc holds what the accumulation of the code's estimators needs
// beside the balanced pairs, for one shard: the positions of the samples
// (their order in the AWD batches, the same in every shard), and for the
// anchor rule the activities of all of them and the anchor matching. It is
// rebuilt, identically, by every shard.
type parityAcc struct {
	act    linalg.Dense // positions x In: a_n (anchor rule)
	anchor *AnchorPairs // partners and loader batches as positions
}

// prepareParity sets up the accumulators of the code's estimators in acc
// for the AWD batches of pairs.
func (acc *Accumulation) prepareParity(model *nn.Model, data *nn.Dataset, pairs *Pairs) (*parityAcc, error) {
	cfg := acc.Info.Config
	m, in := acc.Info.M, acc.Info.In
	var visited []int
	var awdBatches [][]int
	for _, b := range pairs.Batches {
		awdBatches = append(awdBatches, seq(len(visited), len(b)))
		visited = append(visited, b...)
	}
	par := &parityAcc{}
	if cfg.MiniBatch && cfg.MiniBatchRule == MBShuffled {
		acc.MB = NewMinibatchAcc(m, in, ShuffledBatches(len(visited), cfg.Batch, cfg.Seed), MBShuffled)
	}
	if cfg.anchorRule() {
		a, err := model.Activity(cfg.Layer, data.Float64(visited))
		if err != nil {
			return nil, err
		}
		par.act = linalg.DenseOf(len(visited), in, a)
		if par.anchor, err = MatchAnchors(par.act, data.Labels(visited), AnchorBatch, AnchorPerClass, cfg.Seed); err != nil {
			return nil, err
		}
	}
	if cfg.Pair2Code {
		if cfg.stateRule() == PairsAnchor {
			acc.Code = NewCodePair2Acc(m, in, par.anchor.Batches, AnchorBatch)
		} else {
			acc.Code = NewCodePair2Acc(m, in, awdBatches, cfg.Batch)
		}
	}
	if cfg.Extras.Bootstrap > 0 {
		acc.Boot = NewBootGroups(m, in, len(visited), min(cfg.Extras.BootstrapShards, len(visited)), cfg.Seed)
	}
	if cfg.Pairs == PairsBoth {
		var code *CodePair2Acc
		if cfg.Pair2Code {
			code = NewCodePair2Acc(m, in, par.anchor.Batches, AnchorBatch)
		}
		acc.Anchor = NewPairAcc(PairsAnchor, m, in, cfg.Pair2, code, 0)
	}
	return par, nil
}

// addChunk adds one chunk of samples (positions pos, balanced partners as
// chunk positions in partner, AWD batches as chunk positions in batches) to
// the State and the code's accumulators; acc.Spectra, when kept, already
// holds the chunk's spectra.
func (acc *Accumulation) addChunk(par *parityAcc, ps *nn.PerSample, w linalg.Dense, pos, partner []int, batches [][]int) {
	cfg := acc.Info.Config
	var daAnchor linalg.Dense
	if par.anchor != nil {
		daAnchor = PartnerDiffFrom(par.act, pos, par.anchor.Partner)
	}
	da := daAnchor
	if cfg.stateRule() != PairsAnchor {
		da = PartnerDiff(linalg.DenseOf(ps.N, ps.In, ps.A), partner)
	}
	acc.State.AddSamplesCode(ps, w, da, acc.Code, pos, acc.Spectra)
	if acc.Anchor != nil {
		acc.Anchor.Add(ps, w, daAnchor, pos)
	}
	switch {
	case acc.MB != nil:
		acc.MB.Add(ps, pos)
	case cfg.MiniBatch:
		acc.State.AddMinibatches(ps, batches)
	}
	if acc.Boot != nil {
		acc.Boot.Add(ps, pos)
	}
}

// mergeParity merges the code's accumulators of o into acc.
func (acc *Accumulation) mergeParity(o *Accumulation) error {
	if (acc.MB == nil) != (o.MB == nil) || (acc.Code == nil) != (o.Code == nil) || (acc.Anchor == nil) != (o.Anchor == nil) || (acc.Boot == nil) != (o.Boot == nil) {
		return fmt.Errorf("merge: the shards accumulated different estimators")
	}
	if acc.MB != nil {
		if err := acc.MB.Merge(o.MB); err != nil {
			return err
		}
	}
	if acc.Code != nil {
		if err := acc.Code.Merge(o.Code); err != nil {
			return err
		}
	}
	if acc.Boot != nil {
		if err := acc.Boot.Merge(o.Boot); err != nil {
			return err
		}
	}
	if acc.Anchor != nil {
		return acc.Anchor.Merge(o.Anchor)
	}
	return nil
}
