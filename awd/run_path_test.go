package awd

import (
	"context"
	"errors"
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
