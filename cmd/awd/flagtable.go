package main

import (
	"fmt"
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
	"per-class": {def: "500", usage: "P, training samples per class (0: all of them)",
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
	"epochs": {def: "20", usage: "training epochs",
		bind:  intFlag(func(o *options) *int { return &o.epochs }),
		check: atLeast("epochs", func(o *options) int { return o.epochs }, 1, "")},
	"batch": {def: "50", usage: "SGD batch size B (also the B of C = (1/B) mean g g^T and of the AWD batches)",
		bind:  intFlag(func(o *options) *int { return &o.batch }),
		check: atLeast("batch", func(o *options) int { return o.batch }, 1, "")},
	"lr": {def: "0.1", usage: "initial learning rate",
		bind:  floatFlag(func(o *options) *float64 { return &o.lr }),
		check: inRange("lr", func(o *options) float64 { return o.lr }, 0, 1e6, true)},
	"t-max": {def: "500", usage: "period of the cosine annealing of the learning rate, in epochs (0: constant)",
		bind:  intFlag(func(o *options) *int { return &o.tMax }),
		check: atLeast("t-max", func(o *options) int { return o.tMax }, 0, "")},
	"clip": {def: "5", usage: "gradient-norm clipping (0: none)",
		bind:  floatFlag(func(o *options) *float64 { return &o.clip }),
		check: inRange("clip", func(o *options) float64 { return o.clip }, 0, 1e300, false)},
	"stop-loss": {def: "1e-05", usage: "stop when the train loss falls below this (0: never)",
		bind:  floatFlag(func(o *options) *float64 { return &o.stopLoss }),
		check: inRange("stop-loss", func(o *options) float64 { return o.stopLoss }, 0, 1e300, false)},
	"vanilla": {def: "false", usage: "constant learning rate and no clipping (the paper's text)",
		bind: boolFlag(func(o *options) *bool { return &o.vanilla })},
	"checkpoints": {usage: "epochs whose checkpoint is kept, comma-separated (e.g. 1,10,100)",
		bind:  strFlag(func(o *options) *string { return &o.checkpoints }),
		check: listCheck("checkpoints", func(o *options) string { return o.checkpoints })},
	"analyze-at": {usage: "epochs to analyse, comma-separated (default: 1, half and the last)",
		bind:  strFlag(func(o *options) *string { return &o.analyzeAt }),
		check: listCheck("analyze-at", func(o *options) string { return o.analyzeAt })},

	// The analysis.
	"k": {def: "300", usage: "number of top eigenpairs of H used (the paper: 200 to 1500)",
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
	"suppress": {def: strings.Join(awd.Interventions, ","), usage: "suppression interventions at the last analysed epoch, comma-separated: rank1,mean,stiff,shuffle (empty: none)",
		bind: strFlag(func(o *options) *string { return &o.suppress }),
		check: func(o *options) error {
			_, err := o.analysisConfig("ce", 1)
			return err
		}},
	"corr-k": {def: "200", usage: "directions for the eigenvalue-alignment correlations",
		bind:  intFlag(func(o *options) *int { return &o.corrK }),
		check: atLeast("corr-k", func(o *options) int { return o.corrK }, 1, "")},
	"rho-block": {def: "100", usage: "size of the leading block of rho kept for the heat maps (0: none)",
		bind:  intFlag(func(o *options) *int { return &o.rhoBlock }),
		check: atLeast("rho-block", func(o *options) int { return o.rhoBlock }, 0, "")},
	"tau": {def: "0.1", usage: "suppression: stiff samples have lambda_1 >= tau * max lambda_1",
		bind:  floatFlag(func(o *options) *float64 { return &o.tau }),
		check: inRange("tau", func(o *options) float64 { return o.tau }, 0, 1, true)},
	"tail-eps": {def: "1e-05", usage: "suppression: factor on the tail eigenvalues lambda_k, k >= 2",
		bind:  floatFlag(func(o *options) *float64 { return &o.tailEps }),
		check: inRange("tail-eps", func(o *options) float64 { return o.tailEps }, 0, 1, false)},
	"nonstiff-eps": {def: "0.001", usage: "suppression: factor on lambda_1 of the non-stiff samples",
		bind:  floatFlag(func(o *options) *float64 { return &o.nonstiffEps }),
		check: inRange("nonstiff-eps", func(o *options) float64 { return o.nonstiffEps }, 0, 1, false)},
	"mem": {usage: "memory the analysis may use, e.g. 8GiB (default: GOMEMLIMIT, else 90% of the machine's memory); bigger problems are refused before any work",
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
	"workers": {def: "0", usage: "jobs at a time on this machine (0: local.workers of the sweep file)",
		bind:  intFlag(func(o *options) *int { return &o.workers }),
		check: atLeast("workers", func(o *options) int { return o.workers }, 0, " (0: the sweep file's)")},
	"failed": {def: "false", usage: "list only the failed and interrupted jobs",
		bind: boolFlag(func(o *options) *bool { return &o.failed })},
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
			for _, c := range strings.Split(o.covs, ",") {
				if o.covs != "" && !awd.IsCovariance(c) {
					return fmt.Errorf("--covs %s: unknown covariance %q (known: %s)", o.covs, c, strings.Join(awd.CovarianceNames, ", "))
				}
			}
			return nil
		}},
	"csv": {def: "false", usage: "CSV (mean, std and n columns) instead of Markdown",
		bind: boolFlag(func(o *options) *bool { return &o.csv })},
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
	dataFlags     = []string{"data", "data-dir", "classes", "per-class", "head", "data-seed"}
	modelFlags    = []string{"model", "widths", "seed"}
	trainFlags    = []string{"loss", "epochs", "batch", "lr", "t-max", "clip", "stop-loss", "vanilla", "checkpoints"}
	analysisFlags = []string{"k", "layer", "analysis-seed", "centered", "greedy", "no-pair2", "no-minibatch", "no-correlation",
		"suppress", "corr-k", "rho-block", "tau", "tail-eps", "nonstiff-eps", "mem"}
	outFlags = []string{"out", "fresh", "quiet"}
)

func concat(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
