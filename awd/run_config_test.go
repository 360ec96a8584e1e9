package awd

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/nn"
)

// TestRunConfigAnalysisOfTheTraining: the analysis of a run is of the
// training's SGD. An analysis loss other than the training's is refused
// (it was replaced without a word); the AWD batch is the SGD batch, taken
// from the training whatever DefaultConfig set.
func TestRunConfigAnalysisOfTheTraining(t *testing.T) {
	base := RunConfig{
		Data:      nn.DataSpec{Name: "mnist", Classes: []int{0, 1, 2}, PerClass: 60, Seed: 1},
		Model:     nn.ModelSpec{Kind: "mlp", Widths: []int{8, 8}},
		Seed:      1,
		Train:     nn.TrainConfig{Loss: nn.CE, Epochs: 3, Batch: 10, LR: 0.1, TMax: 500, ClipNorm: 5},
		AnalyzeAt: []int{3},
	}
	cfg := base
	// Without analysis options the error says which field to set, and how.
	if _, err := cfg.Normalized(); err == nil || !strings.Contains(err.Error(), `RunConfig.Analysis is nil: set it (start from awd.DefaultConfig("ce"))`) {
		t.Fatalf("AnalyzeAt without Analysis: %v", err)
	}
	mse := DefaultConfig("mse")
	mse.K = 20
	cfg.Analysis = &mse
	if _, err := cfg.Normalized(); err == nil || !strings.Contains(err.Error(), `the training's loss is "ce"`) {
		t.Fatalf("an MSE analysis of a CE training: %v", err)
	}
	ce := DefaultConfig("ce")
	ce.K = 20 // Batch: DefaultConfig's 50
	cfg.Analysis = &ce
	got, err := cfg.Normalized()
	if err != nil {
		t.Fatal(err)
	}
	if got.Analysis.Batch != 10 || got.Analysis.Loss != "ce" {
		t.Fatalf("analysis batch %d, loss %q; want the training's 10 and ce", got.Analysis.Batch, got.Analysis.Loss)
	}
	ce.Loss = ""
	if got, err = cfg.Normalized(); err != nil || got.Analysis.Loss != "ce" {
		t.Fatalf("an empty analysis loss: %v, loss %q", err, got.Analysis.Loss)
	}
}

// TestRunConfigDefaultLayer: naming the model's default layer is the same
// run as leaving it empty (the folder of one is resumed by the other);
// another layer is kept.
func TestRunConfigDefaultLayer(t *testing.T) {
	for _, tc := range []struct {
		model        nn.ModelSpec
		layer, other string
	}{
		{nn.ModelSpec{Kind: "mlp", Widths: []int{8, 8}}, "fc2", "fc1"},
		{nn.ModelSpec{Kind: "cnn"}, "fc", "classifier"},
	} {
		an := DefaultConfig("ce")
		an.K = 5
		cfg := RunConfig{
			Data:      nn.DataSpec{Name: "mnist", Classes: []int{0, 1, 2}, PerClass: 60, Seed: 1},
			Model:     tc.model,
			Seed:      1,
			Train:     nn.TrainConfig{Loss: nn.CE, Epochs: 3, Batch: 10, LR: 0.1, TMax: 500, ClipNorm: 5},
			AnalyzeAt: []int{3},
			Analysis:  &an,
		}
		for layer, want := range map[string]string{"": "", tc.layer: "", tc.other: tc.other} {
			an.Layer = layer
			got, err := cfg.Normalized()
			if err != nil {
				t.Fatalf("%s layer %q: %v", tc.model.Kind, layer, err)
			}
			if got.Analysis.Layer != want {
				t.Errorf("%s layer %q: normalised to %q, want %q", tc.model.Kind, layer, got.Analysis.Layer, want)
			}
		}
	}
}

// TestRunRefusesBatchAboveN: a batch larger than the training set is
// refused before the data are read when per-class fixes N, and once they
// are read otherwise (per-class 0, all samples), before the folder is
// claimed. Training used to run full-batch while the report recorded the
// larger B, which C_awd = (sigma^2/B) M2 divides by.
func TestRunRefusesBatchAboveN(t *testing.T) {
	data := t.TempDir()
	writeTinyIDX(t, data, "train", 30)
	writeTinyIDX(t, data, "t10k", 9)
	cfg := RunConfig{
		Data:  nn.DataSpec{Name: "mnist", Dir: data, Classes: []int{0, 1, 2}, PerClass: 10, Seed: 1},
		Model: nn.ModelSpec{Kind: "mlp", Widths: []int{4, 4}},
		Seed:  1,
		Train: nn.TrainConfig{Loss: nn.CE, Epochs: 1, Batch: 31, LR: 0.1, TMax: 500, ClipNorm: 5},
	}
	want := "batch=31: more than the 30 training samples: give --batch 30 or less"
	if _, err := cfg.Normalized(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("per-class 10 x 3 classes, batch 31: Normalized gave %v, want %q", err, want)
	}
	for _, perClass := range []int{10, 0} {
		cfg.Data.PerClass = perClass
		dir := filepath.Join(t.TempDir(), "run")
		_, err := Run(context.Background(), cfg, dir, RunOptions{Command: "train"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("per-class %d, batch 31: Run gave %v, want %q", perClass, err, want)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("per-class %d: the refused run left %s (%v)", perClass, dir, err)
		}
	}
	cfg.Train.Batch = 30
	if _, err := Run(context.Background(), cfg, filepath.Join(t.TempDir(), "run"), RunOptions{Command: "train"}); err != nil {
		t.Errorf("batch N = 30: %v", err)
	}
}

// writeTinyIDX writes an MNIST-shaped IDX pair prefix-images-idx3-ubyte
// and prefix-labels-idx1-ubyte of n 28x28 images, labels i mod 3.
func writeTinyIDX(t *testing.T, dir, prefix string, n int) {
	t.Helper()
	img := binary.BigEndian.AppendUint32([]byte{0, 0, 8, 3}, uint32(n))
	img = binary.BigEndian.AppendUint32(img, 28)
	img = binary.BigEndian.AppendUint32(img, 28)
	lab := binary.BigEndian.AppendUint32([]byte{0, 0, 8, 1}, uint32(n))
	for i := range n {
		for p := range 28 * 28 {
			img = append(img, byte(i*31+p*7))
		}
		lab = append(lab, byte(i%3))
	}
	for name, b := range map[string][]byte{prefix + "-images-idx3-ubyte": img, prefix + "-labels-idx1-ubyte": lab} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
