package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// flagTable is every flag of every command: one name, one meaning, one
// check. Commands pick theirs with addFlags and may change the default.
var flagTable = map[string]flagDef{
	// The data: data set, balanced subset, head.
	"data": {def: "mnist", usage: "data set: mnist, fashion (Fashion-MNIST) or cifar10",
		bind: strFlag(func(o *options) *string { return &o.data }),
		check: func(o *options) error {
			if _, err := nn.ParseDataName(o.data); err != nil {
				return fmt.Errorf("--data: %v", err)
			}
			return nil
		}},
	"data-dir": {usage: "folder of the data files (default: MNIST from the Go module cache or $AWD_MNIST_DIR; " + nn.FashionMNISTDir + " or $AWD_FASHION_DIR; $AWD_CIFAR10_DIR)",
		bind: strFlag(func(o *options) *string { return &o.dataDir })},
	"classes": {def: "3", usage: "the classes of the balanced subset: K (classes 0..K-1) or a comma-separated list, e.g. 0,4,7",
		bind: strFlag(func(o *options) *string { return &o.classes }),
		check: func(o *options) error {
			_, err := o.classList()
			return err
		}},
	"per-class": {def: "500", usage: "P, training samples per class (0: all of them; a class with none is refused)",
		bind:  intFlag(func(o *options) *int { return &o.perClass }),
		check: atLeast("per-class", func(o *options) int { return o.perClass }, 0, " (0 takes all)")},
	"head": {def: "0", usage: "logits of the output layer: 0 for one per class of the data set (10, as the paper's code), or K (labels become 0..K-1)",
		bind:  intFlag(func(o *options) *int { return &o.head }),
		check: atLeast("head", func(o *options) int { return o.head }, 0, "")},
	"data-seed": {def: "1", usage: "seed of the balanced subset's draw",
		bind: uintFlag(func(o *options) *uint64 { return &o.dataSeed })},

	// The model and its training.
	"model": {def: "mlp", usage: "model: mlp or cnn",
		bind: strFlag(func(o *options) *string { return &o.model }),
		check: func(o *options) error {
			if o.model != "mlp" && o.model != "cnn" {
				return fmt.Errorf("--model %q: want mlp or cnn", o.model)
			}
			return nil
		}},
	"widths": {usage: "MLP hidden widths, comma-separated (default 50,50; 1000,50,50 for cifar10); not for the cnn",
		bind: strFlag(func(o *options) *string { return &o.widths }),
		check: func(o *options) error {
			w, err := parseList("widths", o.widths)
			if err == nil && len(w) > 0 && o.model == "cnn" {
				err = fmt.Errorf("--widths %s: the cnn's sizes are fixed (give no widths)", o.widths)
			}
			return err
		}},
	"seed": {def: "1", usage: "seed of the initialisation and of the SGD order",
		bind: uintFlag(func(o *options) *uint64 { return &o.seed })},
	"loss": {def: "ce", usage: "loss: ce (cross-entropy) or mse (MSE after softmax)",
		bind: strFlag(func(o *options) *string { return &o.loss }),
		check: func(o *options) error {
			if _, err := nn.ParseLoss(o.loss); err != nil {
				return fmt.Errorf("--loss: %v", err)
			}
			return nil
		}},
	"epochs": {def: "20", usage: "training epochs (at least 1)",
		bind:  intFlag(func(o *options) *int { return &o.epochs }),
		check: atLeast("epochs", func(o *options) int { return o.epochs }, 1, "")},
	"batch": {def: "50", usage: "SGD batch size B, at least 1 and at most the training samples (also the B of C = (1/B) mean g g^T and of the AWD batches)",
		bind:  intFlag(func(o *options) *int { return &o.batch }),
		check: atLeast("batch", func(o *options) int { return o.batch }, 1, "")},
	"lr": {def: "0.1", usage: "initial learning rate, in (0, 1e6]",
		bind:  floatFlag(func(o *options) *float64 { return &o.lr }),
		check: inRange("lr", func(o *options) float64 { return o.lr }, 0, 1e6, true)},
	"t-max": {def: "500", usage: "period of the cosine annealing of the learning rate, in epochs, at least 0 (0: constant)",
		bind:  intFlag(func(o *options) *int { return &o.tMax }),
		check: atLeast("t-max", func(o *options) int { return o.tMax }, 0, "")},
	"clip": {def: "5", usage: "gradient-norm clipping: the largest L2 norm of a mini-batch gradient (all weights together), at least 0 (0: none)",
		bind:  floatFlag(func(o *options) *float64 { return &o.clip }),
		check: inRange("clip", func(o *options) float64 { return o.clip }, 0, 1e300, false)},
	"stop-rule": {def: nn.StopFull, usage: "early stop on the whole training set's loss after the epoch with mean accuracy of the last 9 epochs > 0.9999 (full, the paper's code) or on the mean batch loss of the epoch (running)",
		bind: strFlag(func(o *options) *string { return &o.stopRule })},
	"cifar-std": {def: nn.CIFARStdCode, usage: "CIFAR-10 per-channel std: code (0.2023, 0.1994, 0.2010, the paper's code) or data (0.2470, 0.2435, 0.2616)",
		bind: strFlag(func(o *options) *string { return &o.cifarStd })},
	"stop-loss": {def: "1e-05", usage: "stop when the train loss falls below this, at least 0 (see --stop-rule; 0: never)",
		bind:  floatFlag(func(o *options) *float64 { return &o.stopLoss }),
		check: inRange("stop-loss", func(o *options) float64 { return o.stopLoss }, 0, 1e300, false)},
	"vanilla": {def: "false", usage: "constant learning rate and no clipping (the paper's text)",
		bind: boolFlag(func(o *options) *bool { return &o.vanilla })},
	"checkpoints": {usage: "epochs whose checkpoint is kept, comma-separated (e.g. 1,10,100); an early stop keeps its epoch's instead of the later ones",
		bind:  strFlag(func(o *options) *string { return &o.checkpoints }),
		check: listCheck("checkpoints", func(o *options) string { return o.checkpoints })},
	"analyze-at": {usage: "epochs to analyse, comma-separated (default: 1, half and the last)",
		bind:  strFlag(func(o *options) *string { return &o.analyzeAt }),
		check: listCheck("analyze-at", func(o *options) string { return o.analyzeAt })},

	// The analysis.
	"k": {def: "300", usage: "number of top eigenpairs of H used, 2 to the layer's d (the paper: 200 to 1500)",
		bind:  intFlag(func(o *options) *int { return &o.k }),
		check: atLeast("k", func(o *options) int { return o.k }, 2, "")},
	"layer": {usage: "layer under study (default: fc2 for the MNIST MLP, fc3 for CIFAR, fc for the cnn)",
		bind: strFlag(func(o *options) *string { return &o.layer })},
	"analysis-seed": {def: "1", usage: "seed of the AWD batches and pairs, the Haar frame and the shuffle",
		bind: uintFlag(func(o *options) *uint64 { return &o.analysisSeed })},
	"centered": {def: "false", usage: "subtract the mean gradient's outer product from C and C_mb (the paper's code)",
		bind: boolFlag(func(o *options) *bool { return &o.centered })},
	"greedy": {def: "false", usage: "greedy instead of optimal (Hungarian) matching of the AWD pairs",
		bind: boolFlag(func(o *options) *bool { return &o.greedy })},
	"no-pair2": {def: "false", usage: "skip C_pair2 (saves N d^2 flops and d^2 memory)",
		bind: boolFlag(func(o *options) *bool { return &o.noPair2 })},
	"no-minibatch": {def: "false", usage: "skip C_mb, the covariance of mini-batch gradients",
		bind: boolFlag(func(o *options) *bool { return &o.noMinibatch })},
	"no-correlation": {def: "false", usage: "skip the eigenvalue-alignment correlations (2 N d k flops)",
		bind: boolFlag(func(o *options) *bool { return &o.noCorr })},
	"suppress": {def: strings.Join(awd.Interventions, ","), usage: "suppression interventions at the last analysed epoch, comma-separated: " + strings.Join(awd.Interventions, ",") + " (empty: none; the paper protocol adds the baseline none)",
		bind: strFlag(func(o *options) *string { return &o.suppress }),
		check: func(o *options) error {
			_, err := o.analysisConfig("ce", 1)
			return err
		}},
	"corr-k": {def: "200", usage: "directions for the eigenvalue-alignment correlations, 1 to --k (the default is cut to a smaller --k)",
		bind:  intFlag(func(o *options) *int { return &o.corrK }),
		check: atLeast("corr-k", func(o *options) int { return o.corrK }, 1, "")},
	"rho-block": {def: "100", usage: "size of the leading block of rho kept for the heat maps (0: none; at most --k, the default is cut to a smaller --k)",
		bind:  intFlag(func(o *options) *int { return &o.rhoBlock }),
		check: atLeast("rho-block", func(o *options) int { return o.rhoBlock }, 0, "")},
	"tau": {def: "0.001", usage: "suppression: stiff samples have lambda_1 >= tau * max lambda_1; tau in (0, 1] (0.001 in the paper's notebook)",
		bind:  floatFlag(func(o *options) *float64 { return &o.tau }),
		check: inRange("tau", func(o *options) float64 { return o.tau }, 0, 1, true)},
	"tail-eps": {def: "1e-05", usage: "suppression: factor on the tail eigenvalues lambda_k, k >= 2; in [0, 1]",
		bind:  floatFlag(func(o *options) *float64 { return &o.tailEps }),
		check: inRange("tail-eps", func(o *options) float64 { return o.tailEps }, 0, 1, false)},
	"nonstiff-eps": {def: "0.001", usage: "suppression: factor on lambda_1 of the non-stiff samples; in [0, 1]",
		bind:  floatFlag(func(o *options) *float64 { return &o.nonstiffEps }),
		check: inRange("nonstiff-eps", func(o *options) float64 { return o.nonstiffEps }, 0, 1, false)},
	"suppress-protocol": {def: awd.ProtocolPaper, usage: "suppression protocol: paper (the code's: diagonals in the original H basis, on --suppress-per-class samples per class) or rebuild (H' rebuilt and re-diagonalised)",
		bind: strFlag(func(o *options) *string { return &o.suppProtocol })},
	"suppress-per-class": {def: "20", usage: "suppression: samples per class whose spectra are modified (0: every analysis sample; the code takes 20; a class with fewer gives all of its, as a note says)",
		bind:  intFlag(func(o *options) *int { return &o.suppPerClass }),
		check: atLeast("suppress-per-class", func(o *options) int { return o.suppPerClass }, 0, " (0: all)")},
	"minibatch-rule": {def: awd.MBShuffled, usage: "batches of C_mb: shuffled (one seeded shuffled pass, centred on the full gradient: the code's Covar) or stratified (the balanced AWD batches)",
		bind: strFlag(func(o *options) *string { return &o.mbRule })},
	"pairs": {def: awd.PairsBalanced, usage: "AWD pair rule: balanced (one-to-one, optimal, inputs), anchor (the code's: nearest same-class anchor in the layer-input activity) or both (the anchor's quantities suffixed _anchor)",
		bind: strFlag(func(o *options) *string { return &o.pairs })},
	"no-pair2-code": {def: "false", usage: "skip the code's C_pair2 (batch sums, one cross term), reported as C_pair2_code",
		bind: boolFlag(func(o *options) *bool { return &o.noPair2Code })},
	"align-basis": {def: awd.AlignAuto, usage: "alignment over H's full eigenbasis (full, the paper's App. D), the top-k block (top-k), or full up to d = 4096 (auto)",
		bind: strFlag(func(o *options) *string { return &o.alignBasis })},
	"sigma2-per": {def: awd.Sigma2PerD, usage: "sigma^2 of C_awd: mean ||dtheta||^2 per d (d) or per m, the dimension dtheta lives in (m)",
		bind: strFlag(func(o *options) *string { return &o.sigma2Per })},
	"bootstrap": {def: "0", usage: "bootstrap replicates of gamma over the samples, at least 0 (0: none)",
		bind:  intFlag(func(o *options) *int { return &o.bootstrap }),
		check: atLeast("bootstrap", func(o *options) int { return o.bootstrap }, 0, " (0: none)")},
	"bootstrap-groups": {def: strconv.Itoa(awd.DefaultExtras.BootstrapShards), usage: "bootstrap: random groups of samples that are resampled, at least 2 (each keeps 3 d^2/4 numbers)",
		bind: intFlag(func(o *options) *int { return &o.bootGroups })},
	"bootstrap-level": {def: "0.95", usage: "bootstrap: level of the interval, in (0, 1)",
		bind: floatFlag(func(o *options) *float64 { return &o.bootLevel })},
	"no-ml-fit": {def: "false", usage: "skip the maximum-likelihood power-law fits of the spectra",
		bind: boolFlag(func(o *options) *bool { return &o.noMLFit })},
	"ml-reps": {def: "100", usage: "synthetic data sets of the power-law goodness-of-fit test, at least 0 (0: no test)",
		bind: intFlag(func(o *options) *int { return &o.mlReps })},
	"no-gamma-k": {def: "false", usage: "skip gamma(k'), the fit on every prefix of the top k",
		bind: boolFlag(func(o *options) *bool { return &o.noGammaK })},
	"matrix-free": {def: "false", usage: "analyse without any d x d matrix: block Lanczos on the matrix-free H, every c_i from the top-k eigenvectors (taken anyway for a convolution layer, or when the dense path would exceed the memory budget)",
		bind: boolFlag(func(o *options) *bool { return &o.matrixFree })},
	"jacobian-float32": {def: "false", usage: "matrix-free, convolution layers: keep the formed per-sample Jacobian in float32 and apply it in float32 (half the memory, so more of it is kept instead of formed again, and twice the product rate; relative error near 1e-6 in the operators' products; eigenvalues and gammas moved by 1e-7 or less at N = 300, C_mb's gamma, a difference of nearly equal batch sums, by up to 4e-6 with two mini-batches)",
		bind: boolFlag(func(o *options) *bool { return &o.jacobianF32 })},
	"layers": {usage: "analyse several layers at once, matrix-free, sharing the per-sample passes: all, or a comma-separated list (e.g. features.0,features.3,fc); gamma per layer in results.json and the figure gamma_layers_eNNNN (awd plot)",
		bind: strFlag(func(o *options) *string { return &o.layers })},
	"mem": {usage: "memory the analysis may use, e.g. 8GiB or 8G (powers of 1024; 8GB is 8e9 bytes) (default: GOMEMLIMIT, in Go's units such as 8GiB, else 90% of the machine's memory or of its control group's limit under Slurm or a container); bigger problems are refused before any work",
		bind: strFlag(func(o *options) *string { return &o.mem }),
		check: func(o *options) error {
			_, err := o.memBudget()
			return err
		}},

	// Output.
	"out": {def: "out/run", usage: "output folder",
		bind: strFlag(func(o *options) *string { return &o.out }),
		check: func(o *options) error {
			if strings.TrimSpace(o.out) == "" {
				return fmt.Errorf("--out: an output folder is required")
			}
			return nil
		}},
	"fresh": {def: "false", usage: "start over: remove what --out holds from an earlier run of awd",
		bind: boolFlag(func(o *options) *bool { return &o.fresh })},
	"quiet": {def: "false", usage: "no progress bars or per-epoch lines",
		bind: boolFlag(func(o *options) *bool { return &o.quiet })},

	// Sweeps.
	"slurm": {def: "false", usage: "submit the jobs as a Slurm job array and a collect job that runs after it succeeded",
		bind: boolFlag(func(o *options) *bool { return &o.slurm })},
	"dry-run": {def: "false", usage: "with --slurm: write the scripts and print the sbatch commands, submit nothing",
		bind: boolFlag(func(o *options) *bool { return &o.dryRun })},
	"workers": {def: "0", usage: "jobs at a time on this machine, 1..1024 as local.workers (0: local.workers of the sweep file)",
		bind: intFlag(func(o *options) *int { return &o.workers }),
		check: func(o *options) error {
			if o.workers < 0 || o.workers > 1024 {
				return fmt.Errorf("--workers %d: want 1..1024 (0: the sweep file's local.workers)", o.workers)
			}
			return nil
		}},
	"failed": {def: "false", usage: "list only the failed and interrupted jobs",
		bind: boolFlag(func(o *options) *bool { return &o.failed })},
	"stale": {def: "false", usage: "reset jobs that a record says run on another host that is gone (a node that crashed outside Slurm); a lock held here still refuses",
		bind: boolFlag(func(o *options) *bool { return &o.stale })},
	"shard": {usage: "accumulate only shard i of n of the analysis (i/n, 1-based) and save it for awd reduce",
		bind: strFlag(func(o *options) *string { return &o.shard }),
		check: func(o *options) error {
			_, _, err := o.shardOf()
			return err
		}},
	"tasks": {usage: "task list of a Slurm job array: run the job on line SLURM_ARRAY_TASK_ID+1",
		bind: strFlag(func(o *options) *string { return &o.tasks })},
	"covs": {usage: "covariances of the table, comma-separated: C, C_awd, C_pair, C_pair2, C_mb, M2 (overrides --table)",
		bind: strFlag(func(o *options) *string { return &o.covs }),
		check: func(o *options) error {
			seen := map[string]bool{}
			for _, c := range strings.Split(o.covs, ",") {
				if o.covs != "" && !awd.IsCovariance(c) {
					return fmt.Errorf("--covs %s: unknown covariance %q (known: %s)", o.covs, c, strings.Join(awd.CovarianceNames, ", "))
				}
				if seen[c] {
					return fmt.Errorf("--covs %s: %s given twice", o.covs, c)
				}
				seen[c] = true
			}
			return nil
		}},
	"csv": {def: "false", usage: "CSV (mean, std and n columns) instead of Markdown",
		bind: boolFlag(func(o *options) *bool { return &o.csv })},
	"ci": {def: "false", usage: "error bars beyond the spread over seeds in every cell: the pooled bootstrap SE over samples (analyses run with --bootstrap) and the range of gamma over the fits on the top k' directions, k/2 <= k' <= k",
		bind: boolFlag(func(o *options) *bool { return &o.ci })},
	"table": {def: "1", usage: "1: gamma of C and C_awd (Table 1); 3: also C_pair and C_pair2 (Table 3); --covs overrides",
		bind: strFlag(func(o *options) *string { return &o.table }),
		check: func(o *options) error {
			if o.table != "1" && o.table != "3" {
				return fmt.Errorf("--table %q: want 1 or 3", o.table)
			}
			return nil
		}},
}

// classList reads --classes: K alone means 0..K-1.
func (o *options) classList() ([]int, error) {
	c, err := parseList("classes", o.classes)
	if err != nil {
		return nil, err
	}
	if len(c) == 1 {
		if c[0] < 2 || c[0] > nn.DataClasses {
			return nil, fmt.Errorf("--classes %d: the data sets have %d classes (K must be 2..%d)", c[0], nn.DataClasses, nn.DataClasses)
		}
		return nn.FirstClasses(c[0]), nil
	}
	if len(c) == 0 {
		return nil, fmt.Errorf("--classes: empty")
	}
	d := nn.DataSpec{Name: "mnist", Classes: c}
	if _, err := d.Normalized(); err != nil {
		return nil, flagError(err)
	}
	return c, nil
}

// Flag groups, in help order.
var (
	dataFlags     = []string{"data", "data-dir", "classes", "per-class", "head", "data-seed", "cifar-std"}
	modelFlags    = []string{"model", "widths", "seed"}
	trainFlags    = []string{"loss", "epochs", "batch", "lr", "t-max", "clip", "stop-loss", "stop-rule", "vanilla", "checkpoints"}
	analysisFlags = []string{"k", "layer", "analysis-seed", "centered", "greedy", "no-pair2", "no-minibatch", "no-correlation",
		"suppress", "corr-k", "rho-block", "tau", "tail-eps", "nonstiff-eps", "matrix-free", "jacobian-float32", "mem",
		"suppress-protocol", "suppress-per-class", "minibatch-rule", "pairs", "no-pair2-code", "align-basis", "sigma2-per",
		"bootstrap", "bootstrap-groups", "bootstrap-level", "no-ml-fit", "ml-reps", "no-gamma-k"}
	outFlags = []string{"out", "fresh", "quiet"}
)

func concat(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
