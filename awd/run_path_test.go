package awd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/nn"
)

// TestRunOnePathPerRun: a run killed after a dense analysis and resumed
// with a budget too small for the dense path is refused (its later epochs
// were analysed matrix-free beside the dense one, without a word), and
// resumed with the budget it had it finishes on the dense path.
func TestRunOnePathPerRun(t *testing.T) {
	an := DefaultConfig("ce")
	an.K, an.Interventions, an.Batch = 10, nil, 10
	run := threeEpochRun(&an, 40, 12)
	dir := filepath.Join(t.TempDir(), "run")
	// Killed after epoch 1 (analysed): the context ends at its callback.
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, run, dir, RunOptions{Command: "run", Epoch: func(l EpochLog) {
		if l.Epoch == 1 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first part: %v", err)
	}
	dense := MemoryEstimate(12, 12, 10, 120, 784, an)
	small := run
	sa := an
	sa.Memory = dense - 1
	small.Analysis = &sa
	_, err = Run(context.Background(), small, dir, RunOptions{Command: "run"})
	var fe *FolderError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "but epoch 1 of this run was analysed on the dense path") {
		t.Fatalf("resumed with a budget below the dense path's: %v", err)
	}
	rep, err := Run(context.Background(), run, dir, RunOptions{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checkpoints {
		if c.Analysis.Config.MatrixFree {
			t.Errorf("epoch %d analysed matrix-free", c.Epoch)
		}
	}
	if len(rep.Checkpoints) != 2 {
		t.Errorf("%d analyses, want 2", len(rep.Checkpoints))
	}
}

// TestRunMatrixFreeThroughout: when only the last analysis (the one with
// the interventions) is over the dense budget, every epoch of the run is
// analysed matrix-free, from the first, and its note says why; the last
// one alone used to go matrix-free after dense ones.
func TestRunMatrixFreeThroughout(t *testing.T) {
	an := DefaultConfig("ce")
	an.K, an.Batch, an.Interventions = 10, 10, []string{InterventionRank1}
	plain := an
	plain.Interventions = nil
	last, other := MemoryEstimate(12, 12, 10, 120, 784, an), MemoryEstimate(12, 12, 10, 120, 784, plain)
	if last <= other {
		t.Fatalf("the interventions' analysis needs %d bytes, the others %d", last, other)
	}
	an.Memory = (last + other) / 2
	run := threeEpochRun(&an, 40, 12)
	rep, err := Run(context.Background(), run, filepath.Join(t.TempDir(), "run"), RunOptions{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checkpoints {
		if !c.Analysis.Config.MatrixFree || len(c.Analysis.Notes) == 0 || !strings.Contains(c.Analysis.Notes[0], "for every epoch of the run: the dense path needs about") {
			t.Errorf("epoch %d: matrix-free %v, notes %q", c.Epoch, c.Analysis.Config.MatrixFree, c.Analysis.Notes)
		}
	}
}

// threeEpochRun is a run of 3 epochs of a 784-w-w-10 MLP on MNIST classes
// 0-2 (perClass each, batch 10), analysed with an after epochs 1 and 3.
func threeEpochRun(an *Config, perClass, w int) RunConfig {
	return RunConfig{
		Data:      nn.DataSpec{Name: "mnist", Classes: []int{0, 1, 2}, PerClass: perClass, Seed: 1},
		Model:     nn.ModelSpec{Kind: "mlp", Widths: []int{w, w}},
		Seed:      1,
		Train:     nn.TrainConfig{Loss: nn.CE, Epochs: 3, Batch: 10, LR: 0.1, TMax: 500, ClipNorm: 5},
		Analysis:  an,
		AnalyzeAt: []int{1, 3},
	}
}

// TestRunLogsGammaAWDOfConvolution: the line each analysis of a run logs
// gives, for a convolution layer (no C_awd), M2's gamma marked "(M2)" as
// the gamma_awd of the summary's table; it said "gamma_awd n/a", as if
// the fit had failed.
func TestRunLogsGammaAWDOfConvolution(t *testing.T) {
	an := DefaultConfig("ce")
	an.K, an.Interventions, an.Layer = 5, nil, "features.0"
	run := RunConfig{
		Data:      nn.DataSpec{Name: "mnist", Classes: []int{0, 1, 2}, PerClass: 10, Seed: 1},
		Model:     nn.ModelSpec{Kind: "cnn"},
		Seed:      1,
		Train:     nn.TrainConfig{Loss: nn.CE, Epochs: 1, Batch: 10, LR: 0.1, TMax: 500, ClipNorm: 5},
		Analysis:  &an,
		AnalyzeAt: []int{1},
	}
	var logs []string
	opt := RunOptions{Command: "run", Log: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }}
	rep, err := Run(context.Background(), run, filepath.Join(t.TempDir(), "run"), opt)
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Checkpoints[0].Analysis
	if _, ok := r.Fits[NameCAWD]; ok {
		t.Fatalf("layer %s has a C_awd fit", r.Layer)
	}
	m2 := r.Fits[NameM2]
	if m2.Short() == "n/a" {
		t.Fatalf("M2's fit failed: %+v", m2)
	}
	want := "gamma_awd " + m2.Short() + " (M2)"
	var line string
	for _, l := range logs {
		if strings.HasPrefix(l, "epoch 1: gamma ") {
			line = l
		}
	}
	if !strings.Contains(line, want) {
		t.Errorf("epoch line %q, want %q in it (logs %q)", line, want, logs)
	}
}
