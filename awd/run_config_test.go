package awd

import (
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
	mse := DefaultConfig("mse")
	mse.K = 20
	cfg := base
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
