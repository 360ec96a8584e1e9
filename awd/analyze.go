package awd

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// Config chooses what Analyze computes. DefaultConfig gives the paper's
// choices; zero values are not defaults.
type Config struct {
	Layer     string   `json:"layer"`        // layer under study; "" means the model's default
	Loss      string   `json:"loss"`         // "ce" or "mse"
	K         int      `json:"k"`            // top-k eigenpairs of H
	Batch     int      `json:"batch"`        // SGD batch size B (the 1/B of C and the AWD batches)
	Centered  bool     `json:"centered"`     // subtract gbar gbar^T from C and C_mb
	Greedy    bool     `json:"greedy_pairs"` // greedy instead of optimal matching
	Pair2     bool     `json:"pair2"`        // accumulate C_pair2 (N d^2 more flops, d^2 more memory)
	MiniBatch bool     `json:"minibatch"`    // accumulate C_mb from the AWD batches
	Chunk     int      `json:"chunk"`        // samples per per-sample pass (rounded to pairs of batches)
	Seed      uint64   `json:"seed"`         // batches and pairs, Haar frame, shuffle
	RhoBlock  int      `json:"rho_block"`    // leading block of rho kept for the heat maps
	AlignWith []string `json:"align_with"`   // covariances whose alignment is measured
	// Correlation computes the eigenvalue-alignment correlations for the
	// top CorrK directions (2 N d CorrK flops).
	Correlation   bool              `json:"correlation"`
	CorrK         int               `json:"corr_k"`
	Interventions []string          `json:"interventions"` // suppression interventions to run
	Suppression   SuppressionConfig `json:"suppression"`
}

// DefaultConfig returns the defaults for loss: k 300, B 50, the uncentered
// C of SPEC section 4 with C_pair2 and C_mb, alignment of C and C_awd,
// correlations for the top 200 directions and no suppression.
func DefaultConfig(loss string) Config {
	return Config{Loss: loss, K: 300, Batch: 50, Pair2: true, MiniBatch: true, Chunk: 2000, Seed: 1,
		RhoBlock: 100, AlignWith: []string{NameC, NameCAWD}, Correlation: true, CorrK: 200, Suppression: DefaultSuppression}
}

// Analyze runs the analysis of SPEC sections 4-5 for one model on the
// samples of data (the analysis subset; data.Index gives their indices in
// the original data set): the samples are split into balanced AWD batches
// and matched pairs (MatchPairs), streamed in chunks through the exact
// per-sample quantities of nn into the accumulated State, finished into the
// d x d matrices, diagonalised, and measured (Statistics). ctx cancels
// between chunks. prog may be nil.
//
// Errors, with the offending value: an unknown layer, k outside [2, d], a
// label outside the model's head, fewer than 2 classes or 2B samples,
// NaN or Inf in the weights, an unknown loss or intervention.
func Analyze(ctx context.Context, model *nn.Model, data *nn.Dataset, cfg Config, prog Progress) (*Result, error) {
	prog = orNop(prog)
	t00 := time.Now()
	if cfg.Layer == "" {
		cfg.Layer = model.DefaultLayer()
	}
	loss, err := nn.ParseLoss(cfg.Loss)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	cfg.Loss = loss.String()
	m, in, err := model.LayerShape(cfg.Layer)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	d := m * in
	if cfg.K < 2 || cfg.K > d {
		return nil, fmt.Errorf("analyze %s: k=%d outside [2, d=%d]", cfg.Layer, cfg.K, d)
	}
	if cfg.Batch < 1 {
		return nil, fmt.Errorf("analyze: batch size %d", cfg.Batch)
	}
	for _, name := range cfg.Interventions {
		if !slices.Contains(Interventions, name) && name != InterventionNone {
			return nil, fmt.Errorf("analyze: unknown intervention %q (known: %v)", name, Interventions)
		}
	}
	for _, p := range model.Params() {
		for i, v := range p.Data {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("analyze: weight %s[%d] is %v", p.Name, i, v)
			}
		}
	}
	L := model.Arch.Outputs
	classes := map[int]bool{}
	for i, y := range data.Y {
		if y < 0 || y >= L {
			return nil, fmt.Errorf("analyze: sample %d has label %d but the model's head has %d outputs", i, y, L)
		}
		classes[y] = true
	}
	if len(classes) < 2 {
		return nil, fmt.Errorf("analyze: the analysis samples hold %d class(es), need at least 2", len(classes))
	}
	if dim := model.Arch.In[0] * model.Arch.In[1] * model.Arch.In[2]; dim != data.Dim() {
		return nil, fmt.Errorf("analyze: inputs of size %d, the model takes %d", data.Dim(), dim)
	}

	r := &Result{Dataset: data.Name, Model: model.Arch.Model, Layer: cfg.Layer, Loss: cfg.Loss, Head: L,
		M: m, In: in, Config: cfg, KernelLevel: kernels.Current().String()}
	for c := range classes {
		r.Classes = append(r.Classes, c)
	}
	slices.Sort(r.Classes)

	// Balanced batches and matched pairs on the inputs (the N x D float64
	// copy x is dead after the matching, so the GC can take it).
	tPairs := time.Now()
	x := data.Float64(nil)
	pairs, err := MatchPairs(linalg.DenseOf(data.N, data.Dim(), x), data.Y, cfg.Batch, cfg.Seed, cfg.Greedy)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	r.Timings.Pairs = time.Since(tPairs).Seconds()
	w, err := model.Weight(cfg.Layer)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	pairsPerChunk := max(1, cfg.Chunk/(2*cfg.Batch))
	nb := len(pairs.Batches)
	state := NewState(m, in, StateOptions{Pair2: cfg.Pair2})
	// The per-sample spectra (N L (m+1) numbers) serve the correlations, the
	// interventions and the PSD check of every H_n; without the first two
	// they are skipped and lambda_loc_max comes from the State.
	var ss *SampleSpectra
	if cfg.Correlation || len(cfg.Interventions) > 0 {
		ss = NewSampleSpectra(m, in, L)
		ss.Grow(nb * cfg.Batch)
	}
	var order []int
	var lossSum float64
	var correct int
	var tPer, tAcc time.Duration
	prog.Start("accumulate", nb/2)
	for b0 := 0; b0 < nb; b0 += 2 * pairsPerChunk {
		if err := ctx.Err(); err != nil {
			prog.Finish()
			return nil, err
		}
		b1 := min(nb, b0+2*pairsPerChunk)
		var idx []int
		var batches [][]int
		for _, b := range pairs.Batches[b0:b1] {
			batches = append(batches, seq(len(idx), len(b)))
			idx = append(idx, b...)
		}
		local := make(map[int]int, len(idx))
		for i, s := range idx {
			local[s] = i
		}
		partner := make([]int, len(idx))
		for i, s := range idx {
			partner[i] = -1
			if p := pairs.Partner[s]; p >= 0 {
				partner[i] = local[p]
			}
		}
		t0 := time.Now()
		ps, err := model.PerSample(cfg.Layer, data.Float64(idx), data.Labels(idx), loss)
		if err != nil {
			prog.Finish()
			return nil, fmt.Errorf("analyze: %w", err)
		}
		tPer += time.Since(t0)
		t0 = time.Now()
		state.Add(ps)
		state.AddPairs(ps, w, PartnerDiff(linalg.DenseOf(ps.N, in, ps.A), partner))
		if cfg.MiniBatch {
			state.AddMinibatches(ps, batches)
		}
		tAcc += time.Since(t0)
		t0 = time.Now()
		if ss != nil {
			ss.Append(ps)
		}
		tPer += time.Since(t0)
		for i := 0; i < ps.N; i++ {
			lossSum += ps.Loss[i]
			if ps.Pred[i] == ps.Label[i] {
				correct++
			}
		}
		order = append(order, idx...)
		prog.Add((b1 - b0) / 2)
	}
	prog.Finish()
	r.Timings.PerSample = tPer.Seconds()
	n := len(order)
	r.SampleLoss = Float(lossSum / float64(n))
	r.SampleAcc = Float(float64(correct) / float64(n))
	r.Arrays.SampleIndices = make([]int, n)
	for i, s := range order {
		r.Arrays.SampleIndices[i] = s
		if data.Index != nil {
			r.Arrays.SampleIndices[i] = data.Index[s]
		}
	}

	t0 := time.Now()
	mats, err := state.finishConsume(cfg.Batch, cfg.Centered)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	state = nil
	mats.CAWD = linalg.Dense{} // C_awd's c_i are (sigma^2/B) s_i: the matrix is not needed
	r.Timings.Accumulate = (tAcc + time.Since(t0)).Seconds()
	cv := Covariances{H: mats.H, X: map[string]linalg.Dense{NameC: mats.C, NameM2: mats.M2},
		Sigma2: mats.Sigma2, B: cfg.Batch, N: mats.N}
	for name, x := range map[string]linalg.Dense{NameCPair: mats.CPair, NameCPair2: mats.CPair2, NameCMb: mats.CMB} {
		if x.Data != nil {
			cv.X[name] = x
		}
	}
	r.Spectrum.LocMax, r.Spectrum.NegativeHn = mats.LocMax, -1
	mats = nil
	if ss != nil {
		r.Spectrum.LocMax = ss.LocMax()
		r.Spectrum.NegativeHn = ss.NegativeSamples()
	}
	r.Spectrum.Pairs = 0
	for _, p := range pairs.Partner {
		if p >= 0 {
			r.Spectrum.Pairs++
		}
	}
	r.Spectrum.Pairs /= 2
	// For CE every Lambda_n = diag(p) - p p^T is PSD: the upper bound of
	// Thm 5.1 applies whatever rounding makes of the tiniest eigenvalues.
	r.AllPSD = loss == nn.CE || r.Spectrum.NegativeHn == 0
	if err := Statistics(r, cv, ss, cfg, prog); err != nil {
		return nil, fmt.Errorf("analyze %s: %w", cfg.Layer, err)
	}
	r.Timings.Total = time.Since(t00).Seconds()
	return r, nil
}

func seq(start, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = start + i
	}
	return s
}
