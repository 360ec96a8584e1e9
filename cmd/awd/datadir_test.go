package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/awd"
)

// copyDir copies the files of src into a new folder dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ownerData is the data spec an output folder's owner file records.
func ownerData(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, awd.OwnerFile))
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Config struct {
			Data map[string]any `json:"data"`
		} `json:"config"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o.Config.Data
}

// TestDataFolderFollowsTheRun: a run records the folder it read (from
// $AWD_MNIST_DIR too), so that `awd analyze CHECKPOINT` with no flags
// analyses the training's data; the data may move (the run resumes from
// another folder of the same files) but not change (other files in the
// folder are refused); a checkpoint's folder is not taken for another
// data set; a value from the checkpoint's JSON is named as such.
func TestDataFolderFollowsTheRun(t *testing.T) {
	env := tinyMNIST(t)
	tiny := strings.TrimPrefix(env, "AWD_MNIST_DIR=")
	out := t.TempDir()
	train := []string{"train", "--classes", "3", "--per-class", "20", "--widths", "8,8", "--batch", "10", "--epochs", "1", "--quiet", "--out", out}
	if _, se, code := awdEnv(t, []string{env}, train...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, se)
	}
	if got := ownerData(t, out)["dir"]; got != tiny {
		t.Errorf("train under $AWD_MNIST_DIR recorded data.dir %v, want %s", got, tiny)
	}
	an := filepath.Join(t.TempDir(), "an")
	ckpt := filepath.Join(out, "final.npz")
	if _, se, code := awdCmd(t, "analyze", ckpt, "--k", "10", "--corr-k", "5", "--ml-reps", "0", "--quiet", "--out", an); code != 0 {
		t.Fatalf("analyze without $AWD_MNIST_DIR: exit %d: %s", code, se)
	}
	if got := ownerData(t, an)["dir"]; got != tiny {
		t.Errorf("analyze of the checkpoint read data.dir %v, want the training's %s", got, tiny)
	}

	// The same files elsewhere: the run goes on; other files: refused.
	moved := filepath.Join(t.TempDir(), "moved")
	copyDir(t, tiny, moved)
	if _, se, code := awdEnv(t, []string{"AWD_MNIST_DIR=" + moved}, train...); code != 0 {
		t.Errorf("the data moved: exit %d: %s", code, se)
	}
	lab := filepath.Join(moved, "train-labels-idx1-ubyte")
	b, _ := os.ReadFile(lab)
	for i := 8; i < len(b); i++ {
		b[i] = (b[i] + 1) % 10
	}
	os.WriteFile(lab, b, 0o644)
	_, se, code := awdEnv(t, []string{"AWD_MNIST_DIR=" + moved}, train...)
	if code != 1 || !strings.Contains(se, "other data") {
		t.Errorf("other files in the data folder: exit %d, %q; want a refusal naming other data", code, se)
	}

	// Another data set: not the checkpoint's folder (Fashion-MNIST's
	// default place, installed or not, never the MNIST folder).
	fa := filepath.Join(t.TempDir(), "fa")
	_, se, code = awdEnv(t, []string{"AWD_FASHION_DIR="}, "analyze", ckpt, "--data", "fashion", "--k", "10", "--corr-k", "5", "--ml-reps", "0", "--quiet", "--out", fa)
	if strings.Contains(se, tiny) {
		t.Errorf("--data fashion read the checkpoint's MNIST folder: %s", se)
	}
	if code == 0 {
		if got := ownerData(t, fa)["dir"]; got == tiny {
			t.Errorf("--data fashion recorded the MNIST folder %v", got)
		}
	}

	// A value the checkpoint's JSON gives is named as the checkpoint's.
	js := filepath.Join(out, "final.json")
	meta, _ := os.ReadFile(js)
	bad := strings.Replace(string(meta), `"classes": [
      0,
      1,
      2
    ]`, `"classes": [0, 1, 12]`, 1)
	if bad == string(meta) {
		t.Fatalf("final.json has no classes list to edit:\n%s", meta)
	}
	os.WriteFile(js, []byte(bad), 0o644)
	_, se, code = awdCmd(t, "analyze", ckpt, "--k", "10", "--quiet", "--out", filepath.Join(t.TempDir(), "x"))
	if code != 1 || !strings.Contains(se, "the checkpoint's classes") || strings.Contains(se, "--classes 0,1,12") {
		t.Errorf("class 12 in the checkpoint's JSON: exit %d, %q; want it named as the checkpoint's", code, se)
	}
}

// TestAnalyzeChecksTrainingData: the checkpoint's JSON records the
// training subset's SHA-256, so awd analyze of the same subset refuses a
// folder that now holds other data; a recorded folder that is gone is
// named as the checkpoint's, with the flag that points elsewhere.
func TestAnalyzeChecksTrainingData(t *testing.T) {
	tiny := strings.TrimPrefix(tinyMNIST(t), "AWD_MNIST_DIR=")
	own := filepath.Join(t.TempDir(), "data")
	copyDir(t, tiny, own)
	out := t.TempDir()
	if _, se, code := awdCmd(t, "train", "--data-dir", own, "--classes", "3", "--per-class", "20", "--widths", "8,8", "--batch", "10", "--epochs", "1", "--quiet", "--out", out); code != 0 {
		t.Fatalf("train: exit %d: %s", code, se)
	}
	ckpt := filepath.Join(out, "final.npz")
	analyze := func(extra ...string) (string, int) {
		args := append([]string{"analyze", ckpt, "--k", "10", "--corr-k", "5", "--ml-reps", "0", "--quiet", "--out", filepath.Join(t.TempDir(), "a")}, extra...)
		_, se, code := awdCmd(t, args...)
		return se, code
	}
	if se, code := analyze(); code != 0 {
		t.Fatalf("analyze of the training data: exit %d: %s", code, se)
	}
	// Other labels in the training files: refused, also through --data-dir.
	other := filepath.Join(t.TempDir(), "other")
	copyDir(t, own, other)
	lab := filepath.Join(other, "train-labels-idx1-ubyte")
	b, _ := os.ReadFile(lab)
	for i := 8; i < len(b); i++ {
		b[i] = 9 - b[i]
	}
	os.WriteFile(lab, b, 0o644)
	if se, code := analyze("--data-dir", other); code != 1 || !strings.Contains(se, "not those the checkpoint was trained on") {
		t.Errorf("other data: exit %d, %q", code, se)
	}
	// Another subset of those data is another analysis: not checked.
	if se, code := analyze("--data-dir", other, "--per-class", "10"); code != 0 {
		t.Errorf("another subset: exit %d: %s", code, se)
	}
	// The recorded folder gone.
	os.RemoveAll(own)
	if se, code := analyze(); code != 1 || !strings.Contains(se, "the checkpoint's data folder "+own) || !strings.Contains(se, "--data-dir") {
		t.Errorf("folder gone: exit %d, %q", code, se)
	}
}

// tinyCopy is a copy of the tiny MNIST files (tinyMNIST) in a folder of
// its own.
func tinyCopy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	copyDir(t, strings.TrimPrefix(tinyMNIST(t), "AWD_MNIST_DIR="), dir)
	return dir
}

// otherLabels makes the data of dir other data under the same name: every
// training label y becomes 9 - y.
func otherLabels(t *testing.T, dir string) {
	t.Helper()
	lab := filepath.Join(dir, "train-labels-idx1-ubyte")
	b, err := os.ReadFile(lab)
	if err != nil {
		t.Fatal(err)
	}
	for i := 8; i < len(b); i++ {
		b[i] = 9 - b[i]
	}
	os.WriteFile(lab, b, 0o644)
}

// tinyRun runs a one-epoch awd run of a small MLP on the data of dir with
// the extra flags and returns its results.json.
func tinyRun(t *testing.T, dir string, flags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "run")
	args := append([]string{"run", "--data-dir", dir, "--classes", "3", "--per-class", "20", "--widths", "8,8", "--batch", "10",
		"--k", "10", "--corr-k", "5", "--ml-reps", "0", "--epochs", "1", "--quiet", "--out", out}, flags...)
	if _, se, code := awdCmd(t, args...); code != 0 {
		t.Fatalf("run on %s: exit %d: %s", dir, code, se)
	}
	return filepath.Join(out, "results.json")
}

// TestCLITableDataSources: awd table keeps apart runs that read other
// files under one data set's name (two folders, one with other labels),
// which their run folders' owner files tell, and averages the seeds of
// one folder.
func TestCLITableDataSources(t *testing.T) {
	own, other := tinyCopy(t), tinyCopy(t)
	otherLabels(t, other)
	var files []string
	for _, r := range []struct{ dir, seed string }{{own, "1"}, {own, "2"}, {other, "3"}} {
		files = append(files, tinyRun(t, r.dir, "--seed", r.seed))
	}
	so, se, code := awdCmd(t, append([]string{"table"}, files...)...)
	if code != 0 || strings.Count(so, "| mnist | mlp | 3 |") != 2 || !strings.Contains(so, " (2) |") ||
		!strings.Contains(so, `data_dir="`+own+`"`) || !strings.Contains(so, `data_dir="`+other+`"`) || !strings.Contains(se, "read other data under the name mnist") {
		t.Errorf("table: exit %d, want a row of the 2 runs of %s and one of %s:\n%s%s", code, own, other, so, se)
	}
}

// TestCLITableDataSourceAcrossDraws: runs that draw other subsets (other
// --data-seed) are compared by the fingerprint of the whole training set
// their results record (data_source_sha256): from two folders whose files
// differ they are two rows, from the same files in another folder one row
// of both runs.
func TestCLITableDataSourceAcrossDraws(t *testing.T) {
	own, moved, other := tinyCopy(t), tinyCopy(t), tinyCopy(t)
	otherLabels(t, other)
	results := map[string]string{}
	for _, r := range []struct{ dir, seed string }{{own, "1"}, {moved, "2"}, {other, "2"}} {
		results[r.dir] = tinyRun(t, r.dir, "--seed", r.seed, "--data-seed", r.seed)
		rep, err := awd.ReadReport(results[r.dir])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(rep.Config), `"data_source_sha256":`) {
			t.Fatalf("%s records no data_source_sha256 in its config: %s", results[r.dir], rep.Config)
		}
	}
	so, se, code := awdCmd(t, "table", results[own], results[other])
	if code != 0 || strings.Count(so, "| mnist | mlp | 3 |") != 2 || strings.Contains(so, " (2) |") || !strings.Contains(se, "read other data under the name mnist") {
		t.Errorf("table of %s and %s (other files, other draws): exit %d, want two rows of one run each:\n%s%s", own, other, code, so, se)
	}
	so, se, code = awdCmd(t, "table", results[own], results[moved])
	if code != 0 || strings.Count(so, "| mnist | mlp | 3 |") != 1 || !strings.Contains(so, " (2) |") || strings.Contains(se, "other data") {
		t.Errorf("table of %s and %s (the same files, other draws): exit %d, want one row of both runs:\n%s%s", own, moved, code, so, se)
	}
}

// writeIDX writes an IDX pair prefix-images-idx3-ubyte (side x side
// pixels) and prefix-labels-idx1-ubyte into dir with the labels given.
func writeIDX(t *testing.T, dir, prefix string, side int, labels []byte) {
	t.Helper()
	writeIDXImages(t, dir, prefix, side, side, labels)
}

// writeIDXImages is writeIDX of images of h x w pixels.
func writeIDXImages(t *testing.T, dir, prefix string, h, w int, labels []byte) {
	t.Helper()
	n, px := len(labels), h*w
	img := binary.BigEndian.AppendUint32([]byte{0, 0, 8, 3}, uint32(n))
	img = binary.BigEndian.AppendUint32(img, uint32(h))
	img = binary.BigEndian.AppendUint32(img, uint32(w))
	for i := 0; i < n*px; i++ {
		img = append(img, byte(i*7+i/px))
	}
	lab := append(binary.BigEndian.AppendUint32([]byte{0, 0, 8, 1}, uint32(n)), labels...)
	for name, b := range map[string][]byte{prefix + "-images-idx3-ubyte": img, prefix + "-labels-idx1-ubyte": lab} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMissingClassAllSamples: with --per-class 0 (all samples) a class the
// training files do not have is refused by train, run and analyze, as it
// is with --per-class 10, and nothing is written. It used to train and
// analyse on the classes that were there, exit 0, with config.data.classes
// [0,1,2] beside analysis.classes [0,1] in results.json.
func TestMissingClassAllSamples(t *testing.T) {
	data := t.TempDir()
	two, ten := make([]byte, 40), make([]byte, 30)
	for i := range two {
		two[i] = byte(i % 2)
	}
	for i := range ten {
		ten[i] = byte(i % 10)
	}
	writeIDX(t, data, "train", 28, two)
	writeIDX(t, data, "t10k", 28, ten)
	common := []string{"--data-dir", data, "--widths", "8,8", "--batch", "10", "--epochs", "1", "--quiet"}
	ckpt := t.TempDir()
	if _, se, code := awdCmd(t, append([]string{"train", "--classes", "2", "--per-class", "0", "--out", ckpt}, common...)...); code != 0 {
		t.Fatalf("train on the classes the data have: exit %d: %s", code, se)
	}
	for _, per := range []string{"0", "10"} {
		for _, args := range [][]string{
			append([]string{"train"}, common...),
			append([]string{"run", "--k", "5"}, common...),
			{"analyze", filepath.Join(ckpt, "final.npz"), "--k", "5", "--quiet"},
		} {
			out := filepath.Join(t.TempDir(), "out")
			args = append(args, "--classes", "3", "--per-class", per, "--out", out)
			_, se, code := awdCmd(t, args...)
			if code != 1 || !strings.Contains(se, "class 2 has 0 samples") {
				t.Errorf("awd %s --per-class %s with class 2 missing: exit %d, %q; want a refusal naming class 2", args[0], per, code, se)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("awd %s --per-class %s refused but wrote %s", args[0], per, out)
			}
		}
	}
}

// TestAnalyzeDataDirHint: awd analyze of a checkpoint whose JSON gives the
// data folder adds "give --data-dir" to the errors of that folder's files
// (the folder gone, a file missing) and to no other: a --classes or
// --per-class the readable data cannot serve is refused without it, since
// another folder is not the remedy. Every loading error used to get it.
func TestAnalyzeDataDirHint(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	os.Mkdir(data, 0o755)
	two := make([]byte, 40)
	for i := range two {
		two[i] = byte(i % 2)
	}
	writeIDX(t, data, "train", 28, two)
	writeIDX(t, data, "t10k", 28, two)
	ckpt := t.TempDir()
	if _, se, code := awdCmd(t, "train", "--data-dir", data, "--classes", "2", "--per-class", "0", "--widths", "8,8", "--batch", "10", "--epochs", "1", "--quiet", "--out", ckpt); code != 0 {
		t.Fatalf("train: exit %d: %s", code, se)
	}
	const hint = "give --data-dir where the training data are now"
	for _, tc := range []struct {
		name  string
		flags []string
		setup func()
		want  string
		hint  bool
	}{
		{"class-the-data-lack", []string{"--classes", "0,5"}, nil, "class 5 has 0 samples", false},
		{"more-per-class", []string{"--per-class", "30"}, nil, "class 0 has 20 samples, 30 asked", false},
		{"labels-file-missing", nil, func() { os.Remove(filepath.Join(data, "train-labels-idx1-ubyte")) }, "no train-labels-idx1-ubyte(.gz) in " + data, true},
		{"folder-gone", nil, func() { os.RemoveAll(data) }, "the checkpoint's data folder " + data, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			args := append([]string{"analyze", filepath.Join(ckpt, "final.npz"), "--k", "5", "--quiet", "--out", filepath.Join(t.TempDir(), "a")}, tc.flags...)
			_, se, code := awdCmd(t, args...)
			if code != 1 || !strings.Contains(se, tc.want) || strings.Contains(se, hint) != tc.hint {
				t.Errorf("exit %d, %q; want %q, with the hint %q: %v", code, se, tc.want, hint, tc.hint)
			}
		})
	}
}

// TestMLPRefusesOtherImageShape: an MLP trained on MNIST's 28x28 images
// is not trained further on, nor analysed on, 14x56 images, which have as
// many pixels: awd train and awd analyze of its checkpoint (another
// subset, which the training data's hash does not cover) refuse them with
// both shapes and the remedy, before writing anything. They used to be
// taken as the model's 784 inputs.
func TestMLPRefusesOtherImageShape(t *testing.T) {
	labels := make([]byte, 60)
	for i := range labels {
		labels[i] = byte(i % 10)
	}
	square, wide := filepath.Join(t.TempDir(), "square"), filepath.Join(t.TempDir(), "wide")
	for _, d := range []struct {
		dir  string
		h, w int
	}{{square, 28, 28}, {wide, 14, 56}} {
		os.Mkdir(d.dir, 0o755)
		writeIDXImages(t, d.dir, "train", d.h, d.w, labels)
		writeIDXImages(t, d.dir, "t10k", d.h, d.w, labels[:20])
	}
	common := []string{"--classes", "2", "--per-class", "6", "--widths", "8,8", "--batch", "4", "--epochs", "1", "--quiet"}
	ckpt := t.TempDir()
	if _, se, code := awdCmd(t, append([]string{"train", "--data-dir", square, "--out", ckpt}, common...)...); code != 0 {
		t.Fatalf("train on 28x28 images: exit %d: %s", code, se)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append([]string{"train", "--data-dir", wide}, common...), "mnist/train inputs are 1x14x56, the model takes 784 inputs of 1x28x28 images: give the data set's own files"},
		{[]string{"analyze", filepath.Join(ckpt, "final.npz"), "--data-dir", wide, "--per-class", "5", "--k", "5", "--quiet"}, "inputs are 1x14x56, the model takes 784 inputs of 1x28x28 images: give the data set's own files"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		tc.args = append(tc.args, "--out", out)
		_, se, code := awdCmd(t, tc.args...)
		if code != 1 || !strings.Contains(se, tc.want) {
			t.Errorf("awd %s on 14x56 images: exit %d, %q; want %q", tc.args[0], code, se, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("awd %s refused but wrote %s", tc.args[0], out)
		}
	}
}

// TestDataDirNotAFolder: a --data-dir that does not exist, is a file, or
// holds no IDX files is refused before any work with one line that says
// which of them it is and what the folder must hold.
func TestDataDirNotAFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ dataDir, want string }{
		{filepath.Join(dir, "none"), "data folder " + filepath.Join(dir, "none") + " does not exist"},
		{file, "data folder " + file + " is a file, not a folder"},
		{empty, "no train-images-idx3-ubyte(.gz) in " + empty},
	} {
		for _, data := range []string{"mnist", "fashion"} {
			out := filepath.Join(dir, "out")
			_, se, code := awdCmd(t, "train", "--data", data, "--data-dir", c.dataDir, "--epochs", "1", "--quiet", "--out", out)
			if code != 1 || strings.Count(se, "\n") != 1 || !strings.Contains(se, c.want) ||
				!strings.Contains(se, "give the folder that holds train-images-idx3-ubyte") || !strings.Contains(se, "--data-dir") {
				t.Errorf("--data %s --data-dir %s: exit %d, stderr %q; want one line saying %q and what the folder holds", data, c.dataDir, code, se, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("--data %s --data-dir %s: the refused start created --out", data, c.dataDir)
			}
		}
	}
}
