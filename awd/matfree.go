package awd

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// MatFreeConfig tunes the matrix-free path; zero fields take the defaults.
type MatFreeConfig struct {
	// Tol is the Lanczos residual tolerance |H u - lambda u| <= Tol
	// lambda_1 of every top-k pair, in [0, 1) (default 1e-9: eigenvalues
	// to about Tol^2 lambda_1 / gap, the c_i to about Tol lambda_1 / gap).
	Tol float64 `json:"tol"`
	// Block is the Lanczos block size (default min(k, 32)): larger blocks
	// make the operator's products faster GEMMs, smaller ones converge in
	// fewer vectors.
	Block int `json:"block"`
	// Basis is the Lanczos basis size, locked vectors included (default
	// 3k + 2b, or 2k + 2b where d (3k + 3b) numbers would pass 2 GiB; at
	// most d). A Basis given must hold k vectors and two blocks, k + 2b
	// (or be at least d): ForModel refuses a smaller one.
	Basis int `json:"basis"`
	// JacobianFloat32 keeps a formed Jacobian (convolution layers) in
	// float32 and applies it with float32 products: J takes half the
	// memory, so more of it (on the MNIST CNN all of it) is kept instead
	// of formed again, and the products run at twice the rate, for a
	// relative error near 1e-6 in the operators' products (docs/math.md).
	// Other layers ignore it.
	JacobianFloat32 bool `json:"jacobian_float32,omitempty"`
}

// Validate checks the options of the matrix-free path: Tol in [0, 1),
// Block and Basis each at least 0 (0: the default). A Tol of +Inf took
// any vectors for converged eigenpairs, and its results file could not be
// written (JSON has no infinity); so did any Tol of 1 or more, since every
// unit vector u has |H u - lambda u| <= lambda_1.
func (c MatFreeConfig) Validate() error {
	switch {
	case !(c.Tol >= 0) || math.IsInf(c.Tol, 0):
		return nn.BadOption("MatFree.Tol", c.Tol, "must be finite and at least 0 (0: the default 1e-9)")
	case c.Tol >= 1:
		return nn.BadOption("MatFree.Tol", c.Tol, "must be below 1: a residual of lambda_1 or more takes any vector for an eigenvector (0: the default 1e-9)")
	case c.Block < 0:
		return nn.BadOption("MatFree.Block", c.Block, "must be at least 0 (0: the default)")
	case c.Basis < 0:
		return nn.BadOption("MatFree.Basis", c.Basis, "must be at least 0 (0: the default)")
	}
	return nil
}

func (c MatFreeConfig) withDefaults(k, d int) MatFreeConfig {
	if c.Tol <= 0 {
		c.Tol = 1e-9
	}
	if c.Block <= 0 {
		c.Block = 32
	}
	c.Block = max(1, min(c.Block, k, d))
	if c.Basis <= 0 {
		// A basis of 3k + 2b lets most problems converge in one cycle
		// (LanczosTop stops a cycle once the top k have converged); where
		// that basis would pass basisBytes, 2k + 2b (one or two restarts
		// more).
		b := c.Block
		c.Basis = max(3*k+2*b, k+32, 48)
		if 8*int64(d)*int64(c.Basis+b) > basisBytes {
			c.Basis = max(2*k+2*b, k+3*b, k+32, 48)
		}
	}
	c.Basis = min(c.Basis, d)
	return c
}

// basisBytes bounds the Lanczos basis of the larger default (2 GiB).
const basisBytes = 2 << 30

// MatrixFreeInfo records how the matrix-free path ran.
type MatrixFreeInfo struct {
	Tol      float64 `json:"tol"`
	Block    int     `json:"block"`
	Basis    int     `json:"basis"`
	Restarts int     `json:"restarts"`         // Lanczos Rayleigh-Ritz steps
	Applied  int     `json:"operator_vectors"` // vectors H was applied to
	Memory   int64   `json:"memory_estimate"`  // bytes, per-sample factors of every analysed layer included
	// Jacobian says how J_s was applied: "kronecker" (fully connected,
	// J_s = Jz_s (x) a_s^T), "stored" (explicit, kept) or "formed"
	// (convolution, formed from Jz_s and the patches chunk by chunk).
	Jacobian string `json:"jacobian"`
	// JacobianCache is the memory (bytes) a formed Jacobian could keep of J
	// between applications instead of forming it again each time: the
	// budget's room beyond Memory, up to all of J (8 N L d bytes, 4 N L d with
	// MatFreeConfig.JacobianFloat32).
	JacobianCache int64 `json:"jacobian_cache,omitempty"`
	// KEffEstimated lists the alignments whose ||X||_F^2 (for k_eff) is
	// the unbiased estimate (d/k) ||X R||_F^2 from the Haar frame R (its
	// relative error is about sqrt(2/k) / sqrt(k_eff)) instead of the
	// exact value, which for a formed Jacobian would cost (N L)^2 d flops.
	KEffEstimated []string `json:"k_eff_estimated,omitempty"`
}

// AnalyzeMatrixFree is Analyze for layers where no d x d matrix fits (a
// 1000 x 1000 layer has d = 10^6) and for convolution layers, which the
// dense path cannot study: nothing of size d x d is formed. The top k of
// H come from block Lanczos (linalg.LanczosTop) on the matrix-free H,
// every c_i and the k x k blocks U^T X U of the alignment from one forward
// pass F = J U (see MatFree), per-sample spectra from L x L problems.
// The Result has the same fields as Analyze's, with Config.MatrixFree set
// and MatrixFree describing the run; what differs:
//
//   - for a convolution layer theta is the kernel without its bias, in
//     the order (out, ky, kx, in); C_awd, C_pair and C_pair2 need the
//     minimal-norm dW of matched pairs, which docs/math.md section 4.1 defines for fully
//     connected layers only, so only C, C_mb and M2 (whose fit is
//     gamma_awd's: C_awd = (sigma^2/B) M2) are measured;
//   - the commutator ||HC - CH||_F is not computed (it needs HC, d x d);
//   - the suppression experiments are not run;
//   - k_eff of an alignment may be an estimate (MatrixFree.KEffEstimated).
//
// Each is said in Notes. Memory: the per-sample factors, O(N (L m + n))
// for a fully connected layer, plus the Lanczos basis d (m + b) and a
// d x k frame; an error says how much is needed and the largest k that fits
// when that exceeds the memory available, or how much the other analyses
// of the process hold when it does not fit beside them (HeldMemoryError).
func AnalyzeMatrixFree(ctx context.Context, model *nn.Model, data *nn.Dataset, cfg Config, prog Progress) (r *Result, err error) {
	ctx, prog, stop := guardProgress(ctx, prog)
	defer func() {
		if err = stop(err); err != nil {
			r = nil
		}
	}()
	if err := noInputs(model, data); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	layer := cfg.Layer
	if layer == "" {
		layer = model.DefaultLayer()
	}
	rs, err := AnalyzeLayers(ctx, model, data, cfg, []string{layer}, prog)
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// AnalyzeLayers analyses every layer of layers (names from
// model.WeightLayers(), convolutions included) matrix-free as
// AnalyzeMatrixFree does, sharing the matched pairs and the per-sample
// forward and backward passes between them; cfg.Layer is ignored and each
// Result names its layer. The per-sample factors of all the layers are
// held at once.
func AnalyzeLayers(ctx context.Context, model *nn.Model, data *nn.Dataset, cfg Config, layers []string, prog Progress) (rs []*Result, err error) {
	ctx, prog, stop := guardProgress(ctx, prog)
	defer func() {
		if err = stop(err); err != nil {
			rs = nil
		}
	}()
	t00 := time.Now()
	if err := noInputs(model, data); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	if _, err := cfg.ForLayers(model, layers); err != nil {
		return nil, err
	}
	loss, _ := nn.ParseLoss(cfg.Loss)
	cfg.Loss = loss.String()
	cfg.MatrixFree = true
	if err := checkSamples(model, data); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	if err := noBootstrap(cfg, "it is matrix-free"); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	L := model.Arch.Outputs

	tPairs := time.Now()
	pairs, err := MatchPairs(linalg.DenseOf(data.N, data.Dim(), data.Float64(nil)), data.Y, cfg.Batch, cfg.Seed, cfg.Greedy)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	var order []int
	for _, b := range pairs.Batches {
		order = append(order, b...)
	}
	N := len(order)
	local := make(map[int]int, N)
	for i, s := range order {
		local[s] = i
	}
	partner := make([]int, N)
	for i, s := range order {
		partner[i] = -1
		if p := pairs.Partner[s]; p >= 0 {
			partner[i] = local[p]
		}
	}
	timePairs := time.Since(tPairs).Seconds()

	need, err := matFreeNeed(model, layers, N, cfg)
	if err != nil {
		return nil, err
	}
	// The formed Jacobians keep what they can of J in the budget's room
	// beside the other analyses of the process (one layer at a time: a
	// finished layer's cache goes with its factors).
	budget, avail := MemoryBudget(cfg.Memory), availableMemory()
	room := budget
	if budget != math.MaxInt64 { // unknown stays unknown
		room -= memoryHeldByOthers(ctx)
	}
	plans := make([]mfPlan, len(layers))
	var cache int64
	for i, name := range layers {
		plans[i] = newMFPlan(model, name, N, cfg)
		plans[i].cache = plans[i].jacobianCache(need, room, avail)
		cache = max(cache, plans[i].cache)
	}
	ctx, release, err := reserveMemory(ctx, need+cache, budget, true)
	if err != nil && cache > 0 {
		// Another analysis took the room meanwhile: go without the caches.
		for i := range plans {
			plans[i].cache = 0
		}
		ctx, release, err = reserveMemory(ctx, need, budget, true)
	}
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	defer release()

	tPer := time.Now()
	x := data.Float64(order)
	labels := data.Labels(order)
	all, err := layerSamples(ctx, model, layers, x, labels, loss, prog)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	x = nil
	timePer := time.Since(tPer).Seconds()

	indices := make([]int, N)
	for i, s := range order {
		indices[i] = s
		if data.Index != nil {
			indices[i] = data.Index[s]
		}
	}
	var lossSum float64
	var correct int
	for s := 0; s < N; s++ {
		lossSum += all[0].Loss[s]
		if all[0].Pred[s] == all[0].Label[s] {
			correct++
		}
	}
	matched := 0
	for _, p := range pairs.Partner {
		if p >= 0 {
			matched++
		}
	}
	var cls []int
	for _, y := range data.Y {
		if !slices.Contains(cls, y) {
			cls = append(cls, y)
		}
	}
	slices.Sort(cls)

	out := make([]*Result, len(layers))
	for i, ls := range all {
		t0 := time.Now()
		lc := cfg.atMostK()
		lc.Layer = ls.Layer
		r := &Result{Dataset: data.Name, Model: model.Arch.Model, Layer: ls.Layer, Loss: cfg.Loss, Head: L,
			Classes: cls, M: ls.Out, In: ls.K(), Config: lc, KernelLevel: kernels.Current().String(),
			SampleLoss: Float(lossSum / float64(N)), SampleAcc: Float(float64(correct) / float64(N))}
		r.Arrays.SampleIndices = indices
		r.Timings.Pairs, r.Timings.PerSample = timePairs, timePer
		r.Spectrum.Pairs = matched / 2
		r.Spectrum.LeftOut = pairs.Dropped
		r.MatrixFree = &MatrixFreeInfo{Memory: need}
		if err := analyzeLayerMF(ctx, r, model, ls, partner, plans[i], lc, prog); err != nil {
			return nil, fmt.Errorf("analyze %s: %w", ls.Layer, err)
		}
		r.Timings.Total = time.Since(t0).Seconds() + timePairs + timePer
		out[i] = r
		all[i] = nil // the factors of a finished layer can go
	}
	if len(layers) > 1 {
		for _, r := range out {
			r.Timings.Total = time.Since(t00).Seconds()
		}
	}
	return out, nil
}

// layerSamples runs nn's per-sample pass over the samples, with progress
// and cancellation after every block.
func layerSamples(ctx context.Context, model *nn.Model, layers []string, x []float64, labels []int, loss nn.Loss, prog Progress) ([]*nn.LayerSamples, error) {
	prog.Start("per-sample", len(labels))
	defer prog.Finish()
	done := 0
	return model.LayerSamplesEach(layers, x, labels, loss, func(n int) error {
		prog.Add(n - done)
		done = n
		return ctx.Err()
	})
}

// analyzeLayerMF fills r for one layer: the Lanczos top k of H and every
// statistic from the k x k projected blocks.
func analyzeLayerMF(ctx context.Context, r *Result, model *nn.Model, ls *nn.LayerSamples, partner []int, plan mfPlan, cfg Config, prog Progress) error {
	d, k, N := ls.D(), cfg.K, ls.N
	r.D, r.K, r.Batch, r.N = d, k, cfg.Batch, N
	r.Fits, r.Arrays.C = map[string]Fit{}, map[string][]float64{}
	info := r.MatrixFree
	mc := cfg.MatFree.withDefaults(k, d)
	info.Tol, info.Block, info.Basis = mc.Tol, mc.Block, mc.Basis
	info.Jacobian = plan.jacobian

	t0 := time.Now()
	info.JacobianCache = plan.cache
	mf, err := newMatFree(ls, cfg.Batch, cfg.Centered, plan.cache, plan.mc.JacobianFloat32)
	if err != nil {
		return err
	}
	if !ls.Conv {
		w, err := model.Weight(ls.Layer)
		if err != nil {
			return err
		}
		if err := mf.SetPairs(w, partner); err != nil {
			return err
		}
	}
	sp := sampleSpectraL(mf)
	r.Timings.Accumulate = time.Since(t0).Seconds()
	if err := ctx.Err(); err != nil {
		return err
	}

	// Top k of H.
	t0 = time.Now()
	hop, _ := mf.Operator(QuantityH)
	prog.Start("eigensolve "+ls.Layer, k)
	conv := 0
	// The basis's buffer; after the eigensolve the vectors are its first
	// d k numbers and the rest (at least d k more) holds the Haar frame.
	work := make([]float64, d*(mc.Basis+mc.Block))
	e, err := linalg.LanczosTop(hop, k, linalg.LanczosOptions{Tol: mc.Tol, Block: mc.Block, Basis: mc.Basis, Seed: cfg.Seed, Work: work,
		Progress: func(s linalg.LanczosStatus) error {
			if s.Converged > conv {
				prog.Add(s.Converged - conv)
				conv = s.Converged
			}
			info.Restarts, info.Applied = s.Restarts, s.Applied
			return ctx.Err()
		}})
	prog.Finish()
	if err != nil {
		return fmt.Errorf("eigensolve of H: %w", err)
	}
	r.Timings.Eigensolve = time.Since(t0).Seconds()

	t0 = time.Now()
	nstages := 4
	prog.Start("statistics "+ls.Layer, nstages)
	defer prog.Finish()
	lambda := e.Values
	r.Arrays.Lambda = lambda
	floor := NullFloor(lambda, d) // H's null space is left out (NullFloor)
	keep := inRange(lambda, floor)
	sum := &r.Spectrum
	sum.Lambda1, sum.LambdaK = lambda[0], lambda[k-1]
	for _, v := range lambda {
		if v > 0 {
			sum.Positive++
		}
	}
	sum.TraceH = mf.Trace(QuantityH)
	sum.TraceC = mf.Trace(QuantityC)
	sum.LocMax, sum.NegativeHn = sp.locMax, sp.negative
	r.AllPSD = cfg.Loss == nn.CE.String() || sp.negative == 0

	// ctx is checked between the steps below, each a few operator
	// applications at most, as the eigensolve checks it between its own.
	if err := ctx.Err(); err != nil {
		return err
	}
	f := mf.Forward(e.Vectors)
	prog.Add(1)
	quantities := map[string]Quantity{NameC: QuantityC, NameM2: QuantityM2}
	if mf.NPairs > 0 {
		quantities[NameCPair] = QuantityCPair
	}
	blocks := map[string]linalg.Dense{}
	for name, q := range quantities {
		if err := ctx.Err(); err != nil {
			return err
		}
		blocks[name] = mf.Block(q, f)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if mf.NPairs > 0 && (cfg.Pair2 || cfg.Pair2Code) {
		hd, dd := mf.pair2Parts(f, e.Vectors)
		if cfg.Pair2 {
			blocks[NameCPair2] = mf.pair2Block(hd, dd)
		}
		if cfg.Pair2Code {
			blocks[NameCPair2Code] = pair2CodeBlock(hd, dd, cfg.Batch, cfg.Batch)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if cfg.MiniBatch {
		gp := mf.GradProj(f)
		if cfg.MiniBatchRule == MBShuffled {
			blocks[NameCMb] = shuffledMiniBatchBlock(gp, ShuffledBatches(N, cfg.Batch, cfg.Seed))
		} else {
			blocks[NameCMb] = miniBatchBlock(gp, cfg.Batch, cfg.Centered)
		}
	}
	for name, xt := range blocks {
		c := make([]float64, k)
		for i := range c {
			c[i] = xt.At(i, i)
		}
		r.Arrays.C[name] = c
	}
	sigma2D, sigma2M := mf.Sigma2, mf.Sigma2*float64(ls.K())
	sigma2 := sigma2D
	if cfg.Sigma2Per == Sigma2PerM {
		sigma2 = sigma2M
	}
	// Without matched pairs (a convolution layer has no minimal-norm dW)
	// there is no dtheta_n, so no sigma^2: null, not 0.
	sum.Sigma2 = Float(math.NaN())
	if mf.NPairs > 0 {
		sum.Sigma2 = Float(sigma2)
	}
	if s, ok := r.Arrays.C[NameM2]; ok && mf.NPairs > 0 {
		ca := make([]float64, k)
		for i, v := range s {
			ca[i] = sigma2 / float64(cfg.Batch) * v
		}
		r.Arrays.C[NameCAWD] = ca
	}
	for name, c := range r.Arrays.C {
		fit, err := FitPowerLawAbove(lambda, c, floor)
		if err != nil {
			r.addFitError(name, err)
			continue
		}
		r.Fits[name] = fit
	}
	if ls.Conv {
		r.addNote("convolution layer: theta is the kernel without its bias, in the order (out, ky, kx, in)")
		r.addNote("C_awd, C_pair and C_pair2 need the minimal-norm dW of matched pairs, defined for fully connected layers only: gamma of M2 is gamma_awd's")
		if plan.jacobian == "formed" {
			r.addNote(jacobianNote(plan))
		}
	} else if mf.NPairs == 0 {
		r.addFitError(NameCAWD, errNoPairs)
		r.addNoPairErrors(cfg, N)
	}
	r.Bounds = CheckBounds(lambda, r.Arrays.C[NameM2], sum.LocMax, r.AllPSD, d, N)
	if !ls.Conv {
		pr := newPairRule(PairsBalanced, mf.NPairs, sigma2D, sigma2M)
		for _, n := range []string{NameCPair, NameCPair2, NameCPair2Code, NameCAWD} {
			if _, ok := r.Arrays.C[n]; ok {
				pr.Feeds = append(pr.Feeds, n)
			}
		}
		r.PairRules = []PairRule{pr}
	}
	parityStats(r, Covariances{B: cfg.Batch, N: N, Sigma2: sigma2, sigma2D: sigma2D, sigma2M: sigma2M}, linalg.Eigen{}, cfg)
	prog.Add(1)

	// Alignment on the projected blocks, against a Haar frame.
	r.Arrays.Rho, r.Arrays.RhoRand = map[string]linalg.Dense{}, map[string]linalg.Dense{}
	type target struct {
		label string
		q     Quantity
	}
	var targets []target
	for _, name := range cfg.AlignWith {
		switch name {
		case NameC:
			targets = append(targets, target{name, QuantityC})
		case NameCAWD, NameM2:
			label := alignmentLabel(r, name)
			if !slices.ContainsFunc(targets, func(t target) bool { return t.label == label }) {
				targets = append(targets, target{label, QuantityM2})
			}
		case NameCPair:
			if mf.NPairs > 0 {
				targets = append(targets, target{name, QuantityCPair})
			}
		default:
			r.addAlignError(name, fmt.Errorf("not available on the matrix-free path (not of the form sum J^T M J)"))
		}
	}
	// In the dense path's order: by the matrix's name.
	slices.SortStableFunc(targets, func(a, b target) int { return strings.Compare(a.q.String(), b.q.String()) })
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(targets) > 0 {
		var spare []float64
		if len(work) >= 2*d*k {
			spare = work[d*k:]
		}
		frame := haarFrameInto(spare, d, k, cfg.Seed)
		fr := mf.Forward(frame)
		for _, tg := range targets {
			if err := ctx.Err(); err != nil {
				return err
			}
			xt := mf.Block(tg.q, f)
			xr := mf.Block(tg.q, fr)
			a := Alignment{Of: tg.label, K: k, Seed: cfg.Seed, Basis: AlignTopK, Null: nullCount(keep)}
			a.K -= a.Null
			a.RBar, a.M = meanAbsRho(xt, keep)
			var fro2 float64
			if !plan.estimate {
				fro2 = mf.frob2(tg.q)
			} else {
				xrd := mf.ApplyProjected(tg.q, fr, frame)
				fro2 = float64(d) / float64(k) * frob(xrd) * frob(xrd)
				info.KEffEstimated = append(info.KEffEstimated, tg.label)
			}
			tr := mf.Trace(tg.q)
			a.KEff = math.NaN()
			if fro2 > 0 {
				a.KEff = tr * tr / fro2
			}
			if a.M == 0 || math.IsNaN(a.KEff) {
				r.addAlignError(tg.label, fmt.Errorf("%s has no positive diagonal pairs in H's eigenbasis", tg.label))
				continue
			}
			a.RBarRand, _ = MeanAbsRho(xr)
			a.Mu0, a.SE, a.Z, a.P = NullStats(a.RBar, a.KEff, a.M)
			a.ZRand = (a.RBarRand - a.Mu0) / a.SE
			r.Alignment = append(r.Alignment, a)
			b := min(cfg.RhoBlock, k)
			r.Arrays.Rho[tg.label] = Rho(xt.View(0, 0, b, b))
			r.Arrays.RhoRand[tg.label] = Rho(xr.View(0, 0, b, b))
		}
	}
	if len(info.KEffEstimated) > 0 {
		r.addNote(fmt.Sprintf("k_eff of %v: ||X||_F^2 estimated from the Haar frame", info.KEffEstimated))
	}
	r.Commutator, r.CommutatorCode = Float(math.NaN()), Float(math.NaN())
	r.addNote("commutator ||HC - CH||_F not computed on the matrix-free path")
	prog.Add(1)

	if err := ctx.Err(); err != nil {
		return err
	}
	if cfg.Correlation {
		r.Arrays.Lambda1 = sp.lambda1
		kc := min(k, cfg.CorrK)
		r.Arrays.Corr = sp.correlation(f, kc)
		r.Correlation = summarizeCorr(r.Arrays.Corr)
	}
	if len(cfg.Interventions) > 0 {
		r.addNote(fmt.Sprintf("suppression experiments %v not run on the matrix-free path", cfg.Interventions))
	}
	r.Estimators = matrixFreeEstimators(cfg, ls.Conv)
	if cfg.Pairs != PairsBalanced || cfg.boot() {
		r.addNote("the anchor pairs and the bootstrap are computed on the dense path only")
	}
	prog.Add(1)
	r.Timings.Statistics = time.Since(t0).Seconds()
	return nil
}

func (r *Result) addNote(s string) { r.Notes = append(r.Notes, s) }

// jacobianNote says how much of a formed Jacobian was kept between
// operator applications, and in which precision.
func jacobianNote(p mfPlan) string {
	full := int64(p.n) * int64(p.l) * int64(p.info.D())
	prec, size := "float64", int64(8)
	if p.mc.JacobianFloat32 {
		prec, size = "float32", 4
	}
	kept := float64(min(p.cache, size*full)) / float64(size*full)
	s := fmt.Sprintf("formed Jacobian kept in %s: %.0f%% of its %s", prec, 100*kept, FormatBytes(size*full))
	if kept < 1 {
		s += " (the rest formed again in every operator application)"
	}
	if kept < 1 && p.cache > 0 && !p.mc.JacobianFloat32 {
		s += fmt.Sprintf("; --jacobian-float32 would keep %.0f%% in float32 (relative error near 1e-6, docs/math.md)", 100*min(1, float64(p.cache)/float64(4*full)))
	}
	return s
}

// ApplyProjected returns X V (d x b) of quantity q from F = Forward(V):
// the adjoint half of an operator application, with the centering of C.
func (mf *MatFree) ApplyProjected(q Quantity, f, v linalg.Dense) linalg.Dense {
	w := f.Clone()
	mf.applyMiddle(q, 0, mf.LS.N, mf.scale(q), w)
	out := linalg.NewDense(mf.D(), f.Cols)
	mf.jac.adjoint(w, out)
	if q == QuantityC && mf.Centered {
		gv := make([]float64, v.Cols)
		for r, g := range mf.GBar {
			if g != 0 {
				kernels.Daxpy(g, v.Row(r), gv)
			}
		}
		inv := -1 / float64(mf.Batch)
		for r, g := range mf.GBar {
			if g != 0 {
				kernels.Daxpy(inv*g, gv, out.Row(r))
			}
		}
	}
	return out
}

// pair2Parts returns, for a fully connected layer, the projections on the
// columns of u of the two terms of u2_s = H_s dtheta_s + vec(delta_s
// da_s^T) (the paper's Eq. 57-58): hd[s, i] = (H_s dtheta_s) . u_i =
// w_s^T F_s[:, i] and dd[s, i] = delta_s^T U_i da_s (U_i = u_i reshaped
// Out x In), both zero for samples without a partner. Cost 2 N d k flops.
func (mf *MatFree) pair2Parts(f, u linalg.Dense) (hd, dd linalg.Dense) {
	ls := mf.LS
	m, l, N, k := ls.Out, ls.L, ls.N, u.Cols
	delta := make([]float64, N*m)
	for s := 0; s < N; s++ {
		for c := 0; c < l; c++ {
			kernels.Daxpy(ls.G[s*l+c], ls.Jz[(s*l+c)*m:(s*l+c+1)*m], delta[s*m:(s+1)*m])
		}
	}
	dd = mf.jac.(*kronJac).bilinear(mf.DA, delta, u)
	hd = linalg.NewDense(N, k)
	for s := 0; s < N; s++ {
		if !mf.Paired[s] {
			clear(dd.Row(s))
			continue
		}
		for c := 0; c < l; c++ {
			kernels.Daxpy(mf.PairW[s*l+c], f.Row(s*l+c), hd.Row(s))
		}
	}
	return hd, dd
}

// pair2Block returns U^T C_pair2 U = (1/(B Np)) sum over the matched
// samples of p_s p_s^T, p_s = hd_s + dd_s (see pair2Parts).
func (mf *MatFree) pair2Block(hd, dd linalg.Dense) linalg.Dense {
	p := hd.Clone()
	kernels.Daxpy(1, dd.Data, p.Data)
	xt := linalg.NewDense(p.Cols, p.Cols)
	linalg.Gemm(true, false, 1/(float64(mf.Batch)*float64(mf.NPairs)), p, p, 0, xt)
	symmetrize(xt)
	return xt
}

// pair2CodeBlock returns U^T C_code U for the paper code's C_pair2 (see
// CodePair2Acc) on consecutive batches of size b of the N samples: with
// s_b and t_b the batch sums of the rows of hd and dd, the symmetric part
// (1/(div N)) sum_b [(s_b + t_b/2)(s_b + t_b/2)^T + (3/4) t_b t_b^T].
func pair2CodeBlock(hd, dd linalg.Dense, b, div int) linalg.Dense {
	n, k := hd.Rows, hd.Cols
	nb := (n + b - 1) / b
	r := linalg.NewDense(2*nb, k)
	h := math.Sqrt(3) / 2
	for s := 0; s < n; s++ {
		j := s / b
		kernels.Daxpy(1, hd.Row(s), r.Row(2*j))
		kernels.Daxpy(0.5, dd.Row(s), r.Row(2*j))
		kernels.Daxpy(h, dd.Row(s), r.Row(2*j+1))
	}
	xt := linalg.NewDense(k, k)
	linalg.Gemm(true, false, 1/float64(div*n), r, r, 0, xt)
	symmetrize(xt)
	return xt
}

// shuffledMiniBatchBlock returns U^T C_mb U for the batches (positions of
// gp's rows) of one shuffled pass (see MinibatchAcc): (1/nb) sum_b g_b g_b^T
// - gbar gbar^T with g_b the batch means of gp's rows and gbar the mean of
// all of them.
func shuffledMiniBatchBlock(gp linalg.Dense, batches [][]int) linalg.Dense {
	n, k, nb := gp.Rows, gp.Cols, len(batches)
	gb := linalg.NewDense(nb, k)
	gbar := make([]float64, k)
	for j, idx := range batches {
		for _, s := range idx {
			kernels.Daxpy(1/float64(len(idx)), gp.Row(s), gb.Row(j))
			kernels.Daxpy(1/float64(n), gp.Row(s), gbar)
		}
	}
	xt := linalg.NewDense(k, k)
	linalg.Gemm(true, false, 1/float64(nb), gb, gb, 0, xt)
	for i := 0; i < k; i++ {
		kernels.Daxpy(-gbar[i], gbar, xt.Row(i))
	}
	symmetrize(xt)
	return xt
}

// miniBatchBlock returns U^T C_mb U from gp (N x k, g_s . u_i) for the
// consecutive batches of size b: (1/nb) sum_b gb gb^T with gb the batch
// means of gp's rows, minus the outer product of their mean when centered.
func miniBatchBlock(gp linalg.Dense, b int, centered bool) linalg.Dense {
	nb, k := gp.Rows/b, gp.Cols
	gb := linalg.NewDense(nb, k)
	for j := 0; j < nb; j++ {
		row := gb.Row(j)
		for s := j * b; s < (j+1)*b; s++ {
			kernels.Daxpy(1/float64(b), gp.Row(s), row)
		}
	}
	xt := linalg.NewDense(k, k)
	linalg.Gemm(true, false, 1/float64(nb), gb, gb, 0, xt)
	if centered {
		mean := make([]float64, k)
		for j := 0; j < nb; j++ {
			kernels.Daxpy(1/float64(nb), gb.Row(j), mean)
		}
		for i := 0; i < k; i++ {
			kernels.Daxpy(-mean[i], mean, xt.Row(i))
		}
	}
	symmetrize(xt)
	return xt
}
