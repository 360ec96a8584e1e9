package awd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/nn"
)

// TestOpenFolderEmptyPath: an empty output path is refused with a message
// that says so (os.MkdirAll's "mkdir : no such file or directory" did not),
// and nothing is written in the working directory.
func TestOpenFolderEmptyPath(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	f, err := OpenFolder("", "run", map[string]int{"k": 1}, false)
	if err == nil {
		f.Close()
		t.Fatal("OpenFolder(\"\") succeeded")
	}
	if !strings.Contains(err.Error(), "no path") {
		t.Errorf("error %q does not say the path is missing", err)
	}
	if entries, _ := os.ReadDir(wd); len(entries) != 0 {
		t.Errorf("wrote %v in the working directory", entries)
	}
	// A real path still works.
	f, err = OpenFolder(filepath.Join(wd, "out"), "run", map[string]int{"k": 1}, false)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestFolderChecksDataByContent: the folder of the data (data.dir) is not
// a setting of the run (a run whose data moved resumes), its content is:
// CheckData records the fingerprint in the owner file and refuses another.
func TestFolderChecksDataByContent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	cfg := func(dataDir string) any {
		return map[string]any{"seed": 1, "data": map[string]any{"name": "mnist", "dir": dataDir}}
	}
	f, err := OpenFolder(dir, "run", cfg("/data/a"), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.CheckData("fp1"); err != nil {
		t.Fatal(err)
	}
	didWork(t, dir)
	f.Close()
	b, _ := os.ReadFile(filepath.Join(dir, OwnerFile))
	if !strings.Contains(string(b), `"data_sha256": "fp1"`) {
		t.Errorf("owner file does not record the fingerprint:\n%s", b)
	}
	f, err = OpenFolder(dir, "run", cfg("/elsewhere/a"), false)
	if err != nil {
		t.Fatalf("the data moved: %v", err)
	}
	if err := f.CheckData("fp1"); err != nil {
		t.Errorf("same data, another folder: %v", err)
	}
	err = f.CheckData("fp2")
	if err == nil || !strings.Contains(err.Error(), "other data") {
		t.Errorf("other data: %v", err)
	}
	f.Close()
	// Another setting still counts.
	if _, err := OpenFolder(dir, "run", map[string]any{"seed": 2, "data": map[string]any{"name": "mnist"}}, false); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("another seed: %v", err)
	}
}

// didWork writes into the folder dir a file of its owner's work (a
// training log): a folder without one binds no later start.
func didWork(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte("{\"epoch\":1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFolderMessagesRead: the refusals name the folder's command with the
// right article for every command.
func TestFolderMessagesRead(t *testing.T) {
	for _, c := range []struct{ command, want string }{
		{"analyze", "an analyze"}, {"reduce", "a reduce"}, {"run", "a run"}, {"train", "a train"},
	} {
		dir := filepath.Join(t.TempDir(), "out")
		f, err := OpenFolder(dir, c.command, map[string]int{"k": 1}, false)
		if err != nil {
			t.Fatal(err)
		}
		f.CheckData("fp1")
		didWork(t, dir)
		if err := f.CheckData("fp2"); err == nil || !strings.Contains(err.Error(), " holds "+c.want+" of other data") {
			t.Errorf("%s, other data: %v", c.command, err)
		}
		f.Close()
		_, err = OpenFolder(dir, c.command, map[string]int{"k": 2}, false)
		if err == nil || !strings.Contains(err.Error(), " holds "+c.want+" with other settings (k: 1 here, 2 asked)") {
			t.Errorf("%s, other settings: %v", c.command, err)
		}
	}
}

// TestFolderOtherSettingsSayTheDefault: a setting that one config leaves
// out, or sets to null, is at its default, and the refusal says so (for a
// flag, false; for a list or object, none) instead of JSON's null, in both
// directions; absent and null are still the same setting.
func TestFolderOtherSettingsSayTheDefault(t *testing.T) {
	for _, c := range []struct {
		here, asked, want string
	}{
		{`{"data":{"name":"cifar10"}}`, `{"data":{"name":"cifar10","cifar_std":"data"}}`, `data.cifar_std: not set (the default) here, "data" asked`},
		{`{"data":{"name":"cifar10","cifar_std":"data"}}`, `{"data":{"name":"cifar10"}}`, `data.cifar_std: "data" here, not set (the default) asked`},
		{`{"mf":{"tol":0}}`, `{"mf":{"tol":0,"jacobian_float32":true}}`, `mf.jacobian_float32: false (the default) here, true asked`},
		{`{"mf":{"jacobian_float32":true}}`, `{"mf":{"jacobian_float32":null}}`, `mf.jacobian_float32: true here, false (the default) asked`},
		{`{"seed":1}`, `{"seed":1,"analysis":{"k":3}}`, `analysis: none here, {"k":3} asked`},
		{`{"checkpoints":[1,2]}`, `{}`, `checkpoints: [1,2] here, none asked`},
		{`{"k":null}`, `{}`, ``},
	} {
		if got := jsonDiff([]byte(c.here), []byte(c.asked)); got != c.want {
			t.Errorf("%s vs %s: %q, want %q", c.here, c.asked, got, c.want)
		}
	}
}

// TestSayRemedyWhereWrapped: SayRemedy says the remedy where the chain
// wraps the FolderError, also when its text appears twice in the message
// (wrapped twice, or quoted by a wrapper besides), and says it again over
// a remedy said before; errors.Is still sees the FolderError.
func TestSayRemedyWhereWrapped(t *testing.T) {
	fe := &FolderError{Err: errors.New("out holds a run with other settings (k: 1 here, 2 asked)"), Remedy: SameSettings}
	lib, front := fe.Err.Error()+"; "+SameSettings.String(), fe.Err.Error()+"; use the same flags"
	say := func(Remedy) string { return "use the same flags" }
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"wrapped-twice", fmt.Errorf("%w; again: %w", fe, fe), front + "; again: " + front},
		{"quoted-then-wrapped", fmt.Errorf("open %v: %w", fe, fe), "open " + lib + ": " + front},
		{"wrapped-then-quoted", fmt.Errorf("%w (first try: %v)", fe, fe), front + " (first try: " + lib + ")"},
		{"joined", errors.Join(errors.New("sweep job 1"), fmt.Errorf("job 2: %w", fe), fmt.Errorf("job 3: %w", fe)), "sweep job 1\njob 2: " + front + "\njob 3: " + front},
		{"said-before", fmt.Errorf("outer: %w", SayRemedy(fmt.Errorf("inner: %w", fe), func(Remedy) string { return "run reset" })), "outer: inner: " + front},
	} {
		t.Run(c.name, func(t *testing.T) {
			said := SayRemedy(c.err, say)
			if said.Error() != c.want || !errors.Is(said, fe) {
				t.Errorf("SayRemedy gives\n%q\nwant\n%q", said.Error(), c.want)
			}
		})
	}
}

// TestFolderErrorsSayRemedies: every refusal of a folder is a FolderError
// whose Remedy says what can be done, in the library's terms (no flag of
// the command line), and SayRemedy says it in a front end's own terms
// through whatever wraps the error.
func TestFolderErrorsSayRemedies(t *testing.T) {
	check := func(what string, err error, want Remedy) {
		t.Helper()
		var fe *FolderError
		if !errors.As(err, &fe) || fe.Remedy != want {
			t.Errorf("%s: %v, want a FolderError with remedy %v", what, err, want)
			return
		}
		if msg := err.Error(); strings.Contains(msg, "--") || !strings.HasSuffix(msg, "; "+want.String()) {
			t.Errorf("%s: %q does not end with the library's remedy %q", what, msg, want)
		}
		said := SayRemedy(fmt.Errorf("wrapped: %w", err), func(r Remedy) string { return fmt.Sprintf("front end's remedy %d", int(r)) })
		if msg := said.Error(); msg != "wrapped: "+fe.Err.Error()+fmt.Sprintf("; front end's remedy %d", int(want)) || !errors.Is(said, err) {
			t.Errorf("%s: SayRemedy gives %q", what, msg)
		}
	}
	cfg := map[string]int{"k": 1}
	dir := filepath.Join(t.TempDir(), "out")
	f, err := OpenFolder(dir, "run", cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	f.CheckData("fp1")
	didWork(t, dir)
	check("other data", f.CheckData("fp2"), SameData)
	if lockingFolders {
		_, err = OpenFolder(dir, "run", cfg, false)
		check("held by another", err, Wait)
		if !errors.Is(err, ErrFolderBusy) {
			t.Errorf("held by another: %v does not wrap ErrFolderBusy", err)
		}
	}
	f.Close()
	_, err = OpenFolder(dir, "run", map[string]int{"k": 2}, false)
	check("other settings", err, SameSettings)
	_, err = OpenFolder(dir, "train", cfg, false)
	check("another command", err, OtherFolder)
	os.WriteFile(filepath.Join(dir, "final.npz"), []byte("x"), 0o644)
	_, err = OpenFolder(dir, "run", cfg, true, filepath.Join(dir, "final.npz"))
	check("an input removed", err, NewFolder)
	os.WriteFile(filepath.Join(dir, OwnerFile), []byte("{"), 0o644)
	_, err = OpenFolder(dir, "run", cfg, false)
	check("a damaged owner file", err, StartOver)
	os.Remove(filepath.Join(dir, OwnerFile))
	_, err = OpenFolder(dir, "run", cfg, false)
	check("files without an owner", err, OtherFolder)
	sw := filepath.Join(t.TempDir(), "sweep")
	os.MkdirAll(sw, 0o755)
	os.WriteFile(filepath.Join(sw, SweepManifest), []byte("{}"), 0o644)
	for _, fresh := range []bool{false, true} {
		_, err = OpenFolder(sw, "run", cfg, fresh)
		check(fmt.Sprintf("a sweep's folder (fresh %v)", fresh), err, NewFolder)
	}
	if SayRemedy(nil, Remedy.String) != nil {
		t.Error("SayRemedy(nil) is not nil")
	}

	// Run's refusal of a folder it cannot resume (a damaged report).
	run := RunConfig{
		Data:  nn.DataSpec{Name: "mnist", Classes: []int{0, 1}, PerClass: 20, Seed: 1},
		Model: nn.ModelSpec{Kind: "mlp", Widths: []int{4}},
		Seed:  1,
		Train: nn.TrainConfig{Loss: nn.CE, Epochs: 1, Batch: 10, LR: 0.1, TMax: 500, ClipNorm: 5},
	}
	dir = filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), run, dir, RunOptions{Command: "train"}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "results.json"), []byte("{"), 0o644)
	_, err = Run(context.Background(), run, dir, RunOptions{Command: "train"})
	check("a damaged report", err, StartOver)
	// A folder of the user's where the run writes a file: a fresh start
	// keeps it, so it cannot be the remedy.
	dir = filepath.Join(t.TempDir(), "run")
	os.MkdirAll(filepath.Join(dir, "results.json"), 0o755)
	for _, fresh := range []bool{false, true} {
		_, err = Run(context.Background(), run, dir, RunOptions{Command: "train", Fresh: fresh})
		check(fmt.Sprintf("a folder named results.json (fresh %v)", fresh), err, NewFolder)
	}
}

// TestFolderWithoutWorkBindsNobody: a folder whose owner has written
// nothing but its owner file (a start refused or killed before its first
// file) is taken over by another command, other settings or other data as
// a new folder; one that holds any work (a checkpoint, even half renamed,
// a log, a report) still refuses them, and a user's file is no work.
func TestFolderWithoutWorkBindsNobody(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	open := func(command string, k int) (*Folder, error) {
		return OpenFolder(dir, command, map[string]int{"k": k}, false)
	}
	f, err := open("train", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.CheckData("fp1"); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(f.Path("checkpoints"), 0o755)
	os.WriteFile(f.Path("notes.txt"), []byte("mine"), 0o644)
	id := f.Owner.RunID
	f.Close()
	for _, c := range []struct {
		command string
		k       int
		data    string
	}{{"train", 2, "fp2"}, {"run", 3, "fp3"}} {
		f, err := open(c.command, c.k)
		if err != nil {
			t.Fatalf("%s k=%d in a folder without work: %v", c.command, c.k, err)
		}
		if f.Owner.RunID == id || f.Owner.Command != c.command || f.Owner.Data != "" || jsonDiff(f.Owner.Config, fmt.Appendf(nil, `{"k":%d}`, c.k)) != "" {
			t.Errorf("%s k=%d: the folder was not taken over as new: %+v", c.command, c.k, f.Owner)
		}
		if err := f.CheckData("fp1"); err != nil {
			t.Fatal(err)
		}
		if err := f.CheckData(c.data); err != nil {
			t.Errorf("%s k=%d: other data in a folder without work: %v", c.command, c.k, err)
		}
		id = f.Owner.RunID
		f.Close()
		if o := readOwner(t, dir); o.Data != c.data || o.RunID != id {
			t.Errorf("%s k=%d: owner file %+v, want data %s and run id %s", c.command, c.k, o, c.data, id)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "notes.txt")); err != nil || string(b) != "mine" {
		t.Errorf("taking the folder over touched a user's file (%q, %v)", b, err)
	}

	for _, work := range []string{"metrics.jsonl", "results.json", filepath.Join("checkpoints", "last.next.npz")} {
		os.WriteFile(filepath.Join(dir, work), []byte("x"), 0o644)
		var fe *FolderError
		if f, err := open("run", 4); !errors.As(err, &fe) || fe.Remedy != SameSettings {
			t.Errorf("other settings in a folder with %s: %v, want them refused", work, err)
			if err == nil {
				f.Close()
			}
		}
		f, err := open("run", 3)
		if err != nil {
			t.Fatalf("the same settings in a folder with %s: %v", work, err)
		}
		if err := f.CheckData("fp4"); !errors.As(err, &fe) || fe.Remedy != SameData {
			t.Errorf("other data in a folder with %s: %v, want them refused", work, err)
		}
		f.Close()
		os.Remove(filepath.Join(dir, work))
	}
}

// TestRunFolderWithoutWork: a run folder that a start claimed and left
// without training (its owner file only) takes a run of other settings and
// data; once an epoch is trained, other settings are refused.
func TestRunFolderWithoutWork(t *testing.T) {
	run := RunConfig{
		Data:  nn.DataSpec{Name: "mnist", Classes: []int{0, 1}, PerClass: 20, Seed: 1},
		Model: nn.ModelSpec{Kind: "mlp", Widths: []int{4}},
		Seed:  1,
		Train: nn.TrainConfig{Loss: nn.CE, Epochs: 1, Batch: 10, LR: 0.1, TMax: 500, ClipNorm: 5},
	}
	other := run
	other.Seed, other.Data.Classes = 2, []int{3, 4}
	dir := filepath.Join(t.TempDir(), "run")
	// What a start refused or killed before its first epoch left.
	f, err := OpenFolder(dir, "train", run, false)
	if err != nil {
		t.Fatal(err)
	}
	f.CheckData("the fingerprint of other data")
	os.MkdirAll(f.Path("checkpoints"), 0o755)
	f.Close()
	if _, err := Run(context.Background(), other, dir, RunOptions{Command: "train"}); err != nil {
		t.Fatalf("a run in a folder without work: %v", err)
	}
	var fe *FolderError
	if _, err := Run(context.Background(), run, dir, RunOptions{Command: "train"}); !errors.As(err, &fe) || fe.Remedy != SameSettings || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("other settings after a trained epoch: %v, want them refused", err)
	}
}

// readOwner reads the owner file of dir.
func readOwner(t *testing.T, dir string) Owner {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, OwnerFile))
	if err != nil {
		t.Fatal(err)
	}
	var o Owner
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestFreshRemovesPlottedFigures: a fresh start removes the figures of
// the run's folder and figures/ itself with the lock file awd plot left
// there; a figures/ that a plot holds stays, with its lock.
func TestFreshRemovesPlottedFigures(t *testing.T) {
	dir := t.TempDir()
	figs := filepath.Join(dir, "figures")
	plotted := func() {
		t.Helper()
		f, err := OpenFolder(dir, "run", map[string]int{"k": 1}, false)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		os.WriteFile(filepath.Join(dir, "results.json"), []byte("{}"), 0o644)
		os.MkdirAll(figs, 0o755)
		os.WriteFile(filepath.Join(figs, "powerlaw_e0001.png"), nil, 0o644)
		lock, err := LockFolder(figs, "plot")
		if err != nil {
			t.Fatal(err)
		}
		lock.Unlock()
	}
	plotted()
	f, err := OpenFolder(dir, "run", map[string]int{"k": 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := os.Stat(figs); !errors.Is(err, os.ErrNotExist) {
		entries, _ := os.ReadDir(figs)
		t.Errorf("after a fresh start figures/ is still there (%v), holding %v", err, entries)
	}

	plotted()
	lock, err := LockFolder(figs, "plot")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	f, err = OpenFolder(dir, "run", map[string]int{"k": 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := os.Stat(filepath.Join(figs, lockFile)); err != nil {
		t.Errorf("a fresh start removed the lock of a plot in progress: %v", err)
	}
}
