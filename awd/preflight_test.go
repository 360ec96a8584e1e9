package awd

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// TestBatchPairs checks that BatchPairs counts the pairs of batches that
// MatchPairs forms, odd class sizes and a dropped tail included.
func TestBatchPairs(t *testing.T) {
	for _, tc := range []struct {
		sizes []int
		batch int
	}{{[]int{50, 50}, 10}, {[]int{7, 13, 4}, 3}, {[]int{31, 30}, 30}, {[]int{31, 30}, 31}, {[]int{5, 5}, 1}} {
		var labels []int
		for c, n := range tc.sizes {
			for range n {
				labels = append(labels, c)
			}
		}
		x := linalg.NewDense(len(labels), 2)
		for i := range labels {
			x.Set(i, 0, float64(i))
		}
		want := 0
		if p, err := MatchPairs(x, labels, tc.batch, 1, true); err == nil {
			want = len(p.Batches) / 2
		}
		if got := BatchPairs(labels, tc.batch); got != want {
			t.Errorf("sizes %v, batch %d: %d batch pairs, MatchPairs forms %d", tc.sizes, tc.batch, got, want)
		}
	}
}

// TestCheckSamplesImageShape: a CNN's inputs must be images of its shape,
// not only of its size (an 8x8 model took 64x1 images and analysed them).
func TestCheckSamplesImageShape(t *testing.T) {
	m := tinyCNN(t, 1)
	ds := &nn.Dataset{Name: "t", N: 10, C: 1, H: 64, W: 1, Classes: 5, X: make([]float32, 10*64), Y: make([]int, 10)}
	for i := range ds.Y {
		ds.Y[i] = i % 5
	}
	if err := checkSamples(m, ds); err == nil || !strings.Contains(err.Error(), "t inputs are 1x64x1, the model takes 1x8x8 images: give the data set's own files") {
		t.Fatalf("64x1 images for an 8x8 CNN: %v", err)
	}
	ds.H, ds.W = 8, 8
	if err := checkSamples(m, ds); err != nil {
		t.Fatalf("8x8 images: %v", err)
	}
}

// TestCheckSamplesSaysWhatNNSays: the analysis refuses data the model
// cannot take with the check and the words of training (nn.CheckSamples),
// which name the data set and what the model takes; it had a copy of the
// check whose messages named neither the data set nor, for a size, the
// shape.
func TestCheckSamplesSaysWhatNNSays(t *testing.T) {
	m, err := nn.NewMLP(16, []int{4}, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	good := func() *nn.Dataset {
		ds := &nn.Dataset{Name: "toy", N: 6, C: 1, H: 4, W: 4, Classes: 3, X: make([]float32, 6*16), Y: make([]int, 6)}
		for i := range ds.Y {
			ds.Y[i] = i % 3
		}
		return ds
	}
	wide := good()
	wide.H, wide.W, wide.X = 5, 5, make([]float32, 6*25)
	label := good()
	label.Y[4] = 3
	nan := good()
	nan.X[17] = float32(math.NaN())
	for name, c := range map[string]struct {
		ds   *nn.Dataset
		want string
	}{
		"size":  {wide, "toy inputs are 1x5x5, the model takes 16 inputs: give the data set's own files"},
		"label": {label, "toy sample 4: label 3 but the model's head has 3 outputs (labels 0 to 2)"},
		"nan":   {nan, "sample 1"},
	} {
		got, want := checkSamples(m, c.ds), nn.CheckSamples(m, c.ds)
		if got == nil || want == nil || got.Error() != want.Error() || !strings.Contains(got.Error(), c.want) {
			t.Errorf("%s: the analysis says %v, training %v; want both to say %q", name, got, want, c.want)
		}
	}
	if err := checkSamples(m, good()); err != nil {
		t.Errorf("data the model takes: %v", err)
	}
}

// TestNoInputsSaidOnce: every entry point names a missing model or data
// set once, with one "analyze:" (Accumulate said it twice).
func TestNoInputsSaidOnce(t *testing.T) {
	ctx := context.Background()
	model := tinyCNN(t, 1)
	cfg := DefaultConfig("ce")
	for name, err := range map[string]error{
		"Accumulate": func() error { _, err := Accumulate(ctx, nil, &nn.Dataset{}, cfg, AccumulateOptions{}); return err }(),
		"Analyze":    func() error { _, err := Analyze(ctx, nil, &nn.Dataset{}, cfg, nil); return err }(),
		"Layers":     func() error { _, err := AnalyzeLayers(ctx, model, nil, cfg, []string{"fc"}, nil); return err }(),
		"Preflight":  Preflight(nil, &nn.Dataset{}, cfg, nil, 0, 1),
	} {
		if err == nil || strings.Count(err.Error(), "analyze:") != 1 || !strings.Contains(err.Error(), "(nil)") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
