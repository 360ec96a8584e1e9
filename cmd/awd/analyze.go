package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// dataOpts selects the balanced subset of SPEC section 2 used for training
// and analysis.
type dataOpts struct {
	Name     string `json:"data"`
	Dir      string `json:"-"`
	K        int    `json:"classes"`
	PerClass int    `json:"per_class"`
	Head     int    `json:"head"` // 0: 10 logits; K: K logits, labels 0..K-1
	Seed     uint64 `json:"data_seed"`
}

func (o *dataOpts) register(fs *pflag.FlagSet, perClass int) {
	fs.StringVar(&o.Name, "data", "mnist", "data set: mnist, fashion or cifar10")
	fs.StringVar(&o.Dir, "data-dir", "", "folder of the data set's files (default: MNIST from the module cache, $AWD_FASHION_DIR, $AWD_CIFAR10_DIR)")
	fs.IntVar(&o.K, "classes", 3, "K, the number of classes (0..K-1) in the balanced subset")
	fs.IntVar(&o.PerClass, "per-class", perClass, "P, training samples per class")
	fs.IntVar(&o.Head, "head", 0, "logits of the output layer: 0 for all 10 classes (the paper's code), or K")
	fs.Uint64Var(&o.Seed, "data-seed", 1, "seed of the subset draw")
}

// shape returns the input shape and class count of the data set, so that
// the flags can be checked before the files are read.
func (o *dataOpts) shape() (c, h, w, classes int, err error) {
	switch strings.ToLower(o.Name) {
	case "mnist", "fashion", "fashion-mnist", "fashionmnist":
		c, h, w = 1, 28, 28
	case "cifar10", "cifar-10", "cifar":
		c, h, w = 3, 32, 32
	default:
		return 0, 0, 0, 0, fmt.Errorf("unknown data set %q (known: mnist, fashion, cifar10)", o.Name)
	}
	if o.K < 2 || o.K > 10 {
		return 0, 0, 0, 0, fmt.Errorf("--classes %d: %s has 10 classes (need 2..10)", o.K, o.Name)
	}
	if o.Head != 0 && o.Head != o.K {
		return 0, 0, 0, 0, fmt.Errorf("--head %d: must be 0 (all 10 logits) or K=%d", o.Head, o.K)
	}
	return c, h, w, 10, nil
}

// load returns the training subset (relabelled for a K head) and the test
// samples of the same classes.
func (o *dataOpts) load() (train, test *nn.Dataset, err error) {
	var full, fullTest *nn.Dataset
	switch strings.ToLower(o.Name) {
	case "mnist":
		full, fullTest, err = nn.LoadMNIST(o.Dir)
	case "fashion", "fashion-mnist", "fashionmnist":
		full, fullTest, err = nn.LoadFashionMNIST(o.Dir)
	case "cifar10", "cifar-10", "cifar":
		full, fullTest, err = nn.LoadCIFAR10(o.Dir)
	default:
		return nil, nil, fmt.Errorf("unknown data set %q (known: mnist, fashion, cifar10)", o.Name)
	}
	if err != nil {
		return nil, nil, err
	}
	if o.K < 2 || o.K > full.Classes {
		return nil, nil, fmt.Errorf("--classes %d: %s has %d classes (need 2..%d)", o.K, o.Name, full.Classes, full.Classes)
	}
	if o.Head != 0 && o.Head != o.K {
		return nil, nil, fmt.Errorf("--head %d: must be 0 (all %d logits) or K=%d", o.Head, full.Classes, o.K)
	}
	classes := make([]int, o.K)
	for i := range classes {
		classes[i] = i
	}
	if train, _, err = nn.Subset(full, classes, o.PerClass, o.Seed); err != nil {
		return nil, nil, err
	}
	if fullTest != nil {
		if test, _, err = nn.Subset(fullTest, classes, 0, o.Seed); err != nil {
			return nil, nil, err
		}
	}
	if o.Head == o.K {
		if train, err = nn.Relabel(train, classes); err != nil {
			return nil, nil, err
		}
		if test != nil {
			if test, err = nn.Relabel(test, classes); err != nil {
				return nil, nil, err
			}
		}
	}
	return train, test, nil
}

// analysisOpts are the analysis flags shared by run and analyze.
type analysisOpts struct {
	k           int
	layer       string
	seed        uint64
	centered    bool
	greedy      bool
	noPair2     bool
	noMinibatch bool
	noCorr      bool
	suppress    string
	rhoBlock    int
	corrK       int
	supp        awd.SuppressionConfig
	quiet       bool
}

func (o *analysisOpts) register(fs *pflag.FlagSet, k int, suppress string) {
	fs.IntVar(&o.k, "k", k, "number of top eigenpairs of H used (the paper: 200 to 1500)")
	fs.StringVar(&o.layer, "layer", "", "layer under study (default: fc2 for the MNIST MLP, fc3 for CIFAR, fc for the CNN)")
	fs.Uint64Var(&o.seed, "analysis-seed", 1, "seed of the AWD batches and pairs, the Haar frame and the shuffle")
	fs.BoolVar(&o.centered, "centered", false, "subtract the mean gradient's outer product from C and C_mb (the paper's code)")
	fs.BoolVar(&o.greedy, "greedy", false, "greedy instead of optimal (Hungarian) matching of the AWD pairs")
	fs.BoolVar(&o.noPair2, "no-pair2", false, "skip C_pair2 (saves N d^2 flops and d^2 memory)")
	fs.BoolVar(&o.noMinibatch, "no-minibatch", false, "skip C_mb, the covariance of mini-batch gradients")
	fs.BoolVar(&o.noCorr, "no-correlation", false, "skip the eigenvalue-alignment correlations (2 N d k flops)")
	fs.StringVar(&o.suppress, "suppress", suppress, "suppression interventions, comma-separated: rank1,mean,stiff,shuffle (empty: none)")
	fs.IntVar(&o.corrK, "corr-k", 200, "directions for the eigenvalue-alignment correlations")
	d := awd.DefaultSuppression
	fs.Float64Var(&o.supp.Tau, "tau", d.Tau, "suppression: stiff samples have lambda_1 >= tau * max lambda_1")
	fs.Float64Var(&o.supp.TailEps, "tail-eps", d.TailEps, "suppression: factor on the tail eigenvalues lambda_k, k >= 2")
	fs.Float64Var(&o.supp.NonStiffEps, "nonstiff-eps", d.NonStiffEps, "suppression: factor on lambda_1 of the non-stiff samples")
	fs.IntVar(&o.rhoBlock, "rho-block", 100, "size of the leading block of rho kept for the heat maps")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bars")
}

func (o *analysisOpts) config(loss string, batch int) awd.Config {
	c := awd.DefaultConfig(loss)
	c.Layer, c.K, c.Batch, c.Seed = o.layer, o.k, batch, o.seed
	c.Centered, c.Greedy, c.Pair2, c.MiniBatch, c.Correlation = o.centered, o.greedy, !o.noPair2, !o.noMinibatch, !o.noCorr
	c.RhoBlock, c.CorrK = o.rhoBlock, o.corrK
	c.Suppression = o.supp
	c.Suppression.Seed, c.Suppression.CorrK = o.seed, o.corrK
	c.Interventions = nil
	for _, s := range strings.Split(o.suppress, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.Interventions = append(c.Interventions, s)
		}
	}
	return c
}

// checkK rejects k > d before any work, with the layer's shape.
func checkK(model *nn.Model, cfg awd.Config) error {
	layer := cfg.Layer
	if layer == "" {
		layer = model.DefaultLayer()
	}
	m, n, err := model.LayerShape(layer)
	if err != nil {
		return err
	}
	if cfg.K < 2 || cfg.K > m*n {
		return fmt.Errorf("--k %d: layer %s is %dx%d, so k must be in [2, d=%d]", cfg.K, layer, m, n, m*n)
	}
	for _, s := range cfg.Interventions {
		if !slices.Contains(awd.Interventions, s) {
			return fmt.Errorf("--suppress: unknown intervention %q (known: %s)", s, strings.Join(awd.Interventions, ", "))
		}
	}
	return nil
}

// ensureWritable creates dir and checks that a file can be written in it.
func ensureWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	f, err := os.CreateTemp(dir, ".probe*")
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// barProgress shows awd's stages as progress bars on w.
type barProgress struct {
	w     io.Writer
	quiet bool
	bar   *progressbar.ProgressBar
}

// Start opens a bar, only on a terminal (isTerminal is train.go's), so that
// logs of redirected runs hold no carriage-return frames.
func (p *barProgress) Start(stage string, total int) {
	if p.quiet || !isTerminal(p.w) {
		return
	}
	if total <= 1 {
		total = -1 // a spinner: the stage has no steps to count
	}
	p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(fmt.Sprintf("%-11s", stage)),
		progressbar.OptionSetWidth(30), progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish(), progressbar.OptionSetPredictTime(true))
}

func (p *barProgress) Add(n int) {
	if p.bar != nil {
		p.bar.Add(n)
	}
}

func (p *barProgress) Finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}

// arraysName is the .npz of the analysis of epoch e.
func arraysName(e int) string { return fmt.Sprintf("arrays_epoch%04d.npz", e) }

// signalContext is cancelled by Ctrl-C, so a long analysis stops between
// chunks and the files already written stay valid.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func init() {
	// The analysis keeps a few d x d matrices live; with Go's default GC
	// pacing the heap may grow to twice that before a collection. A soft
	// limit (unless the user set GOMEMLIMIT) keeps the MNIST fc2 analysis
	// with N = 20000, k = 1000 under 1 GiB resident.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(900 << 20)
	}
}

func init() {
	var data dataOpts
	var an analysisOpts
	var loss, out string
	var batch int
	cmd := &cobra.Command{
		Use:   "analyze CHECKPOINT.npz",
		Short: "analyse one checkpoint (ours, or a PyTorch state_dict saved as .npz)",
		Long: `analyze loads a model checkpoint and measures, for one fully connected layer,
the noise covariance C, the Hessian H, M2 and the AWD covariances on a
balanced data subset, then fits c_i ~ lambda_i^gamma in H's eigenbasis and
checks the Thm 5.1 bounds, the alignment and (optionally) the suppression
experiments (SPEC sections 4-5).

The checkpoint is an .npz of float32 arrays named as PyTorch's state_dict
(fc1.weight, ...). A checkpoint written by 'awd run' has a JSON beside it
that records the architecture, the loss, the batch size and the data subset;
those become the defaults here. A PyTorch model converted with
  numpy.savez("m.npz", **{k: v.numpy() for k, v in model.state_dict().items()})
is recognised from its names and shapes; then give --loss, --batch and the
data flags that were used for training.

Writes OUT/results.json (schema_version, config, fits, bounds, alignment,
suppression, timings) and OUT/arrays_epochNNNN.npz (sample_indices,
H_eigenvalues, c_C, c_Cawd, c_Cpair, c_Cpair2, c_Cmb, c_M2, s_i, ...).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			model, meta, err := nn.LoadCheckpoint(args[0])
			if err != nil {
				return err
			}
			epoch := 0
			if meta != nil {
				epoch = meta.Epoch
				if !cmd.Flags().Changed("loss") {
					loss = meta.Train.Loss.String()
				}
				if !cmd.Flags().Changed("batch") && meta.Train.Batch > 0 {
					batch = meta.Train.Batch
				}
				if l, ok := meta.Extra["layer"].(string); ok && !cmd.Flags().Changed("layer") {
					an.layer = l
				}
				if raw, ok := meta.Extra["data"]; ok {
					var saved dataOpts
					if b, err := json.Marshal(raw); err == nil && json.Unmarshal(b, &saved) == nil {
						fs := cmd.Flags()
						if !fs.Changed("data") {
							data.Name = saved.Name
						}
						if !fs.Changed("classes") {
							data.K = saved.K
						}
						if !fs.Changed("per-class") {
							data.PerClass = saved.PerClass
						}
						if !fs.Changed("head") {
							data.Head = saved.Head
						}
						if !fs.Changed("data-seed") {
							data.Seed = saved.Seed
						}
					}
				}
			}
			cfg := an.config(loss, batch)
			if err := checkK(model, cfg); err != nil {
				return err
			}
			if err := ensureWritable(out); err != nil {
				return err
			}
			train, _, err := data.load()
			if err != nil {
				return err
			}
			if want := model.Arch.Outputs; data.Head == 0 && want < 10 && want != data.K {
				return fmt.Errorf("checkpoint has %d logits; use --head %d", want, want)
			}
			ctx, stop := signalContext()
			defer stop()
			prog := &barProgress{w: cmd.ErrOrStderr(), quiet: an.quiet}
			r, err := awd.Analyze(ctx, model, train, cfg, prog)
			if err != nil {
				return err
			}
			ck := awd.Checkpoint{Epoch: epoch, File: args[0], Arrays: arraysName(epoch), Analysis: r}
			ck.TrainLoss, ck.TrainAcc = r.SampleLoss, r.SampleAcc
			ck.TestLoss, ck.TestAcc = awd.Float(math.NaN()), awd.Float(math.NaN())
			cfgJSON, _ := json.Marshal(map[string]any{"command": "analyze", "checkpoint": args[0], "data": data, "loss": loss, "batch": batch})
			rep := &awd.Report{Tool: "awd " + version, Config: cfgJSON, Checkpoints: []awd.Checkpoint{ck}}
			if err := awd.WriteArrays(filepath.Join(out, ck.Arrays), r); err != nil {
				return err
			}
			path := filepath.Join(out, "results.json")
			if err := awd.WriteReport(path, rep); err != nil {
				return err
			}
			printSummary(cmd.OutOrStdout(), rep, path)
			return nil
		},
	}
	fs := cmd.Flags()
	data.register(fs, 2000)
	an.register(fs, 300, "")
	fs.StringVar(&loss, "loss", "ce", "loss: ce or mse (default: the checkpoint's)")
	fs.IntVar(&batch, "batch", 50, "SGD batch size B (default: the checkpoint's)")
	fs.StringVar(&out, "out", "out/analyze", "output folder")
	rootCmd.AddCommand(cmd)

	var covs string
	var csvOut bool
	table := &cobra.Command{
		Use:   "table RESULTS.json...",
		Short: "Table 1 / Table 3 of the paper from several results files (seeds)",
		Long: `table groups the last checkpoint of each results file by data set, model and
K and prints, for MSE and CE, gamma of each covariance as mean ± sample std
over the files (seeds). Table 1 is --covs C,C_awd (the default); Table 3
adds the pair covariances: --covs C,C_awd,C_pair,C_pair2.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var reps []*awd.Report
			for _, p := range args {
				r, err := awd.ReadReport(p)
				if err != nil {
					return err
				}
				reps = append(reps, r)
			}
			cs := strings.Split(covs, ",")
			rows := awd.Table(reps, cs)
			if csvOut {
				s, err := awd.TableCSV(rows, cs)
				if err != nil {
					return err
				}
				fmt.Fprint(cmd.OutOrStdout(), s)
				return nil
			}
			fmt.Fprint(cmd.OutOrStdout(), awd.TableMarkdown(rows, cs))
			return nil
		},
	}
	table.Flags().StringVar(&covs, "covs", "C,C_awd", "covariances (C, C_awd, C_pair, C_pair2, C_mb, M2)")
	table.Flags().BoolVar(&csvOut, "csv", false, "CSV instead of Markdown")
	rootCmd.AddCommand(table)
}

// printSummary writes the one-screen summary of a report.
func printSummary(w io.Writer, rep *awd.Report, path string) {
	if len(rep.Checkpoints) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%-6s %-10s %-8s %-18s %-18s %s\n", "epoch", "loss", "acc", "gamma (C)", "gamma_awd", "R2")
	for _, c := range rep.Checkpoints {
		r := c.Analysis
		g, ga := r.Fits[awd.NameC], r.Fits[awd.NameCAWD]
		fmt.Fprintf(w, "%-6d %-10.4g %-8.4f %-18s %-18s %.3f\n", c.Epoch, float64(c.TrainLoss), float64(c.TrainAcc),
			fmt.Sprintf("%.3f ± %.3f", g.Gamma, float64(g.SE)), fmt.Sprintf("%.3f ± %.3f", ga.Gamma, float64(ga.SE)), g.R2)
	}
	last := rep.Checkpoints[len(rep.Checkpoints)-1]
	r := last.Analysis
	fmt.Fprintf(w, "\n%s %s, layer %s (%dx%d, d=%d), %s loss, %d logits, K=%d, N=%d, k=%d, B=%d, kernels %s\n",
		r.Dataset, r.Model, r.Layer, r.M, r.In, r.D, r.Loss, r.Head, len(r.Classes), r.N, r.K, r.Batch, r.KernelLevel)
	for _, name := range []string{awd.NameC, awd.NameCAWD, awd.NameCPair, awd.NameCPair2, awd.NameCMb} {
		if f, ok := r.Fits[name]; ok {
			fmt.Fprintf(w, "  gamma %-8s %.3f ± %.3f  (R2 %.3f, %d of %d directions used)\n", name, f.Gamma, float64(f.SE), f.R2, f.Used, f.Used+f.Dropped)
		} else if e, ok := r.FitErrors[name]; ok {
			fmt.Fprintf(w, "  gamma %-8s n/a: %s\n", name, e)
		}
	}
	b := r.Bounds
	fmt.Fprintf(w, "  Thm 5.1  lambda_i^2 <= s_i: %d/%d;  s_i <= lambda_loc_max*lambda_i: %d/%d%s  (lambda_loc_max %.4g)\n",
		b.Lower.Holds, b.Lower.Total, b.Upper.Holds, b.Upper.Total, map[bool]string{true: "", false: " (not implied: some H_n not PSD)"}[b.Upper.Applies], b.LocMax)
	for _, a := range r.Alignment {
		fmt.Fprintf(w, "  alignment %-6s rbar %.4f, random frame %.4f, null mu0 %.4f ± %.4f (k_eff %.1f): z = %.1f, p = %.2g\n",
			a.Of, a.RBar, a.RBarRand, a.Mu0, a.SE, a.KEff, a.Z, a.P)
	}
	fmt.Fprintf(w, "  commutator ||HC-CH||/(||H|| ||C||) = %.3g\n", float64(r.Commutator))
	if c := r.Correlation; c != nil {
		fmt.Fprintf(w, "  eigenvalue-alignment correlation: r_1 %.3f, mean of top 10 %.3f, positive %d/%d\n", float64(c.First), float64(c.MeanTop), c.Positive, min(r.K, r.Config.CorrK))
	}
	for _, iv := range r.Suppression {
		extra := ""
		if iv.Stiff > 0 {
			extra = fmt.Sprintf(" (%d stiff samples)", iv.Stiff)
		}
		fmt.Fprintf(w, "  suppression %-8s gamma_M2 %.3f ± %.3f%s\n", iv.Name, iv.Fit.Gamma, float64(iv.Fit.SE), extra)
	}
	t := r.Timings
	fmt.Fprintf(w, "  time: pairs %.1fs, per-sample %.1fs, accumulate %.1fs, eigensolve %.1fs, statistics %.1fs, suppression %.1fs, total %.1fs\n",
		t.Pairs, t.PerSample, t.Accumulate, t.Eigensolve, t.Statistics, t.Suppression, t.Total)
	fmt.Fprintf(w, "results: %s (arrays: %s)\n", path, filepath.Join(filepath.Dir(path), last.Arrays))
}
