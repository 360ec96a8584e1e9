package sweep

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/awd"
)

// paperRow is one row of the paper's protocol table (docs/math.md section 7), typed
// in here from the table, independently of the example files.
type paperRow struct {
	model, loss  string
	p, b, epochs int
	k3, k6, k10  int
}

var mnistRows = []paperRow{
	{"mlp", "ce", 2000, 50, 100, 300, 1000, 1000},
	{"mlp", "mse", 2000, 50, 100, 300, 1000, 1000},
	{"cnn", "ce", 2000, 50, 100, 200, 500, 1000},
	{"cnn", "mse", 5000, 128, 100, 200, 300, 800},
}

// TestExamplesArePaperGrids checks that the shipped sweep files expand to
// the paper's Table 1 grid: every (model, loss, K) of the MNIST rows with
// its P, B, epochs and k, 4 seeds each, and nothing else.
func TestExamplesArePaperGrids(t *testing.T) {
	for _, tc := range []struct {
		file, data, model string
	}{
		{"mnist-mlp.yaml", "mnist", "mlp"},
		{"mnist-cnn.yaml", "mnist", "cnn"},
		{"fashion-mlp.yaml", "fashion", "mlp"},
		{"fashion-cnn.yaml", "fashion", "cnn"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			cfg, err := Load(filepath.Join("..", "examples", "sweeps", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			jobs, err := cfg.Expand()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{}
			for _, r := range mnistRows {
				if r.model != tc.model {
					continue
				}
				for _, kk := range [][2]int{{3, r.k3}, {6, r.k6}, {10, r.k10}} {
					want[fmt.Sprintf("%s %s K=%d P=%d B=%d epochs=%d k=%d", tc.data, r.loss, kk[0], r.p, r.b, r.epochs, kk[1])] = 4
				}
			}
			got := map[string]int{}
			for _, j := range jobs {
				s := j.Spec
				if s.Model.Kind != tc.model || s.Analysis.Batch != s.Train.Batch || s.Train.LR != 0.1 {
					t.Errorf("%s: model %s, analysis B %d vs train B %d, lr %g", j.ID, s.Model.Kind, s.Analysis.Batch, s.Train.Batch, s.Train.LR)
				}
				if s.AnalyzeAt[len(s.AnalyzeAt)-1] != s.Train.Epochs {
					t.Errorf("%s: analyses %v do not end at the last epoch %d", j.ID, s.AnalyzeAt, s.Train.Epochs)
				}
				if s.Data.Seed != j.Seed || s.Seed != j.Seed || s.Train.Seed != j.Seed || s.Analysis.Seed != j.Seed {
					t.Errorf("%s: seeds data %d init %d train %d analysis %d, want all %d (the paper's one seed)", j.ID, s.Data.Seed, s.Seed, s.Train.Seed, s.Analysis.Seed, j.Seed)
				}
				got[fmt.Sprintf("%s %s K=%d P=%d B=%d epochs=%d k=%d", s.Data.Name, s.Train.Loss, len(s.Data.Classes), s.Data.PerClass, s.Train.Batch, s.Train.Epochs, s.Analysis.K)]++
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("grid\n got %v\nwant %v", got, want)
			}
		})
	}
}

func parse(t *testing.T, src string) (*Config, error) {
	t.Helper()
	return Parse("s.yaml", []byte(strings.TrimLeft(src, "\n")))
}

const minimal = `
name: t
out: out
seeds: [1, 2]
base:
  data: mnist
  per_class: 100
  epochs: 3
  k: 20
cells:
  - loss: [ce, mse]
    classes: [2, 3]
`

// TestParseErrorsHaveLines checks that every kind of bad input is refused
// with the file, the line of the offending setting and what is wrong.
func TestParseErrorsHaveLines(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown-top", "name: t\nout: o\nseedz: [1]\n", `s.yaml:3: unknown setting "seedz" in the sweep file`},
		{"unknown-cell", strings.Replace(minimal, "classes: [2, 3]", "clases: [2, 3]", 1), `s.yaml:11: unknown setting "clases" in base or a cell`},
		{"type", strings.Replace(minimal, "epochs: 3", "epochs: three", 1), "s.yaml:7: cannot unmarshal !!str `three` into int"},
		{"syntax", "name: t\nout: o\nseeds: [1\n", "s.yaml:2: did not find expected ',' or ']'"},
		{"bad-loss", strings.Replace(minimal, "[ce, mse]", "[ce, mae]", 1), `s.yaml:10: loss "mae": want ce or mse`},
		{"loss-twice", strings.Replace(minimal, "[ce, mse]", "[ce, mse, CE]", 1), `s.yaml:10: loss: "ce" and "CE" are one loss (names ignore case): list each loss once`},
		{"k-too-big", strings.Replace(minimal, "k: 20", "k: 3000", 1), "s.yaml:8: k 3000 for K=2 exceeds d = 2500 of layer fc2 (50x50)"},
		{"k-missing-K", strings.Replace(minimal, "k: 20", "k: {2: 20}", 1), "s.yaml:8: k: no value for K=3 (given for K = 2)"},
		{"k-empty-map", strings.Replace(minimal, "k: 20", "k: {}", 1), "s.yaml:8: k: the empty map {} gives no value for K=2: give one value for every K, or one per K such as {3: 300, 6: 1000}"},
		{"k-required", strings.Replace(minimal, "  k: 20\n", "", 1), "s.yaml:9: cell 1 (loss ce, K=2): k is required"},
		{"classes-required", strings.Replace(minimal, "    classes: [2, 3]\n", "", 1), "s.yaml:10: cell 1: classes (K, or a list of K) is required"},
		{"K-range", strings.Replace(minimal, "[2, 3]", "[2, 11]", 1), "s.yaml:11: classes 11: K must be 2..10"},
		{"dup-axis", strings.Replace(minimal, "[2, 3]", "[2, 2]", 1), "s.yaml:11: 2 listed twice"},
		{"P-too-big", strings.Replace(minimal, "per_class: 100", "per_class: 6000", 1), "s.yaml:6: per_class 6000 for K=2: want 1..5421"},
		{"too-few-for-B", strings.Replace(minimal, "per_class: 100", "per_class: 40", 1), "s.yaml:6: cell 1 (loss ce, K=2): P*K = 80 samples, fewer than the 2B = 100"},
		{"analyze-at", strings.Replace(minimal, "k: 20", "k: 20\n  analyze_at: [0, 3]", 1), "s.yaml:9: analyze_at [0 3]: epochs must be in 1..3"},
		{"data", strings.Replace(minimal, "data: mnist", "data: svhn", 1), `s.yaml:5: data "svhn": want mnist, fashion or cifar10`},
		{"cnn-widths", strings.Replace(minimal, "data: mnist", "data: mnist\n  model: cnn\n  widths: [5]", 1), "s.yaml:7: widths: the cnn's sizes are fixed"},
		{"suppress", strings.Replace(minimal, "k: 20", "k: 20\n  suppress: [rank2]", 1), `s.yaml:9: suppress: unknown intervention "rank2"`},
		{"head", strings.Replace(minimal, "k: 20", "k: 20\n  head: 3", 1), `s.yaml:9: head "3": want all`},
		{"threads", minimal + "resources:\n  threads: 0\n", "s.yaml:13: threads 0: want 1..1024"},
		{"memory", minimal + "resources:\n  memory: lots\n", `s.yaml:13: memory: "lots": want a size`},
		{"memory-overflow", minimal + "resources:\n  memory: 99999999999999T\n", `s.yaml:13: memory: "99999999999999T": more than Slurm can ask for`},
		{"time", minimal + "resources:\n  time: 1:2:3:4\n", `s.yaml:13: time: "1:2:3:4"`},
		{"time-minutes", minimal + "resources:\n  time: \"25:99:00\"\n", `s.yaml:13: time: "25:99:00"`},
		{"time-hours", minimal + "resources:\n  time: 1-24:00\n", `s.yaml:13: time: "1-24:00"`},
		{"time-forms", minimal + "resources:\n  time: forever\n", `s.yaml:13: time: "forever": want Slurm's --time: minutes (90), minutes:seconds (90:30),`},
		{"time-cell", strings.Replace(minimal, "classes: [2, 3]", "classes: [2, 3]\n    time: 1 day", 1), `s.yaml:12: time: "1 day": want Slurm's --time: minutes (90),`},
		{"sbatch", minimal + "slurm:\n  sbatch: [account=x]\n", `s.yaml:13: sbatch: "account=x" is not one long option`},
		{"name", strings.Replace(minimal, "name: t", "name: a b", 1), `s.yaml: name "a b"`},
		{"seeds", strings.Replace(minimal, "[1, 2]", "[1, 1]", 1), "s.yaml: seeds: 1 listed twice"},
		// yaml.v3 truncates a float into an int: 1.5 and 1.9 were seed 1 twice.
		{"seed-float", strings.Replace(minimal, "[1, 2]", "[1.5, 1.9]", 1), "1.5: want a whole number"},
		{"epochs-float", strings.Replace(minimal, "epochs: 3", "epochs: 2.9", 1), "s.yaml:7: 2.9: want a whole number"},
		{"K-float", strings.Replace(minimal, "[2, 3]", "[2, 3.7]", 1), "s.yaml:11: 3.7: want a whole number"},
		{"k-key-float", strings.Replace(minimal, "k: 20", "k: {2.5: 20}", 1), "s.yaml:8: 2.5: want a whole number"},
		{"no-cells", "name: t\nout: o\nseeds: [1]\n", "s.yaml: cells: the grid has no cell"},
		{"two-docs", minimal + "---\nname: u\n", "s.yaml:12: a second YAML document"},
		{"empty", "", "s.yaml: empty file"},
		// A file that is YAML but no mapping named the Go type it could not
		// fill ("cannot unmarshal !!seq into Config").
		{"top-list", "- name: t\n- out: o\n", "s.yaml:1: not a sweep file: its top level is a list, not a mapping of settings (name, out, seeds, base, cells;"},
		{"top-scalar", "root:x:0:0:root:/root:/bin/bash\n", "s.yaml:1: not a sweep file: its top level is a single value"},
		{"rho-block-over-k", strings.Replace(minimal, "k: 20", "k: 20\n  rho_block: 21", 1), "s.yaml:9: cell 1 (loss ce, K=2): rho_block 21 exceeds k = 20"},
		{"rho-block-over-k-of-K", strings.Replace(minimal, "k: 20", "k: {2: 30, 3: 20}\n  rho_block: 25", 1), "s.yaml:9: cell 1 (loss ce, K=3): rho_block 25 exceeds k = 20"},
		{"corr-k-over-k", strings.Replace(minimal, "k: 20", "k: 20\n  corr_k: 21", 1), "s.yaml:9: cell 1 (loss ce, K=2): corr_k 21 exceeds k = 20, the top directions analysed: give corr_k at most k, or a larger k"},
		{"corr-k-over-k-of-K", strings.Replace(minimal, "k: 20", "k: {2: 30, 3: 20}\n  corr_k: 25", 1), "s.yaml:9: cell 1 (loss ce, K=3): corr_k 25 exceeds k = 20"},
		{"corr-k-over-k-in-cell", strings.Replace(minimal, "classes: [2, 3]", "classes: [2, 3]\n    corr_k: 50", 1), "s.yaml:12: cell 1 (loss ce, K=2): corr_k 50 exceeds k = 20"},
		// Keys that start with x- hold anchors at the top level only.
		{"x-in-base", strings.Replace(minimal, "data: mnist", "data: mnist\n  x-lr: 0.1", 1), `s.yaml:6: unknown setting "x-lr" in base or a cell`},
		{"unknown-beside-x", "x-common: &c {lr: 0.1}\nname: t\nout: o\nseedz: [1]\n", `s.yaml:4: unknown setting "seedz" in the sweep file`},
		{"unknown-merged-top", "x-top: &t\n  seedz: [1]\nname: t\nout: o\n<<: *t\n", `s.yaml:2: unknown setting "seedz" in the sweep file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestNullEntries checks that a null anywhere in a sweep file (an empty
// '-' entry, '~', null, a key with no value) is refused with the file, the
// line, the key, the entry's index and what to give: yaml.v3 dropped a
// null list entry and left a null setting unset, so 'cells: [null]' said
// "the grid has no cell" and 'seeds: [1, null]' ran seed 1 alone.
func TestNullEntries(t *testing.T) {
	cell := "  - loss: [ce, mse]\n    classes: [2, 3]\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"cells-null", strings.Replace(minimal, cell, "", 1) + "  - null\n",
			"s.yaml:10: cells: entry 1 of 1 is empty (null): give a cell's settings, such as {classes: 3}, or remove the entry"},
		{"cells-flow", "name: t\nout: o\nseeds: [1]\ncells: [null]\n", "s.yaml:4: cells: entry 1 of 1 is empty (null)"},
		{"cells-dash", minimal + "  -\n", "s.yaml:12: cells: entry 2 of 2 is empty (null): give a cell's settings"},
		{"cells-tilde", minimal + "  - ~\n", "s.yaml:12: cells: entry 2 of 2 is empty (null)"},
		{"seeds", strings.Replace(minimal, "[1, 2]", "[1, null]", 1), "s.yaml:3: seeds: entry 2 of 2 is empty (null): give a seed (a whole number), or remove the entry"},
		{"classes", strings.Replace(minimal, "[2, 3]", "[2, ~]", 1), "s.yaml:11: cell 1: classes: entry 2 of 2 is empty (null): give a K (2..10), or remove the entry"},
		{"loss", strings.Replace(minimal, "[ce, mse]", "[null, mse]", 1), "s.yaml:10: cell 1: loss: entry 1 of 2 is empty (null): give ce or mse"},
		{"widths", strings.Replace(minimal, "k: 20", "k: 20\n  widths: [50, null]", 1), "s.yaml:9: base: widths: entry 2 of 2 is empty (null): give a hidden width"},
		{"suppress", strings.Replace(minimal, "k: 20", "k: 20\n  suppress: [null]", 1), "s.yaml:9: base: suppress: entry 1 of 1 is empty (null): give an intervention (rank1"},
		{"analyze-at", strings.Replace(minimal, "k: 20", "k: 20\n  analyze_at: [1, null]", 1), "s.yaml:9: base: analyze_at: entry 2 of 2 is empty (null): give an epoch"},
		{"analyze-at-of-K", strings.Replace(minimal, "k: 20", "k: 20\n  analyze_at: {2: [null], 3: [1]}", 1), "s.yaml:9: base: analyze_at: K=2: entry 1 of 1 is empty (null)"},
		{"k-value", strings.Replace(minimal, "k: 20", "k: {2: 20, 3: null}", 1), "s.yaml:8: base: k: K=3 has no value (null): give one, or remove K=3"},
		{"k-key", strings.Replace(minimal, "k: 20", "k: {2: 20, null: 30}", 1), "s.yaml:8: base: k: a key is empty (null): the keys are K (the number of classes), such as k: {3: 300, 6: 1000}"},
		{"sbatch", minimal + "slurm:\n  sbatch: [--account=a, null]\n", "s.yaml:13: slurm: sbatch: entry 2 of 2 is empty (null): give one long option such as --account=abc"},
		{"setting", strings.Replace(minimal, "epochs: 3", "epochs: 3\n  lr:", 1), "s.yaml:8: base: lr has no value (null): give one, or remove lr to keep the default"},
		{"section", minimal + "slurm:\n", "s.yaml:12: slurm has no value (null)"},
		{"merged", "x-c: &c {lr: ~}\n" + strings.Replace(minimal, "classes: [2, 3]", "classes: [2, 3]\n    <<: *c", 1), "s.yaml:1: cell 1: lr has no value (null)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
	// An anchor under an x- key that no setting uses is not read.
	if _, err := parse(t, "x-unused: {lr: null}\n"+minimal); err != nil {
		t.Errorf("an unused x- anchor with a null: %v", err)
	}
}

// TestAnchorExtensions: top-level keys that start with x- hold YAML anchors
// that the settings merge (<<: *common) or name (*lr); the sweep is the one
// written out in full.
func TestAnchorExtensions(t *testing.T) {
	anchored := `
name: t
out: out
seeds: [1, 2]
x-common: &common {per_class: 100, epochs: 3}
x-k: &k 20
base:
  data: mnist
  <<: *common
  k: *k
cells:
  - loss: [ce, mse]
    classes: [2, 3]
`
	got, err := parse(t, anchored)
	if err != nil {
		t.Fatalf("a sweep file with x- anchor keys: %v", err)
	}
	want, err := parse(t, minimal)
	if err != nil {
		t.Fatal(err)
	}
	gj, _ := got.Expand()
	wj, _ := want.Expand()
	if len(gj) != len(wj) {
		t.Fatalf("%d jobs, want %d", len(gj), len(wj))
	}
	for i := range gj {
		if gj[i].ID != wj[i].ID || gj[i].Protocol != wj[i].Protocol {
			t.Errorf("job %d: %s, want %s", i, gj[i].ID, wj[i].ID)
		}
	}
}

// TestAtMostK: rho_block and corr_k up to k are taken as given (corr_k
// for the correlations and the rebuild protocol's); unset, the default is
// cut to k by the analysis.
func TestAtMostK(t *testing.T) {
	def := awd.DefaultConfig("ce")
	for _, key := range []string{"rho_block", "corr_k"} {
		for _, tc := range []struct {
			name, src string
			want      int
		}{
			{"equal", strings.Replace(minimal, "k: 20", "k: 20\n  "+key+": 20", 1), 20},
			{"below", strings.Replace(minimal, "k: 20", "k: 20\n  "+key+": 5", 1), 5},
			{"default", minimal, map[string]int{"rho_block": def.RhoBlock, "corr_k": def.CorrK}[key]},
		} {
			t.Run(key+"/"+tc.name, func(t *testing.T) {
				cfg, err := parse(t, tc.src)
				if err != nil {
					t.Fatal(err)
				}
				jobs, _ := cfg.Expand()
				an := jobs[0].Spec.Analysis
				got := map[string][]int{"rho_block": {an.RhoBlock}, "corr_k": {an.CorrK, an.Suppression.CorrK}}[key]
				for _, g := range got {
					if g != tc.want {
						t.Errorf("%s %v, want %d", key, got, tc.want)
					}
				}
			})
		}
	}
}

// TestExpand checks the grid's order, ids, seeds and protocols.
// TestAnalyzeAtEmpty: analyze_at: [] is the last epoch alone (the last is
// always analysed), not a crash.
func TestAnalyzeAtEmpty(t *testing.T) {
	cfg, err := parse(t, strings.Replace(minimal, "k: 20", "k: 20\n  analyze_at: []", 1))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := cfg.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if at := jobs[0].Spec.AnalyzeAt; len(at) != 1 || at[0] != 3 {
		t.Errorf("analyze_at: [] gives epochs %v, want [3]", at)
	}
}

func TestExpand(t *testing.T) {
	cfg, err := parse(t, minimal)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := cfg.Expand()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, strings.TrimSuffix(j.ID, "-"+j.Protocol[:6]))
	}
	want := "mnist-mlp-ce-K2-s1 mnist-mlp-ce-K2-s2 mnist-mlp-ce-K3-s1 mnist-mlp-ce-K3-s2 mnist-mlp-mse-K2-s1 mnist-mlp-mse-K2-s2 mnist-mlp-mse-K3-s1 mnist-mlp-mse-K3-s2"
	if got := strings.Join(ids, " "); got != want {
		t.Fatalf("jobs\n got %s\nwant %s", got, want)
	}
	for i := 0; i < len(jobs); i += 2 {
		a, b := jobs[i], jobs[i+1]
		if a.Protocol != b.Protocol {
			t.Errorf("%s and %s differ only in the seed but have protocols %s, %s", a.ID, b.ID, a.Protocol[:6], b.Protocol[:6])
		}
		if i+2 < len(jobs) && jobs[i+2].Protocol == a.Protocol {
			t.Errorf("%s and %s share a protocol", a.ID, jobs[i+2].ID)
		}
		if a.Spec.Data.Seed != 1 || b.Spec.Data.Seed != 2 || b.Spec.Seed != 2 || b.Spec.Train.Seed != 2 {
			t.Errorf("%s seeds: data %d/%d init %d train %d", a.ID, a.Spec.Data.Seed, b.Spec.Data.Seed, b.Spec.Seed, b.Spec.Train.Seed)
		}
		if a.Threads != 1 || a.Shards != 1 || a.Memory != defaultMemory {
			t.Errorf("%s resources %d threads, %d shards, %s", a.ID, a.Threads, a.Shards, a.Memory)
		}
	}
	if j := jobs[0]; j.Spec.Analysis.Layer != "fc2" || j.Spec.Data.Head != 0 || len(j.Spec.Analysis.Interventions) != 0 ||
		fmt.Sprint(j.Spec.AnalyzeAt) != "[3]" || j.Spec.Model.Kind != "mlp" {
		t.Errorf("defaults: %+v", j.Spec)
	}

	// A fixed subset: the data seed is no longer the job's seed, and it
	// becomes part of the protocol.
	fixed, err := parse(t, strings.Replace(minimal, "seeds: [1, 2]", "seeds: [1, 2]\nseed_subset: false", 1)+"  - {loss: ce, classes: 2, data_seed: 7}\n")
	if err != nil {
		t.Fatal(err)
	}
	fj, err := fixed.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if s := fj[0].Spec.Data.Seed; s != 1 || fj[1].Spec.Data.Seed != 1 || fj[1].Spec.Seed != 2 {
		t.Errorf("seed_subset false: data seeds %d, %d (want the default 1), init %d", s, fj[1].Spec.Data.Seed, fj[1].Spec.Seed)
	}
	last := fj[len(fj)-1]
	if last.Spec.Data.Seed != 7 || last.Protocol == fj[0].Protocol {
		t.Errorf("data_seed 7: seed %d, protocol %s vs %s", last.Spec.Data.Seed, last.Protocol[:6], fj[0].Protocol[:6])
	}
	if fj[0].Protocol == jobs[0].Protocol {
		t.Error("seed_subset is not part of the protocol")
	}

	// A repeated cell is refused.
	if _, err := parse(t, minimal+"  - {loss: ce, classes: 2}\n"); err == nil || !strings.Contains(err.Error(), "s.yaml:12: cell 2 repeats job mnist-mlp-ce-K2-s1") {
		t.Errorf("repeated cell: %v", err)
	}
}

func TestParseSlurmTimeAndMemory(t *testing.T) {
	// Every form of sbatch(1)'s --time: minutes, minutes:seconds,
	// hours:minutes:seconds, days-hours, days-hours:minutes,
	// days-hours:minutes:seconds; UNLIMITED and INFINITE in any case, as
	// Slurm reads them, and a zero time for no limit; blanks around.
	for s, want := range map[string]int64{
		"30": 1800, "1:30": 90, "90:30": 5430, "2:00:00": 7200, "1-0": 86400, "1-2:30": 95400,
		"2-00:00:00": 172800, "2-12:30:15": 2*86400 + 12*3600 + 30*60 + 15,
		" 1:00:00": 3600, "1:00:00 \t": 3600, " 1:30": 90, " 2-0 ": 2 * 86400,
		"UNLIMITED": noTimeLimit, "unlimited": noTimeLimit, "INFINITE": noTimeLimit, "Infinite": noTimeLimit,
		" UNLIMITED ": noTimeLimit, "0": noTimeLimit, "0:00:00": noTimeLimit,
	} {
		if got, err := parseSlurmTime(s); err != nil || got != want {
			t.Errorf("parseSlurmTime(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", " ", "x", "1:2:3:4", "-1", "1-2-3", "1:-1", "1 :00", "1-", "-1:00",
		"UNLIMITED1", "NONE", "1-24", "1:60", "99999999999", "1h", "+5"} {
		_, err := parseSlurmTime(s)
		want := fmt.Sprintf("%q: want Slurm's --time: minutes (90), minutes:seconds (90:30), hours:minutes:seconds (1:30:00), days-hours (2-12), "+
			"days-hours:minutes (2-12:30), days-hours:minutes:seconds (2-12:30:00), or UNLIMITED, INFINITE or 0 for no limit", s)
		if err == nil || err.Error() != want {
			t.Errorf("parseSlurmTime(%q): %v, want %s", s, err, want)
		}
	}
	for s, want := range map[string]int64{"4G": 4096, "500M": 500, "500": 500, "2048K": 2, "1T": 1 << 20, "3gb": 3072} {
		if got, err := parseMemory(s); err != nil || got != want {
			t.Errorf("parseMemory(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
}

// FuzzParse checks that no input makes the parser panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("name: t\nout: o\nseeds: [1]\ncells: [{classes: {3: 2}}]\n"))
	f.Add([]byte("base: {k: {3: [1]}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		Parse("f.yaml", b)
	})
}
