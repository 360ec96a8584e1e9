package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// The CLI tests run this test binary as the awd command (AWD_CLI_MAIN=1),
// so that exit codes, stdout and stderr are the real ones and no cobra flag
// state leaks between cases.
func TestMain(m *testing.M) {
	if os.Getenv("AWD_CLI_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	if tinyMNISTDir.dir != "" {
		os.RemoveAll(tinyMNISTDir.dir)
	}
	os.Exit(code)
}

func awdCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return awdEnv(t, nil, args...)
}

// small is a run that takes a second or two: a 784-8-8-10 MLP (fc2 has
// d = 64) on 3 x 60 MNIST samples.
var small = []string{"run", "--classes", "3", "--per-class", "60", "--widths", "8,8", "--batch", "10", "--k", "20", "--epochs", "2", "--quiet"}

func TestCLIRunPlotAnalyzeResume(t *testing.T) {
	out := t.TempDir()
	so, se, code := awdCmd(t, append(small, "--out", out)...)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, se)
	}
	for _, want := range []string{"gamma C ", "Thm 5.1", "alignment C", "suppression rank1", "results:"} {
		if !strings.Contains(so, want) {
			t.Errorf("summary lacks %q:\n%s", want, so)
		}
	}
	rep, err := awd.ReadReport(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Checkpoints) != 2 || len(rep.Training) != 2 {
		t.Fatalf("%d analyses, %d epochs logged; want 2, 2", len(rep.Checkpoints), len(rep.Training))
	}
	// Resume with the same flags: nothing left to do, the analyses are kept.
	if _, se, code := awdCmd(t, append(small, "--out", out)...); code != 0 || !strings.Contains(se, "resuming") {
		t.Errorf("resume: exit %d\n%s", code, se)
	}
	// Other settings in the same folder are refused.
	other := append(append([]string(nil), small...), "--out", out, "--lr", "0.05")
	if _, se, code := awdCmd(t, other...); code == 0 || !strings.Contains(se, "other settings") {
		t.Errorf("changed flags: exit %d\n%s", code, se)
	}
	checkPlot(t, out)
	g0 := rep.Checkpoints[1].Analysis.Fits[awd.NameC].Gamma
	aout := checkAnalyzeAgain(t, out, g0)
	if so, se, code := awdCmd(t, "table", filepath.Join(out, "results.json"), filepath.Join(aout, "results.json")); code != 0 || !strings.Contains(so, "| mnist") {
		t.Errorf("table: exit %d\n%s%s", code, so, se)
	}
}

func checkPlot(t *testing.T, out string) {
	t.Helper()
	so, se, code := awdCmd(t, "plot", filepath.Join(out, "results.json"))
	if code != 0 {
		t.Fatalf("plot: exit %d\n%s", code, se)
	}
	for _, f := range []string{"powerlaw_e0002.png", "powerlaw_e0002.svg", "rho_e0002.png", "gamma_epochs.svg", "suppression_e0002.png"} {
		if _, err := os.Stat(filepath.Join(out, "figures", f)); err != nil {
			t.Errorf("plot did not write %s (%v)\n%s", f, err, so)
		}
	}
	// A figure that cannot be written (a folder in its place) is an error.
	blocked := filepath.Join(out, "blocked")
	if err := os.MkdirAll(filepath.Join(blocked, "rho_e0002.svg", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, se, code = awdCmd(t, "plot", filepath.Join(out, "results.json"), "--out", blocked)
	if lines := strings.Split(strings.TrimSpace(se), "\n"); code != 1 || !strings.HasPrefix(lines[len(lines)-1], "awd: figure rho_e0002: ") {
		t.Errorf("plot into a blocked folder: exit %d\n%s", code, se)
	}
}

// checkAnalyzeAgain analyses the run's last checkpoint with our JSON (no
// flags) and as a converted PyTorch state_dict (data flags by hand): the
// same checkpoint, data subset and seeds give the run's exponent g0.
func checkAnalyzeAgain(t *testing.T, out string, g0 float64) string {
	t.Helper()
	aout := filepath.Join(out, "again")
	_, se, code := awdCmd(t, "analyze", filepath.Join(out, "checkpoints", "epoch_0002.npz"), "--k", "20", "--out", aout, "--quiet")
	if code != 0 {
		t.Fatalf("analyze: exit %d\n%s", code, se)
	}
	again, err := awd.ReadReport(filepath.Join(aout, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if g1 := again.Checkpoints[0].Analysis.Fits[awd.NameC].Gamma; g1 != g0 {
		t.Errorf("analyze of the run's checkpoint: gamma %v, run said %v", g1, g0)
	}
	raw, err := os.ReadFile(filepath.Join(out, "checkpoints", "epoch_0002.npz"))
	if err != nil {
		t.Fatal(err)
	}
	torch := filepath.Join(out, "torch.npz")
	os.WriteFile(torch, raw, 0o644)
	tout := filepath.Join(out, "torch")
	_, se, code = awdCmd(t, "analyze", torch, "--k", "20", "--classes", "3", "--per-class", "60", "--batch", "10", "--loss", "ce", "--out", tout, "--quiet")
	if code != 0 {
		t.Fatalf("analyze converted: exit %d\n%s", code, se)
	}
	if tr, err := awd.ReadReport(filepath.Join(tout, "results.json")); err != nil || tr.Checkpoints[0].Analysis.Fits[awd.NameC].Gamma != g0 {
		t.Errorf("converted checkpoint: %v, gamma differs from the run's %v", err, g0)
	}
	return aout
}

func TestCLIBadInput(t *testing.T) {
	dir := t.TempDir()
	// A checkpoint of an MLP with 100 inputs, and one with a NaN weight.
	m, err := nn.NewMLP(100, []int{8, 8}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	wrongArch := filepath.Join(dir, "wrong.npz")
	if err := nn.SaveCheckpoint(wrongArch, m, nn.CheckpointMeta{}); err != nil {
		t.Fatal(err)
	}
	m2, _ := nn.NewMLP(784, []int{8, 8}, 10, 1)
	m2.Params()[1].Data[5] = float32(math.NaN())
	nanCk := filepath.Join(dir, "nan.npz") // written by another program: SaveCheckpoint refuses NaN
	var nanNPZ bytes.Buffer
	if err := nn.WriteNPZ(&nanNPZ, m2); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nanCk, nanNPZ.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	badSchema := filepath.Join(dir, "old.json")
	b, _ := json.Marshal(map[string]any{"schema_version": 99, "checkpoints": []any{}})
	os.WriteFile(badSchema, b, 0o644)
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o644)

	out := filepath.Join(dir, "out")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown-data", append(small, "--data", "imagenet", "--out", out), "unknown data set"},
		{"K>classes", append(small, "--classes", "12", "--out", out), "--classes 12"},
		{"unknown-layer", append(small, "--layer", "fc7", "--out", out), "fc7"},
		{"k>d", append(small, "--k", "65", "--out", out), "--k 65"},
		{"unknown-intervention", append(small, "--suppress", "rank2", "--out", out), "rank2"},
		{"unwritable-out", append(small, "--out", filepath.Join(blocker, "sub")), "output folder"},
		{"unknown-model", append(small, "--model", "resnet", "--out", out), "resnet"},
		{"checkpoint-missing", []string{"analyze", filepath.Join(dir, "none.npz"), "--out", out}, "none.npz"},
		{"checkpoint-architecture", []string{"analyze", wrongArch, "--k", "20", "--per-class", "30", "--out", out}, "--data mnist: its images are 1x28x28, the model takes inputs of 100 values; no data set awd reads"},
		{"checkpoint-nan", []string{"analyze", nanCk, "--k", "20", "--per-class", "30", "--out", out}, "NaN"},
		{"plot-schema", []string{"plot", badSchema}, "schema_version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			so, se, code := awdCmd(t, tc.args...)
			lines := strings.Split(strings.TrimSpace(se), "\n")
			if code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "awd: ") || !strings.Contains(se, tc.want) {
				t.Errorf("exit %d, stderr %q (want one line naming %q), stdout %q", code, se, tc.want, so)
			}
		})
	}
}

// TestCLIKilledRunResumes kills a run (SIGKILL) once its first analysis is
// on disk and checks that the same command finishes it: the training log
// is contiguous and every requested epoch is analysed once.
func TestCLIKilledRunResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 40 epochs twice; run without -short")
	}
	out := t.TempDir()
	args := []string{"run", "--classes", "3", "--per-class", "60", "--widths", "8,8", "--batch", "10", "--k", "20",
		"--epochs", "40", "--analyze-at", "1,40", "--quiet", "--out", out}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "AWD_CLI_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	killed := false
	for !killed {
		select {
		case <-done:
			t.Log("the run finished before it could be killed; resume is then a no-op")
			killed = true
		default:
			if rep, err := awd.ReadReport(filepath.Join(out, "results.json")); err == nil && len(rep.Checkpoints) > 0 {
				cmd.Process.Kill()
				<-done
				killed = true
				t.Logf("killed after epoch %d", len(rep.Training))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if _, se, code := awdCmd(t, args...); code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, se)
	}
	rep, err := awd.ReadReport(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Checkpoints) != 2 || rep.Checkpoints[0].Epoch != 1 || rep.Checkpoints[1].Epoch != 40 {
		t.Errorf("analysed epochs %+v", rep.Checkpoints)
	}
	for i, l := range rep.Training {
		if l.Epoch != i+1 {
			t.Fatalf("training log entry %d is epoch %d", i, l.Epoch)
		}
	}
	if len(rep.Training) != 40 {
		t.Errorf("%d epochs logged", len(rep.Training))
	}
}

// TestCLIMatrixFree analyses a CNN checkpoint layer by layer, matrix-free:
// a convolution layer alone (the path is said on stderr and in the notes),
// then --layers all (one entry and arrays file per layer, a table per layer,
// gamma against depth from awd plot), and a bad --layers.
func TestCLIMatrixFree(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train")
	data := []string{"--classes", "2", "--per-class", "20", "--batch", "10"}
	if _, se, code := awdCmd(t, append([]string{"train", "--model", "cnn", "--epochs", "1", "--out", train, "--quiet"}, data...)...); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, se)
	}
	ck := filepath.Join(train, "final.npz")
	one := filepath.Join(dir, "one")
	so, se, code := awdCmd(t, append([]string{"analyze", ck, "--layer", "features.3", "--k", "10", "--out", one}, data...)...)
	if code != 0 || !strings.Contains(se, "matrix-free path for features.3") || !strings.Contains(so, "note: matrix-free path") {
		t.Fatalf("analyze features.3: exit %d\nstdout %s\nstderr %s", code, so, se)
	}
	all := filepath.Join(dir, "all")
	layers, want := "all", []string{"features.0", "features.3", "features.6", "features.8", "fc", "classifier"}
	if testing.Short() { // the two largest convolutions take most of the time
		layers, want = "features.0,features.3,fc", []string{"features.0", "features.3", "fc"}
	}
	so, se, code = awdCmd(t, append([]string{"analyze", ck, "--layers", layers, "--k", "10", "--out", all, "--quiet"}, data...)...)
	if code != 0 {
		t.Fatalf("analyze --layers all: exit %d\n%s", code, se)
	}
	rep, err := awd.ReadReport(filepath.Join(all, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Checkpoints) != len(want) {
		t.Fatalf("%d analyses, want %d", len(rep.Checkpoints), len(want))
	}
	for i, c := range rep.Checkpoints {
		r := c.Analysis
		if r.Layer != want[i] || !r.Config.MatrixFree || r.MatrixFree == nil || len(r.Arrays.Lambda) != 0 {
			t.Errorf("analysis %d: layer %s, matrix-free %v", i, r.Layer, r.Config.MatrixFree)
		}
		if _, ok := r.Fits[awd.NameC]; !ok || !strings.Contains(so, want[i]+" ") {
			t.Errorf("%s: no gamma of C (%v) or no line in the table:\n%s", r.Layer, r.FitErrors, so)
		}
		if _, err := os.Stat(filepath.Join(all, awd.LayerArraysName(c.Epoch, want[i]))); err != nil {
			t.Errorf("arrays of %s: %v", want[i], err)
		}
	}
	if _, se, code := awdCmd(t, "plot", filepath.Join(all, "results.json")); code != 0 {
		t.Fatalf("plot: exit %d\n%s", code, se)
	}
	e := fmt.Sprintf("_e%04d", rep.Checkpoints[0].Epoch)
	for _, f := range []string{"gamma_layers" + e + ".png", "gamma_layers" + e + ".svg", "powerlaw" + e + "_features.3.png"} {
		if _, err := os.Stat(filepath.Join(all, "figures", f)); err != nil {
			t.Errorf("plot did not write %s: %v", f, err)
		}
	}
	_, se, code = awdCmd(t, append([]string{"analyze", ck, "--layers", "features.0,conv9", "--k", "10", "--out", filepath.Join(dir, "bad")}, data...)...)
	if lines := strings.Split(strings.TrimSpace(se), "\n"); code == 0 || len(lines) != 1 || !strings.Contains(se, "conv9") {
		t.Errorf("bad --layers: exit %d, stderr %q", code, se)
	}
}

// TestSuppressionArraysAsREADME: the suppression arrays are those the
// README lists: supp_<name>_lambda and _s for every intervention (and the
// paper protocol's baseline none), supp_<name>_corr only with
// --suppress-protocol rebuild.
func TestSuppressionArraysAsREADME(t *testing.T) {
	for _, protocol := range []string{"paper", "rebuild"} {
		out := t.TempDir()
		args := []string{"run", "--classes", "3", "--per-class", "40", "--widths", "8,8", "--batch", "10", "--k", "20",
			"--epochs", "1", "--suppress-protocol", protocol, "--quiet", "--out", out}
		if _, se, code := awdEnv(t, []string{tinyMNIST(t)}, args...); code != 0 {
			t.Fatalf("%s: exit %d\n%s", protocol, code, se)
		}
		z, err := zip.OpenReader(filepath.Join(out, "arrays_epoch0001.npz"))
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, f := range z.File {
			have[strings.TrimSuffix(f.Name, ".npy")] = true
		}
		z.Close()
		names := strings.Split(flagTable["suppress"].def, ",")
		if protocol == "paper" {
			names = append(names, "none")
		}
		for _, n := range names {
			for _, suffix := range []string{"_lambda", "_s", "_corr"} {
				a := "supp_" + n + suffix
				if want := suffix != "_corr" || protocol == "rebuild"; have[a] != want {
					t.Errorf("--suppress-protocol %s: array %s written %v, the README says %v", protocol, a, have[a], want)
				}
			}
		}
	}
}
