package awd

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/nn"
)

// Accumulation is the additive part of an analysis: the accumulated State
// of C, H, M2, C_pair, C_pair2 and C_mb, the per-sample spectra, and the
// bookkeeping, for one or several shards of the samples. Accumulations of
// the shards of one analysis Merge into the accumulation of all of them;
// Finalize turns it into a Result.
type Accumulation struct {
	Info    AccumulationInfo
	State   *State
	Spectra *SampleSpectra // per-sample spectra; nil unless correlations or interventions are asked
	Samples []int          // data-set indices of the samples, in accumulation order
	LossSum float64        // sum of the per-sample losses
	Correct int            // samples predicted right
	Timings Timings        // pairs, per-sample and accumulate so far

	// The code's estimators (parity.go); nil when not asked.
	MB     *MinibatchAcc // C_mb over one shuffled pass (Config.MiniBatchRule MBShuffled)
	Code   *CodePair2Acc // the code's C_pair2 on the State's pairs (Config.Pair2Code)
	Anchor *PairAcc      // the anchor rule beside the balanced one (Config.Pairs PairsBoth)
	Boot   *BootGroups   // the bootstrap groups' sums (Config.Extras.Bootstrap > 0)
}

// AccumulationInfo says what an Accumulation is of; shards merge only when
// everything but the shards held (Have, Counts), Pairs, KernelLevel and the
// settings only Finalize reads (see Merge) agrees.
type AccumulationInfo struct {
	Dataset string `json:"dataset"`
	Model   string `json:"model"`
	Head    int    `json:"head"`
	Classes []int  `json:"classes"`
	M       int    `json:"m"`
	In      int    `json:"n"`
	Config  Config `json:"config"` // the analysis options, layer and loss filled in
	// WeightsSHA256 and DataSHA256 identify the model's weights and the
	// analysis samples (inputs and labels).
	WeightsSHA256 string `json:"weights_sha256"`
	DataSHA256    string `json:"data_sha256"`
	// DataSourceSHA256 is the hash of the whole training set the samples
	// were drawn from (nn.Dataset.Source; "" when the samples were not
	// loaded by nn.DataSpec, and in files written before awd recorded
	// it): shards of one analysis read the same files.
	DataSourceSHA256 string `json:"data_source_sha256,omitempty"`
	DataN            int    `json:"data_n"`   // samples in the whole analysis set
	Shards           int    `json:"shards"`   // the analysis is split into this many shards
	Have             []int  `json:"have"`     // the shards accumulated here, ascending
	Counts           []int  `json:"counts"`   // samples of each shard of Have
	Pairs            int    `json:"pairs"`    // matched pairs among these samples
	KernelLevel      string `json:"kernels"`  // kernel level that accumulated
	Estimate         int64  `json:"estimate"` // bytes the whole analysis needs (MemoryEstimate)
	// Epoch is the training epoch of the analysed checkpoint, when the
	// caller knows it (0 otherwise); the report of the merged shards
	// names it.
	Epoch int `json:"epoch,omitempty"`
	// Build names the awd that accumulated (BuildID): shards of different
	// builds, whose accumulation may differ, do not merge. Files before
	// version 4 have none; they merge with each other only.
	Build string `json:"build,omitempty"`
	// Origin is what the caller knows of the checkpoint beyond its
	// weights (awd analyze --shard: its architecture, training settings
	// and data subset), for the report of the merged shards; nil when
	// unknown.
	Origin *Origin `json:"origin,omitempty"`
}

// Origin is what a report records of the checkpoint it analysed beyond its
// weights: the architecture and the training settings of the checkpoint's
// JSON (nn.CheckpointMeta) and, in a shard, the data subset (its folder
// left out: shards run on other machines). awd table tells protocols apart
// by it, so that analyses of networks of other widths or trained with
// another learning rate are never averaged, while those of other seeds
// are.
type Origin struct {
	Arch     *nn.Arch        `json:"arch,omitempty"`
	Train    *nn.TrainConfig `json:"train,omitempty"`
	InitSeed uint64          `json:"init_seed,omitempty"`
	Data     *nn.DataSpec    `json:"data,omitempty"`
}

// CheckpointOrigin is the Origin of a checkpoint with JSON meta (nil
// without one): its architecture, its training settings (the epoch a
// resume started from left out: it does not change the training) and its
// init seed.
func CheckpointOrigin(meta *nn.CheckpointMeta) *Origin {
	if meta == nil {
		return nil
	}
	arch, train := meta.Arch, meta.Train
	train.StartEpoch = 0
	return &Origin{Arch: &arch, Train: &train, InitSeed: meta.InitSeed}
}

// WeightsSHA256 is the hash of the model's parameters (names, shapes and
// values) that identifies the weights in a shard's AccumulationInfo; awd
// analyze records it too, so that an analysis and a reduce of one
// checkpoint are known as one run.
func WeightsSHA256(model *nn.Model) string { return weightsSHA256(model) }

// BuildID names this build of awd in the shards it accumulates: Tool, and
// the VCS revision the binary was built from (VCSRevision) when the Go
// toolchain recorded it; otherwise (-buildvcs=false, go run, go test, a
// build outside a repository) "exe:" and the first 16 hex digits of the
// SHA-256 of the running executable, so that shards of different binaries
// are still told apart. The executable is read once per process.
func BuildID() string {
	if rev := VCSRevision(); rev != "" {
		return Tool + " " + rev
	}
	if h := executableSHA256(); h != "" {
		return Tool + " exe:" + h
	}
	return Tool
}

// executableSHA256 is the first 16 hex digits of the SHA-256 of the running
// executable, or "" when it cannot be read; computed once.
var executableSHA256 = sync.OnceValue(func() string {
	path, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
})

// VCSRevision is the VCS commit the running binary was built from, with
// "-dirty" when the tree had local changes, or "" when the build did not
// record it (go run, go test, a build outside a repository).
func VCSRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "-dirty"
	}
	return rev
}

// AccumulateOptions select a shard and receive progress.
type AccumulateOptions struct {
	// Shard (0-based) of Shards: the AWD batch pairs are split into Shards
	// contiguous ranges of nearly equal size and only range Shard is
	// accumulated. Shards 0 or 1 means everything.
	Shard, Shards int
	// Progress receives the progress of the per-sample pass and the
	// accumulation (see Progress); may be nil.
	Progress Progress
}

// Accumulate checks the model, the data and cfg, estimates the memory the
// analysis needs (refusing when it exceeds the budget, see MemoryBudget, or
// the budget minus what the other analyses of the process hold),
// splits the samples into balanced AWD batches and matched pairs
// (MatchPairs, always over the whole analysis set so that every shard sees
// the same batches), and streams the batch pairs of the chosen shard in
// chunks through the exact per-sample quantities of nn into the State.
// ctx cancels between chunks.
func Accumulate(ctx context.Context, model *nn.Model, data *nn.Dataset, cfg Config, opt AccumulateOptions) (acc *Accumulation, err error) {
	ctx, prog, stop := guardProgress(ctx, opt.Progress)
	defer func() {
		if err = stop(err); err != nil {
			acc = nil
		}
	}()
	t00 := time.Now()
	acc, err = newAccumulation(model, data, cfg, opt)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	cfg = acc.Info.Config
	ctx, release, err := reserveMemory(ctx, acc.Info.Estimate, MemoryBudget(cfg.Memory), true)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	defer release()

	// The data's hash (SHA-256 over tens of MB: serial, 50 ms for 20,000
	// MNIST images), the build's (the executable's when it records no
	// VCS revision: 60-80 ms for a test binary) and the data source's
	// (nn.Dataset.Source, which the loading started) run beside the
	// matching.
	hashed, built, sourced := make(chan string, 1), make(chan string, 1), make(chan string, 1)
	go func() { hashed <- nn.DataSHA256(data) }()
	go func() { built <- BuildID() }()
	go func() { sourced <- data.Source() }()
	// Balanced batches and matched pairs on the inputs (float32 rows,
	// distances in float64: no N x D float64 copy to fault in).
	pairs, err := MatchPairs32(data.X, data.Dim(), data.Y, cfg.Batch, cfg.Seed, cfg.Greedy)
	var par *parityAcc
	if err == nil {
		par, err = acc.prepareParity(model, data, pairs)
	}
	acc.Info.DataSHA256, acc.Info.Build, acc.Info.DataSourceSHA256 = <-hashed, <-built, <-sourced
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	acc.Timings.Pairs = time.Since(t00).Seconds()
	nbp := len(pairs.Batches) / 2 // batch pairs
	if acc.Info.Shards > nbp {    // then some shard of the set holds no batch pair
		return nil, fmt.Errorf("analyze: %d shards: there are %d batch pairs, so at most %d shards (with more, some would hold no batch pair)", acc.Info.Shards, nbp, nbp)
	}
	lo, hi := acc.Info.Have[0]*nbp/acc.Info.Shards, (acc.Info.Have[0]+1)*nbp/acc.Info.Shards
	if err := acc.accumulate(ctx, model, data, pairs, par, 2*lo, 2*hi, prog); err != nil {
		return nil, err
	}
	return acc, nil
}

// newAccumulation validates everything and returns an empty Accumulation.
func newAccumulation(model *nn.Model, data *nn.Dataset, cfg Config, opt AccumulateOptions) (*Accumulation, error) {
	info, err := accumulationInfo(model, data, cfg, opt)
	if err != nil {
		return nil, err
	}
	cfg, m, in, L := info.Config, info.M, info.In, info.Head
	if budget := MemoryBudget(cfg.Memory); info.Estimate > budget {
		return nil, memoryError(model, cfg, info.Estimate, budget, data.N, data.Dim())
	}
	acc := &Accumulation{Info: info, State: NewState(m, in, StateOptions{Pair2: cfg.Pair2})}
	// The per-sample spectra (N (In + 2 + L + V M) numbers) serve the
	// correlations, the interventions and the PSD check of every H_n;
	// without the first two they are skipped and lambda_loc_max comes from
	// the State.
	switch {
	case len(cfg.Interventions) > 0:
		acc.Spectra = NewSampleSpectra(m, in, L)
	case cfg.Correlation:
		acc.Spectra = NewSampleSpectraTop(m, in, L)
	}
	return acc, nil
}

// accumulationInfo validates everything and returns the info of the
// accumulation of opt's shard, all but DataSHA256, DataSourceSHA256 and
// Build (and the counts).
func accumulationInfo(model *nn.Model, data *nn.Dataset, cfg Config, opt AccumulateOptions) (AccumulationInfo, error) {
	if err := noInputs(model, data); err != nil {
		return AccumulationInfo{}, err
	}
	cfg, err := cfg.ForModel(model)
	if err != nil {
		return AccumulationInfo{}, err
	}
	if info, _ := model.LayerInfo(cfg.Layer); info.Conv {
		return AccumulationInfo{}, nn.BadOption("layer", cfg.Layer, "a convolution: its accumulation is matrix-free only (AnalyzeMatrixFree, --matrix-free)")
	}
	if err := checkSamples(model, data); err != nil {
		return AccumulationInfo{}, err
	}
	if opt.Shards < 0 {
		return AccumulationInfo{}, fmt.Errorf("%d shards: want 0 or 1 (everything) or more", opt.Shards)
	}
	shards := max(opt.Shards, 1)
	if opt.Shard < 0 || opt.Shard >= shards {
		return AccumulationInfo{}, fmt.Errorf("AccumulateOptions.Shard %d outside [0, %d): Shard counts from 0 (shard 1 of %d is Shard 0)", opt.Shard, shards, shards)
	}
	L := model.Arch.Outputs
	present := map[int]bool{}
	for _, y := range data.Y {
		present[y] = true
	}
	m, in, _ := model.LayerShape(cfg.Layer)
	info := AccumulationInfo{Dataset: data.Name, Model: model.Arch.Model, Head: L, M: m, In: in, Config: cfg,
		WeightsSHA256: weightsSHA256(model), DataN: data.N, // DataSHA256, DataSourceSHA256: Accumulate, beside the matching
		Shards: shards, Have: []int{opt.Shard}, Counts: []int{0}, KernelLevel: kernels.Current().String()}
	for c := range present {
		info.Classes = append(info.Classes, c)
	}
	slices.Sort(info.Classes)
	info.Estimate = MemoryEstimate(m, in, L, data.N, data.Dim(), cfg)
	return info, nil
}

// accumulate streams the batches [b0, b1) of pairs (an even range: whole
// batch pairs) through the per-sample pass into acc, in chunks of about
// cfg.Chunk samples.
func (acc *Accumulation) accumulate(ctx context.Context, model *nn.Model, data *nn.Dataset, pairs *Pairs, par *parityAcc, b0, b1 int, prog Progress) error {
	cfg := acc.Info.Config
	loss, _ := nn.ParseLoss(cfg.Loss)
	w, err := model.Weight(cfg.Layer)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	step := 2 * max(1, cfg.Chunk/(2*cfg.Batch))
	if acc.Spectra != nil {
		acc.Spectra.Grow((b1 - b0) * cfg.Batch)
	}
	var tPer, tAcc time.Duration
	// One chunk's inputs and per-sample quantities, reused chunk after
	// chunk (fresh memory is slow to fault in).
	var ps *nn.PerSample
	var xb []float64
	prog.Start("accumulate", (b1-b0)/2)
	defer prog.Finish()
	for c0 := b0; c0 < b1; c0 += step {
		if err := ctx.Err(); err != nil {
			return err
		}
		c1 := min(b1, c0+step)
		idx, batches, partner := chunkSamples(pairs, c0, c1)
		t0 := time.Now()
		xb = data.Float64Into(xb, idx)
		ps, err = model.PerSampleInto(ps, cfg.Layer, xb, data.Labels(idx), loss)
		if err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		if acc.Spectra != nil {
			acc.Spectra.Append(ps)
		}
		tPer += time.Since(t0)
		t0 = time.Now()
		// every AWD batch holds B samples: position of the chunk's first
		acc.addChunk(par, ps, w, seq(c0*cfg.Batch, ps.N), partner, batches)
		tAcc += time.Since(t0)
		for i := 0; i < ps.N; i++ {
			acc.LossSum += ps.Loss[i]
			if ps.Pred[i] == ps.Label[i] {
				acc.Correct++
			}
		}
		for i, s := range idx {
			if data.Index != nil {
				s = data.Index[s]
			}
			acc.Samples = append(acc.Samples, s)
			acc.Info.Counts[0]++
			if partner[i] > i {
				acc.Info.Pairs++
			}
		}
		prog.Add((c1 - c0) / 2)
	}
	acc.Timings.PerSample += tPer.Seconds()
	acc.Timings.Accumulate += tAcc.Seconds()
	return nil
}

// chunkSamples returns the samples of the batches [c0, c1) of pairs in
// order, the batches as positions in that list, and each sample's partner
// position (-1: none).
func chunkSamples(pairs *Pairs, c0, c1 int) (idx []int, batches [][]int, partner []int) {
	for _, b := range pairs.Batches[c0:c1] {
		batches = append(batches, seq(len(idx), len(b)))
		idx = append(idx, b...)
	}
	local := make(map[int]int, len(idx))
	for i, s := range idx {
		local[s] = i
	}
	partner = make([]int, len(idx))
	for i, s := range idx {
		partner[i] = -1
		if p := pairs.Partner[s]; p >= 0 {
			partner[i] = local[p]
		}
	}
	return idx, batches, partner
}

func seq(start, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = start + i
	}
	return s
}

// Merge adds the shards of o to acc. Both must be of the same analysis (the
// same model weights, samples and options, see AccumulationInfo), written
// by the same build of awd (Build; files without one merge only with each
// other), and hold different shards; samples are kept in shard order, so
// merging every shard gives the order of one pass.
//
// The settings that only Finalize reads may differ: the gamma(k) curves,
// the maximum-likelihood fits and their replicates (ml_reps), the number
// of bootstrap replicates and the interval's level, and, without the
// bootstrap, its groups (the groups are accumulated only when the bootstrap
// runs). The merged accumulation keeps acc's (the first shard's), which
// ConfigDiff names.
func (acc *Accumulation) Merge(o *Accumulation) error {
	if acc == nil || o == nil || acc.Info.Shards == 0 || o.Info.Shards == 0 {
		return fmt.Errorf("merge: no accumulation (make each with Accumulate or LoadAccumulation)")
	}
	if acc.State == nil || o.State == nil {
		return fmt.Errorf("merge: an accumulation was already finalised (Finalize takes over its sums): merge the shards first, then finalise")
	}
	if a, b := acc.Info.Build, o.Info.Build; a != b {
		return fmt.Errorf("merge: the shards were accumulated by different builds of awd (%s vs %s), whose sums may differ; accumulate every shard with one build", buildText(a), buildText(b))
	}
	a, b := acc.Info, o.Info
	a.Have, b.Have, a.Counts, b.Counts, a.Pairs, b.Pairs, a.KernelLevel, b.KernelLevel = nil, nil, nil, nil, 0, 0, "", ""
	b.Config = finishAs(a.Config, b.Config)
	if diff := infoDiff(a, b); diff != "" {
		return fmt.Errorf("merge: the shards are of different analyses (%s): merge only the shards of one analysis, or accumulate the missing ones with the first shard's settings", diff)
	}
	for _, s := range o.Info.Have {
		if slices.Contains(acc.Info.Have, s) {
			return fmt.Errorf("merge: shard %d of %d given twice", s+1, acc.Info.Shards)
		}
	}
	if (acc.Spectra == nil) != (o.Spectra == nil) {
		return fmt.Errorf("merge: one shard has per-sample spectra, the other not")
	}
	if err := acc.State.Merge(o.State); err != nil {
		return err
	}
	if err := acc.mergeParity(o); err != nil {
		return err
	}
	acc.interleave(o)
	acc.Info.Pairs += o.Info.Pairs
	acc.LossSum += o.LossSum
	acc.Correct += o.Correct
	acc.Timings.Pairs = max(acc.Timings.Pairs, o.Timings.Pairs)
	acc.Timings.PerSample += o.Timings.PerSample
	acc.Timings.Accumulate += o.Timings.Accumulate
	return nil
}

// interleave merges the samples (and per-sample spectra) of o into acc in
// shard order, and the shard lists.
func (acc *Accumulation) interleave(o *Accumulation) {
	type seg struct {
		shard, count, start int
		from                *Accumulation
	}
	var segs []seg
	for _, a := range []*Accumulation{acc, o} {
		start := 0
		for i, s := range a.Info.Have {
			segs = append(segs, seg{s, a.Info.Counts[i], start, a})
			start += a.Info.Counts[i]
		}
	}
	slices.SortFunc(segs, func(x, y seg) int { return x.shard - y.shard })
	var samples []int
	var ss *SampleSpectra
	if acc.Spectra != nil {
		// A shard saved with all vectors merges with one keeping gamma_1
		// only: the merge keeps what both have.
		ss = NewSampleSpectra(acc.Spectra.M, acc.Spectra.In, acc.Spectra.R)
		ss.V = min(acc.Spectra.Kept(), o.Spectra.Kept())
	}
	have, counts := make([]int, len(segs)), make([]int, len(segs))
	for i, g := range segs {
		have[i], counts[i] = g.shard, g.count
		samples = append(samples, g.from.Samples[g.start:g.start+g.count]...)
		if ss != nil {
			ss.appendRange(g.from.Spectra, g.start, g.start+g.count)
		}
	}
	acc.Samples, acc.Info.Have, acc.Info.Counts = samples, have, counts
	if ss != nil {
		acc.Spectra = ss
	}
}

// finishAs returns b with the settings that only Finalize reads (see
// Merge) taken from a, those that change the accumulated sums kept: the
// bootstrap's replicates only when both run it (0 against n > 0 changes
// what is accumulated), its groups only when neither does.
func finishAs(a, b Config) Config {
	ea, eb := a.Extras, &b.Extras
	eb.GammaK, eb.PowerLawML, eb.MLReps, eb.BootstrapLevel = ea.GammaK, ea.PowerLawML, ea.MLReps, ea.BootstrapLevel
	switch {
	case ea.Bootstrap > 0 && eb.Bootstrap > 0:
		eb.Bootstrap = ea.Bootstrap
	case ea.Bootstrap == 0 && eb.Bootstrap == 0:
		eb.BootstrapShards = ea.BootstrapShards
	}
	return b
}

// ConfigDiff names the first setting in which the analysis options a and b
// differ ("" when equal), by its path in results.json's config with both
// values, e.g. "extras.ml_reps: 100 vs 3". Shards that Merge accepts may
// still differ in the settings only Finalize reads; the caller can say
// which are used.
func ConfigDiff(a, b Config) string {
	return strings.TrimPrefix(infoDiff(AccumulationInfo{Config: a}, AccumulationInfo{Config: b}), "config.")
}

// AnalysisDiff names the first difference between the analyses of a and b
// (weights, samples, options, build, epoch, origin) by its path in
// results.json's config with both values, e.g. "config.k: 30 vs 31", or
// "" when they are one analysis. How it was split into shards and
// accumulated (shards, have, counts, pairs, kernels, estimate) is left
// out: the caller says that in its own words.
func AnalysisDiff(a, b AccumulationInfo) string {
	for _, info := range []*AccumulationInfo{&a, &b} {
		info.Shards, info.Have, info.Counts, info.Pairs, info.KernelLevel, info.Estimate = 0, nil, nil, 0, "", 0
	}
	return infoDiff(a, b)
}

// buildText is a shard's build for a message.
func buildText(b string) string {
	if b == "" {
		return "not recorded: written before awd recorded its build"
	}
	return b
}

// Matches checks that info, that of a saved shard, is what
// Accumulate(model, data, cfg, opt) would accumulate now with this build:
// the same weights, samples, analysis options (every one, those only
// Finalize reads included), shard and build. It returns an error naming
// the first difference (saved value first), or nil. The epoch and the
// Origin are not compared: the caller knows which it asked for.
func (info AccumulationInfo) Matches(model *nn.Model, data *nn.Dataset, cfg Config, opt AccumulateOptions) error {
	want, err := accumulationInfo(model, data, cfg, opt)
	if err != nil {
		return err
	}
	want.DataSHA256, want.Build, want.DataSourceSHA256 = nn.DataSHA256(data), BuildID(), data.Source()
	got := info
	got.Counts, want.Counts, got.Pairs, want.Pairs = nil, nil, 0, 0
	got.KernelLevel, want.KernelLevel, got.Epoch, want.Epoch = "", "", 0, 0
	got.Origin, want.Origin = nil, nil
	if diff := infoDiff(got, want); diff != "" {
		return fmt.Errorf("not this analysis (%s, saved vs now)", diff)
	}
	return nil
}

// Complete reports whether every shard of the analysis is in acc; a nil
// or empty Accumulation (one that Accumulate did not make) is not.
func (acc *Accumulation) Complete() bool {
	return acc != nil && acc.Info.Shards > 0 && len(acc.Info.Have) == acc.Info.Shards
}

// appendRange appends the samples [s0, s1) of o.
func (ss *SampleSpectra) appendRange(o *SampleSpectra, s0, s1 int) {
	ss.N += s1 - s0
	ss.A = append(ss.A, o.A[s0*o.In:s1*o.In]...)
	ss.Norm2 = append(ss.Norm2, o.Norm2[s0:s1]...)
	ss.Scale = append(ss.Scale, o.Scale[s0:s1]...)
	ss.Mu = append(ss.Mu, o.Mu[s0*o.R:s1*o.R]...)
	if v, ov := ss.Kept(), o.Kept(); v == ov {
		ss.G = append(ss.G, o.G[s0*ov*o.M:s1*ov*o.M]...)
	} else {
		for s := s0; s < s1; s++ {
			ss.G = append(ss.G, o.G[s*ov*o.M:(s*ov+v)*o.M]...)
		}
	}
	if len(o.Label) == o.N {
		ss.Label = append(ss.Label, o.Label[s0:s1]...)
	}
}

// weightsSHA256 hashes every parameter's name, shape and values.
func weightsSHA256(model *nn.Model) string {
	h := sha256.New()
	var buf [8]byte
	for _, p := range model.Params() {
		h.Write([]byte(p.Name))
		for _, s := range p.Shape {
			binary.LittleEndian.PutUint64(buf[:], uint64(s))
			h.Write(buf[:])
		}
		for _, v := range p.Data {
			binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(v))
			h.Write(buf[:4])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// infoDiff names the first field in which a and b differ ("" when equal),
// by its path in the JSON, e.g. "config.seed: 5 vs 1" or
// "config.extras.ml_reps: 100 vs 50".
func infoDiff(a, b AccumulationInfo) string {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	va, _ := decodeJSON(ja)
	vb, _ := decodeJSON(jb)
	path, x, y, ok := firstDiff("", va, vb, absentKey{})
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s: %s vs %s", path, jsonText(x, "(none)"), jsonText(y, "(none)"))
}

func shorten(b []byte) string {
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}

// shardList names the shards of have (0-based) as messages count them,
// from 1: "shard 1 of 3", "shards 1, 3 of 4".
func shardList(have []int, shards int) string {
	nums := make([]string, len(have))
	for i, s := range have {
		nums[i] = strconv.Itoa(s + 1)
	}
	noun := "shard "
	if len(have) > 1 {
		noun = "shards "
	}
	return fmt.Sprintf("%s%s of %d", noun, strings.Join(nums, ", "), shards)
}
