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
