package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// runConfig is everything that determines a run's results; a run in an
// existing output folder resumes only when it is identical.
type runConfig struct {
	Command   string         `json:"command"`
	Data      dataOpts       `json:"data"`
	Model     string         `json:"model"`
	Widths    []int          `json:"widths,omitempty"`
	InitSeed  uint64         `json:"init_seed"`
	Train     nn.TrainConfig `json:"train"`
	AnalyzeAt []int          `json:"analyze_at"`
	Analysis  awd.Config     `json:"analysis"`
}

func init() {
	var data dataOpts
	var an analysisOpts
	var rc runConfig
	var lossName, widths, at, out string
	var fresh bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "train a network and analyse it at chosen epochs (gamma over training in one command)",
		Long: `run trains a network with SGD (SPEC section 2) and, at the epochs of
--analyze-at, saves a checkpoint and analyses the layer under study: C, H,
M2 and the AWD covariances by the Kronecker route, H's top-k eigenpairs, the
power-law exponents gamma (c_i ~ lambda_i^gamma) for C, C_awd, C_pair,
C_pair2 and C_mb, the Thm 5.1 bounds, the alignment of C with H's
eigenbasis against a random frame, the eigenvalue-alignment correlations,
and at the last analysed epoch the suppression experiments.

The default is the paper's MNIST MLP (784-50-50-10, layer fc2, d = 2500)
with cross-entropy on K = 3 classes and a small P = 500 per class, so that
it finishes in about a minute. The paper's Table 1 settings are e.g.
  awd run --classes 3 --per-class 2000 --epochs 100 --k 300
  awd run --loss mse --classes 10 --per-class 2000 --epochs 100 --k 1000

Outputs in --out: results.json (schema_version, config, training log, per
analysed epoch the fits, bounds, alignment, suppression and timings),
arrays_epochNNNN.npz (sample_indices, H_eigenvalues, c_C, c_Cawd, c_Cpair,
c_Cpair2, c_Cmb, c_M2, s_i, rho blocks, ...), checkpoints/ (PyTorch-named
.npz + JSON). Plot them with 'awd plot OUT/results.json'.

A killed run started again with the same flags and --out resumes from its
last finished epoch; analyses already written are kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loss, err := nn.ParseLoss(lossName)
			if err != nil {
				return err
			}
			rc.Command, rc.Data = "run", data
			rc.Train.Loss = loss
			if rc.Widths, err = parseInts(widths, "--widths"); err != nil {
				return err
			}
			if rc.AnalyzeAt, err = parseInts(at, "--analyze-at"); err != nil {
				return err
			}
			if len(rc.AnalyzeAt) == 0 {
				rc.AnalyzeAt = defaultAnalyzeAt(rc.Train.Epochs)
			}
			slices.Sort(rc.AnalyzeAt)
			rc.AnalyzeAt = slices.Compact(rc.AnalyzeAt)
			if rc.AnalyzeAt[0] < 1 || rc.AnalyzeAt[len(rc.AnalyzeAt)-1] > rc.Train.Epochs {
				return fmt.Errorf("--analyze-at %v: epochs must be in 1..%d", rc.AnalyzeAt, rc.Train.Epochs)
			}
			rc.Analysis = an.config(loss.String(), rc.Train.Batch)
			return runTrain(cmd, &rc, &an, out, fresh)
		},
	}
	fs := cmd.Flags()
	data.register(fs, 500)
	an.register(fs, 300, strings.Join(awd.Interventions, ","))
	fs.StringVar(&lossName, "loss", "ce", "loss: ce or mse (MSE after softmax)")
	fs.StringVar(&rc.Model, "model", "mlp", "model: mlp or cnn")
	fs.StringVar(&widths, "widths", "", "MLP hidden widths (default 50,50; 1000,50,50 for cifar10)")
	fs.Uint64Var(&rc.InitSeed, "seed", 1, "seed of the initialisation and of the SGD shuffles")
	def := nn.DefaultTrainConfig(nn.CE)
	fs.IntVar(&rc.Train.Epochs, "epochs", 20, "training epochs")
	fs.IntVar(&rc.Train.Batch, "batch", def.Batch, "SGD batch size B (also the B of C = (1/B) mean g g^T and of the AWD batches)")
	fs.Float64Var(&rc.Train.LR, "lr", def.LR, "learning rate")
	fs.IntVar(&rc.Train.TMax, "t-max", def.TMax, "period of the cosine annealing, in epochs")
	fs.Float64Var(&rc.Train.ClipNorm, "clip", def.ClipNorm, "gradient-norm clipping (0: none)")
	fs.Float64Var(&rc.Train.StopLoss, "stop-loss", def.StopLoss, "stop when the train loss falls below this (0: never)")
	fs.BoolVar(&rc.Train.Vanilla, "vanilla", false, "constant learning rate and no clipping (the paper's text)")
	fs.StringVar(&at, "analyze-at", "", "epochs to analyse, comma-separated (default: 1, half and the last)")
	fs.StringVar(&out, "out", "out/run", "output folder")
	fs.BoolVar(&fresh, "fresh", false, "start over even if --out holds a run")
	rootCmd.AddCommand(cmd)
}

func defaultAnalyzeAt(epochs int) []int {
	return slices.Compact([]int{1, max(1, epochs/2), epochs})
}

func parseInts(s, flag string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not an integer", flag, f)
		}
		out = append(out, v)
	}
	return out, nil
}

func checkpointPath(out string, e int) string {
	return filepath.Join(out, "checkpoints", fmt.Sprintf("epoch_%04d.npz", e))
}

func runTrain(cmd *cobra.Command, rc *runConfig, an *analysisOpts, out string, fresh bool) error {
	stderr, stdout := cmd.ErrOrStderr(), cmd.OutOrStdout()
	ch, hh, ww, classes, err := rc.Data.shape()
	if err != nil {
		return err
	}
	outputs := classes
	if rc.Data.Head > 0 {
		outputs = rc.Data.Head
	}
	if len(rc.Widths) == 0 && rc.Model == "mlp" {
		rc.Widths = []int{50, 50}
		if ch == 3 {
			rc.Widths = []int{1000, 50, 50}
		}
	}
	var model *nn.Model
	switch rc.Model {
	case "mlp":
		model, err = nn.NewMLP(ch*hh*ww, rc.Widths, outputs, rc.InitSeed)
	case "cnn":
		rc.Widths = nil
		model, err = nn.NewCNN(ch, hh, ww, outputs, rc.InitSeed)
	default:
		return fmt.Errorf("unknown model %q (known: mlp, cnn)", rc.Model)
	}
	if err != nil {
		return err
	}
	if rc.Analysis.Layer == "" {
		rc.Analysis.Layer = model.DefaultLayer()
	}
	if err := checkK(model, rc.Analysis); err != nil {
		return err
	}
	if err := ensureWritable(filepath.Join(out, "checkpoints")); err != nil {
		return err
	}
	train, test, err := rc.Data.load()
	if err != nil {
		return err
	}
	rc.Train.Seed = rc.InitSeed
	cfgJSON, err := json.Marshal(rc)
	if err != nil {
		return err
	}
	resultsPath := filepath.Join(out, "results.json")
	lastPath := filepath.Join(out, "checkpoints", "last.npz")
	rep := &awd.Report{Tool: "awd " + version, Config: cfgJSON}

	// Resume: same configuration, the last finished epoch's checkpoint.
	start := 0
	if _, err := os.Stat(resultsPath); err == nil && !fresh {
		old, err := awd.ReadReport(resultsPath)
		if err != nil {
			return fmt.Errorf("%w (use --fresh to start over)", err)
		}
		if !bytes.Equal(compactJSON(old.Config), compactJSON(cfgJSON)) {
			return fmt.Errorf("%s holds a run with other settings; use the same flags to resume, another --out, or --fresh", out)
		}
		rep = old
		if m, meta, err := nn.LoadCheckpoint(lastPath); err == nil && meta != nil {
			model, start = m, meta.Epoch
		} else if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("resume: %w (use --fresh to start over)", err)
		}
		rep.Training = slices.DeleteFunc(rep.Training, func(l awd.EpochLog) bool { return l.Epoch > start })
		fmt.Fprintf(stderr, "resuming %s at epoch %d (%d analyses done)\n", out, start, len(rep.Checkpoints))
	}
	save := func() error { return awd.WriteReport(resultsPath, rep) }
	analysed := func(e int) bool {
		return slices.ContainsFunc(rep.Checkpoints, func(c awd.Checkpoint) bool { return c.Epoch == e })
	}
	ctx, stop := signalContext()
	defer stop()
	lastAt := rc.AnalyzeAt[len(rc.AnalyzeAt)-1]
	analyse := func(e int, m *nn.Model, st awd.EpochLog, final bool) error {
		cfg := rc.Analysis
		if !final {
			cfg.Interventions = nil // the suppression experiments run once, at the end
		}
		fmt.Fprintf(stderr, "epoch %d: analysing %s (d=%d, k=%d)\n", e, cfg.Layer, layerDim(m, cfg.Layer), cfg.K)
		r, err := awd.Analyze(ctx, m, train, cfg, &barProgress{w: stderr, quiet: an.quiet})
		if err != nil {
			return err
		}
		ck := awd.Checkpoint{Epoch: e, TrainLoss: st.TrainLoss, TrainAcc: st.TrainAcc, TestLoss: st.TestLoss, TestAcc: st.TestAcc,
			File: filepath.Join("checkpoints", filepath.Base(checkpointPath(out, e))), Arrays: arraysName(e), Analysis: r}
		if err := awd.WriteArrays(filepath.Join(out, ck.Arrays), r); err != nil {
			return err
		}
		rep.Checkpoints = slices.DeleteFunc(rep.Checkpoints, func(c awd.Checkpoint) bool { return c.Epoch == e })
		rep.Checkpoints = append(rep.Checkpoints, ck)
		slices.SortFunc(rep.Checkpoints, func(a, b awd.Checkpoint) int { return a.Epoch - b.Epoch })
		g := r.Fits[awd.NameC]
		fmt.Fprintf(stderr, "epoch %d: gamma %.3f ± %.3f, gamma_awd %.3f (%.1fs)\n", e, g.Gamma, float64(g.SE), r.Fits[awd.NameCAWD].Gamma, r.Timings.Total)
		return save()
	}
	logOf := func(e int) awd.EpochLog {
		for _, l := range rep.Training {
			if l.Epoch == e {
				return l
			}
		}
		return awd.EpochLog{Epoch: e, TrainLoss: awd.Float(math.NaN()), TrainAcc: awd.Float(math.NaN()), TestLoss: awd.Float(math.NaN()), TestAcc: awd.Float(math.NaN())}
	}
	// Analyses a killed run owed: checkpoints written, analysis missing.
	for _, e := range rc.AnalyzeAt {
		if e <= start && !analysed(e) {
			m, _, err := nn.LoadCheckpoint(checkpointPath(out, e))
			if err != nil {
				return fmt.Errorf("resume: %w", err)
			}
			if err := analyse(e, m, logOf(e), e == lastAt); err != nil {
				return err
			}
		}
	}

	tc := rc.Train
	tc.StartEpoch = start
	if l := logOf(start); start > 0 && tc.StopLoss > 0 && float64(l.TrainLoss) < tc.StopLoss {
		tc.Epochs = start // the run had stopped early: it is finished
	}
	meta := func(e int) nn.CheckpointMeta {
		return nn.CheckpointMeta{Epoch: e, InitSeed: rc.InitSeed, Train: rc.Train,
			Extra: map[string]any{"data": rc.Data, "layer": rc.Analysis.Layer}}
	}
	var bar *progressbar.ProgressBar
	if !an.quiet && isTerminal(stderr) && start < tc.Epochs {
		bar = progressbar.NewOptions(tc.Epochs, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("training   "),
			progressbar.OptionSetWidth(30), progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
		bar.Set(start)
	}
	last, err := nn.Train(model, train, test, tc, func(st nn.EpochStats, m *nn.Model) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := awd.EpochLog{Epoch: st.Epoch, TrainLoss: awd.Float(st.TrainLoss), TrainAcc: awd.Float(st.TrainAcc),
			TestLoss: awd.Float(st.TestLoss), TestAcc: awd.Float(st.TestAcc), LR: st.LR, Seconds: st.Seconds}
		rep.Training = append(rep.Training, l)
		if bar != nil {
			bar.Describe(fmt.Sprintf("training   loss %.4f acc %.3f", st.TrainLoss, st.TrainAcc))
			bar.Set(st.Epoch)
		}
		if slices.Contains(rc.AnalyzeAt, st.Epoch) {
			if err := nn.SaveCheckpoint(checkpointPath(out, st.Epoch), m, meta(st.Epoch)); err != nil {
				return err
			}
			if bar != nil {
				bar.Clear()
			}
			if err := analyse(st.Epoch, m, l, st.Epoch == lastAt || (tc.StopLoss > 0 && st.TrainLoss < tc.StopLoss)); err != nil {
				return err
			}
		}
		if err := nn.SaveCheckpoint(lastPath, m, meta(st.Epoch)); err != nil {
			return err
		}
		return save()
	})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	if last < rc.Train.Epochs && last > start && !analysed(last) {
		// Early stop: analyse the final model, with the suppression experiments.
		fmt.Fprintf(stderr, "stopped early at epoch %d (train loss below %g)\n", last, tc.StopLoss)
		if err := nn.SaveCheckpoint(checkpointPath(out, last), model, meta(last)); err != nil {
			return err
		}
		if err := analyse(last, model, logOf(last), true); err != nil {
			return err
		}
	}
	if err := save(); err != nil {
		return err
	}
	printSummary(stdout, rep, resultsPath)
	return nil
}

func compactJSON(b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

func layerDim(m *nn.Model, layer string) int {
	a, b, _ := m.LayerShape(layer)
	return a * b
}
