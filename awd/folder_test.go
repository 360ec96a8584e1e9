package awd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
