package nn

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/internal/npyhead"
)

// withHeader rewrites the .npy header of entry in the npz file src as
// dict (the data unchanged) and returns the new file's path.
func withHeader(t *testing.T, src, entry, dict string) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == entry {
			_, pre, err := npyhead.Read(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			// Version 1.0: magic, version, 2-byte length, the dict padded
			// with spaces to a multiple of 64 bytes, ending in a newline.
			h := dict
			for (10+len(h)+1)%64 != 0 {
				h += " "
			}
			h += "\n"
			var nb bytes.Buffer
			nb.WriteString("\x93NUMPY\x01\x00")
			binary.Write(&nb, binary.LittleEndian, uint16(len(h)))
			nb.WriteString(h)
			nb.Write(b[pre:])
			b = nb.Bytes()
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "edited.npz")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestNPYHeaderLayouts: headers that are valid .npy but not laid out as
// numpy writes them (no trailing comma, keys in another order, a 0-d shape
// without the comma) are refused with a message saying so; npyio's parser
// read a wrong shape from the first and panicked on the last. The numpy
// layout itself, rewritten the same way, loads.
func TestNPYHeaderLayouts(t *testing.T) {
	m := testModels(t)["mlp"]
	src := filepath.Join(t.TempDir(), "m.npz")
	if err := SaveCheckpoint(src, m, CheckpointMeta{}); err != nil {
		t.Fatal(err)
	}
	w := m.Params()[len(m.Params())-1]
	if len(w.Shape) != 2 {
		t.Fatalf("%s has shape %v, want a matrix", w.Name, w.Shape)
	}
	name := w.Name + ".npy"
	shape := "(" + strconv.Itoa(w.Shape[0]) + ", " + strconv.Itoa(w.Shape[1]) + ")"
	ok := withHeader(t, src, name, "{'descr': '<f4', 'fortran_order': False, 'shape': "+shape+", }")
	if _, _, err := LoadCheckpoint(ok); err != nil {
		t.Fatalf("numpy's layout: %v", err)
	}
	for what, dict := range map[string]string{
		"no trailing comma": "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + "}",
		"another key order": "{'shape': " + shape + ", 'fortran_order': False, 'descr': '<f4', }",
		"0-d, no comma":     "{'descr': '<f4', 'fortran_order': False, 'shape': ()}",
	} {
		_, _, err := LoadCheckpoint(withHeader(t, src, name, dict))
		if err == nil || !strings.Contains(err.Error(), "not laid out as numpy writes it") || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", what, err)
		}
	}
}

// TestCheckpointThroughLink: a link to a checkpoint reads the JSON beside
// its target (it was read as a bare PyTorch checkpoint without one, and
// awd analyze then took another subset of the data).
func TestCheckpointThroughLink(t *testing.T) {
	m := testModels(t)["mlp"]
	dir, other := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "final.npz")
	if err := SaveCheckpoint(path, m, CheckpointMeta{Epoch: 7, Layer: "fc1"}); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(other, "ck.npz")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	_, meta, err := LoadCheckpoint(link)
	if err != nil || meta == nil || meta.Epoch != 7 || meta.Layer != "fc1" {
		t.Fatalf("through a link: meta %+v, err %v", meta, err)
	}
}
