package awd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/nn"
)

// TestRunEarlyStopSaid: a training that stops early says so, and which
// checkpoints asked for it did not reach, in `awd train` (no analyses) as
// in `awd run`, from the same code, and its report records it as
// stopped_early, on disk and after a resume. Training alone used to stop
// without a word or a record, its later checkpoints silently missing.
func TestRunEarlyStopSaid(t *testing.T) {
	an := DefaultConfig("ce")
	an.K, an.Interventions = 5, nil
	base := RunConfig{
		Data:        nn.DataSpec{Name: "mnist", Classes: []int{0, 1}, PerClass: 10, Seed: 1},
		Model:       nn.ModelSpec{Kind: "mlp", Widths: []int{8, 8}},
		Seed:        1,
		Train:       nn.TrainConfig{Loss: nn.CE, Epochs: 200, Batch: 5, LR: 0.1, TMax: 500, ClipNorm: 5, StopLoss: 0.05},
		Checkpoints: []int{2, 100, 200},
	}
	withAnalysis := base
	withAnalysis.Analysis, withAnalysis.AnalyzeAt = &an, []int{1, 200}
	var stopLine string
	for _, c := range []struct {
		command string
		cfg     RunConfig
	}{{"train", base}, {"run", withAnalysis}} {
		dir := filepath.Join(t.TempDir(), c.command)
		var logs []string
		opt := RunOptions{Command: c.command, Log: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }}
		rep, err := Run(context.Background(), c.cfg, dir, opt)
		if err != nil {
			t.Fatal(c.command, err)
		}
		es := rep.StoppedEarly
		if es == nil || es.Epoch >= 100 || es.Epoch != rep.Training[len(rep.Training)-1].Epoch {
			t.Fatalf("%s: stopped_early %+v after %d epochs, want the stop epoch (below 100)", c.command, es, len(rep.Training))
		}
		if !slices.Equal(es.NotReached, []int{100, 200}) || es.StopLoss != 0.05 || es.StopRule != nn.StopFull {
			t.Errorf("%s: stopped_early %+v, want checkpoints 100, 200 not reached, stop loss 0.05, rule full", c.command, es)
		}
		stop := fmt.Sprintf("stopped early at epoch %d (train loss below 0.05, rule full)", es.Epoch)
		missed := fmt.Sprintf("the checkpoints asked for at epochs 100,200 were not written (training stopped before them); the stop epoch's is %s", filepath.Join("checkpoints", fmt.Sprintf("epoch_%04d.npz", es.Epoch)))
		if !slices.Contains(logs, stop) || !slices.Contains(logs, missed) {
			t.Errorf("%s said %q, want %q and %q", c.command, logs, stop, missed)
		}
		skipped := fmt.Sprintf("the analyses asked for at epochs 200 were not run (training stopped before them); epoch %d is analysed instead", es.Epoch)
		if want := c.command == "run"; slices.Contains(logs, skipped) != want || slices.Equal(es.AnalysesNotReached, []int{200}) != want {
			t.Errorf("%s: analyses not reached %v, said %q", c.command, es.AnalysesNotReached, logs)
		}
		if stopLine == "" {
			stopLine = stop
		} else if stop != stopLine {
			t.Errorf("run said %q, train %q", stop, stopLine)
		}
		for e, want := range map[int]bool{2: true, es.Epoch: true, 100: false, 200: false} {
			if _, err := os.Stat(filepath.Join(dir, "checkpoints", fmt.Sprintf("epoch_%04d.npz", e))); (err == nil) != want {
				t.Errorf("%s: checkpoint of epoch %d written %v, want %v", c.command, e, err == nil, want)
			}
		}
		onDisk, err := ReadReport(filepath.Join(dir, "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		if got := onDisk.StoppedEarly; got == nil || got.Epoch != es.Epoch || !slices.Equal(got.NotReached, es.NotReached) {
			t.Errorf("%s: results.json stopped_early %+v, want %+v", c.command, got, es)
		}
		again, err := Run(context.Background(), c.cfg, dir, opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := again.StoppedEarly; got == nil || got.Epoch != es.Epoch {
			t.Errorf("%s resumed when done: stopped_early %+v, want epoch %d", c.command, got, es.Epoch)
		}
	}
	// No early stop, no record.
	full := base
	full.Train.Epochs, full.Train.StopLoss, full.Checkpoints = 2, 0, nil
	dir := filepath.Join(t.TempDir(), "full")
	rep, err := Run(context.Background(), full, dir, RunOptions{Command: "train"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil || rep.StoppedEarly != nil || strings.Contains(string(b), "stopped_early") {
		t.Errorf("a training of every epoch: stopped_early %+v in the report (%v)", rep.StoppedEarly, err)
	}
}
