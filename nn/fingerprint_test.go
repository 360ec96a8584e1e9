package nn

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestFingerprint: the fingerprint depends on the data sets' content only:
// a copy agrees, and one input value, one label, the subset's indices, the
// order of the sets or a missing set change it.
func TestFingerprint(t *testing.T) {
	mk := func() (*Dataset, *Dataset) {
		a := &Dataset{Name: "a", N: 3, C: 1, H: 1, W: 2, X: []float32{1, 2, 3, 4, 5, 6}, Y: []int{0, 1, 0}, Classes: 2, Index: []int{4, 7, 9}}
		b := &Dataset{Name: "b", N: 1, C: 1, H: 1, W: 2, X: []float32{7, 8}, Y: []int{1}, Classes: 2}
		return a, b
	}
	a, b := mk()
	ref := Fingerprint(a, b)
	if len(ref) != 64 {
		t.Fatalf("fingerprint %q is not a hex SHA-256", ref)
	}
	if got := Fingerprint(mk()); got != ref {
		t.Errorf("a copy: %s, want %s", got, ref)
	}
	changes := map[string]func(a, b *Dataset) []*Dataset{
		"one input":  func(a, b *Dataset) []*Dataset { a.X[4] = 5.0000005; return []*Dataset{a, b} },
		"one label":  func(a, b *Dataset) []*Dataset { b.Y[0] = 0; return []*Dataset{a, b} },
		"an index":   func(a, b *Dataset) []*Dataset { a.Index[1] = 8; return []*Dataset{a, b} },
		"order":      func(a, b *Dataset) []*Dataset { return []*Dataset{b, a} },
		"nil second": func(a, b *Dataset) []*Dataset { return []*Dataset{a, nil} },
	}
	for name, f := range changes {
		a, b := mk()
		if got := Fingerprint(f(a, b)...); got == ref {
			t.Errorf("%s changed: the fingerprint did not", name)
		}
	}
}

// TestDataSpecRecordsFolder: Normalized records the folder a run reads:
// absolute and clean whatever the spelling, taken from the data set's
// environment variable when no folder is given, and the default place
// ("") otherwise.
func TestDataSpecRecordsFolder(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	spec := DataSpec{Name: "mnist", Classes: []int{0, 1}}
	for _, dir := range []string{"tiny", "./tiny/", wd + "/x/../tiny"} {
		s := spec
		s.Dir = dir
		got, err := s.Normalized()
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(wd, "tiny"); got.Dir != want {
			t.Errorf("dir %q recorded as %q, want %q", dir, got.Dir, want)
		}
	}
	t.Setenv("AWD_MNIST_DIR", "env")
	t.Setenv("AWD_FASHION_DIR", "")
	if got, _ := spec.Normalized(); got.Dir != filepath.Join(wd, "env") {
		t.Errorf("with $AWD_MNIST_DIR=env: dir %q, want %q", got.Dir, filepath.Join(wd, "env"))
	}
	f := spec
	f.Name = "fashion"
	if got, _ := f.Normalized(); got.Dir != "" {
		t.Errorf("fashion without a folder or $AWD_FASHION_DIR: dir %q, want the default place", got.Dir)
	}
}

// TestEnvFolderNamed: a data folder taken from the environment that cannot
// be read is named as the variable's.
func TestEnvFolderNamed(t *testing.T) {
	t.Setenv("AWD_MNIST_DIR", filepath.Join(t.TempDir(), "nowhere"))
	_, err := DataSpec{Name: "mnist", Classes: []int{0, 1}}.LoadTrain()
	if err == nil || !strings.Contains(err.Error(), "$AWD_MNIST_DIR") {
		t.Errorf("%v, want the variable named", err)
	}
}
