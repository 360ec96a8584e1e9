package nn

import (
	"os"
	"path/filepath"
	"slices"
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

// TestDataSource: the training subset carries the hash of the whole
// training set it was drawn from (Dataset.Source): the same for two draws
// (other seeds, other sizes) of the same files, also from a folder they
// moved to and without the test split (LoadTrain), whose own hashes
// differ; other for a folder whose training files differ in one label.
func TestDataSource(t *testing.T) {
	write := func(dir string, img, lab []byte) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range map[string][]byte{"train-images-idx3-ubyte": img, "train-labels-idx1-ubyte": lab,
			"t10k-images-idx3-ubyte": img, "t10k-labels-idx1-ubyte": lab} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	img, lab := tinyIDX(60)
	own, moved, other := filepath.Join(t.TempDir(), "own"), filepath.Join(t.TempDir(), "moved"), filepath.Join(t.TempDir(), "other")
	write(own, img, lab)
	write(moved, img, lab)
	altered := slices.Clone(lab)
	altered[len(altered)-1] = (altered[len(altered)-1] + 1) % 10
	write(other, img, altered)
	load := func(dir string, seed uint64, perClass int, withTest bool) *Dataset {
		t.Helper()
		s := DataSpec{Name: "mnist", Dir: dir, Classes: FirstClasses(3), PerClass: perClass, Seed: seed}
		var train *Dataset
		var err error
		if withTest {
			train, _, err = s.Load()
		} else {
			train, err = s.LoadTrain()
		}
		if err != nil {
			t.Fatal(err)
		}
		return train
	}
	a, b := load(own, 1, 3, true), load(own, 2, 3, true)
	if a.Source() == "" || len(a.Source()) != 64 {
		t.Fatalf("source %q is not a hex SHA-256", a.Source())
	}
	if DataSHA256(a) == DataSHA256(b) {
		t.Fatalf("data seeds 1 and 2 drew the same subset: the test does not tell the source from the subset")
	}
	for name, d := range map[string]*Dataset{"data seed 2": b, "moved": load(moved, 3, 3, true), "4 per class": load(own, 1, 4, true),
		"no test split": load(own, 2, 3, false)} {
		if d.Source() != a.Source() {
			t.Errorf("%s: source %.12s, want %.12s (the same files)", name, d.Source(), a.Source())
		}
	}
	if c := load(other, 1, 3, true); c.Source() == a.Source() {
		t.Errorf("training files with another label: source %.12s, as the original's", c.Source())
	}
}

// TestDataSHA256MalformedIndex: a data set whose Index is shorter or
// longer than its labels (one that Check refuses) hashes without a
// panic, and the two hash apart from each other and from the well-formed
// set.
func TestDataSHA256MalformedIndex(t *testing.T) {
	mk := func(index []int) *Dataset {
		return &Dataset{Name: "a", N: 3, C: 1, H: 1, W: 2, X: []float32{1, 2, 3, 4, 5, 6}, Y: []int{0, 1, 0}, Classes: 2, Index: index}
	}
	seen := map[string]string{}
	for name, index := range map[string][]int{"whole": {4, 7, 9}, "short": {4, 7}, "long": {4, 7, 9, 11}, "empty": {}} {
		var h string
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s index: DataSHA256 panics: %v", name, p)
				}
			}()
			h = DataSHA256(mk(index))
		}()
		if other, ok := seen[h]; ok && h != "" {
			t.Errorf("%s and %s index hash alike", name, other)
		}
		seen[h] = name
	}
}
