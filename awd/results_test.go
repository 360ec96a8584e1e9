package awd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/nn"
)

func fakeReport(data, model, loss string, k int, gammas map[string]float64) *Report {
	r := &Result{Dataset: data, Model: model, Loss: loss, Classes: make([]int, k), Fits: map[string]Fit{}, Config: DefaultConfig(loss)}
	for name, g := range gammas {
		r.Fits[name] = Fit{Gamma: g, SE: Float(math.NaN())}
	}
	fakeSeed++ // each fake report is another run (MakeTable leaves out a run given twice)
	cfg, _ := json.Marshal(map[string]any{"seed": 7, "data": map[string]any{"per_class": 500, "seed": fakeSeed}})
	return &Report{Config: cfg, Finished: true, Checkpoints: []Checkpoint{{Epoch: 1, Analysis: r}, {Epoch: 2, Analysis: r}}}
}

// TestTableNotesUnfinishedRuns: a run that did not finish (killed during
// its last analysis) is tabulated at its last analysed epoch, with a note
// saying so.
func TestTableNotesUnfinishedRuns(t *testing.T) {
	rep := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: 1.2})
	rep.Finished = false
	tb := MakeTable([]*Report{rep}, []string{"a"}, []string{NameC})
	if len(tb.Rows) != 1 || !strings.Contains(strings.Join(tb.Notes, "\n"), "a: the run did not finish (killed or stopped): its last analysed epoch, 2, is tabulated") {
		t.Errorf("rows %d, notes %q", len(tb.Rows), tb.Notes)
	}
}

var fakeSeed = 100

func TestTable(t *testing.T) {
	reps := []*Report{
		fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: 1.2, NameCAWD: 1.1}),
		fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: 1.4, NameCAWD: 1.3}),
		fakeReport("mnist", "mlp", "mse", 3, map[string]float64{NameC: 1.0}),
		fakeReport("cifar10", "cnn", "ce", 10, map[string]float64{NameC: 1.5}),
	}
	// Seeds differ between the two CE files: they are replicates.
	reps[1].Config, _ = json.Marshal(map[string]any{"seed": 8, "data": map[string]any{"per_class": 500, "seed": 4}})
	covs := []string{NameC, NameCAWD}
	tb := MakeTable(reps, []string{"a", "b", "c", "d"}, covs)
	rows := tb.Rows
	if len(rows) != 2 || rows[0].Data != "cifar10" || rows[1].K != 3 {
		t.Fatalf("rows %+v", rows)
	}
	ce := rows[1].Cells["ce/C"]
	// mean 1.3, sample std sqrt(((0.1)^2 * 2) / 1)
	if ce.N != 2 || math.Abs(ce.Mean-1.3) > 1e-12 || math.Abs(ce.Std-math.Sqrt(0.02)) > 1e-12 {
		t.Errorf("ce/C cell %+v", ce)
	}
	md := tb.Markdown()
	if !strings.Contains(md, "| mnist | mlp | 3 | 1.000 (1) | n/a | 1.300 ± 0.141 (2) | 1.200 ± 0.141 (2) |") {
		t.Errorf("markdown:\n%s", md)
	}
	csv, err := tb.CSV()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv, "mnist,mlp,3,1.0000,,1,,,0,1.3000,0.1414,2,1.2000,0.1414,2") {
		t.Errorf("csv:\n%s", csv)
	}
}

// Two protocols are never averaged: a file with another P (or k, epochs,
// ...) gets its own row, labelled by what differs, and failed fits and
// files without analyses are named in the notes.
func TestTableSeparatesProtocols(t *testing.T) {
	a := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: 1.2})
	b := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: 1.6})
	b.Config, _ = json.Marshal(map[string]any{"seed": 7, "data": map[string]any{"per_class": 2000, "seed": 3}})
	c := fakeReport("mnist", "mlp", "ce", 3, nil)
	c.Checkpoints[1].Analysis = &Result{Dataset: "mnist", Model: "mlp", Loss: "ce", Classes: make([]int, 3), Config: DefaultConfig("ce"),
		FitErrors: map[string]string{NameC: "fewer than two positive pairs"}}
	d := &Report{}
	tb := MakeTable([]*Report{a, b, c, d}, []string{"a", "b", "c", "d"}, []string{NameC})
	if len(tb.Rows) != 2 || tb.Rows[0].Cells["ce/C"].N != 1 {
		t.Fatalf("%d rows, want 2 (two protocols, the failed fit left out):\n%s", len(tb.Rows), tb.Markdown())
	}
	if !strings.Contains(tb.Markdown(), "config.data.per_class=2000") {
		t.Errorf("variant not named:\n%s", tb.Markdown())
	}
	notes := strings.Join(tb.Notes, "\n")
	if !strings.Contains(notes, "c: gamma(C) fit failed") || !strings.Contains(notes, "d: no analysed epoch") {
		t.Errorf("notes:\n%s", notes)
	}
}

// TestTableUnusedSettings: a run that left the layer to the model's
// default and one that named it, or two that differ only in settings of a
// bootstrap or goodness-of-fit test neither ran, are one protocol. A
// bootstrap changes no gamma: without error bars, runs of any bootstrap
// share a row; with them (MakeTableCI), a bootstrap of other groups or
// replicates, whose SE the cells show, is another row, and one of another
// level (the percentile interval, not shown) is not.
func TestTableUnusedSettings(t *testing.T) {
	mk := func(g float64, layer string, groups, boot int, level float64) *Report {
		r := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: g})
		an := *r.Checkpoints[1].Analysis
		an.Layer, an.Config.Layer = "fc2", layer
		an.Config.Extras.BootstrapShards, an.Config.Extras.Bootstrap, an.Config.Extras.BootstrapLevel = groups, boot, level
		an.Config.Extras.PowerLawML, an.Config.Extras.MLReps = false, groups
		fakeSeed++
		cfg, _ := json.Marshal(map[string]any{"seed": fakeSeed, "analysis": an.Config})
		r.Config, r.Checkpoints[1].Analysis = cfg, &an
		return r
	}
	for _, c := range []struct {
		name   string
		a, b   *Report
		ci     bool
		rows   int
		differ string // named in the protocol column
	}{
		{"default-layer/no-bootstrap", mk(1.2, "", 10, 0, 0.95), mk(1.4, "fc2", 20, 0, 0.9), true, 1, ""},
		{"groups", mk(1.2, "", 10, 100, 0.95), mk(1.4, "fc2", 20, 100, 0.95), false, 1, ""},
		{"groups/ci", mk(1.2, "", 10, 100, 0.95), mk(1.4, "fc2", 20, 100, 0.95), true, 2, "bootstrap_shards"},
		{"replicates", mk(1.2, "", 10, 0, 0.95), mk(1.4, "fc2", 10, 100, 0.95), false, 1, ""},
		{"replicates/ci", mk(1.2, "", 10, 50, 0.95), mk(1.4, "fc2", 10, 100, 0.95), true, 2, "extras.bootstrap=50"},
		{"level/ci", mk(1.2, "", 10, 100, 0.9), mk(1.4, "fc2", 10, 100, 0.95), true, 1, ""},
	} {
		tabulate := MakeTable
		if c.ci {
			tabulate = MakeTableCI
		}
		tb := tabulate([]*Report{c.a, c.b}, []string{"a", "b"}, []string{NameC})
		if md := tb.Markdown(); len(tb.Rows) != c.rows || !strings.Contains(md, c.differ) {
			t.Errorf("%s: %d rows, want %d (%q named):\n%s", c.name, len(tb.Rows), c.rows, c.differ, md)
		}
	}
}

// TestTableLeavesOutRepeats: a report given twice (or a copy, or the
// same checkpoint analysed again) is one run, listed as left out, not a
// second replicate.
func TestTableLeavesOutRepeats(t *testing.T) {
	a := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: 1.2})
	b := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: 1.4})
	tb := MakeTable([]*Report{a, a, b}, []string{"a", "a again", "b"}, []string{NameC})
	if c := tb.Rows[0].Cells["ce/C"]; len(tb.Rows) != 1 || c.N != 2 || math.Abs(c.Mean-1.3) > 1e-12 {
		t.Errorf("rows %+v, want one cell of the 2 runs", tb.Rows)
	}
	if notes := strings.Join(tb.Notes, "\n"); !strings.Contains(notes, "a again: the same run as a") {
		t.Errorf("notes:\n%s", notes)
	}
}

func TestReadReportErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, body, want string
	}{
		{"not-json", "{", "not a results file: unexpected end of JSON input (give the results.json that awd run, train, analyze or reduce wrote"},
		{"array", "[]", "not a results file (its JSON is array, not an object; give the results.json"},
		{"no-version", `{"checkpoints": []}`, "schema_version is missing"},
		{"other-version", `{"schema_version": 7}`, "schema_version is 7"},
		{"no-analysis", `{"schema_version": 1, "checkpoints": [{"epoch": 3}]}`, "checkpoints[0].analysis"},
	} {
		p := filepath.Join(dir, c.name+".json")
		os.WriteFile(p, []byte(c.body), 0o644)
		if _, err := ReadReport(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	// A path that is no file says which file is wanted.
	for _, p := range []string{filepath.Join(dir, "none.json"), dir} {
		if _, err := ReadReport(p); err == nil || !strings.HasPrefix(err.Error(), "results file: ") || !strings.Contains(err.Error(), "give the results.json that awd run, train, analyze or reduce wrote") {
			t.Errorf("%s: error %v, want one that says a results file is wanted and which", p, err)
		}
	}
}

// TestWriteNil: writing a nil Report or Result is an error that says what
// to give, and writes nothing; both used to panic.
func TestWriteNil(t *testing.T) {
	dir := t.TempDir()
	for name, write := range map[string]func(string) error{
		"report": func(p string) error { return WriteReport(p, nil) },
		"arrays": func(p string) error { return WriteArrays(p, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panicked: %v", r)
				}
			}()
			path := filepath.Join(dir, name)
			if err := write(path); err == nil || !strings.Contains(err.Error(), "(nil): give the") {
				t.Errorf("error %v, want one saying what to give", err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("%s written", path)
			}
		})
	}
}

func TestFloatJSON(t *testing.T) {
	b, err := json.Marshal([]Float{1.5, Float(math.NaN()), Float(math.Inf(1))})
	if err != nil || string(b) != "[1.5,null,null]" {
		t.Fatalf("%s %v", b, err)
	}
	var back []Float
	if err := json.Unmarshal(b, &back); err != nil || back[0] != 1.5 || !math.IsNaN(float64(back[1])) {
		t.Errorf("%v %v", back, err)
	}
}

func FuzzReadReport(f *testing.F) {
	f.Add([]byte(`{"schema_version": 1, "checkpoints": [{"epoch": 1, "analysis": {"fits": {"C": {"gamma": 1.2, "se": null}}}}]}`))
	f.Add([]byte(`{"schema_version": 1, "checkpoints": [{"analysis": null}]}`))
	f.Add([]byte(`[]`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "r.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		rep, err := ReadReport(p)
		if err != nil {
			return
		}
		// What reads back must be usable: every checkpoint has an analysis.
		for _, c := range rep.Checkpoints {
			_ = c.Analysis.Fits
		}
		_ = MakeTable([]*Report{rep}, []string{"r"}, []string{NameC}).Markdown()
	})
}

// With CI, a cell adds the pooled bootstrap SE (the root of the mean
// squared SE) and the range of gamma(k') over k/2 <= k' <= k.
func TestTableCI(t *testing.T) {
	a := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: 1.2})
	b := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: 1.3})
	a.Config, _ = json.Marshal(map[string]any{"seed": 7})
	b.Config, _ = json.Marshal(map[string]any{"seed": 8})
	for i, rep := range []*Report{a, b} {
		cp := *rep.Checkpoints[1].Analysis
		r := &cp
		rep.Checkpoints[1].Analysis = r
		r.Bootstrap = map[string]BootstrapCI{NameC: {SE: Float(0.03 + 0.01*float64(i))}}
		r.GammaK = map[string]GammaK{NameC: {K: []int{10, 50, 100, 200}, Gamma: []Float{0.9, 1.0, []Float{1.1, 1.15}[i], 1.2}}}
	}
	tb := MakeTableCI([]*Report{a, b}, []string{"a", "b"}, []string{NameC})
	ci := tb.Rows[0].CIs["ce/C"]
	if ci.BootN != 2 || math.Abs(ci.BootSE-math.Sqrt((0.03*0.03+0.04*0.04)/2)) > 1e-15 || ci.KLow != 1.1 || ci.KHigh != 1.2 {
		t.Fatalf("CI %+v", ci)
	}
	if md := tb.Markdown(); !strings.Contains(md, "[boot se 0.035; k/2..k: 1.100 to 1.200]") {
		t.Errorf("markdown:\n%s", md)
	}
	if csv, _ := tb.CSV(); !strings.Contains(csv, "gamma_C_ce_boot_se") || !strings.Contains(csv, "0.0354,1.1000,1.2000") {
		t.Errorf("csv:\n%s", csv)
	}
}

// A report of awd analyze --layers gives a row per layer, named in a layer
// column, never only its last layer.
func TestTableLayers(t *testing.T) {
	rep := &Report{Config: json.RawMessage(`{"seed": 7}`)}
	for i, layer := range []string{"fc1", "fc2", "fc3"} {
		r := &Result{Dataset: "mnist", Model: "mlp", Layer: layer, Loss: "ce", Classes: make([]int, 3),
			Fits: map[string]Fit{NameC: {Gamma: 1.1 + 0.1*float64(i), SE: Float(math.NaN())}}, Config: DefaultConfig("ce")}
		rep.Checkpoints = append(rep.Checkpoints, Checkpoint{Epoch: 4, Analysis: r})
	}
	tb := MakeTable([]*Report{rep}, []string{"r"}, []string{NameC})
	if len(tb.Rows) != 3 {
		t.Fatalf("%d rows, want one per layer:\n%s", len(tb.Rows), tb.Markdown())
	}
	md := tb.Markdown()
	for _, want := range []string{"| data | model | layer | K |", "| mnist | mlp | fc1 | 3 | n/a | 1.100 (1) |",
		"| mnist | mlp | fc2 | 3 | n/a | 1.200 (1) |", "| mnist | mlp | fc3 | 3 | n/a | 1.300 (1) |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	csv, err := tb.CSV()
	if err != nil || !strings.HasPrefix(csv, "data,model,layer,K,") || !strings.Contains(csv, "\nmnist,mlp,fc2,3,") {
		t.Errorf("csv (%v):\n%s", err, csv)
	}
	// One layer: no layer column, as before.
	if md := MakeTable([]*Report{fakeReport("mnist", "mlp", "ce", 3, nil)}, []string{"a"}, []string{NameC}).Markdown(); strings.Contains(md, "layer") {
		t.Errorf("a one-layer table has a layer column:\n%s", md)
	}
}

// analyzeConfig is the config of a report of awd analyze of a checkpoint
// with these weights (hash), widths, learning rate and seed.
func analyzeConfig(weights string, widths []int, lr float64, seed uint64) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"checkpoint_sha256": "file-" + weights, "weights_sha256": weights, "data_sha256": "samples",
		"data":     map[string]any{"name": "mnist", "dir": "/data", "classes": []int{0, 1, 2}, "per_class": 500, "head": 3, "seed": 1},
		"analysis": DefaultConfig("ce"),
		"origin": Origin{Arch: &nn.Arch{Model: "mlp", Widths: widths, Outputs: 3},
			Train: &nn.TrainConfig{Epochs: 4, Batch: 50, LR: lr, Seed: seed}, InitSeed: seed}})
	return b
}

// reduceConfig is the config of a report of awd reduce (an
// AccumulationInfo) of the same analysis in shards shards.
func reduceConfig(weights string, widths []int, lr float64, seed uint64, shards int) json.RawMessage {
	data := nn.DataSpec{Name: "mnist", Classes: []int{0, 1, 2}, PerClass: 500, Head: 3, Seed: 1}
	info := AccumulationInfo{Dataset: "mnist/train", Model: "mlp", Head: 3, Classes: []int{0, 1, 2}, M: 3, In: 8, Config: DefaultConfig("ce"),
		WeightsSHA256: weights, DataSHA256: "samples", DataN: 1500, Shards: shards, Have: make([]int, shards), Counts: make([]int, shards),
		Pairs: 700 + shards, KernelLevel: "avx2", Estimate: int64(1000 * shards), Epoch: 4, Build: fmt.Sprint("awd ", shards),
		Origin: &Origin{Arch: &nn.Arch{Model: "mlp", Widths: widths, Outputs: 3},
			Train: &nn.TrainConfig{Epochs: 4, Batch: 50, LR: lr, Seed: seed}, InitSeed: seed, Data: &data}}
	b, _ := json.Marshal(info)
	return b
}

func withConfig(g float64, cfg json.RawMessage) *Report {
	r := fakeReport("mnist/train", "mlp", "ce", 3, map[string]float64{NameC: g})
	r.Config = cfg
	return r
}

// TestTableNetworksAndTraining: analyses of checkpoints of other widths or
// learning rates are other rows; of other seeds, one row.
func TestTableNetworksAndTraining(t *testing.T) {
	reps := []*Report{
		withConfig(1.0, analyzeConfig("w1", []int{8, 8}, 0.1, 1)),
		withConfig(1.2, analyzeConfig("w2", []int{8, 8}, 0.1, 2)),
		withConfig(2.0, analyzeConfig("w3", []int{8, 8}, 0.5, 3)),
		withConfig(3.0, analyzeConfig("w4", []int{16, 8}, 0.1, 4)),
	}
	tb := MakeTable(reps, []string{"s1", "s2", "lr", "wide"}, []string{NameC})
	if len(tb.Rows) != 3 {
		t.Fatalf("%d rows, want 3 (seeds averaged, lr and widths apart):\n%s", len(tb.Rows), tb.Markdown())
	}
	md := tb.Markdown()
	for _, want := range []string{"1.100 ± 0.141 (2)", "config.origin.train.lr=0.5", "config.origin.arch.widths=[16,8]"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestTableReduce: reduces of other seeds are replicates, the same
// checkpoint reduced from 2 and from 3 shards or analysed unsharded is one
// run, and a reduce of another network is another row.
func TestTableReduce(t *testing.T) {
	reps := []*Report{
		withConfig(1.0, reduceConfig("w1", []int{8, 8}, 0.1, 1, 2)),
		withConfig(1.2, reduceConfig("w2", []int{8, 8}, 0.1, 2, 3)),
		withConfig(1.0, reduceConfig("w1", []int{8, 8}, 0.1, 1, 3)),
		withConfig(1.0, analyzeConfig("w1", []int{8, 8}, 0.1, 1)),
		withConfig(1.4, analyzeConfig("w5", []int{8, 8}, 0.1, 5)),
		withConfig(2.0, reduceConfig("w3", []int{16, 8}, 0.1, 3, 2)),
	}
	for _, r := range reps {
		r.Checkpoints[1].Analysis.M, r.Checkpoints[1].Analysis.In = 3, 8
	}
	tb := MakeTable(reps, []string{"r1", "r2", "r1 again", "a1", "a5", "wide"}, []string{NameC})
	if len(tb.Rows) != 2 {
		t.Fatalf("%d rows, want 2:\n%s\n%s", len(tb.Rows), tb.Markdown(), strings.Join(tb.Notes, "\n"))
	}
	if c := tb.Rows[0].Cells["ce/C"]; c.N != 3 || math.Abs(c.Mean-1.2) > 1e-12 {
		t.Errorf("cell %+v, want the 3 runs w1, w2, w5:\n%s", c, tb.Markdown())
	}
	notes := strings.Join(tb.Notes, "\n")
	for _, want := range []string{"r1 again: the same run as r1", "a1: the same run as r1"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

// TestTableLayerShape: without the checkpoint's JSON, analyses of layers
// of other shapes are still other rows.
func TestTableLayerShape(t *testing.T) {
	a := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: 1.2})
	b := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: 1.4})
	an := *b.Checkpoints[1].Analysis
	an.M, an.In = 16, 784
	b.Checkpoints[1].Analysis = &an
	if tb := MakeTable([]*Report{a, b}, []string{"a", "b"}, []string{NameC}); len(tb.Rows) != 2 {
		t.Errorf("layers of other shapes share a row:\n%s", tb.Markdown())
	}
}

// TestTableEffectiveSettings: corr_k and rho_block above k count as k, and
// the epochs analysed before the last do not split a row.
func TestTableEffectiveSettings(t *testing.T) {
	mk := func(g float64, corrK, rho int, at []int) *Report {
		r := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: g})
		an := *r.Checkpoints[1].Analysis
		an.K, an.Config.K, an.Config.CorrK, an.Config.RhoBlock = 10, 10, corrK, rho
		fakeSeed++
		cfg, _ := json.Marshal(map[string]any{"seed": fakeSeed, "analysis": an.Config, "analyze_at": at})
		r.Config, r.Checkpoints[1].Analysis = cfg, &an
		return r
	}
	tb := MakeTable([]*Report{mk(1.2, 200, 100, []int{1, 2}), mk(1.4, 10, 10, []int{2})}, []string{"a", "b"}, []string{NameC})
	if len(tb.Rows) != 1 || tb.Rows[0].Cells["ce/C"].N != 2 {
		t.Errorf("%d rows, want one of 2 runs:\n%s", len(tb.Rows), tb.Markdown())
	}
	tb = MakeTable([]*Report{mk(1.2, 5, 100, nil), mk(1.4, 10, 100, nil)}, []string{"a", "b"}, []string{NameC})
	if len(tb.Rows) != 2 {
		t.Errorf("corr_k 5 and 10 with k 10 share a row:\n%s", tb.Markdown())
	}
}

// TestTableVariantsDistinct: rows of protocols that differ only in a key
// late in the order (here the learning rate, after four keys in which a
// third protocol differs) still say how they differ, in Markdown and CSV.
func TestTableVariantsDistinct(t *testing.T) {
	mk := func(g float64, perClass, k int, lr float64) *Report {
		r := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: g})
		fakeSeed++
		r.Config, _ = json.Marshal(map[string]any{"seed": fakeSeed,
			"data":  map[string]any{"per_class": perClass, "head": perClass / 100, "cifar_std": fmt.Sprint(perClass), "classes": []int{0, 1, perClass}},
			"train": map[string]any{"lr": lr, "batch": k}})
		return r
	}
	tb := MakeTable([]*Report{mk(1.1, 500, 50, 0.1), mk(1.2, 500, 50, 0.05), mk(1.3, 200, 20, 0.1)}, []string{"a", "b", "c"}, []string{NameC})
	if len(tb.Rows) != 3 {
		t.Fatalf("%d rows, want 3:\n%s", len(tb.Rows), tb.Markdown())
	}
	seen := map[string]bool{}
	for _, r := range tb.Rows {
		if seen[r.Variant] {
			t.Errorf("two rows read %q:\n%s", r.Variant, tb.Markdown())
		}
		seen[r.Variant] = true
	}
	md := tb.Markdown()
	csv, err := tb.CSV()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"config.train.lr=0.1", "config.train.lr=0.05"} {
		if !strings.Contains(md, want) || !strings.Contains(csv, want) {
			t.Errorf("lacks %q:\n%s\n%s", want, md, csv)
		}
	}
}

// TestTableDataSources: runs that read other files under one data set's
// name are never averaged. Two runs that draw the same subset from two
// folders and record other fingerprints of the data read (their folders'
// owner files) are two rows, named by folder; runs of the same data are
// one row, also when each draws its own subset (whose fingerprints then
// differ by design); results without the record tabulate as before.
func TestTableDataSources(t *testing.T) {
	type run struct {
		seed, dataSeed int
		dir, fp        string // fp "": no owner file
		src            string // the training set's fingerprint ("": not recorded)
	}
	mk := func(r run) *Report {
		rep := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: 1 + float64(r.seed)/10})
		cfg := map[string]any{"seed": r.seed, "data": map[string]any{"name": "mnist", "dir": r.dir, "per_class": 500, "seed": r.dataSeed}}
		if r.src != "" {
			cfg[DataSourceKey] = r.src
		}
		rep.Config, _ = json.Marshal(cfg)
		if r.fp != "" {
			rep.Owner = &Owner{Command: "run", Data: r.fp}
		}
		return rep
	}
	for _, c := range []struct {
		name  string
		runs  []run
		rows  []int  // runs per row
		label string // in the protocol column
		note  string
	}{
		{"same-draw/other-folders", []run{{1, 1, "/x", "fx", ""}, {2, 1, "/y", "fy", ""}}, []int{1, 1}, `data_dir="/y"`, "a and b read other data under the name mnist"},
		{"same-draw/same-data", []run{{1, 1, "/x", "f", ""}, {2, 1, "/y", "f", ""}}, []int{2}, "", ""},
		{"own-draws/same-folder", []run{{1, 1, "/x", "f1", ""}, {2, 2, "/x", "f2", ""}, {3, 3, "/x", "f3", ""}}, []int{3}, "", ""},
		{"own-draws/two-folders", []run{{1, 1, "/x", "fx1", ""}, {2, 2, "/x", "fx2", ""}, {1, 1, "/y", "fy1", ""}, {2, 2, "/y", "fy2", ""}}, []int{2, 2}, `data_dir="/x"`, "a and c read other data"},
		{"no-record", []run{{1, 1, "/x", "", ""}, {2, 1, "/y", "", ""}}, []int{2}, "", ""},
		{"folder-changed", []run{{1, 1, "/x", "fa", ""}, {2, 1, "/x", "fb", ""}, {3, 1, "/y", "fa", ""}}, []int{1, 1, 1}, `data_fingerprint="fb"`, "a and b read other data from the folder \"/x\""},
		// The training set's fingerprint tells other files apart whatever
		// the draws, and the same files wherever they are.
		{"source/own-draws/other-files", []run{{1, 1, "/x", "fx1", "sA"}, {2, 2, "/y", "fy2", "sB"}}, []int{1, 1}, `data_source="sB"`, "a and b read other data under the name mnist (training sets of fingerprints sA and sB)"},
		{"source/own-draws/same-files", []run{{1, 1, "/x", "fx1", "sA"}, {2, 2, "/y", "fy2", "sA"}, {3, 3, "/x", "fx3", "sA"}}, []int{3}, "", ""},
		{"source/same-draw/same-files", []run{{1, 1, "/x", "fa", "sA"}, {2, 1, "/y", "fb", "sA"}}, []int{2}, "", ""},
		{"source/one-folder-changed", []run{{1, 1, "/x", "f1", "sA"}, {2, 2, "/x", "f2", "sB"}, {3, 3, "/x", "f3", "sA"}}, []int{2, 1}, `data_source="sB"`, "a and b read other data"},
		{"source/joined-by-folder", []run{{1, 1, "/x", "fx", "sA"}, {2, 1, "/y", "fy", "sB"}, {3, 2, "/x", "fx2", ""}}, []int{2, 1}, `data_dir="/y"`, "a and b read other data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var reps []*Report
			var names []string
			for i, r := range c.runs {
				reps = append(reps, mk(r))
				names = append(names, string(rune('a'+i)))
			}
			tb := MakeTable(reps, names, []string{NameC})
			md, notes := tb.Markdown(), strings.Join(tb.Notes, "\n")
			var got []int
			for _, r := range tb.Rows {
				got = append(got, r.Cells["ce/C"].N)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.rows) || !strings.Contains(md, c.label) || !strings.Contains(notes, c.note) || (c.note == "") != (notes == "") {
				t.Errorf("runs per row %v, want %v (label %q, note %q):\n%s\n%s", got, c.rows, c.label, c.note, md, notes)
			}
		})
	}
}

// TestReadReportOwner: ReadReport takes the data's fingerprint from the
// owner file of the report's folder, only when that file is of the
// report's run.
func TestReadReportOwner(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "results.json")
	if err := WriteReport(p, &Report{RunID: "r1"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ owner, want string }{
		{"", ""},
		{`{"schema": 1, "command": "run", "run_id": "r2", "data_sha256": "fp"}`, ""},
		{`{"schema": 1, "command": "run", "run_id": "r1", "data_sha256": "fp"}`, "fp"},
	} {
		if c.owner != "" {
			os.WriteFile(filepath.Join(dir, OwnerFile), []byte(c.owner), 0o644)
		}
		rep, err := ReadReport(p)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if rep.Owner != nil {
			got = rep.Owner.Data
		}
		if got != c.want {
			t.Errorf("owner %s: data %q, want %q", c.owner, got, c.want)
		}
	}
}

// TestTableLayersList: a layer of awd analyze --layers is the analysis of
// that layer alone matrix-free, whatever the other layers listed and the
// layer asked: one row with the same layer of --layers fc3 and of --layer
// fc3 --matrix-free; the dense analysis of fc3 is another row.
func TestTableLayersList(t *testing.T) {
	mk := func(seed int, asked string, list []string, matrixFree bool, g float64) *Report {
		cfg := DefaultConfig("ce")
		cfg.Layer, cfg.MatrixFree = asked, matrixFree && list == nil
		b, _ := json.Marshal(map[string]any{"seed": seed, "analysis": cfg, "layers": list})
		if list == nil {
			b, _ = json.Marshal(map[string]any{"seed": seed, "analysis": cfg})
		}
		rep := &Report{Config: b, Finished: true}
		for _, layer := range append(list, asked)[:max(len(list), 1)] {
			c := DefaultConfig("ce")
			c.Layer, c.MatrixFree = layer, matrixFree
			r := &Result{Dataset: "mnist", Model: "mlp", Layer: layer, Loss: "ce", Classes: make([]int, 3), Config: c,
				Fits: map[string]Fit{NameC: {Gamma: g, SE: Float(math.NaN())}}}
			rep.Checkpoints = append(rep.Checkpoints, Checkpoint{Epoch: 2, Analysis: r})
		}
		return rep
	}
	reps := []*Report{
		mk(1, "fc2", []string{"fc2", "fc3"}, true, 1.1),
		mk(2, "fc2", []string{"fc3"}, true, 1.2),
		mk(3, "fc3", nil, true, 1.3),
		mk(4, "fc3", nil, false, 1.4),
	}
	tb := MakeTable(reps, []string{"fc2,fc3", "fc3", "one", "dense"}, []string{NameC})
	var got []string
	for _, r := range tb.Rows {
		got = append(got, fmt.Sprintf("%s:%d", r.Layer, r.Cells["ce/C"].N))
	}
	if fmt.Sprint(got) != "[fc2:1 fc3:3 fc3:1]" {
		t.Errorf("rows %v, want [fc2:1 fc3:3 fc3:1]:\n%s", got, tb.Markdown())
	}
}

// TestTableRunAndAnalyze: a report of awd run records its network and
// training as model, train and seed; one of awd analyze or awd reduce of
// a checkpoint as origin.arch, origin.train and origin.init_seed. Runs
// that say the same thing in the two layouts are one protocol (another
// seed a replicate, the analysis of the run's own checkpoint the same
// run); another learning rate is another row.
func TestTableRunAndAnalyze(t *testing.T) {
	data := nn.DataSpec{Name: "mnist", Dir: "/data", Classes: []int{0, 1, 2}, PerClass: 500, Head: 3, Seed: 1}
	an := DefaultConfig("ce")
	train := func(seed uint64, lr float64) nn.TrainConfig {
		return nn.TrainConfig{Loss: nn.CE, Epochs: 4, Batch: 50, LR: lr, Seed: seed, StartEpoch: 2}
	}
	run := func(seed uint64, lr float64) json.RawMessage {
		b, _ := json.Marshal(RunConfig{Data: data, Model: nn.ModelSpec{Kind: "mlp", Widths: []int{8, 8}}, Seed: seed, Train: train(seed, lr),
			Checkpoints: []int{int(seed)}, AnalyzeAt: []int{2, 4}, Analysis: &an})
		return b
	}
	analyze := func(seed uint64, lr float64, weights string) json.RawMessage {
		arch, err := nn.ModelSpec{Kind: "mlp", Widths: []int{8, 8}}.Arch(data)
		if err != nil {
			t.Fatal(err)
		}
		tc := train(seed, lr)
		tc.StartEpoch = 0
		b, _ := json.Marshal(map[string]any{"checkpoint_sha256": "file-" + weights, "weights_sha256": weights, "data_sha256": "samples",
			"data": data, "analysis": an, "origin": Origin{Arch: &arch, Train: &tc, InitSeed: seed}})
		return b
	}
	reps := []*Report{withConfig(1.0, run(1, 0.1)), withConfig(1.2, analyze(2, 0.1, "w2")), withConfig(1.0, analyze(1, 0.1, "w1")), withConfig(2.0, run(3, 0.05))}
	tb := MakeTable(reps, []string{"run1", "an2", "an1", "lr"}, []string{NameC})
	md, notes := tb.Markdown(), strings.Join(tb.Notes, "\n")
	if len(tb.Rows) != 2 || tb.Rows[0].Cells["ce/C"].N != 2 || !strings.Contains(md, "config.origin.train.lr=0.05") {
		t.Errorf("%d rows, want 2 (run1 and an2 averaged, lr apart):\n%s\n%s", len(tb.Rows), md, notes)
	}
	if !strings.Contains(notes, "an1: the same run as run1") {
		t.Errorf("notes lack an1 as the same run as run1:\n%s", notes)
	}
	// The run's checkpoint analysed from another folder of the same files
	// (the same training set's fingerprint) is the same run still.
	r1 := withConfig(1.0, WithDataSource(run(1, 0.1), "S"))
	data.Dir = "/moved"
	a1 := withConfig(1.0, WithDataSource(analyze(1, 0.1, "w1"), "S"))
	tb = MakeTable([]*Report{r1, a1}, []string{"run1", "an1"}, []string{NameC})
	if notes := strings.Join(tb.Notes, "\n"); len(tb.Rows) != 1 || tb.Rows[0].Cells["ce/C"].N != 1 || !strings.Contains(notes, "an1: the same run as run1") {
		t.Errorf("the run's checkpoint analysed from a moved folder: %d rows, want one of one run, an1 the same run as run1:\n%s\n%s", len(tb.Rows), tb.Markdown(), notes)
	}
}

// TestTableSuppressionSplitsNoRow: the suppression experiments run after
// the fits and change none of the table's numbers (gamma, and with error
// bars the bootstrap SE and gamma(k)), so runs that differ only in them,
// on or off, their interventions, parameters, protocol or seed, share a
// row, with error bars too; and an awd run of a checkpoint (suppression on
// by default) and an awd analyze of it (off) are the same run.
func TestTableSuppressionSplitsNoRow(t *testing.T) {
	mk := func(g float64, ivs []string, sp SuppressionConfig) *Report {
		r := fakeReport("mnist", "mlp", "ce", 3, map[string]float64{NameC: g})
		an := *r.Checkpoints[1].Analysis
		an.Config.Interventions, an.Config.Suppression = ivs, sp
		fakeSeed++
		cfg, _ := json.Marshal(map[string]any{"seed": fakeSeed, "analysis": an.Config})
		r.Config, r.Checkpoints[1].Analysis = cfg, &an
		return r
	}
	other := SuppressionConfig{Tau: 0.1, TailEps: 1e-3, NonStiffEps: 1e-2, Seed: 9, CorrK: 7, Protocol: ProtocolRebuild, PerClass: 0}
	for _, c := range []struct {
		name string
		a, b *Report
	}{
		{"on/off", mk(1.2, Interventions, DefaultSuppression), mk(1.4, nil, DefaultSuppression)},
		{"interventions", mk(1.2, Interventions, DefaultSuppression), mk(1.4, []string{InterventionRank1}, DefaultSuppression)},
		{"parameters", mk(1.2, Interventions, DefaultSuppression), mk(1.4, Interventions, other)},
	} {
		for _, tabulate := range []func([]*Report, []string, []string) *Table{MakeTable, MakeTableCI} {
			tb := tabulate([]*Report{c.a, c.b}, []string{"a", "b"}, []string{NameC})
			if len(tb.Rows) != 1 || tb.Rows[0].Cells["ce/C"].N != 2 {
				t.Errorf("%s (ci %v): %d rows, want one of 2 runs:\n%s", c.name, tb.CI, len(tb.Rows), tb.Markdown())
			}
		}
	}

	// One run whose suppression drew other samples (its seed) is the same
	// run: it is counted once.
	a := mk(1.2, Interventions, DefaultSuppression)
	b := *a
	an := *a.Checkpoints[1].Analysis
	an.Config.Suppression.Seed++
	b.Checkpoints = []Checkpoint{a.Checkpoints[0], {Epoch: 2, Analysis: &an}}
	var cfg map[string]any
	json.Unmarshal(a.Config, &cfg)
	cfg["analysis"] = an.Config
	b.Config, _ = json.Marshal(cfg)
	tb := MakeTable([]*Report{a, &b}, []string{"a", "b"}, []string{NameC})
	if notes := strings.Join(tb.Notes, "\n"); len(tb.Rows) != 1 || tb.Rows[0].Cells["ce/C"].N != 1 || !strings.Contains(notes, "b: the same run as a") {
		t.Errorf("one run with another suppression seed: %d rows, want one of one run, b the same run as a:\n%s\n%s", len(tb.Rows), tb.Markdown(), notes)
	}

	// awd run's own analysis of its checkpoint, with the suppression, and
	// awd analyze of that checkpoint without it: one run.
	data := nn.DataSpec{Name: "mnist", Dir: "/data", Classes: []int{0, 1, 2}, PerClass: 500, Head: 3, Seed: 1}
	tc := nn.TrainConfig{Loss: nn.CE, Epochs: 4, Batch: 50, LR: 0.1, Seed: 1}
	withSupp, without := DefaultConfig("ce"), DefaultConfig("ce")
	withSupp.Interventions = Interventions
	rb, _ := json.Marshal(RunConfig{Data: data, Model: nn.ModelSpec{Kind: "mlp", Widths: []int{8, 8}}, Seed: 1, Train: tc, AnalyzeAt: []int{2, 4}, Analysis: &withSupp})
	arch, err := nn.ModelSpec{Kind: "mlp", Widths: []int{8, 8}}.Arch(data)
	if err != nil {
		t.Fatal(err)
	}
	ab, _ := json.Marshal(map[string]any{"checkpoint_sha256": "file-w1", "weights_sha256": "w1", "data_sha256": "samples",
		"data": data, "analysis": without, "origin": Origin{Arch: &arch, Train: &tc, InitSeed: 1}})
	run, analyze := withConfig(1.0, rb), withConfig(1.0, ab)
	runResult := *run.Checkpoints[1].Analysis
	runResult.Config = withSupp
	run.Checkpoints[1].Analysis = &runResult
	tb = MakeTable([]*Report{run, analyze}, []string{"run", "analyze"}, []string{NameC})
	if notes := strings.Join(tb.Notes, "\n"); len(tb.Rows) != 1 || !strings.Contains(notes, "analyze: the same run as run") {
		t.Errorf("a run with the suppression and an analyze of its checkpoint without: %d rows, want one, the analyze the same run:\n%s\n%s", len(tb.Rows), tb.Markdown(), notes)
	}
}

// TestReadReportChecksum: a results file whose content was changed after
// awd wrote it (a digit of a gamma, a truncation) is refused with its name
// and what to do, though it is still valid JSON; one without the
// content_sha256 line (an older awd's, or edited on purpose) is read.
func TestReadReportChecksum(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "results.json")
	rep := &Report{RunID: "r1", Checkpoints: []Checkpoint{{Epoch: 3, Analysis: &Result{Fits: map[string]Fit{NameC: {Gamma: 1.25}}}}}}
	if err := WriteReport(p, rep); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(p)
	if got, err := ReadReport(p); err != nil || got.Checkpoints[0].Analysis.Fits[NameC].Gamma != 1.25 {
		t.Fatalf("as written: %v", err)
	}
	changed := map[string][]byte{
		"digit":    bytes.Replace(orig, []byte(`"gamma": 1.25`), []byte(`"gamma": 1.75`), 1),
		"truncate": orig[:len(orig)-10],
		"sum":      bytes.Replace(orig, []byte(`"content_sha256": "`), []byte(`"content_sha256": "0`), 1),
	}
	for name, b := range changed {
		if bytes.Equal(b, orig) {
			t.Fatalf("%s: nothing changed", name)
		}
		os.WriteFile(p, b, 0o644)
		_, err := ReadReport(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "content_sha256") {
			t.Errorf("%s: err %v, want one naming %s and its content_sha256", name, err, p)
		}
	}
	lines := strings.SplitAfter(string(changed["digit"]), "\n")
	if !strings.Contains(lines[1], "content_sha256") {
		t.Fatalf("line 2 is %q, want the content_sha256", lines[1])
	}
	os.WriteFile(p, []byte(lines[0]+strings.Join(lines[2:], "")), 0o644)
	if got, err := ReadReport(p); err != nil || got.Checkpoints[0].Analysis.Fits[NameC].Gamma != 1.75 {
		t.Fatalf("without content_sha256: %v", err)
	}
}
