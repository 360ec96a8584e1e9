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

	"github.com/spf13/pflag"

	"github.com/awd-toolkit/awd/awd"
)

// execTrain runs `awd train args...` in process, flags reset to defaults.
func execTrain(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd, _, err := rootCmd.Find([]string{"train"})
	if err != nil {
		t.Fatal(err)
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		f.Value.Set(f.DefValue)
		f.Changed = false
	})
	var stderr bytes.Buffer
	rootCmd.SetArgs(append([]string{"train"}, args...))
	rootCmd.SetErr(&stderr)
	rootCmd.SetOut(&stderr)
	err = rootCmd.Execute()
	return stderr.String(), err
}

func TestTrainCLIErrors(t *testing.T) {
	out := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--classes", "3", "--out", ""}, "--out"},
		{[]string{"--out", out, "--data", "imagenet"}, "--data"},
		{[]string{"--out", out, "--loss", "hinge"}, "--loss"},
		{[]string{"--out", out, "--classes", "11"}, "--classes 11"},
		{[]string{"--out", out, "--classes", "1,x"}, "--classes"},
		{[]string{"--out", out, "--classes", "3", "--head", "5"}, "--head 5"},
		{[]string{"--out", out, "--epochs", "0"}, "--epochs"},
		{[]string{"--out", out, "--epochs", "5", "--checkpoints", "6"}, "--checkpoints"},
		{[]string{"--out", out, "--model", "rnn", "--per-class", "5"}, "--model"},
		{[]string{"--out", out, "--data", "cifar10", "--data-dir", out}, "data_batch_1.bin"},
		{[]string{"--out", out, "--per-class", "100000"}, "samples"},
	}
	for _, c := range cases {
		_, err := execTrain(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("awd train %v: error %v, want one line about %q", c.args, err, c.want)
		}
	}
}

// TestTrainCLIResume: a run whose last checkpoint is rolled back to epoch 2
// (as if killed during epoch 3) resumes and ends with the same final.npz.
func TestTrainCLIResume(t *testing.T) {
	args := []string{"--classes", "3", "--per-class", "30", "--epochs", "4", "--batch", "16", "--checkpoints", "2", "--quiet"}
	a, b := t.TempDir(), t.TempDir()
	if msg, err := execTrain(t, append(args, "--out", a)...); err != nil {
		t.Fatal(err, msg)
	}
	if msg, err := execTrain(t, append(args, "--out", b)...); err != nil {
		t.Fatal(err, msg)
	}
	for _, ext := range []string{".npz", ".json"} {
		data, err := os.ReadFile(filepath.Join(b, "checkpoints", "epoch_0002"+ext))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(b, "checkpoints", "last"+ext), data, 0o644)
	}
	os.Remove(filepath.Join(b, "final.npz"))
	msg, err := execTrain(t, append(args, "--out", b)...)
	if err != nil || !strings.Contains(msg, "resuming") {
		t.Fatal(err, msg)
	}
	fa, _ := os.ReadFile(filepath.Join(a, "final.npz"))
	fb, _ := os.ReadFile(filepath.Join(b, "final.npz"))
	if len(fa) == 0 || !bytes.Equal(fa, fb) {
		t.Fatal("resumed final.npz differs")
	}
	ma, _ := os.ReadFile(filepath.Join(a, "metrics.jsonl"))
	mb, _ := os.ReadFile(filepath.Join(b, "metrics.jsonl"))
	if bytes.Count(ma, []byte("\n")) != 4 || bytes.Count(mb, []byte("\n")) != 4 {
		t.Fatalf("metrics lines: %d and %d, want 4", bytes.Count(ma, []byte("\n")), bytes.Count(mb, []byte("\n")))
	}
	if _, err := execTrain(t, "--classes", "4", "--per-class", "30", "--epochs", "4", "--quiet", "--out", b); err == nil ||
		!strings.Contains(err.Error(), "other settings") {
		t.Fatalf("other flags in the same --out: %v", err)
	}
}

// TestTrainCLICIFAR trains on CIFAR-10 files in the binary format, written
// here (the data set cannot be downloaded in CI), both models, K head.
func TestTrainCLICIFAR(t *testing.T) {
	dir := fakeCIFAR(t)
	for _, model := range []string{"mlp", "cnn"} {
		out := t.TempDir()
		msg, err := execTrain(t, "--data", "cifar10", "--data-dir", dir, "--model", model, "--classes", "1,4,7", "--head", "3",
			"--per-class", "4", "--epochs", "2", "--batch", "4", "--quiet", "--out", out)
		if err != nil {
			t.Fatal(model, err, msg)
		}
		if _, err := os.Stat(filepath.Join(out, "final.npz")); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeCIFAR writes CIFAR-10 files in the binary format (20 images, 2 of
// each class, in every batch file) and returns their folder.
func fakeCIFAR(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rec := make([]byte, 0, 20*3073)
	for i := 0; i < 20; i++ {
		rec = append(rec, byte(i%10))
		for p := 0; p < 3072; p++ {
			rec = append(rec, byte(i*7+p))
		}
	}
	for _, f := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		if err := os.WriteFile(filepath.Join(dir, f), rec, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCLIOtherSettingsSayTheDefault: a resume refused for a setting the
// folder's config leaves out (it is at its default) names the default, in
// both directions, and never prints JSON's null (which read as a bug).
func TestCLIOtherSettingsSayTheDefault(t *testing.T) {
	data := fakeCIFAR(t)
	out := t.TempDir()
	args := []string{"--data", "cifar10", "--data-dir", data, "--classes", "1,4,7", "--per-class", "4", "--epochs", "1", "--batch", "4", "--quiet", "--out", out}
	if msg, err := execTrain(t, args...); err != nil {
		t.Fatal(err, msg)
	}
	_, err := execTrain(t, append(args, "--cifar-std", "data")...)
	if err == nil || !strings.Contains(err.Error(), `(data.cifar_std: not set (the default) here, "data" asked)`) {
		t.Errorf("--cifar-std data on a run with the default: %v", err)
	}
	// --cifar-std code is the default: the same settings.
	if msg, err := execTrain(t, append(args, "--cifar-std", "code")...); err != nil {
		t.Errorf("--cifar-std code on a run with the default: %v %s", err, msg)
	}

	dir := shardFixture(t)
	ck := filepath.Join(dir, "t", "final.npz")
	a := filepath.Join(dir, "a")
	if _, se, code := awdCmd(t, "analyze", ck, "--k", "10", "--matrix-free", "--no-ml-fit", "--quiet", "--out", a); code != 0 {
		t.Fatalf("analyze: exit %d\n%s", code, se)
	}
	_, se, code := awdCmd(t, "analyze", ck, "--k", "10", "--matrix-free", "--jacobian-float32", "--no-ml-fit", "--quiet", "--out", a)
	if code == 0 || !strings.Contains(se, "(analysis.matrix_free_options.jacobian_float32: false (the default) here, true asked)") {
		t.Errorf("--jacobian-float32 on an analysis without it: exit %d\n%s", code, se)
	}
	for _, s := range []string{se, fmt.Sprint(err)} {
		if strings.Contains(s, "null") {
			t.Errorf("message says null: %s", s)
		}
	}
}

// TestTrainCLIEarlyStop: `awd train` that stops early says so as `awd run`
// does, even with --quiet, names the --checkpoints epochs it did not reach
// and records the stop in results.json; its --help says so. It used to
// print "trained 11 epochs" alone, its checkpoints at 100 and 200 missing.
func TestTrainCLIEarlyStop(t *testing.T) {
	out := t.TempDir()
	_, se, code := awdEnv(t, []string{tinyMNIST(t)}, "train", "--classes", "2", "--per-class", "10", "--widths", "8,8", "--batch", "5",
		"--epochs", "200", "--checkpoints", "100,200", "--stop-loss", "0.05", "--quiet", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se)
	}
	rep, err := awd.ReadReport(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	es := rep.StoppedEarly
	if es == nil || es.Epoch >= 100 || !slices.Equal(es.NotReached, []int{100, 200}) {
		t.Fatalf("results.json stopped_early %+v, want an epoch below 100 and 100, 200 not reached; stderr:\n%s", es, se)
	}
	for _, want := range []string{
		fmt.Sprintf("stopped early at epoch %d (train loss below 0.05, rule full)\n", es.Epoch),
		fmt.Sprintf("the checkpoints asked for at epochs 100,200 were not written (training stopped before them); the stop epoch's is checkpoints/epoch_%04d.npz\n", es.Epoch),
		fmt.Sprintf("trained %d of 200 epochs, stopped early", es.Epoch),
	} {
		if !strings.Contains(se, want) {
			t.Errorf("stderr %q, want %q", se, want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoints", fmt.Sprintf("epoch_%04d.npz", es.Epoch))); err != nil {
		t.Errorf("no checkpoint of the stop epoch: %v", err)
	}
	help, _, _ := awdCmd(t, "train", "--help")
	if !strings.Contains(help, "stopped_early") || !strings.Contains(help, "--checkpoints epochs that training reaches") {
		t.Errorf("train --help does not say what an early stop writes:\n%s", help)
	}
}

// TestCLITrainRefusesBeforeClaiming: data the model cannot take are
// refused before the output folder is created, so that the refused start
// does not bind the next one: another model, and then the same command on
// corrected data, use the folder without --fresh.
func TestCLITrainRefusesBeforeClaiming(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	out := filepath.Join(t.TempDir(), "o")
	// n training and n/4 test images of side x side pixels, labels i mod 10.
	idx := func(n, side int) {
		os.MkdirAll(data, 0o755)
		for _, p := range []struct {
			prefix string
			n      int
		}{{"train", n}, {"t10k", n / 4}} {
			labels := make([]byte, p.n)
			for i := range labels {
				labels[i] = byte(i % 10)
			}
			writeIDX(t, data, p.prefix, side, labels)
		}
	}
	idx(200, 32)
	common := []string{"--data-dir", data, "--per-class", "20", "--classes", "3", "--batch", "10", "--epochs", "1", "--quiet", "--out", out}
	train := append([]string{"train", "--widths", "8,8"}, common...)
	for _, tc := range []struct {
		cmd  []string
		want string
	}{
		{train, "mnist/train inputs are 1x32x32, the model takes 784 inputs of 1x28x28 images: give the data set's own files"},
		{append([]string{"train", "--model", "cnn"}, common...), "mnist/train inputs are 1x32x32, the model takes 1x28x28 images: give the data set's own files"},
		{append([]string{"run", "--widths", "8,8", "--k", "10", "--analyze-at", "1"}, common...), "mnist/train inputs are 1x32x32, the model takes 784 inputs of 1x28x28 images: give the data set's own files"},
	} {
		_, se, code := awdCmd(t, tc.cmd...)
		if code != 1 || !strings.Contains(se, tc.want) {
			t.Errorf("%v: exit %d, %q; want the data refused (%q)", tc.cmd[:3], code, se, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: the refused command left %s (%v)", tc.cmd[:3], out, err)
		}
	}
	idx(200, 28)
	if _, se, code := awdCmd(t, train...); code != 0 {
		t.Fatalf("the same command on 28x28 data: exit %d, %q", code, se)
	}
	if _, err := os.Stat(filepath.Join(out, "final.npz")); err != nil {
		t.Error(err)
	}
}

// TestTrainMetricsFieldsDocumented trains two epochs under each stop rule
// and checks every field of metrics.jsonl: the set is the one the train
// help lists (each of its names is there), and full_loss and full_acc are
// numbers under --stop-rule full and null under running, as it says.
func TestTrainMetricsFieldsDocumented(t *testing.T) {
	want := []string{"epoch", "train_loss", "train_acc", "full_loss", "full_acc", "test_loss", "test_acc", "lr", "seconds"}
	for _, f := range want {
		if !strings.Contains(trainHelp, f) {
			t.Errorf("awd train --help does not name the metrics.jsonl field %s", f)
		}
	}
	if !strings.Contains(trainHelp, "null with --stop-rule running") {
		t.Errorf("awd train --help does not say when full_loss is null")
	}
	for _, rule := range []string{"full", "running"} {
		out := t.TempDir()
		_, se, code := awdEnv(t, []string{tinyMNIST(t)}, "train", "--classes", "3", "--per-class", "40", "--widths", "8,8",
			"--batch", "10", "--epochs", "2", "--stop-rule", rule, "--quiet", "--out", out)
		if code != 0 {
			t.Fatalf("train --stop-rule %s: exit %d\n%s", rule, code, se)
		}
		b, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 {
			t.Fatalf("--stop-rule %s: %d lines in metrics.jsonl, want 2", rule, len(lines))
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
			t.Fatal(err)
		}
		var got []string
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("--stop-rule %s: metrics.jsonl fields %v, the help documents %v", rule, got, w)
		}
		for _, f := range []string{"full_loss", "full_acc"} {
			_, isNum := m[f].(float64)
			if rule == "full" && !isNum || rule == "running" && m[f] != nil {
				t.Errorf("--stop-rule %s: %s = %v; want a number under full, null under running", rule, f, m[f])
			}
		}
	}
}

// TestCLIRefusesBatchAboveN: awd train and awd run with --batch above the
// training samples stop with one line naming --batch, the value, the
// samples and what to give, and leave no folder; they used to train
// full-batch and record the larger batch. A checkpoint's batch above the
// samples that awd analyze is given is refused as the checkpoint's.
func TestCLIRefusesBatchAboveN(t *testing.T) {
	data := t.TempDir()
	for _, p := range []struct {
		prefix string
		n      int
	}{{"train", 60}, {"t10k", 15}} {
		labels := make([]byte, p.n)
		for i := range labels {
			labels[i] = byte(i % 3)
		}
		writeIDX(t, data, p.prefix, 28, labels)
	}
	out := filepath.Join(t.TempDir(), "o")
	common := []string{"--data-dir", data, "--classes", "3", "--widths", "4,4", "--epochs", "1", "--quiet", "--out", out}
	want := "--batch 31: more than the 30 training samples: give --batch 30 or less"
	for _, cmd := range [][]string{
		append([]string{"train", "--per-class", "10", "--batch", "31"}, common...),
		append([]string{"run", "--per-class", "10", "--batch", "31", "--k", "4", "--analyze-at", "1"}, common...),
		append([]string{"train", "--per-class", "0", "--batch", "61"}, common...),
	} {
		w := want
		if cmd[2] == "0" {
			w = "--batch 61: more than the 60 training samples: give --batch 60 or less"
		}
		_, se, code := awdCmd(t, cmd...)
		if code != 1 || !strings.Contains(se, w) || strings.Count(strings.TrimSpace(se), "\n") > 0 {
			t.Errorf("%v: exit %d, %q; want one line saying %q", cmd[:5], code, se, w)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: the refused command left %s (%v)", cmd[:5], out, err)
		}
	}
	// A checkpoint of batch 10 analysed on 3 x 3 samples: refused before
	// any accumulation (no pair of AWD batches).
	if _, se, code := awdCmd(t, append([]string{"train", "--per-class", "10", "--batch", "10"}, common...)...); code != 0 {
		t.Fatalf("train: exit %d, %s", code, se)
	}
	_, se, code := awdCmd(t, "analyze", "--data-dir", data, "--per-class", "3", "--k", "4", "--quiet", "--out", filepath.Join(t.TempDir(), "a"), filepath.Join(out, "final.npz"))
	// The batch is the checkpoint's, not a flag the user gave.
	if code != 1 || !strings.Contains(se, "the checkpoint's batch 10 (from its JSON; give --batch to override): the 9 analysis samples form 3 same-class couples") {
		t.Errorf("analyze of a batch-10 checkpoint on 9 samples: exit %d, %q; want its batch refused as the checkpoint's", code, se)
	}
}
