package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestFailedWriteKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	if err := WriteBytes(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(p, func(w io.Writer) error {
		io.WriteString(w, "half of the new")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("error %v, want one wrapping %v", err, boom)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("a failed write changed the file to %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestWriteReplacesAndIsReadable(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, s := range []string{"one", "two"} {
		if err := WriteBytes(p, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != s {
			t.Errorf("read %q, want %q", b, s)
		}
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want 0644", fi.Mode(), err)
	}
	if err := WriteBytes(filepath.Join(dir, "missing", "f"), nil); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}

func TestRemoveTemporaries(t *testing.T) {
	dir := t.TempDir()
	// A temporary file of a killed writer, named as Write names it.
	f, err := os.CreateTemp(dir, ".results.json.tmp*")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	keep := []string{"results.json", ".hidden", ".notes.tmp", ".notes.tmpx1", "x.tmp123", ".job.json.tmp42"}
	for _, n := range keep {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	RemoveTemporaries(dir, func(n string) bool { return n == ".job.json.tmp42" })
	if _, err := os.Stat(f.Name()); err == nil {
		t.Errorf("%s was not removed", f.Name())
	}
	for _, n := range keep {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed", n)
		}
	}
}

// TestMissingFolderNamed: a write into a folder that does not exist names
// the path asked for and the folder, not the temporary file.
func TestMissingFolderNamed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	path := filepath.Join(dir, "a.bin")
	err := WriteBytes(path, []byte("x"))
	if err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || !strings.Contains(msg, "create a file in "+dir) || strings.Contains(msg, ".tmp") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %q", msg)
	}
}

// TestNoRoom: a write that finds the device full names the file and its
// folder, says what to do, and not the temporary file's name; the old file
// is kept.
func TestNoRoom(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "results.json")
	if err := WriteBytes(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		err := Write(p, func(w io.Writer) error {
			f := w.(*os.File)
			return fmt.Errorf("npz: could not close npz archive: %w", &os.PathError{Op: "write", Path: f.Name(), Err: errno})
		})
		if !errors.Is(err, errno) {
			t.Errorf("%v: error %v does not wrap it", errno, err)
		}
		msg := fmt.Sprint(err)
		if !strings.Contains(msg, p) || !strings.Contains(msg, "in "+dir+": free space there") || strings.Contains(msg, ".tmp") {
			t.Errorf("%v: message %q, want one naming %s and its folder, saying to free space, without the temporary file", errno, msg, p)
		}
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("a write into a full device changed the file to %q", b)
	}
}
