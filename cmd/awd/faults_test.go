package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/nn"
)

// awdEnv runs the awd command with extra environment variables.
func awdEnv(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "AWD_CLI_MAIN=1"), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// fingerprint is what must come out the same whatever kills the run: every
// checkpoint and array file byte for byte, and the report and metrics
// without wall-clock times and run ids.
func fingerprint(t *testing.T, dir string) map[string]string {
	t.Helper()
	fp := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, _ := os.ReadFile(p)
		switch {
		case strings.HasSuffix(rel, ".npz"):
			fp[rel] = fmt.Sprintf("%x", b)
		case rel == "results.json":
			rep, err := awd.ReadReport(p)
			if err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			rep.RunID, rep.Tool = "", ""
			for i := range rep.Training {
				rep.Training[i].Seconds = 0
			}
			for _, c := range rep.Checkpoints {
				c.Analysis.Timings = awd.Timings{}
			}
			js, _ := json.Marshal(rep)
			fp[rel] = string(js)
		case rel == "metrics.jsonl":
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var m map[string]any
				json.Unmarshal([]byte(l), &m)
				delete(m, "seconds")
				js, _ := json.Marshal(m)
				lines = append(lines, string(js))
			}
			fp[rel] = strings.Join(lines, "\n")
		case strings.HasSuffix(rel, ".json") && strings.Contains(rel, "epoch_") || rel == "final.json" || strings.HasSuffix(rel, "last.json"):
			var m map[string]any
			json.Unmarshal(b, &m)
			delete(m, "run_id")
			js, _ := json.Marshal(m)
			fp[rel] = string(js)
		case strings.HasPrefix(filepath.Base(rel), "."), rel == awd.OwnerFile:
			// the lock, and the owner file (its run id and time differ)
		default:
			fp[rel] = fmt.Sprintf("%x", b)
		}
		return nil
	})
	return fp
}

// TestFaultInjection kills `run` and `train` (AWD_FAULT_AT: exit just
// before the n-th atomic rename, for every n) and checks that the same
// command then finishes with exactly the files of an uninterrupted run: no
// lost epoch, no analysis missing or done twice, no file of the killed
// attempt left behind. With -short every third n is tried.
func TestFaultInjection(t *testing.T) {
	cmds := map[string][]string{
		"run": {"run", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10", "--k", "10",
			"--epochs", "3", "--analyze-at", "1,3", "--suppress", "rank1", "--quiet"},
		"train": {"train", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10",
			"--epochs", "3", "--checkpoints", "2", "--quiet"},
	}
	for name, args := range cmds {
		t.Run(name, func(t *testing.T) {
			tiny := tinyMNIST(t)
			ref := t.TempDir()
			if _, se, code := awdEnv(t, []string{tiny}, append(args, "--out", ref)...); code != 0 {
				t.Fatalf("reference: exit %d\n%s", code, se)
			}
			want := fingerprint(t, ref)
			step := 1
			if testing.Short() {
				step = 3
			}
			for n := 1; ; n += step {
				dir := t.TempDir()
				_, se, code := awdEnv(t, []string{tiny, fmt.Sprintf("AWD_FAULT_AT=%d", n)}, append(args, "--out", dir)...)
				if code == 0 {
					if n < 10 {
						t.Fatalf("only %d renames in a whole run?", n)
					}
					t.Logf("%d renames in a %s", n-1, name)
					break
				}
				if code != 3 {
					t.Fatalf("fault at rename %d: exit %d, want 3\n%s", n, code, se)
				}
				if _, se, code := awdEnv(t, []string{tiny}, append(args, "--out", dir)...); code != 0 {
					t.Fatalf("restart after a kill at rename %d: exit %d\n%s", n, code, se)
				}
				if got := fingerprint(t, dir); !mapsEqual(got, want) {
					t.Fatalf("after a kill at rename %d the folder differs from an uninterrupted run:\n%s", n, mapDiff(got, want))
				}
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool { return mapDiff(a, b) == "" }

func mapDiff(got, want map[string]string) string {
	var out []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			out = append(out, "missing "+k)
		} else if g != v {
			out = append(out, "differs "+k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			out = append(out, "extra "+k)
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// TestFolderOwnership: a second process writing the same folder is
// refused while the first holds it; a folder belongs to one command and one
// configuration; --fresh removes the old run's files (not the user's).
func TestFolderOwnership(t *testing.T) {
	dir := t.TempDir()
	slow := []string{"run", "--classes", "3", "--per-class", "60", "--widths", "8,8", "--batch", "10", "--k", "20",
		"--epochs", "1000000", "--analyze-at", "1000000", "--quiet", "--out", dir}
	cmd := exec.Command(os.Args[0], slow...)
	cmd.Env = append(os.Environ(), "AWD_CLI_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(dir, "checkpoints", "last.npz")); err == nil {
			break
		}
		if i > 1000 {
			t.Fatal("the first run wrote no checkpoint in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, args := range [][]string{slow, {"train", "--out", dir, "--epochs", "1", "--quiet"}} {
		_, se, code := awdCmd(t, args...)
		if code != 1 || !strings.Contains(se, "in use") || !strings.Contains(se, "pid") || strings.Count(se, "\n") != 1 ||
			!strings.Contains(se, "wait for it to end, or give another --out") {
			t.Errorf("second process %v: exit %d, stderr %q; want one line naming the holder and what to do", args[0], code, se)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()

	// Killed: the folder is free again, but it is a run's folder.
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	if _, se, code := awdCmd(t, "train", "--out", dir, "--epochs", "1", "--quiet"); code != 1 || !strings.Contains(se, "awd run") {
		t.Errorf("train into a run's folder: exit %d, %q", code, se)
	}
	if _, se, code := awdCmd(t, "train", "--out", dir, "--epochs", "1", "--per-class", "20", "--classes", "3", "--quiet", "--fresh"); code != 0 {
		t.Fatalf("train --fresh: exit %d, %q", code, se)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "results.json")); err != nil || strings.Contains(string(b), "analyze_at") {
		t.Errorf("--fresh kept the old run's report (%v)", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "notes.txt")); err != nil || string(b) != "mine" {
		t.Error("--fresh removed a file awd did not write")
	}
	// An analysis never lands in a run's folder (--batch 10: inputs the
	// analysis accepts, which are checked before the folder).
	if _, se, code := awdCmd(t, "analyze", filepath.Join(dir, "final.npz"), "--k", "10", "--batch", "10", "--out", dir, "--quiet"); code != 1 || !strings.Contains(se, "awd train") {
		t.Errorf("analyze --out into a train folder: exit %d, %q", code, se)
	}
}

// TestResumeRefusesAnotherRun is issue 11's first reproduction: a folder
// whose last checkpoint was replaced by another run's is refused, never
// resumed from the other weights.
func TestResumeRefusesAnotherRun(t *testing.T) {
	dir := t.TempDir()
	runArgs := []string{"run", "--classes", "3", "--per-class", "40", "--widths", "8,8", "--batch", "10", "--k", "10",
		"--epochs", "3", "--suppress", "", "--analyze-at", "2,3", "--quiet", "--out", dir}
	// A run killed after its first epoch.
	if _, se, code := awdEnv(t, []string{"AWD_FAULT_AT=12"}, runArgs...); code != 3 {
		t.Fatalf("exit %d\n%s", code, se)
	}
	// Another run's checkpoint put in its place (here: a fresh train elsewhere, copied over).
	other := t.TempDir()
	if _, se, code := awdCmd(t, "train", "--classes", "3", "--per-class", "40", "--widths", "30,30", "--epochs", "1", "--quiet", "--out", other); code != 0 {
		t.Fatal(se)
	}
	for _, ext := range []string{".npz", ".json"} {
		b, _ := os.ReadFile(filepath.Join(other, "checkpoints", "last"+ext))
		os.WriteFile(filepath.Join(dir, "checkpoints", "last"+ext), b, 0o644)
	}
	_, se, code := awdCmd(t, runArgs...)
	if code != 1 || !strings.Contains(se, "another run") {
		t.Fatalf("resume from another run's checkpoint: exit %d, %q", code, se)
	}
}

var tinyMNISTDir struct {
	sync.Once
	dir string
	err error
}

// tinyMNIST writes the first 600 training and 200 test images of MNIST as
// IDX files (once per test binary) and returns AWD_MNIST_DIR=<folder>, so
// that the tests that start awd many times do not read the 60,000 images
// each time.
func tinyMNIST(t *testing.T) string {
	t.Helper()
	tinyMNISTDir.Do(func() {
		train, test, err := nn.LoadMNIST("")
		if err != nil {
			tinyMNISTDir.err = err
			return
		}
		dir, err := os.MkdirTemp("", "awd-tiny-mnist")
		if err != nil {
			tinyMNISTDir.err = err
			return
		}
		for _, s := range []struct {
			prefix string
			ds     *nn.Dataset
			n      int
		}{{"train", train, 600}, {"t10k", test, 200}} {
			img := []byte{0, 0, 8, 3}
			img = binary.BigEndian.AppendUint32(img, uint32(s.n))
			img = binary.BigEndian.AppendUint32(img, 28)
			img = binary.BigEndian.AppendUint32(img, 28)
			lab := binary.BigEndian.AppendUint32([]byte{0, 0, 8, 1}, uint32(s.n))
			for i := 0; i < s.n; i++ {
				for _, v := range s.ds.Sample(i) {
					img = append(img, byte(math.Round(float64(v)*255)))
				}
				lab = append(lab, byte(s.ds.Y[i]))
			}
			os.WriteFile(filepath.Join(dir, s.prefix+"-images-idx3-ubyte"), img, 0o644)
			os.WriteFile(filepath.Join(dir, s.prefix+"-labels-idx1-ubyte"), lab, 0o644)
		}
		tinyMNISTDir.dir = dir
	})
	if tinyMNISTDir.err != nil {
		t.Fatal(tinyMNISTDir.err)
	}
	return "AWD_MNIST_DIR=" + tinyMNISTDir.dir
}

// TestInterrupt sends SIGINT during training and during an analysis: the
// command stops promptly with exit status 1 and the message that the folder
// is resumable, and the same command then finishes the run.
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and analyses twice; run without -short")
	}
	cases := map[string]struct {
		args  []string
		env   []string
		ready func(dir, stderr string) bool
	}{
		"training": {[]string{"train", "--classes", "3", "--per-class", "2000", "--epochs", "12"}, nil,
			func(dir, _ string) bool {
				_, err := os.Stat(filepath.Join(dir, "checkpoints", "last.npz"))
				return err == nil
			}},
		// On 180 samples the analysis is mostly the eigensolve and statistics of d = 2500.
		"analysing": {[]string{"run", "--classes", "3", "--per-class", "50", "--epochs", "2", "--analyze-at", "2", "--k", "100", "--suppress", "rank1"},
			[]string{tinyMNIST(t)}, func(_, stderr string) bool { return strings.Contains(stderr, "epoch 2: analysing") }},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			args := append(c.args, "--out", dir)
			cmd, exited, stderr := startUntil(t, args, c.env, func(se string) bool { return c.ready(dir, se) })
			start := time.Now()
			cmd.Process.Signal(os.Interrupt)
			err := <-exited
			waited := time.Since(start)
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "resumes it") {
				t.Fatalf("after SIGINT: %v\n%s", err, stderr.String())
			}
			t.Logf("stopped %v after SIGINT", waited)
			// Generous, for shared machines: on an idle one every stage stops
			// within about a second; this guards against running to the end.
			if waited > 30*time.Second {
				t.Errorf("took %v to stop", waited)
			}
			if _, se, code := awdEnv(t, c.env, append(args, "--quiet")...); code != 0 {
				t.Fatalf("resume after SIGINT: exit %d\n%s", code, se)
			}
		})
	}
}

// startUntil starts awd with args and extra environment and returns once
// ready(stderr so far) holds, with the command, the channel its Wait
// result arrives on, and its stderr.
func startUntil(t *testing.T, args, env []string, ready func(stderr string) bool) (*exec.Cmd, chan error, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "AWD_CLI_MAIN=1"), env...)
	stderr := new(syncBuffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for i := 0; !ready(stderr.String()); i++ {
		select {
		case err := <-exited:
			t.Fatalf("exited (%v) before it was ready:\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if i > 6000 {
			t.Fatalf("not ready after a minute:\n%s", stderr.String())
		}
	}
	time.Sleep(100 * time.Millisecond)
	return cmd, exited, stderr
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestResumeWithoutReport: a folder whose results.json was removed after
// the checkpoints were written is refused (the log of the epochs before
// checkpoints/last.npz would be lost), and nothing in it is rewritten.
func TestResumeWithoutReport(t *testing.T) {
	dir := t.TempDir()
	args := []string{"train", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10",
		"--epochs", "3", "--quiet", "--out", dir}
	tiny := tinyMNIST(t)
	if _, se, code := awdEnv(t, []string{tiny}, args...); code != 0 {
		t.Fatalf("exit %d\n%s", code, se)
	}
	metrics, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if n := strings.Count(string(metrics), "\n"); n != 3 {
		t.Fatalf("metrics.jsonl has %d lines, want 3", n)
	}
	os.Remove(filepath.Join(dir, "results.json"))
	_, se, code := awdEnv(t, []string{tiny}, args...)
	if code != 1 || !strings.HasPrefix(se, "awd: ") || strings.Count(se, "\n") != 1 || !strings.Contains(se, "results.json") || !strings.HasSuffix(se, "; use --fresh to start over\n") {
		t.Fatalf("resume without results.json: exit %d, stderr %q; want one awd: line naming results.json and --fresh", code, se)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl")); !bytes.Equal(b, metrics) {
		t.Errorf("the refused resume rewrote metrics.jsonl:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err == nil {
		t.Error("the refused resume wrote a results.json")
	}
}

// TestFolderRemediesNameFlags: the remedies of a folder the library
// refuses, which it names in its own terms (RunOptions.Fresh, another
// output folder), are said with the flags that apply them.
func TestFolderRemediesNameFlags(t *testing.T) {
	dir := t.TempDir()
	tiny := tinyMNIST(t)
	args := []string{"train", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10", "--epochs", "1", "--quiet", "--out", dir}
	if _, se, code := awdEnv(t, []string{tiny}, args...); code != 0 {
		t.Fatalf("exit %d\n%s", code, se)
	}
	for _, c := range []struct {
		what string
		args []string
		want string
	}{
		{"other flags", append(slices.Clone(args), "--lr", "0.05"), "; use the same flags to resume, another --out, or --fresh\n"},
		{"another command", []string{"analyze", filepath.Join(dir, "final.npz"), "--k", "10", "--out", dir, "--quiet"}, "; use another --out, or --fresh to replace what it holds\n"},
		{"an input removed", []string{"analyze", filepath.Join(dir, "final.npz"), "--k", "10", "--out", dir, "--fresh", "--quiet"}, "final.npz, an input of this command; use another --out\n"},
	} {
		_, se, code := awdEnv(t, []string{tiny}, c.args...)
		if code != 1 || strings.Count(se, "\n") != 1 || !strings.HasSuffix(se, c.want) || strings.Contains(se, "RunOptions") {
			t.Errorf("%s: exit %d, stderr %q; want one line ending %q", c.what, code, se, c.want)
		}
	}
}

// TestFreshRemovesOnlyAwdFiles: --fresh removes the files awd writes in
// the folder, checkpoints/ and figures/, and leaves the user's files there
// (and those folders, when they still hold some); it refuses to remove an
// input of the command itself.
func TestFreshRemovesOnlyAwdFiles(t *testing.T) {
	dir := shardFixture(t)
	p := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
	tz := p("t")
	os.MkdirAll(filepath.Join(tz, "figures"), 0o755)
	user := map[string]string{"checkpoints/NOTES.txt": "notes", "figures/paper_draft.tex": "draft", "notes.txt": "mine"}
	for name, content := range user {
		os.WriteFile(filepath.Join(tz, name), []byte(content), 0o644)
	}
	os.WriteFile(filepath.Join(tz, "figures", "powerlaw_e0002.png"), []byte("old figure"), 0o644)
	os.WriteFile(filepath.Join(tz, "figures", ".powerlaw_e0002.svg.tmp123"), []byte("half"), 0o644)

	// The inputs of analyze and reduce are never removed by their --fresh.
	before := fingerprint(t, tz)
	for _, args := range [][]string{
		{"analyze", filepath.Join(tz, "final.npz"), "--k", "10", "--out", tz, "--fresh", "--quiet"},
		{"analyze", filepath.Join(tz, "checkpoints", "epoch_0001.npz"), "--k", "10", "--out", tz, "--fresh", "--quiet"},
	} {
		_, se, code := awdCmd(t, args...)
		if code != 1 || !strings.HasPrefix(se, "awd: ") || strings.Count(se, "\n") != 1 || !strings.Contains(se, "an input of this command") {
			t.Errorf("%v: exit %d, stderr %q; want one awd: line refusing to remove the input", args, code, se)
		}
	}
	if after := fingerprint(t, tz); !mapsEqual(after, before) {
		t.Fatalf("a refused --fresh changed the folder:\n%s", mapDiff(after, before))
	}
	for i := 1; i <= 2; i++ {
		if _, se, code := awdCmd(t, "analyze", filepath.Join(tz, "final.npz"), "--k", "10", "--shard", fmt.Sprintf("%d/2", i), "--out", p(fmt.Sprint("s", i)), "--quiet"); code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", i, code, se)
		}
	}
	shards := []string{p("s1", "shard_1_of_2.acc"), p("s2", "shard_2_of_2.acc")}
	_, se, code := awdCmd(t, append(append([]string{"reduce"}, shards...), "--out", p("s1"), "--fresh", "--quiet")...)
	if code != 1 || !strings.Contains(se, "shard_1_of_2.acc, an input of this command") {
		t.Errorf("reduce --fresh over its own shard: exit %d, stderr %q", code, se)
	}
	if _, err := os.Stat(shards[0]); err != nil {
		t.Fatalf("the refused reduce removed its input: %v", err)
	}

	// A fresh train keeps the user's files and replaces awd's.
	if _, se, code := awdCmd(t, "train", "--classes", "3", "--per-class", "100", "--widths", "12,12", "--batch", "10", "--epochs", "1", "--out", tz, "--fresh", "--quiet"); code != 0 {
		t.Fatalf("train --fresh: exit %d\n%s", code, se)
	}
	for name, content := range user {
		if b, err := os.ReadFile(filepath.Join(tz, name)); err != nil || string(b) != content {
			t.Errorf("--fresh removed or changed the user's %s (%v)", name, err)
		}
	}
	for _, name := range []string{"figures/powerlaw_e0002.png", "figures/.powerlaw_e0002.svg.tmp123", "checkpoints/epoch_0001.npz", "checkpoints/epoch_0001.json"} {
		if _, err := os.Stat(filepath.Join(tz, name)); err == nil {
			t.Errorf("--fresh kept the old run's %s", name)
		}
	}
	// With the user's file gone, --fresh removes the emptied folder too.
	os.Remove(filepath.Join(tz, "figures", "paper_draft.tex"))
	if _, se, code := awdCmd(t, "train", "--classes", "3", "--per-class", "100", "--widths", "12,12", "--batch", "10", "--epochs", "1", "--out", tz, "--fresh", "--quiet"); code != 0 {
		t.Fatalf("train --fresh: exit %d\n%s", code, se)
	}
	if _, err := os.Stat(filepath.Join(tz, "figures")); err == nil {
		t.Error("--fresh left awd's emptied figures/")
	}
}

// TestResumeChecksWrittenFiles: the files written before the last
// checkpoint are checked when a run resumes (after a kill, or finished): an
// analysis whose arrays are missing, truncated or damaged is done again
// and the folder ends as an uninterrupted run's; a kept checkpoint missing
// or damaged (it cannot be made again without training again) is refused.
func TestResumeChecksWrittenFiles(t *testing.T) {
	tiny := tinyMNIST(t)
	args := []string{"run", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10", "--k", "10",
		"--epochs", "3", "--analyze-at", "1,3", "--suppress", "rank1", "--quiet"}
	ref := t.TempDir()
	if _, se, code := awdEnv(t, []string{tiny}, append(args, "--out", ref)...); code != 0 {
		t.Fatalf("reference: exit %d\n%s", code, se)
	}
	want := fingerprint(t, ref)
	damage := map[string]func(string){
		"delete":   func(p string) { os.Remove(p) },
		"truncate": func(p string) { b, _ := os.ReadFile(p); os.WriteFile(p, b[:len(b)/2], 0o644) },
		"flip": func(p string) {
			b, _ := os.ReadFile(p)
			b[len(b)/3] ^= 0x40
			os.WriteFile(p, b, 0o644)
		},
	}
	for _, kill := range []int{0, 16} { // finished, and killed in epoch 2
		for how, f := range damage {
			for _, name := range []string{"arrays_epoch0001.npz", "arrays_epoch0003.npz", "checkpoints/epoch_0001.npz", "checkpoints/epoch_0003.npz"} {
				if kill > 0 && strings.Contains(name, "0003") {
					continue
				}
				dir := t.TempDir()
				env := []string{tiny}
				if kill > 0 {
					env = append(env, fmt.Sprintf("AWD_FAULT_AT=%d", kill))
				}
				if _, se, code := awdEnv(t, env, append(args, "--out", dir)...); code != map[bool]int{true: 3, false: 0}[kill > 0] {
					t.Fatalf("first run (fault at %d): exit %d\n%s", kill, code, se)
				}
				p := filepath.Join(dir, name)
				if _, err := os.Stat(p); err != nil {
					t.Fatalf("killed at rename %d: no %s to damage", kill, name)
				}
				f(p)
				_, se, code := awdEnv(t, []string{tiny}, append(args, "--out", dir)...)
				if strings.HasPrefix(name, "checkpoints/") {
					if code != 1 || !strings.HasPrefix(se, "awd: ") || strings.Count(se, "\n") != 1 || !strings.Contains(se, filepath.Base(name)) || !strings.Contains(se, "--fresh") {
						t.Errorf("%s %s (fault at %d): exit %d, stderr %q; want one awd: line naming it and --fresh", how, name, kill, code, se)
					}
					continue
				}
				if code != 0 || !strings.Contains(se, name+" is missing or damaged") {
					t.Errorf("%s %s (fault at %d): exit %d\n%s", how, name, kill, code, se)
					continue
				}
				if got := fingerprint(t, dir); !mapsEqual(got, want) {
					t.Errorf("%s %s (fault at %d): the folder differs from an uninterrupted run:\n%s", how, name, kill, mapDiff(got, want))
				}
			}
		}
	}
}

// TestOutIsAFile: an --out that is a file, or lies under one, is refused
// by every command that writes a folder with one line that names the path
// and says to give another --out.
func TestOutIsAFile(t *testing.T) {
	dir := t.TempDir()
	tiny := tinyMNIST(t)
	run := filepath.Join(dir, "run")
	if _, se, code := awdEnv(t, []string{tiny}, "run", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10",
		"--epochs", "1", "--k", "10", "--suppress", "", "--quiet", "--out", run); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, se)
	}
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{file, filepath.Join(file, "sub")} {
		for _, args := range [][]string{
			{"run", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10", "--epochs", "1", "--k", "10", "--quiet"},
			{"train", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10", "--epochs", "1", "--quiet"},
			{"analyze", filepath.Join(run, "final.npz"), "--k", "10", "--quiet"},
			{"plot", filepath.Join(run, "results.json")},
		} {
			_, se, code := awdEnv(t, []string{tiny}, append(args, "--out", out)...)
			if code != 1 || strings.Count(se, "\n") != 1 || !strings.Contains(se, out+" cannot be made or used") || !strings.HasSuffix(se, "; use another --out\n") {
				t.Errorf("awd %s --out %s: exit %d, stderr %q; want one line naming the path and ending \"; use another --out\"", args[0], out, code, se)
			}
		}
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "mine\n" {
		t.Errorf("the file given as --out changed: %q, %v", b, err)
	}
}

// TestOutNotWritable: an --out whose lock file cannot be opened for
// writing (a read-only folder; here a folder in the lock file's place,
// which root's tests can make where they cannot make a folder read-only)
// is refused by every command with one line that names the folder and
// says to give another --out.
func TestOutNotWritable(t *testing.T) {
	dir := t.TempDir()
	tiny := tinyMNIST(t)
	run := filepath.Join(dir, "run")
	if _, se, code := awdEnv(t, []string{tiny}, "run", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10",
		"--epochs", "1", "--k", "10", "--suppress", "", "--quiet", "--out", run); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, se)
	}
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(filepath.Join(out, ".awd.lock"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"run", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10", "--epochs", "1", "--k", "10", "--quiet"},
		{"train", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10", "--epochs", "1", "--quiet"},
		{"analyze", filepath.Join(run, "final.npz"), "--k", "10", "--quiet"},
	} {
		_, se, code := awdEnv(t, []string{tiny}, append(args, "--out", out)...)
		if code != 1 || strings.Count(se, "\n") != 1 || !strings.Contains(se, out+" cannot be written") || !strings.HasSuffix(se, "; use another --out\n") {
			t.Errorf("awd %s --out %s: exit %d, stderr %q; want one line naming the folder and ending \"; use another --out\"", args[0], out, code, se)
		}
	}
}

// TestResumeRefusesChangedReport: a finished run's results.json in which a
// damaged byte left valid JSON with another gamma is refused by the resume
// (which would keep the wrong number and call the run finished) and by
// awd table, each with one line naming the file.
func TestResumeRefusesChangedReport(t *testing.T) {
	tiny := tinyMNIST(t)
	dir := t.TempDir()
	args := []string{"run", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10", "--k", "10",
		"--epochs", "2", "--analyze-at", "2", "--suppress", "none", "--quiet", "--out", dir}
	if _, se, code := awdEnv(t, []string{tiny}, args...); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, se)
	}
	p := filepath.Join(dir, "results.json")
	b, _ := os.ReadFile(p)
	i := bytes.Index(b, []byte(`"gamma": `))
	if i < 0 {
		t.Fatalf("no gamma in %s", p)
	}
	i += len(`"gamma": `)
	if b[i] == '1' {
		b[i] = '2'
	} else {
		b[i] = '1'
	}
	os.WriteFile(p, b, 0o644)
	if _, err := awd.ReadReport(p); err == nil {
		t.Fatalf("the changed %s still reads", p)
	}
	for name, cmd := range map[string][]string{"resume": args, "table": {"table", p}} {
		_, se, code := awdEnv(t, []string{tiny}, cmd...)
		if code != 1 || !strings.HasPrefix(se, "awd: ") || strings.Count(se, "\n") != 1 || !strings.Contains(se, p) || !strings.Contains(se, "content_sha256") {
			t.Errorf("%s: exit %d, stderr %q; want one awd: line naming %s and its content_sha256", name, code, se, p)
		}
		// The resume is the command that wrote the file: it says --fresh,
		// not to run itself again.
		if again := strings.Contains(se, "run the command that wrote it again"); again == (name == "resume") {
			t.Errorf("%s: stderr %q: 'run the command that wrote it again' said %v", name, se, again)
		}
	}
}

// TestResumeWithoutCheckpointJSON: a run folder whose checkpoint lost its
// JSON (the record of the run and epoch it belongs to) is refused with a
// line that says so, not that another run wrote the checkpoint.
func TestResumeWithoutCheckpointJSON(t *testing.T) {
	tiny := tinyMNIST(t)
	dir := t.TempDir()
	args := []string{"run", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10", "--k", "10",
		"--epochs", "2", "--analyze-at", "2", "--suppress", "none", "--quiet", "--out", dir}
	if _, se, code := awdEnv(t, []string{tiny}, args...); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, se)
	}
	for _, name := range []string{"last", "epoch_0002"} {
		p := filepath.Join(dir, "checkpoints", name+".json")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(p)
		_, se, code := awdEnv(t, []string{tiny}, args...)
		want := fmt.Sprintf("checkpoints/%s.npz has no checkpoints/%s.json beside it", name, name)
		if code != 1 || strings.Count(se, "\n") != 1 || !strings.Contains(se, want) || !strings.Contains(se, "--fresh") || strings.Contains(se, "another run") {
			t.Errorf("without %s: exit %d, stderr %q; want one line saying %q and --fresh", p, code, se, want)
		}
		os.WriteFile(p, b, 0o644)
	}
}

// TestResumeWithoutLastCheckpoint: a finished run whose checkpoints/last.npz
// was removed trains again from epoch 0 and says so (it used to repeat
// all the training without a word), ending with the same results.
func TestResumeWithoutLastCheckpoint(t *testing.T) {
	tiny := tinyMNIST(t)
	dir := t.TempDir()
	args := []string{"run", "--classes", "3", "--per-class", "30", "--widths", "6,6", "--batch", "10", "--k", "10",
		"--epochs", "2", "--analyze-at", "2", "--suppress", "none", "--quiet", "--out", dir}
	if _, se, code := awdEnv(t, []string{tiny}, args...); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, se)
	}
	want, err := awd.ReadReport(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	last := filepath.Join(dir, "checkpoints", "last.npz")
	os.Remove(last)
	os.Remove(strings.TrimSuffix(last, ".npz") + ".json")
	_, se, code := awdEnv(t, []string{tiny}, args...)
	if code != 0 || !strings.Contains(se, last+" is missing though") || !strings.Contains(se, "records training to epoch 2: training again from epoch 0") {
		t.Fatalf("resume without last.npz: exit %d, stderr %q; want a line saying it trains again from epoch 0", code, se)
	}
	got, err := awd.ReadReport(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Training) != 2 || len(got.Checkpoints) != 1 ||
		got.Checkpoints[0].Analysis.Fits[awd.NameC].Gamma != want.Checkpoints[0].Analysis.Fits[awd.NameC].Gamma {
		t.Errorf("after training again: %d epochs logged, %d analyses; want 2 and 1 with the same gamma", len(got.Training), len(got.Checkpoints))
	}
}
