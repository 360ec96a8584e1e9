package figures

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/awd-toolkit/awd/awd"
)

func TestDrawSeedSeries(t *testing.T) {
	dir := t.TempDir()
	s := SeedSeries{Title: "mnist mlp CE K=3", Epochs: []int{1, 10, 100}, Gamma: map[string][]awd.MeanStd{
		awd.NameC:    {{Mean: 1.05, Std: 0.02, N: 4}, {Mean: 1.2, Std: 0.03, N: 4}, {Mean: 1.3, Std: 0.01, N: 3}},
		awd.NameCAWD: {{Mean: 1.1, N: 1}, {Mean: 1.25, Std: 0.02, N: 4}, {N: 0}},
	}}
	files, err := DrawSeedSeries(s, dir, "gamma_epochs_x")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || filepath.Base(files[0]) != "gamma_epochs_x.png" {
		t.Fatalf("files %v", files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil || img.Bounds().Dx() < 100 {
		t.Errorf("png: %v", err)
	}
	if _, err := DrawSeedSeries(SeedSeries{Title: "x"}, dir, "empty"); err == nil {
		t.Error("a series without epochs drew a figure")
	}
	nan := SeedSeries{Title: "x", Epochs: []int{5}, Gamma: map[string][]awd.MeanStd{awd.NameC: {{N: 0}}}}
	if _, err := DrawSeedSeries(nan, dir, "nan"); err == nil {
		t.Error("a series without a finite gamma drew a figure")
	}
}
