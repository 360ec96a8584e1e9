package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// dataShape is what the checks need of a data set without reading it: the
// input shape and the fewest training samples of any class (so that P is
// checked before any job starts).
var dataShape = map[string]struct {
	c, h, w, minPerClass int
}{
	"mnist":   {1, 28, 28, 5421}, // class 5
	"fashion": {1, 28, 28, 6000},
	"cifar10": {3, 32, 32, 5000},
}

// Defaults of a job's resources.
const (
	defaultThreads = 1
	defaultMemory  = "4G"
	defaultTime    = "4:00:00"
)

// Expand returns the jobs of the grid: for every cell, every loss and K of
// its axes and every seed, one job, in that order. Every cell is checked
// first (the error names the line of the offending setting).
func (c *Config) Expand() ([]*Job, error) {
	var jobs []*Job
	seen := map[string]int{}
	models := map[string]*nn.Model{}
	for ci, cell := range c.Cells {
		s := cell.merge(c.Base)
		losses := s.Loss.V
		if !s.Loss.Set {
			losses = []string{"ce"}
		}
		if !s.Classes.Set {
			return nil, c.errf(c.cellLine(ci), "cell %d: classes (K, or a list of K) is required", ci+1)
		}
		// The loss list names each loss once: ce and CE are one loss, and
		// its jobs would be listed twice.
		named := map[nn.Loss]string{}
		for _, name := range losses {
			l, err := nn.ParseLoss(name)
			if prev, dup := named[l]; err == nil && dup {
				return nil, c.errf(s.Loss.Line, "loss: %q and %q are one loss (names ignore case): list each loss once", prev, name)
			}
			named[l] = name
		}
		for _, lossName := range losses {
			for _, k := range s.Classes.V {
				spec, err := c.spec(ci, s, lossName, k, models)
				if err != nil {
					return nil, err
				}
				for _, seed := range c.Seeds {
					j := c.job(ci, s, spec, seed)
					if prev, dup := seen[j.ID]; dup {
						return nil, c.errf(c.cellLine(ci), "cell %d repeats job %s of cell %d", ci+1, j.ID, prev+1)
					}
					seen[j.ID] = ci
					jobs = append(jobs, j)
				}
			}
		}
	}
	return jobs, nil
}

func (c *Config) errf(line int, format string, a ...any) error {
	return &LineError{File: c.path, Line: line, Msg: fmt.Sprintf(format, a...)}
}

// cellLine is the line where cell i starts (0 when unknown).
func (c *Config) cellLine(i int) int {
	if i < len(c.cellLines) {
		return c.cellLines[i]
	}
	return 0
}

// job seeds spec (a copy) for one seed and fills in the resources.
func (c *Config) job(ci int, s Settings, spec awd.RunConfig, seed uint64) *Job {
	spec.Seed, spec.Train.Seed = seed, seed
	spec.Data.Classes = slices.Clone(spec.Data.Classes)
	spec.AnalyzeAt = slices.Clone(spec.AnalyzeAt)
	an := *spec.Analysis
	spec.Analysis = &an
	if c.seedSubset() {
		spec.Data.Seed = seed
	}
	if c.seedPairs() {
		spec.Analysis.Seed, spec.Analysis.Suppression.Seed = seed, seed
	}
	_, proto := ProtocolOf(spec, c.seedSubset(), c.seedPairs())
	r := c.Resources
	return &Job{
		ID: jobID(spec, seed, proto), Cell: ci, Protocol: proto, Seed: seed, Spec: spec,
		Threads:    s.Threads.Or(r.Threads.Or(defaultThreads)),
		Memory:     strings.TrimSpace(s.Memory.Or(r.Memory.Or(defaultMemory))), // a blank would cut the #SBATCH line's argument
		Time:       slurmTime(s.Time.Or(r.Time.Or(defaultTime))),
		Shards:     s.Shards.Or(r.Shards.Or(1)),
		SeedSubset: c.seedSubset(), SeedPairs: c.seedPairs(),
	}
}

// spec builds and checks the run of cell ci for one loss and K (seeds zero).
func (c *Config) spec(ci int, s Settings, lossName string, k int, models map[string]*nn.Model) (awd.RunConfig, error) {
	cellLine := c.cellLine(ci)
	where := fmt.Sprintf("cell %d (loss %s, K=%d)", ci+1, lossName, k)
	lineOr := func(l int) int {
		if l > 0 {
			return l
		}
		return cellLine
	}
	var sp awd.RunConfig
	loss, err := nn.ParseLoss(lossName)
	if err != nil {
		return sp, c.errf(lineOr(s.Loss.Line), "loss %q: want ce or mse", lossName)
	}
	data := strings.ToLower(s.Data.Or("mnist"))
	shape, ok := dataShape[data]
	if !ok {
		return sp, c.errf(lineOr(s.Data.Line), "data %q: want mnist, fashion or cifar10", s.Data.V)
	}
	if k < 2 || k > 10 {
		return sp, c.errf(lineOr(s.Classes.Line), "classes %d: K must be 2..10 (%s has 10 classes)", k, data)
	}
	perK := func(name string, p PerK[int], def int, lo, hi int) (int, error) {
		if !p.Set {
			if def < 0 {
				return 0, c.errf(cellLine, "%s: %s is required", where, name)
			}
			return def, nil
		}
		v, ok := p.at(k)
		if !ok && len(p.ByK) == 0 {
			return 0, c.errf(p.Line, "%s: the empty map {} gives no value for K=%d: give one value for every K, or one per K such as {3: 300, 6: 1000}", name, k)
		}
		if !ok {
			var ks []string
			for kk := range p.ByK {
				ks = append(ks, fmt.Sprint(kk))
			}
			slices.Sort(ks)
			return 0, c.errf(p.Line, "%s: no value for K=%d (given for K = %s)", name, k, strings.Join(ks, ", "))
		}
		if v < lo || v > hi {
			return 0, c.errf(p.Line, "%s %d for K=%d: want %d..%d", name, v, k, lo, hi)
		}
		return v, nil
	}
	// data_dir, like out, is relative to the config file's folder.
	dir := s.DataDir.V
	if dir != "" && !filepath.IsAbs(dir) && c.path != "" {
		dir = filepath.Join(filepath.Dir(c.path), dir)
	}
	if dir != "" {
		// Absolute: the jobs run elsewhere (Slurm tasks start in the
		// submission's folder).
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		if fi, err := os.Stat(dir); err != nil {
			return sp, c.errf(s.DataDir.Line, "data_dir %q: no such folder (%s; a relative data_dir is read from the config file's folder)", s.DataDir.V, dir)
		} else if !fi.IsDir() {
			return sp, c.errf(s.DataDir.Line, "data_dir %q: %s is a file, not a folder", s.DataDir.V, dir)
		}
	}
	sp.Data = nn.DataSpec{Name: data, Dir: dir, Classes: nn.FirstClasses(k), Seed: s.DataSeed.Or(1)}
	// Every job reads both splits (awd.Run tests after each epoch): a
	// file missing from the folder would otherwise fail each job of the
	// data set when it starts, perhaps hours into a Slurm submission.
	if err := sp.Data.CheckFiles(); err != nil {
		return sp, c.errf(s.DataDir.Line, "data_dir %q: %v; put the %s files there or point data_dir to their folder", s.DataDir.V, err, data)
	}
	if sp.Data.PerClass, err = perK("per_class", s.PerK, -1, 1, shape.minPerClass); err != nil {
		return sp, err
	}
	switch h := strings.ToLower(s.Head.Or("all")); h {
	case "all":
	case "k":
		sp.Data.Head = k
	default:
		return sp, c.errf(s.Head.Line, "head %q: want all (10 logits, the paper's code) or k (K logits)", s.Head.V)
	}

	tc := nn.DefaultTrainConfig(loss)
	if tc.Batch, err = perK("batch", s.Batch, tc.Batch, 1, 1<<20); err != nil {
		return sp, err
	}
	if tc.Epochs, err = perK("epochs", s.Epochs, -1, 1, 100000); err != nil {
		return sp, err
	}
	if n := sp.Data.PerClass * k; n < 2*tc.Batch {
		return sp, c.errf(lineOr(s.PerK.Line), "%s: P*K = %d samples, fewer than the 2B = %d the AWD pairs need", where, n, 2*tc.Batch)
	}
	tc.LR = s.LR.Or(tc.LR)
	if !(tc.LR > 0) || !isFinite(tc.LR) {
		return sp, c.errf(s.LR.Line, "lr %g: want a positive number", tc.LR)
	}
	tc.Vanilla = s.Vanilla.Or(false)
	tc.TMax = s.TMax.Or(tc.TMax)
	tc.ClipNorm = s.Clip.Or(tc.ClipNorm)
	tc.StopLoss = s.Stop.Or(tc.StopLoss)
	for _, v := range []struct {
		name string
		bad  bool
		line int
	}{
		{"t_max", tc.TMax < 1, s.TMax.Line},
		{"clip", !(tc.ClipNorm >= 0) || !isFinite(tc.ClipNorm), s.Clip.Line},
		{"stop_loss", !(tc.StopLoss >= 0) || !isFinite(tc.StopLoss), s.Stop.Line},
	} {
		if v.bad {
			return sp, c.errf(v.line, "%s: out of range (t_max >= 1, clip and stop_loss >= 0)", v.name)
		}
	}
	sp.Train = tc

	// The model, to check the layer and k against d.
	sp.Model = nn.ModelSpec{Kind: strings.ToLower(s.Model.Or("mlp")), Widths: s.Widths.V}
	if sp.Model.Kind != "mlp" && sp.Model.Kind != "cnn" {
		return sp, c.errf(lineOr(s.Model.Line), "model %q: want mlp or cnn", s.Model.V)
	}
	if sp.Model.Kind == "cnn" && s.Widths.Set {
		return sp, c.errf(s.Widths.Line, "widths: the cnn's sizes are fixed (remove widths or use model: mlp)")
	}
	arch, err := sp.Model.Arch(sp.Data)
	if err != nil {
		return sp, c.errf(lineOr(max(s.Widths.Line, s.Model.Line)), "%s: %v", where, err)
	}
	key := fmt.Sprint(arch)
	model := models[key]
	if model == nil {
		if model, err = nn.NewModel(arch, 1); err != nil {
			return sp, c.errf(lineOr(s.Model.Line), "%s: %v", where, err)
		}
		models[key] = model
	}
	cfg := awd.DefaultConfig(loss.String())
	cfg.Layer = s.Layer.Or(model.DefaultLayer())
	m, n, err := model.LayerShape(cfg.Layer)
	if err != nil {
		return sp, c.errf(lineOr(s.Layer.Line), "layer %q: %v", cfg.Layer, err)
	}
	if cfg.K, err = perK("k", s.K, -1, 2, 1<<30); err != nil {
		return sp, err
	}
	if cfg.K > m*n {
		return sp, c.errf(lineOr(s.K.Line), "k %d for K=%d exceeds d = %d of layer %s (%dx%d)", cfg.K, k, m*n, cfg.Layer, m, n)
	}
	cfg.Batch = tc.Batch
	cfg.Seed = s.AnalysisSeed.Or(1)
	cfg.Suppression.Seed = cfg.Seed
	cfg.Centered = s.Centered.Or(cfg.Centered)
	cfg.Greedy = s.Greedy.Or(cfg.Greedy)
	cfg.Pair2 = s.Pair2.Or(cfg.Pair2)
	cfg.MiniBatch = s.MiniBatch.Or(cfg.MiniBatch)
	cfg.Correlation = s.Correlation.Or(cfg.Correlation)
	cfg.CorrK = s.CorrK.Or(cfg.CorrK)
	cfg.Suppression.CorrK = cfg.CorrK
	cfg.RhoBlock = s.RhoBlock.Or(cfg.RhoBlock)
	if cfg.CorrK < 1 || cfg.RhoBlock < 0 {
		return sp, c.errf(lineOr(max(s.CorrK.Line, s.RhoBlock.Line)), "corr_k %d, rho_block %d: want corr_k >= 1 and rho_block >= 0", cfg.CorrK, cfg.RhoBlock)
	}
	// The correlations and the heat maps take the top k directions at
	// most: as `awd run --corr-k` and `--rho-block` do, a value given
	// above k is refused (the defaults are cut to k), not silently cut.
	for _, v := range []struct {
		name string
		set  Value[int]
	}{{"corr_k", s.CorrK}, {"rho_block", s.RhoBlock}} {
		if v.set.Set && v.set.V > cfg.K {
			return sp, c.errf(v.set.Line, "%s: %s %d exceeds k = %d, the top directions analysed: give %s at most k, or a larger k", where, v.name, v.set.V, cfg.K, v.name)
		}
	}
	cfg.Interventions = nil
	for _, iv := range s.Suppress.V {
		if !slices.Contains(awd.Interventions, iv) {
			return sp, c.errf(s.Suppress.Line, "suppress: unknown intervention %q (known: %s)", iv, strings.Join(awd.Interventions, ", "))
		}
		cfg.Interventions = append(cfg.Interventions, iv)
	}
	sp.Analysis = &cfg

	// Analysed epochs: the last one always (the tables read it).
	at := []int{tc.Epochs}
	if s.At.Set {
		v, ok := s.At.at(k)
		if !ok {
			return sp, c.errf(s.At.Line, "analyze_at: no value for K=%d", k)
		}
		at = slices.Clone(v)
		for _, e := range at {
			if e < 1 || e > tc.Epochs {
				return sp, c.errf(s.At.Line, "analyze_at %v: epochs must be in 1..%d", v, tc.Epochs)
			}
		}
		slices.Sort(at)
		at = slices.Compact(at)
		if len(at) == 0 || at[len(at)-1] != tc.Epochs { // analyze_at: [] is the last epoch alone
			at = append(at, tc.Epochs)
		}
	}
	sp.AnalyzeAt = at

	if th := s.Threads; th.Set && (th.V < 1 || th.V > 1024) {
		return sp, c.errf(th.Line, "threads %d: want 1..1024", th.V)
	}
	if sh := s.Shards; sh.Set && (sh.V < 1 || sh.V > 10000) {
		return sp, c.errf(sh.Line, "shards %d: want 1..10000", sh.V)
	}
	// Each shard takes a range of the AWD batch pairs: K floor(P/2)
	// same-class couples, B to a pair of batches.
	if n, nbp := s.Shards.Or(c.Resources.Shards.Or(1)), k*(sp.Data.PerClass/2)/tc.Batch; n > 1 && n > nbp {
		return sp, c.errf(lineOr(max(s.Shards.Line, c.Resources.Shards.Line)), "%s: shards %d: the %d samples (P*K) form %d batch pairs of B = %d, so at most %d shards", where, n, sp.Data.PerClass*k, nbp, tc.Batch, nbp)
	}
	if s.Memory.Set {
		if _, err := parseMemory(s.Memory.V); err != nil {
			return sp, c.errf(s.Memory.Line, "memory: %v", err)
		}
	}
	if s.Time.Set {
		if _, err := parseSlurmTime(s.Time.V); err != nil {
			return sp, c.errf(s.Time.Line, "time: %v", err)
		}
	}
	// What the checks above do not cover, awd's own (the messages name the
	// option as the CLI's flags do).
	if _, err := sp.Normalized(); err != nil {
		return sp, c.errf(cellLine, "%s: %v", where, err)
	}
	return sp, nil
}

// Workers is the local worker count: the config's, or as many jobs of the
// largest thread count as the machine has cores.
func (c *Config) Workers(jobs []*Job) int {
	if c.Local.Workers.Set {
		return c.Local.Workers.V
	}
	th := 1
	for _, j := range jobs {
		th = max(th, j.Threads)
	}
	return max(1, runtime.NumCPU()/th)
}
