package sweep

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/awd"
)

// report makes a results file of one run: its config, and one analysed
// epoch per gamma given (gammas of C; C_awd = C + 0.1).
func report(cfg map[string]any, loss string, k, perClass int, epochs []int, gammas ...float64) *awd.Report {
	b, _ := json.Marshal(cfg)
	rep := &awd.Report{SchemaVersion: awd.SchemaVersion, Config: b}
	classes := make([]int, k)
	for i := range classes {
		classes[i] = i
	}
	for i, g := range gammas {
		r := &awd.Result{Dataset: "mnist", Model: "mlp", Layer: "fc2", Loss: loss, Head: 10, Classes: classes,
			N: perClass * k, K: 300, Batch: 50, Config: awd.DefaultConfig(loss),
			Fits: map[string]awd.Fit{awd.NameC: {Gamma: g}, awd.NameCAWD: {Gamma: g + 0.1}}}
		rep.Checkpoints = append(rep.Checkpoints, awd.Checkpoint{Epoch: epochs[i], Analysis: r})
	}
	return rep
}

func runConfig(perClass int, seed uint64, loss string) map[string]any {
	return map[string]any{"command": "run", "init_seed": seed,
		"data":  map[string]any{"data": "mnist", "classes": 3, "per_class": perClass, "data_seed": seed},
		"train": map[string]any{"loss": loss, "epochs": 20, "seed": seed}}
}

// TestTableNeverMergesProtocols feeds runs of two protocols that share
// data, model, K and loss (P = 500 and P = 2000) and checks that they get
// a row each with their own n, that the numbers are the mean and sample
// std of the seeds, and that failed fits and empty runs are listed with
// the reason.
func TestTableNeverMergesProtocols(t *testing.T) {
	var es []Entry
	add := func(name string, rep *awd.Report) { es = append(es, EntryFromReport(name, rep)) }
	for i, g := range []float64{1.0, 1.2, 1.4} {
		add(fmt.Sprintf("p500-s%d", i), report(runConfig(500, uint64(i), "ce"), "ce", 3, 500, []int{10, 20}, 0.9, g))
	}
	for i, g := range []float64{1.5, 1.7} {
		add(fmt.Sprintf("p2000-s%d", i), report(runConfig(2000, uint64(i), "ce"), "ce", 3, 2000, []int{10, 20}, 1.1, g))
	}
	add("mse-s0", report(runConfig(500, 0, "mse"), "mse", 3, 500, []int{10, 20}, 1.0, 1.01))
	failed := report(runConfig(500, 9, "ce"), "ce", 3, 500, []int{10, 20}, 1.0, 1.3)
	last := failed.Checkpoints[1].Analysis
	delete(last.Fits, awd.NameCAWD)
	last.FitErrors = map[string]string{awd.NameCAWD: "fewer than 2 positive pairs"}
	add("p500-s9", failed)
	add("empty", &awd.Report{SchemaVersion: awd.SchemaVersion, Config: json.RawMessage(`{"command":"run"}`)})

	tab, err := BuildTable(es, []Dropped{{"job-x", "failed: loss is NaN"}}, Table1Covs)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 3 {
		t.Fatalf("%d rows, want 3 (P=500 CE, P=2000 CE, P=500 MSE):\n%s", len(tab.Rows), tab.Markdown())
	}
	cellOf := func(variant, loss, cov string) Cell {
		for _, r := range tab.Rows {
			if g := r.Losses[loss]; g != nil && strings.Contains(r.Variant, variant) {
				return g.Cells[cov]
			}
		}
		t.Fatalf("no row %q %s", variant, loss)
		return Cell{}
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	// P = 500, CE: the seeds 1.0, 1.2, 1.4 and the failed run's 1.3 for C.
	c := cellOf("per_class=500", "ce", awd.NameC)
	if c.N != 4 || !near(c.Mean, 1.225) || !near(c.Std, math.Sqrt((0.225*0.225+0.025*0.025+0.175*0.175+0.075*0.075)/3)) {
		t.Errorf("P=500 gamma(C) = %+v", c)
	}
	if c := cellOf("per_class=500", "ce", awd.NameCAWD); c.N != 3 || !near(c.Mean, 1.3) || !near(c.Std, 0.2) {
		t.Errorf("P=500 gamma(C_awd) = %+v (the failed fit must not count)", c)
	}
	if c := cellOf("per_class=2000", "ce", awd.NameC); c.N != 2 || !near(c.Mean, 1.6) || !near(c.Std, math.Sqrt(0.02)) {
		t.Errorf("P=2000 gamma(C) = %+v", c)
	}
	md := tab.Markdown()
	for _, want := range []string{
		"| mnist | mlp | 3 | config.data.per_class=2000 result.samples=6000 |",
		"1.600 ± 0.141 (n=2)",
		"1.010 (n=1)",
		"- empty: no analysed epoch",
		"- job-x: failed: loss is NaN",
		"- p500-s9: gamma(C_awd) n/a: fewer than 2 positive pairs",
		"; seeds 0, 1, 2, 9\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	csv, err := tab.CSV()
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "data,model,K,variant,mse_protocol,mse_P,mse_B,mse_epochs,mse_k,gamma_C_mse_mean,gamma_C_mse_std,gamma_C_mse_n,") {
		t.Errorf("CSV:\n%s", csv)
	}

	// One protocol per loss: CE and MSE share a row.
	one, err := BuildTable([]Entry{es[0], es[1], es[5]}, nil, Table1Covs)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Rows) != 1 || one.Rows[0].Losses["ce"] == nil || one.Rows[0].Losses["mse"] == nil || one.Rows[0].Variant != "" {
		t.Errorf("CE and MSE of one (data, model, K):\n%s", one.Markdown())
	}

	// gamma over training, per protocol.
	ser := GammaSeries(es, Table1Covs)
	if len(ser) != 3 || fmt.Sprint(ser[0].Epochs) != "[10 20]" || ser[0].Gamma[awd.NameC][0].N != 4 || !near(ser[0].Gamma[awd.NameC][0].Mean, 0.925) {
		t.Errorf("series: %+v", ser)
	}
	if _, err := BuildTable(es, nil, []string{"C", "bogus"}); err == nil {
		t.Error("unknown covariance accepted")
	}
	for _, s := range []string{"bogus", "", "C,C", " , "} {
		if _, err := ParseCovs(s); err == nil {
			t.Errorf("ParseCovs(%q) accepted", s)
		}
	}
	if covs, err := ParseCovs("C, C_pair2"); err != nil || fmt.Sprint(covs) != "[C C_pair2]" {
		t.Errorf("ParseCovs: %v %v", covs, err)
	}
}

// TestTableFromSweep reads a sweep folder: finished jobs are grouped by
// the sweep's protocols, the others are listed as left out with their state.
func TestTableFromSweep(t *testing.T) {
	s := prepare(t, minimal)
	for i, j := range s.Jobs[:5] {
		rep := report(map[string]any{"spec": j.Spec}, string(j.Spec.Analysis.Loss), j.K(), j.Spec.Data.PerClass, []int{3}, 1+float64(i)/10)
		if err := awd.WriteReport(filepath.Join(s.JobDir(j.ID), ResultsFile), rep); err != nil {
			t.Fatal(err)
		}
		sum, _ := fileSHA256(filepath.Join(s.JobDir(j.ID), ResultsFile))
		if err := s.writeState(j.ID, &JobState{State: StateDone, ResultsSHA256: sum}); err != nil {
			t.Fatal(err)
		}
	}
	s.writeState(s.Jobs[5].ID, &JobState{State: StateFailed, Error: "out of memory"})
	es, drop := EntriesFromSweep(s)
	tab, err := BuildTable(es, drop, Table1Covs)
	if err != nil {
		t.Fatal(err)
	}
	md := tab.Markdown()
	// Jobs 0-3 are CE K=2 and K=3 (two seeds each), job 4 MSE K=2.
	for _, want := range []string{
		"| mnist | mlp | 2 | 1.400 (n=1) | 1.500 (n=1) | 1.050 ± 0.071 (n=2) | 1.150 ± 0.071 (n=2) |",
		"| mnist | mlp | 3 | – | – | 1.250 ± 0.071 (n=2) | 1.350 ± 0.071 (n=2) |",
		"- " + s.Jobs[5].ID + ": failed: out of memory",
		"- " + s.Jobs[7].ID + ": pending",
		"seeds 1, 2",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}
