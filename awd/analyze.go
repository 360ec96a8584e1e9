package awd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/awd-toolkit/awd/nn"
)

// Config chooses what the analysis computes. DefaultConfig gives the
// paper's choices; zero values are not defaults.
type Config struct {
	Layer     string   `json:"layer"`        // layer under study; "" means the model's default
	Loss      string   `json:"loss"`         // "ce" or "mse"
	K         int      `json:"k"`            // top-k eigenpairs of H
	Batch     int      `json:"batch"`        // SGD batch size B (the 1/B of C and the AWD batches)
	Centered  bool     `json:"centered"`     // subtract gbar gbar^T from C and C_mb
	Greedy    bool     `json:"greedy_pairs"` // greedy instead of optimal matching
	Pair2     bool     `json:"pair2"`        // accumulate C_pair2 (N d^2 more flops, d^2 more memory)
	MiniBatch bool     `json:"minibatch"`    // accumulate C_mb (its batches: MiniBatchRule)
	Chunk     int      `json:"chunk"`        // samples per per-sample pass (rounded to pairs of batches)
	Seed      uint64   `json:"seed"`         // batches and pairs, Haar frame, shuffle
	RhoBlock  int      `json:"rho_block"`    // leading block of rho kept for the heat maps (at most K: see CorrK)
	AlignWith []string `json:"align_with"`   // covariances whose alignment is measured
	// Correlation computes the eigenvalue-alignment correlations for the
	// top CorrK directions (2 N d CorrK flops). Only the top K are
	// computed: a larger CorrK (RhoBlock, Suppression.CorrK) takes them
	// all, and a Result's Config records K, the number used (atMostK).
	Correlation   bool              `json:"correlation"`
	CorrK         int               `json:"corr_k"`
	Interventions []string          `json:"interventions"` // suppression interventions to run
	Suppression   SuppressionConfig `json:"suppression"`
	// The estimators where this project and the paper's code differ
	// (parity.go, docs/parity.md); DefaultConfig takes the code's except
	// where noted.
	MiniBatchRule string `json:"minibatch_rule"` // C_mb's batches: MBShuffled (the code's) or MBStratified (the AWD batches)
	Pairs         string `json:"pairs"`          // pair rule(s): PairsBalanced (ours, default), PairsAnchor (the code's) or PairsBoth
	Pair2Code     bool   `json:"pair2_code"`     // also the code's C_pair2 (batch sums, one cross term) for each pair rule
	AlignBasis    string `json:"align_basis"`    // AlignAuto (full up to AlignFullMaxD), AlignFull or AlignTopK
	Sigma2Per     string `json:"sigma2_per"`     // sigma^2 of C_awd per dimension of the subspace of dtheta (Sigma2PerM) or of theta (Sigma2PerD, default)
	Extras        Extras `json:"extras"`         // gamma(k), the bootstrap and the maximum-likelihood power-law fits
	// Memory is the budget in bytes the analysis may use (see
	// MemoryBudget); 0 takes GOMEMLIMIT or 90% of the physical memory (or
	// of the control group's limit). It
	// is not recorded: it does not change the results.
	Memory int64 `json:"-"`
	// MatrixFree records that the layer was analysed without d x d
	// matrices (AnalyzeMatrixFree, AnalyzeLayers); MatFree tunes that path.
	MatrixFree bool          `json:"matrix_free"`
	MatFree    MatFreeConfig `json:"matrix_free_options"`
}

// DefaultConfig returns the defaults for loss: k 300, B 50, the uncentered
// C of the paper's Eq. 2 with C_pair2 and C_mb, alignment of C and C_awd,
// correlations for the top 200 directions and no suppression.
func DefaultConfig(loss string) Config {
	return Config{Loss: loss, K: 300, Batch: 50, Pair2: true, MiniBatch: true, Chunk: 2000, Seed: 1,
		RhoBlock: 100, AlignWith: []string{NameC, NameCAWD}, Correlation: true, CorrK: 200, Suppression: DefaultSuppression,
		MiniBatchRule: MBShuffled, Pairs: PairsBalanced, Pair2Code: true, AlignBasis: AlignAuto, Sigma2Per: Sigma2PerD,
		Extras: DefaultExtras}
}

// Validate checks every option that does not depend on the model, naming
// the option and the allowed range. A Config whose k, batch and chunk are
// all unset (a zero Config, or one built field by field) is told to start
// from DefaultConfig, as its first error alone would not say so.
func (c Config) Validate() error {
	err := c.validate()
	var oe *nn.OptionError
	if err != nil && c.K == 0 && c.Batch == 0 && c.Chunk == 0 && errors.As(err, &oe) {
		oe.Reason += " (k, batch and chunk are unset too: start from awd.DefaultConfig(loss) and change the fields that differ)"
	}
	return err
}

func (c Config) validate() error {
	if _, err := nn.ParseLoss(c.Loss); err != nil {
		return nn.BadOption("loss", c.Loss, "%v", err)
	}
	switch {
	case c.K < 2:
		return nn.BadOption("k", c.K, "need at least 2 eigenpairs")
	case c.Batch < 1:
		return nn.BadOption("batch", c.Batch, "must be at least 1")
	case c.Chunk < 1:
		return nn.BadOption("chunk", c.Chunk, "must be at least 1")
	case c.RhoBlock < 0:
		return nn.BadOption("rho-block", c.RhoBlock, "must be at least 0 (0: no heat-map block)")
	case c.CorrK < 0 || (c.Correlation && c.CorrK < 1):
		return nn.BadOption("corr-k", c.CorrK, "must be at least 1 (or turn the correlations off)")
	case c.Memory < 0:
		return nn.BadOption("mem", c.Memory, "must be at least 0 bytes (0: the default budget, see MemoryBudget)")
	}
	for i, name := range c.AlignWith {
		if !slices.Contains([]string{NameC, NameCAWD, NameCPair, NameCPair2, NameCMb, NameM2}, name) {
			return nn.BadOption("align-with", name, "unknown covariance (known: C, C_awd, C_pair, C_pair2, C_mb, M2)")
		}
		if slices.Contains(c.AlignWith[:i], name) {
			return nn.BadOption("align-with", strings.Join(c.AlignWith, ","), "%s given twice", name)
		}
	}
	for i, name := range c.Interventions {
		if !slices.Contains(Interventions, name) && name != InterventionNone {
			return nn.BadOption("suppress", name, "unknown intervention (known: %s)", strings.Join(Interventions, ", "))
		}
		if slices.Contains(c.Interventions[:i], name) {
			return nn.BadOption("suppress", strings.Join(c.Interventions, ","), "%s given twice", name)
		}
	}
	if err := c.validateParity(); err != nil {
		return err
	}
	if err := c.MatFree.Validate(); err != nil {
		return err
	}
	return c.Suppression.Validate()
}

// Validate checks the suppression parameters: 0 < Tau <= 1 and finite
// factors TailEps, NonStiffEps in [0, 1].
func (s SuppressionConfig) Validate() error {
	switch {
	case !(s.Tau > 0 && s.Tau <= 1):
		return nn.BadOption("tau", s.Tau, "must be in (0, 1]")
	case !(s.TailEps >= 0 && s.TailEps <= 1):
		return nn.BadOption("tail-eps", s.TailEps, "must be in [0, 1]")
	case !(s.NonStiffEps >= 0 && s.NonStiffEps <= 1):
		return nn.BadOption("nonstiff-eps", s.NonStiffEps, "must be in [0, 1]")
	case s.CorrK < 0:
		return nn.BadOption("corr-k", s.CorrK, "must be at least 0")
	case s.Protocol != "" && s.Protocol != ProtocolPaper && s.Protocol != ProtocolRebuild:
		return nn.BadOption("suppress-protocol", s.Protocol, "want %s or %s", ProtocolPaper, ProtocolRebuild)
	case s.PerClass < 0:
		return nn.BadOption("suppress-per-class", s.PerClass, "must be at least 0 (0: every analysis sample)")
	}
	return nil
}

// ForModel validates c against model and returns it with the layer and loss
// filled in: the layer must be a weight layer of the model (fully connected,
// or a convolution, which only the matrix-free path studies) and k at most
// its d.
func (c Config) ForModel(model *nn.Model) (Config, error) {
	if model == nil {
		return c, errors.New("analyze: no model (nil)")
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	if c.Layer == "" {
		c.Layer = model.DefaultLayer()
	}
	loss, _ := nn.ParseLoss(c.Loss)
	c.Loss = loss.String()
	info, err := model.LayerInfo(c.Layer)
	if err != nil {
		return c, nn.BadOption("layer", c.Layer, "%v", err)
	}
	// A fit needs two directions: a layer with fewer weights has no k to
	// give, and "k must be in [2, 1]" said nothing of what to change.
	if d := info.D(); d < 2 {
		return c, nn.BadOption("layer", c.Layer, "has d=%d weight, fewer than the 2 directions a power-law fit needs: study another layer, or make this one wider", d)
	} else if c.K > d {
		return c, nn.BadOption("k", c.K, "layer %s has d=%d weights, so k must be in [2, %d]", c.Layer, d, d)
	}
	// Block Lanczos needs room for k vectors and two blocks: a smaller
	// basis was refused by the eigensolver only after the per-sample pass,
	// in its own words.
	if c.MatFree.Basis > 0 {
		mc := c.MatFree.withDefaults(c.K, info.D())
		if need := c.K + 2*mc.Block; mc.Basis < need && mc.Basis < info.D() {
			return c, nn.BadOption("MatFree.Basis", c.MatFree.Basis, "too small for k=%d and Lanczos blocks of %d: give at least k + 2 blocks = %d, or 0 for the default", c.K, mc.Block, need)
		}
	}
	return c, nil
}

// atMostK returns c with the numbers of H's top directions that the
// correlations and the heat maps take (CorrK, Suppression.CorrK, RhoBlock)
// cut to K, the directions computed: it is the Config of a Result, so that
// the recorded settings are those the numbers were computed with.
func (c Config) atMostK() Config {
	c.CorrK, c.Suppression.CorrK, c.RhoBlock = min(c.CorrK, c.K), min(c.Suppression.CorrK, c.K), min(c.RhoBlock, c.K)
	return c
}

// MatrixFreeReason says why the analysis of cfg's layer takes the
// matrix-free path (AnalyzeMatrixFree), or returns "" for the dense one:
// it was asked for (Config.MatrixFree), the layer is a convolution (the
// dense path's Kronecker accumulation is for fully connected layers), or
// the dense path's MemoryEstimate for n samples of dimension dim exceeds
// the memory budget. cfg must have passed ForModel; for a nil model, or a
// layer the model does not have, it returns "".
func MatrixFreeReason(model *nn.Model, cfg Config, n, dim int) string {
	if model == nil {
		return ""
	}
	info, err := model.LayerInfo(cfg.Layer)
	switch {
	case err != nil:
		return ""
	case cfg.MatrixFree:
		return "asked for"
	case info.Conv:
		return fmt.Sprintf("layer %s is a convolution, which the dense path does not study", cfg.Layer)
	}
	est, budget := MemoryEstimate(info.Out, info.In, model.Arch.Outputs, n, dim, cfg), MemoryBudget(cfg.Memory)
	if est > budget {
		return fmt.Sprintf("the dense path needs about %s for d=%d, more than the memory budget of %s", FormatBytes(est), info.D(), FormatBytes(budget))
	}
	return ""
}

// Analyze runs the whole analysis of one model on the samples of data (the
// analysis subset; data.Index gives their indices in the original data
// set): Accumulate over every sample, then Finalize. ctx cancels it within
// about a second at any stage; prog may be nil.
//
// A convolution layer, Config.MatrixFree, or a dense analysis whose
// MemoryEstimate exceeds the memory budget (see MemoryBudget) runs on the
// matrix-free path instead (AnalyzeMatrixFree; MatrixFreeReason says why,
// and so does the Result's first note). That path computes no commutator
// (NaN) and no suppression experiments, and its notes say so; callers who
// need the dense path's every output check MatrixFreeReason first, or call
// Accumulate and Finalize, which refuse what does not fit.
//
// Errors, with the offending value: an unknown layer, k outside [2, d], a
// label outside the model's head, fewer than 2 classes or 2B samples, NaN or
// Inf in the weights or data, an unknown loss or intervention, a problem
// that needs more memory than the budget even on the matrix-free path, or
// one that does not fit beside the analyses running in the process
// (HeldMemoryError; the dense path holds its estimate from Accumulate to
// Finalize).
func Analyze(ctx context.Context, model *nn.Model, data *nn.Dataset, cfg Config, prog Progress) (r *Result, err error) {
	ctx, prog, stop := guardProgress(ctx, prog)
	defer func() {
		if err = stop(err); err != nil {
			r = nil
		}
	}()
	if err := noInputs(model, data); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	if c, err := cfg.ForModel(model); err == nil {
		why := MatrixFreeReason(model, c, data.N, data.Dim())
		if why == "" {
			// The dense plan is held from Accumulate to Finalize: released
			// between them, another analysis could take its room.
			m, in, _ := model.LayerShape(c.Layer)
			est, budget := MemoryEstimate(m, in, model.Arch.Outputs, data.N, data.Dim(), c), MemoryBudget(c.Memory)
			if est <= budget { // else Accumulate says what fits
				held, release, err := reserveMemory(ctx, est, budget, false)
				if err != nil {
					return nil, fmt.Errorf("analyze: %w", err)
				}
				defer release()
				ctx = held
			}
		}
		if why != "" {
			if err := noBootstrap(c, "it runs matrix-free ("+why+")"); err != nil {
				return nil, fmt.Errorf("analyze: %w", err)
			}
			r, err := AnalyzeMatrixFree(ctx, model, data, c, prog)
			if err != nil {
				return nil, err
			}
			r.Notes = append([]string{"matrix-free path: " + why}, r.Notes...)
			return r, nil
		}
	}
	acc, err := Accumulate(ctx, model, data, cfg, AccumulateOptions{Progress: prog})
	if err != nil {
		return nil, err
	}
	return Finalize(ctx, acc, prog)
}

// checkWeights refuses NaN or Inf weights.
func checkWeights(model *nn.Model) error {
	for _, p := range model.Params() {
		for i, v := range p.Data {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("weight %s[%d] is %v: the training diverged or the weights were damaged; analyse a checkpoint of an earlier epoch, or train again with a smaller learning rate", p.Name, i, v)
			}
		}
	}
	return nil
}
