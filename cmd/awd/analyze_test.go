package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// TestCLIAnalyzeRefusesBeforeClaiming checks that analyze refuses bad
// input with one line before it creates the output folder, so that the
// corrected command can use the same folder, and that --layers checks k
// against the layers it analyses, not --layer's.
func TestCLIAnalyzeRefusesBeforeClaiming(t *testing.T) {
	dir := shardFixture(t) // 3 x 100 samples, fc1 784x12 (d 9408), fc2 12x12 (d 144)
	ck := filepath.Join(dir, "t", "final.npz")
	out := filepath.Join(dir, "a")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--per-class", "9000"}, "class 0 has 5923 samples, 9000 asked"},
		{[]string{"--batch", "200"}, "--batch 200: the 300 analysis samples form 150 same-class couples, fewer than the 200 of one pair of balanced batches (give a smaller --batch, or more samples per class: --per-class)"},
		{[]string{"--layers", "fc2,fc2"}, "--layers fc2: listed twice: list each layer once"},
		{[]string{"--layers", "all,fc2"}, "--layers all,fc2: all stands alone (every layer with weights): give --layers all, or the names, such as fc1,fc2"},
		{[]string{"--layers", "fc1,"}, `--layers "fc1,": an empty name`},
		{[]string{"--layer", "fc1", "--layers", "fc2"}, "--layer fc1 with --layers fc2: give one of them"},
		{[]string{"--bootstrap", "3", "--matrix-free"}, "--bootstrap 3: needs the dense path"},
		{[]string{"--mem", "1KiB"}, "more than the memory budget of 1.0 KiB"},
		{[]string{"--shard", "1/16"}, "--shard 1/16: there are 15 batch pairs, so at most 15 shards (of 16, some would hold no batch pair)"},
		// Not only the first shard: every shard of too many is refused (16/16
		// holds a batch pair, but the set of 16 could never be complete).
		{[]string{"--shard", "16/16"}, "--shard 16/16: there are 15 batch pairs, so at most 15 shards"},
		{[]string{"--shard", "2/16"}, "--shard 2/16: there are 15 batch pairs, so at most 15 shards"},
		{[]string{"--shard", "1/2", "--layers", "fc1"}, "--shard 1/2 with --layers fc1: a sharded analysis accumulates"},
		{[]string{"--shard", "1/2", "--matrix-free"}, "--shard 1/2 with --matrix-free: "},
		{[]string{"--layers", "fc1,fc2", "--k", "145"}, "--k 145: layer fc2 has d=144 weights"},
		// k above the d of several layers: the smallest d is named, the
		// bound of a k that fits them all (fc2's 144 was named, then
		// --k 144 was refused by fc3).
		{[]string{"--layers", "fc2,fc3", "--k", "145"}, "--k 145: layer fc3 has d=120 weights, so k must be in [2, 120]"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, se, code := awdCmd(t, append([]string{"analyze", ck, "--k", "20", "--quiet", "--out", out}, tc.args...)...)
			lines := strings.Split(strings.TrimSpace(se), "\n")
			if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "awd: ") || !strings.Contains(se, tc.want) {
				t.Errorf("exit %d:\n%s\nwant one awd: line with %q", code, se, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("the refused command left %s (%v)", out, err)
			}
		})
	}
	// The corrected command uses the folder; --layers fc1 takes k = 145,
	// more than --layer fc2's d = 144.
	if _, se, code := awdCmd(t, "analyze", ck, "--layers", "fc1", "--k", "145", "--no-ml-fit", "--quiet", "--out", out); code != 0 {
		t.Fatalf("analyze --layers fc1 --k 145: exit %d\n%s", code, se)
	}
	if _, err := os.Stat(filepath.Join(out, "arrays_epoch0002_fc1.npz")); err != nil {
		t.Error(err)
	}
}

// TestCLITableLayers checks that awd table names every layer of a results
// file written by analyze --layers (a row each, a layer column).
func TestCLITableLayers(t *testing.T) {
	dir := shardFixture(t)
	out := filepath.Join(dir, "layers")
	if _, se, code := awdCmd(t, "analyze", filepath.Join(dir, "t", "final.npz"), "--layers", "fc2,fc3", "--k", "10", "--no-ml-fit", "--quiet", "--out", out); code != 0 {
		t.Fatalf("analyze --layers: exit %d\n%s", code, se)
	}
	so, se, code := awdCmd(t, "table", filepath.Join(out, "results.json"))
	if code != 0 || !strings.Contains(so, "| data | model | layer | K |") || !strings.Contains(so, "| mnist | mlp | fc2 | 3 |") || !strings.Contains(so, "| mnist | mlp | fc3 | 3 |") {
		t.Errorf("table: exit %d\n%s%s", code, so, se)
	}
	// Another file of the folder is neither a sweep nor a results file: the
	// message says what table reads.
	if _, se, code := awdCmd(t, "table", filepath.Join(dir, "t", "metrics.jsonl")); code != 1 || !strings.HasPrefix(se, "awd: table reads a sweep folder or sweep file, or results .json files: ") {
		t.Errorf("table metrics.jsonl: exit %d\n%s", code, se)
	}
	// A folder among several arguments: table reads one sweep alone.
	if _, se, code := awdCmd(t, "table", filepath.Join(dir, "t"), filepath.Join(out, "results.json")); code != 1 || !strings.Contains(se, "is a folder: table reads one sweep (given alone) or results .json files") {
		t.Errorf("table of a folder and a file: exit %d\n%s", code, se)
	}
	// The results of a training alone have no analysis: nothing to
	// tabulate is an error, not an empty table and exit status 0.
	if _, se, code := awdCmd(t, "table", filepath.Join(dir, "t", "results.json")); code != 1 || !strings.Contains(se, "awd: nothing to tabulate: none of them holds an analysed checkpoint") {
		t.Errorf("table of a training's results: exit %d\n%s", code, se)
	}
}

// TestCLILayersConfig: the config of a results file of analyze --layers
// records the layers listed, matrix-free (as each was analysed) and no
// single layer; it recorded the first layer listed and matrix_free false,
// as if that layer alone had been analysed on the dense path. Each
// result's config names its own layer; awd table gives each layer the row
// of that layer analysed alone with --matrix-free, and awd plot draws the
// gamma per layer.
func TestCLILayersConfig(t *testing.T) {
	dir := shardFixture(t)
	ck := filepath.Join(dir, "t", "final.npz")
	layers, single := filepath.Join(dir, "layers"), filepath.Join(dir, "fc3")
	for _, a := range [][]string{{"--layers", "fc2,fc3", "--out", layers}, {"--layer", "fc3", "--matrix-free", "--out", single}} {
		if _, se, code := awdCmd(t, append([]string{"analyze", ck, "--k", "10", "--no-ml-fit", "--quiet"}, a...)...); code != 0 {
			t.Fatalf("analyze %v: exit %d\n%s", a, code, se)
		}
	}
	rep, err := awd.ReadReport(filepath.Join(layers, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var config struct {
		Layers   []string       `json:"layers"`
		Analysis map[string]any `json:"analysis"`
	}
	if err := json.Unmarshal(rep.Config, &config); err != nil {
		t.Fatal(err)
	}
	if layer, ok := config.Analysis["layer"]; ok || config.Analysis["matrix_free"] != true || !slices.Equal(config.Layers, []string{"fc2", "fc3"}) {
		t.Errorf("config: layers %v, analysis.layer %v (recorded %v), analysis.matrix_free %v; want [fc2 fc3], no layer, true",
			config.Layers, layer, ok, config.Analysis["matrix_free"])
	}
	if config.Analysis["k"] != 10.0 || config.Analysis["loss"] != "ce" {
		t.Errorf("config.analysis lost the options: %v", config.Analysis)
	}
	for i, c := range rep.Checkpoints {
		if want := []string{"fc2", "fc3"}[i]; c.Analysis.Layer != want || c.Analysis.Config.Layer != want || !c.Analysis.Config.MatrixFree {
			t.Errorf("result %d: layer %q, config layer %q, matrix-free %v; want %s matrix-free", i, c.Analysis.Layer, c.Analysis.Config.Layer, c.Analysis.Config.MatrixFree, want)
		}
	}
	so, se, code := awdCmd(t, "table", filepath.Join(layers, "results.json"), filepath.Join(single, "results.json"))
	if code != 0 || !strings.Contains(so, "| mnist | mlp | fc2 | 3 |") || strings.Count(so, "| mnist | mlp | fc3 | 3 |") != 1 || strings.Contains(so, "config.") {
		t.Errorf("table of --layers fc2,fc3 and --layer fc3 --matrix-free: exit %d, want a row of fc2 and one of fc3 (both files), no setting apart:\n%s%s", code, so, se)
	}
	figs := filepath.Join(dir, "figs")
	if _, se, code := awdCmd(t, "plot", filepath.Join(layers, "results.json"), "--out", figs); code != 0 {
		t.Fatalf("plot: exit %d\n%s", code, se)
	}
	if got, _ := filepath.Glob(filepath.Join(figs, "gamma_layers_e*")); len(got) == 0 {
		t.Errorf("plot drew no gamma_layers figure")
	}
}

// TestCLITableProtocols: awd table averages the analyses of checkpoints
// that differ only in their seed, and keeps apart those of another
// learning rate or other widths (the checkpoint's JSON, recorded by
// analyze), though the layer analysed has the same shape.
func TestCLITableProtocols(t *testing.T) {
	dir := shardFixture(t) // widths 12,12, seed 1, lr 0.1
	var files []string
	for i, extra := range [][]string{nil, {"--seed", "2"}, {"--lr", "0.05"}, {"--widths", "20,12"}} {
		ck := filepath.Join(dir, "t", "final.npz")
		if extra != nil {
			out := filepath.Join(dir, fmt.Sprint("t", i))
			args := append([]string{"train", "--classes", "3", "--per-class", "100", "--widths", "12,12", "--batch", "10", "--epochs", "2", "--checkpoints", "1", "--out", out, "--quiet"}, extra...)
			if _, se, code := awdCmd(t, args...); code != 0 {
				t.Fatalf("train %v: exit %d\n%s", extra, code, se)
			}
			ck = filepath.Join(out, "final.npz")
		}
		out := filepath.Join(dir, fmt.Sprint("a", i))
		if _, se, code := awdCmd(t, "analyze", ck, "--layer", "fc3", "--k", "10", "--no-ml-fit", "--quiet", "--out", out); code != 0 {
			t.Fatalf("analyze %v: exit %d\n%s", extra, code, se)
		}
		files = append(files, filepath.Join(out, "results.json"))
	}
	so, se, code := awdCmd(t, append([]string{"table"}, files...)...)
	if code != 0 || strings.Count(so, "| mnist | mlp | 3 |") != 3 || !strings.Contains(so, "(2)") ||
		!strings.Contains(so, "config.origin.train.lr=0.05") || !strings.Contains(so, "config.origin.arch.widths=[20,12]") {
		t.Errorf("table: exit %d, want 3 rows (the two seeds in one):\n%s%s", code, so, se)
	}
}

// TestCLIPlotNothingDrawn: a results file whose arrays are all missing
// draws nothing; the command says so with exit status 1, not 0.
func TestCLIPlotNothingDrawn(t *testing.T) {
	dir := shardFixture(t)
	out := filepath.Join(dir, "an")
	if _, se, code := awdCmd(t, "analyze", filepath.Join(dir, "t", "final.npz"), "--k", "10", "--no-ml-fit", "--quiet", "--out", out); code != 0 {
		t.Fatalf("analyze: exit %d\n%s", code, se)
	}
	arrays, _ := filepath.Glob(filepath.Join(out, "arrays_*.npz"))
	for _, a := range arrays {
		os.Remove(a)
	}
	_, se, code := awdCmd(t, "plot", filepath.Join(out, "results.json"), "--out", filepath.Join(dir, "figs"))
	if code != 1 || !strings.Contains(se, "its figures skipped") || !strings.Contains(se, "no figure drawn") {
		t.Errorf("plot without arrays: exit %d\n%s", code, se)
	}
}

// TestCLIPlotFolderOfAnotherRun: awd plot into a folder that holds another
// run's figures is refused with one line naming that run's results file
// and the remedies, and leaves them; --fresh replaces them, keeping files
// awd did not write.
func TestCLIPlotFolderOfAnotherRun(t *testing.T) {
	dir := shardFixture(t)
	for _, a := range [][]string{{"e1", filepath.Join(dir, "t", "checkpoints", "epoch_0001.npz")}, {"e2", filepath.Join(dir, "t", "final.npz")}} {
		if _, se, code := awdCmd(t, "analyze", a[1], "--k", "10", "--no-ml-fit", "--quiet", "--out", filepath.Join(dir, a[0])); code != 0 {
			t.Fatalf("analyze %s: exit %d\n%s", a[0], code, se)
		}
	}
	figs := filepath.Join(dir, "figs")
	res1, res2 := filepath.Join(dir, "e1", "results.json"), filepath.Join(dir, "e2", "results.json")
	if _, se, code := awdCmd(t, "plot", res1, "--out", figs); code != 0 {
		t.Fatalf("plot: exit %d\n%s", code, se)
	}
	os.WriteFile(filepath.Join(figs, "mine.txt"), nil, 0o644)
	_, se, code := awdCmd(t, "plot", res2, "--out", figs)
	lines := strings.Split(strings.TrimSpace(se), "\n")
	if code != 1 || len(lines) != 1 || !strings.HasPrefix(se, "awd: "+figs+" holds the figures of another run ("+res1) ||
		!strings.HasSuffix(lines[0], "; use another --out, or --fresh to replace what it holds") {
		t.Errorf("plot of another run: exit %d\n%s", code, se)
	}
	if got, _ := filepath.Glob(filepath.Join(figs, "*_e0002.*")); len(got) != 0 {
		t.Errorf("the refused plot drew %v", got)
	}
	if _, se, code := awdCmd(t, "plot", res2, "--out", figs, "--fresh"); code != 0 {
		t.Fatalf("plot --fresh: exit %d\n%s", code, se)
	}
	old, _ := filepath.Glob(filepath.Join(figs, "*_e0001.*"))
	now, _ := filepath.Glob(filepath.Join(figs, "*_e0002.*"))
	if _, err := os.Stat(filepath.Join(figs, "mine.txt")); len(old) != 0 || len(now) == 0 || err != nil {
		t.Errorf("after --fresh: the first run's %v, the second's %v, mine.txt: %v", old, now, err)
	}
}

// TestCLIConvSummaryNamesM2: the summary of one convolution layer names
// what it measured as --layers does: M2's gamma in the gamma_awd column,
// marked (M2), a gamma M2 line, and M2's alignment as M2, never as C_awd
// (a convolution layer has none); a fully connected layer keeps C_awd.
// The help no longer limits analyze to fully connected layers.
func TestCLIConvSummaryNamesM2(t *testing.T) {
	dir := t.TempDir()
	data := []string{"--classes", "2", "--per-class", "20", "--batch", "10"}
	train := filepath.Join(dir, "t")
	if _, se, code := awdCmd(t, append([]string{"train", "--model", "cnn", "--epochs", "1", "--out", train, "--quiet"}, data...)...); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, se)
	}
	ck := filepath.Join(train, "final.npz")
	analyze := func(out string, args ...string) string {
		t.Helper()
		so, se, code := awdCmd(t, append(append([]string{"analyze", ck, "--matrix-free", "--k", "10", "--no-ml-fit", "--quiet", "--out", filepath.Join(dir, out)}, data...), args...)...)
		if code != 0 {
			t.Fatalf("analyze %v: exit %d\n%s", args, code, se)
		}
		return so
	}
	// The gamma_awd column of a layer in the --layers table.
	table := analyze("layers", "--layers", "features.0,fc")
	column := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == "features.0" || f[0] == "fc") {
			column[f[0]] = strings.Join(f[5:len(f)-2], " ")
		}
	}
	if !strings.HasSuffix(column["features.0"], " (M2)") || column["fc"] == "" || strings.Contains(column["fc"], "M2") {
		t.Fatalf("--layers table: gamma_awd %q of features.0, %q of fc:\n%s", column["features.0"], column["fc"], table)
	}
	for layer, want := range map[string]struct{ has, hasNot []string }{
		"features.0": {[]string{" " + column["features.0"] + " ", "\n  gamma M2 ", "\n  alignment M2 "}, []string{"gamma C_awd", "alignment C_awd", "n/a "}},
		"fc":         {[]string{" " + column["fc"] + " ", "\n  gamma C_awd ", "\n  alignment C_awd "}, []string{"(M2)", "gamma M2", "alignment M2"}},
	} {
		so := analyze("one_"+layer, "--layer", layer)
		var row string // the epoch's, below the header
		if _, after, ok := strings.Cut(so, "gamma_awd"); ok {
			row = strings.Split(after, "\n")[1]
		}
		if !strings.Contains(" "+row+" ", want.has[0]) {
			t.Errorf("%s: epoch row %q lacks the --layers table's gamma_awd %q:\n%s", layer, row, want.has[0], so)
		}
		for _, s := range want.has[1:] {
			if !strings.Contains(so, s) {
				t.Errorf("%s: summary lacks %q:\n%s", layer, s, so)
			}
		}
		for _, s := range want.hasNot {
			if strings.Contains(so, s) {
				t.Errorf("%s: summary has %q:\n%s", layer, s, so)
			}
		}
	}
	help, _, _ := awdCmd(t, "analyze", "--help")
	if strings.Contains(help, "for one fully connected layer,") || !strings.Contains(help, "A convolution layer has no C_awd") {
		t.Errorf("analyze --help:\n%s", help)
	}
}

// TestCLIConvAlignmentLabel: results.json records a convolution layer's
// alignment of M2 as M2's, never as C_awd's, and a results file of the
// older label (C_awd) is read by awd table and awd plot as the new one:
// the same table, the same figures.
func TestCLIConvAlignmentLabel(t *testing.T) {
	dir := t.TempDir()
	data := []string{"--classes", "2", "--per-class", "20", "--batch", "10"}
	train := filepath.Join(dir, "t")
	if _, se, code := awdCmd(t, append([]string{"train", "--model", "cnn", "--epochs", "1", "--out", train, "--quiet"}, data...)...); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, se)
	}
	out := filepath.Join(dir, "a")
	if _, se, code := awdCmd(t, append([]string{"analyze", filepath.Join(train, "final.npz"), "--layer", "features.0", "--matrix-free", "--k", "10", "--no-ml-fit", "--quiet", "--out", out}, data...)...); code != 0 {
		t.Fatalf("analyze: exit %d\n%s", code, se)
	}
	results := filepath.Join(out, "results.json")
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"of": "M2"`) || strings.Contains(string(b), `"of": "C_awd"`) {
		t.Fatalf("results.json of a convolution layer: alignment not labelled M2:\n%s", b)
	}
	read := func() (table, figs string) {
		t.Helper()
		table, se, code := awdCmd(t, "table", results)
		if code != 0 {
			t.Fatalf("table: exit %d\n%s", code, se)
		}
		figs, se, code = awdCmd(t, "plot", results, "--out", filepath.Join(dir, "figures"), "--fresh")
		if code != 0 {
			t.Fatalf("plot: exit %d\n%s", code, se)
		}
		return table, figs
	}
	table, figs := read()
	// An older awd's file: the old label, and no content_sha256.
	oldFile := strings.Replace(string(b), `"of": "M2"`, `"of": "C_awd"`, 1)
	sum, rest, _ := strings.Cut(strings.TrimPrefix(oldFile, "{\n"), "\n")
	if !strings.Contains(sum, "content_sha256") {
		t.Fatalf("results.json does not start with its content_sha256: %q", sum)
	}
	oldFile = "{\n" + rest
	if err := os.WriteFile(results, []byte(oldFile), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := awd.ReadReport(results)
	if err != nil {
		t.Fatal(err)
	}
	var of []string
	for _, a := range rep.Checkpoints[0].Analysis.Alignment {
		of = append(of, a.Of)
	}
	if !slices.Contains(of, awd.NameM2) || slices.Contains(of, awd.NameCAWD) {
		t.Errorf("the file of the old label reads with alignments of %q, want M2's and no C_awd's", of)
	}
	if oldTable, oldFigs := read(); oldTable != table || oldFigs != figs {
		t.Errorf("the file of the old label: table\n%s\nfigures\n%s\nthe new label's: table\n%s\nfigures\n%s", oldTable, oldFigs, table, figs)
	}
}

// TestCLIPlotFolderInUse: while one process plots into a folder (here
// this test, holding the folder's lock as awd plot does), a second awd plot
// into it is refused in one line that names the holder and says what to
// do, and draws nothing there; once the first is done the plot draws.
func TestCLIPlotFolderInUse(t *testing.T) {
	out := t.TempDir()
	if _, se, code := awdCmd(t, append(small, "--out", out)...); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, se)
	}
	figs := filepath.Join(out, "figures")
	if err := os.MkdirAll(figs, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := awd.LockFolder(figs, "plot")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	_, se, code := awdCmd(t, "plot", filepath.Join(out, "results.json"))
	holder := fmt.Sprintf("awd plot (pid %d", os.Getpid())
	if code != 1 || !strings.Contains(se, "in use") || !strings.Contains(se, holder) || !strings.Contains(se, "another --out") || strings.Count(se, "\n") != 1 {
		t.Errorf("plot into a folder another plot holds: exit %d, stderr %q; want one line naming %q and the remedy", code, se, holder)
	}
	if entries, _ := os.ReadDir(figs); slices.ContainsFunc(entries, func(e os.DirEntry) bool { return awd.IsFigure(e.Name()) }) {
		t.Errorf("the refused plot wrote into %s: %v", figs, entries)
	}
	if err := lock.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, se, code := awdCmd(t, "plot", filepath.Join(out, "results.json")); code != 0 {
		t.Errorf("plot after the other is done: exit %d\n%s", code, se)
	}
	if _, err := os.Stat(filepath.Join(figs, awd.FiguresFile)); err != nil {
		t.Errorf("no record after the plot: %v", err)
	}
}

// TestCLITableRunAndAnalyzeOneRow: awd run analyses its last epoch with
// the suppression experiments (its default) and awd analyze of the same
// checkpoint without them (its default); the gammas are the same, and awd
// table, with or without --ci, lists them as one row of one run.
func TestCLITableRunAndAnalyzeOneRow(t *testing.T) {
	dir := t.TempDir()
	run, an := filepath.Join(dir, "run"), filepath.Join(dir, "analyze")
	if _, se, code := awdCmd(t, append(small, "--out", run)...); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, se)
	}
	if _, se, code := awdCmd(t, "analyze", filepath.Join(run, "checkpoints", "epoch_0002.npz"), "--classes", "3", "--per-class", "60", "--batch", "10", "--k", "20", "--quiet", "--out", an); code != 0 {
		t.Fatalf("analyze: exit %d\n%s", code, se)
	}
	for _, ci := range [][]string{nil, {"--ci"}} {
		so, se, code := awdCmd(t, append([]string{"table", filepath.Join(run, "results.json"), filepath.Join(an, "results.json")}, ci...)...)
		if code != 0 || strings.Count(so, "| mnist |") != 1 || strings.Contains(so, "interventions") || !strings.Contains(se, "the same run as") {
			t.Errorf("table %v: exit %d, want one row, the analyze the same run as the run:\n%s\n%s", ci, code, so, se)
		}
	}
}

// TestCLIAnalyzeDataOfModel: a bare state_dict (no JSON) of a model for
// other images than those of --data (the default mnist for a CIFAR-10
// model) is refused before any data are read, with the --data that fits.
func TestCLIAnalyzeDataOfModel(t *testing.T) {
	dir := t.TempDir()
	cnn3, err := nn.NewCNN(3, 32, 32, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	cnn1, err := nn.NewCNN(1, 28, 28, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	mlp, err := nn.NewMLP(3072, []int{8, 8}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		model *nn.Model
		args  []string
		want  string
	}{
		{"cnn3.npz", cnn3, nil, "--data mnist: its images are 1x28x28, the model takes 3x32x32 images; give --data cifar10"},
		{"mlp3072.npz", mlp, nil, "--data mnist: its images are 1x28x28, the model takes inputs of 3072 values; give --data cifar10"},
		{"cnn1.npz", cnn1, []string{"--data", "cifar10"}, "--data cifar10: its images are 3x32x32, the model takes 1x28x28 images; give --data mnist or --data fashion"},
	} {
		ck := writeBareNPZ(t, filepath.Join(dir, tc.name), tc.model)
		out := filepath.Join(dir, "out")
		_, se, code := awdCmd(t, append([]string{"analyze", ck, "--k", "5", "--quiet", "--out", out}, tc.args...)...)
		if code != 1 || !strings.Contains(se, tc.want) {
			t.Errorf("%s: exit %d:\n%s\nwant %q", tc.name, code, se, tc.want)
		}
	}
}

// TestCLIAnalyzeLostHead: a bare state_dict of an MLP 784-50-50-10 that
// lost its output layer reads as 784-50-50 with 50 logits; the refusal
// says which array was taken as the output layer and which is missing.
func TestCLIAnalyzeLostHead(t *testing.T) {
	dir := t.TempDir()
	m, err := nn.NewMLP(784, []int{50}, 50, 1)
	if err != nil {
		t.Fatal(err)
	}
	ck := writeBareNPZ(t, filepath.Join(dir, "short.npz"), m)
	_, se, code := awdCmd(t, "analyze", ck, "--quiet", "--out", filepath.Join(dir, "out"))
	want := "50 logits, more than the 10 classes of any data set awd reads: its last array, fc2.weight (50 x 50), was taken as the output layer; if the state_dict lost its output layer (fc3.weight), save it with every layer"
	if code != 1 || !strings.Contains(se, want) {
		t.Errorf("exit %d:\n%s\nwant %q", code, se, want)
	}
}

// TestCLIAnalyzeBareHeadClasses: a bare state_dict whose head has K < 10
// logits is analysed with a K-logit head, so --classes must select K
// classes; otherwise the message names --classes (not --head, which the
// user did not give) and says what to give.
func TestCLIAnalyzeBareHeadClasses(t *testing.T) {
	dir := t.TempDir()
	m, err := nn.NewMLP(784, []int{8, 8}, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	ck := writeBareNPZ(t, filepath.Join(dir, "five.npz"), m)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--classes 3: 3 classes, but the checkpoint has 5 logits and no JSON beside it to say which classes it was trained on: give --classes 5 (classes 0..4)"},
		{[]string{"--classes", "0,1,2,3,4,5"}, "--classes 0,1,2,3,4,5: 6 classes, but the checkpoint has 5 logits"},
	} {
		_, se, code := awdCmd(t, append([]string{"analyze", ck, "--k", "5", "--quiet", "--out", filepath.Join(dir, "out")}, tc.args...)...)
		if code != 1 || !strings.Contains(se, tc.want) {
			t.Errorf("%v: exit %d:\n%s\nwant %q", tc.args, code, se, tc.want)
		}
	}
}

// writeBareNPZ writes m's parameters as a bare .npz (a state_dict with no
// JSON beside it) at path and returns path.
func writeBareNPZ(t *testing.T, path string, m *nn.Model) string {
	t.Helper()
	var b bytes.Buffer
	if err := nn.WriteNPZ(&b, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
