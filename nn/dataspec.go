package nn

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// DataSpec describes the data of a run: a data set, the balanced subset of
// it that is trained on and analysed, and the output head. It is what every
// checkpoint records, so a checkpoint can be analysed on its own data again.
type DataSpec struct {
	Name string `json:"name"` // "mnist", "fashion" or "cifar10"
	// Dir is the folder of the data files; "" takes the default location
	// (see Load). Normalized makes it absolute and fills it in from the
	// data set's environment variable ($AWD_MNIST_DIR, $AWD_FASHION_DIR,
	// $AWD_CIFAR10_DIR) when that is set, so that a run records the folder
	// it read. It is not part of a run's identity (folders move between
	// machines): the content of the data is, see Fingerprint.
	Dir      string `json:"dir,omitempty"`
	Classes  []int  `json:"classes"`   // the K classes of the subset
	PerClass int    `json:"per_class"` // P samples of each class; 0 takes all
	// Head is the number of logits: 0 for one per class of the data set
	// (10, as the paper's code), or K, which relabels classes[i] as i.
	Head int    `json:"head"`
	Seed uint64 `json:"seed"` // seed of the subset draw
	// CIFARStd is the per-channel std CIFAR-10 is standardised with:
	// "" or CIFARStdCode (the paper code's, CIFARStd), or CIFARStdOfData
	// (the training set's own, CIFARStdData).
	CIFARStd string `json:"cifar_std,omitempty"`
}

// CIFAR-10 standardisations (DataSpec.CIFARStd).
const (
	CIFARStdCode   = "code"
	CIFARStdOfData = "data"
)

// DataSets are the names Load knows, with the aliases ParseDataName accepts.
var DataSets = []string{"mnist", "fashion", "cifar10"}

// DataDirEnv names, for each data set, the environment variable that gives
// its folder when DataSpec.Dir is empty.
var DataDirEnv = map[string]string{"mnist": "AWD_MNIST_DIR", "fashion": "AWD_FASHION_DIR", "cifar10": "AWD_CIFAR10_DIR"}

// DataClasses is the number of classes of every supported data set.
const DataClasses = 10

// ParseDataName returns the canonical name of a data set: "mnist",
// "fashion" (also "fashion-mnist", "fashionmnist") or "cifar10" (also
// "cifar-10", "cifar"), case-insensitive.
func ParseDataName(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "mnist":
		return "mnist", nil
	case "fashion", "fashion-mnist", "fashionmnist":
		return "fashion", nil
	case "cifar10", "cifar-10", "cifar":
		return "cifar10", nil
	}
	return "", fmt.Errorf("unknown data set %q (known: %s)", s, strings.Join(DataSets, ", "))
}

// FirstClasses returns the classes 0..k-1.
func FirstClasses(k int) []int {
	c := make([]int, max(k, 0))
	for i := range c {
		c[i] = i
	}
	return c
}

// Normalized checks s and returns it with the canonical data-set name and
// the classes sorted. It needs at least 2 distinct classes among
// 0..DataClasses-1, PerClass >= 0 and Head 0 or K.
func (s DataSpec) Normalized() (DataSpec, error) {
	name, err := ParseDataName(s.Name)
	if err != nil {
		return s, BadOption("data", s.Name, "%v", err)
	}
	s.Name = name
	if s.Dir == "" {
		s.Dir = os.Getenv(DataDirEnv[name])
	}
	if s.Dir != "" {
		abs, err := filepath.Abs(s.Dir)
		if err != nil {
			return s, BadOption("data-dir", s.Dir, "%v", err)
		}
		s.Dir = abs
	}
	s.Classes = slices.Clone(s.Classes)
	slices.Sort(s.Classes)
	if len(s.Classes) < 2 || len(s.Classes) > DataClasses {
		return s, BadOption("classes", classList(s.Classes), "need 2..%d classes (K, or a list of classes 0..%d)", DataClasses, DataClasses-1)
	}
	for i, c := range s.Classes {
		if c < 0 || c >= DataClasses {
			return s, BadOption("classes", classList(s.Classes), "class %d outside 0..%d", c, DataClasses-1)
		}
		if i > 0 && c == s.Classes[i-1] {
			return s, BadOption("classes", classList(s.Classes), "class %d given twice", c)
		}
	}
	if s.PerClass < 0 {
		return s, BadOption("per-class", s.PerClass, "must be at least 0 (0 takes every sample)")
	}
	if s.Head != 0 && s.Head != len(s.Classes) {
		return s, BadOption("head", s.Head, "must be 0 (one logit per class of the data set) or K = %d", len(s.Classes))
	}
	switch {
	case s.CIFARStd == CIFARStdCode:
		s.CIFARStd = "" // the default, recorded as absent
	case s.CIFARStd != "" && s.CIFARStd != CIFARStdOfData:
		return s, BadOption("cifar-std", s.CIFARStd, "want %s (0.2023, 0.1994, 0.2010, the paper's code) or %s (0.2470, 0.2435, 0.2616, the data's)", CIFARStdCode, CIFARStdOfData)
	case s.CIFARStd != "" && s.Name != "cifar10":
		return s, BadOption("cifar-std", s.CIFARStd, "only for --data cifar10")
	}
	return s, nil
}

// Input returns the C, H, W of one input of the data set.
func (s DataSpec) Input() [3]int {
	if name, _ := ParseDataName(s.Name); name == "cifar10" {
		return [3]int{3, 32, 32}
	}
	return [3]int{1, 28, 28}
}

// Outputs returns the number of logits of the head: Head, or DataClasses.
func (s DataSpec) Outputs() int {
	if s.Head > 0 {
		return s.Head
	}
	return DataClasses
}

// SameData reports whether a and b select the same samples and labels
// (Dir, where the files are, does not matter).
func (s DataSpec) SameData(o DataSpec) bool {
	a, errA := s.Normalized()
	b, errB := o.Normalized()
	return errA == nil && errB == nil && a.Name == b.Name && slices.Equal(a.Classes, b.Classes) &&
		a.PerClass == b.PerClass && a.Head == b.Head && a.Seed == b.Seed && a.CIFARStd == b.CIFARStd
}

// Load reads the data set (LoadMNIST, LoadFashionMNIST or LoadCIFAR10 from
// s.Dir) and returns the balanced training subset of Subset and the test
// samples of the same classes, both relabelled 0..K-1 when Head is K. The
// training subset's Source is the hash of the whole training set. A class
// with no sample in either split is an error, with PerClass 0 too. An
// error about the data files themselves matches ErrDataFiles.
func (s DataSpec) Load() (train, test *Dataset, err error) {
	return s.load(true)
}

// LoadTrain is Load without the test split, for what reads only the
// training subset (an analysis): its files need not be there.
func (s DataSpec) LoadTrain() (*Dataset, error) {
	train, _, err := s.load(false)
	return train, err
}

// load is Load, with the test split only when withTest.
func (s DataSpec) load(withTest bool) (train, test *Dataset, err error) {
	given := s.Dir
	if s, err = s.Normalized(); err != nil {
		return nil, nil, err
	}
	if given == "" && s.Dir != "" {
		// The folder came from the environment: say so when it fails.
		defer func() {
			if err != nil {
				err = fmt.Errorf("%w (the folder of $%s)", err, DataDirEnv[s.Name])
			}
		}()
	}
	// The whole training set's hash (Dataset.Source: about 190 MB of
	// inputs for MNIST, 170 ms) runs in the background from the moment the
	// loader has read the training set (it calls hash), beside the test
	// split's loading, the subsets' draw and whatever the caller does
	// until it asks for the Source.
	source := make(chan string, 1)
	hash := func(full *Dataset) { go func() { source <- DataSHA256(full) }() }
	var full, fullTest *Dataset
	switch s.Name {
	case "mnist":
		full, fullTest, err = loadMNIST(s.Dir, withTest, hash)
	case "fashion":
		full, fullTest, err = loadFashionMNIST(s.Dir, withTest, hash)
	case "cifar10":
		std := CIFARStd
		if s.CIFARStd == CIFARStdOfData {
			std = CIFARStdData
		}
		full, fullTest, err = loadCIFAR10(s.Dir, CIFARMean, std, withTest, hash)
	}
	if err != nil {
		return nil, nil, filesError{err}
	}
	defer func() {
		if train != nil {
			train.source = sync.OnceValue(func() string { return <-source })
		}
	}()
	if train, _, err = Subset(full, s.Classes, s.PerClass, s.Seed); err != nil {
		return nil, nil, s.inFolder(err)
	}
	if s.Head > 0 {
		if train, err = Relabel(train, s.Classes); err != nil {
			return nil, nil, err
		}
	}
	if !withTest {
		return train, nil, nil
	}
	if test, _, err = Subset(fullTest, s.Classes, 0, s.Seed); err != nil {
		return nil, nil, s.inFolder(err)
	}
	if s.Head > 0 {
		if test, err = Relabel(test, s.Classes); err != nil {
			return nil, nil, err
		}
	}
	return train, test, nil
}

// ErrDataFiles is matched (errors.Is) by the errors of Load and LoadTrain
// that are about the data folder's files: the folder or a file missing,
// unreadable, a directory, damaged or of another format, or a file and its
// .gz that differ. Another folder is their remedy; it is not for the
// errors of the subset asked of readable files (a class they lack, fewer
// samples than PerClass) or of the DataSpec itself.
var ErrDataFiles = errors.New("data files")

// filesError marks an error of a loader as ErrDataFiles.
type filesError struct{ err error }

func (e filesError) Error() string        { return e.err.Error() }
func (e filesError) Unwrap() error        { return e.err }
func (e filesError) Is(target error) bool { return target == ErrDataFiles }

// inFolder names the data folder in err, when one is given.
func (s DataSpec) inFolder(err error) error {
	if s.Dir == "" {
		return err
	}
	return fmt.Errorf("%w (data in %s)", err, s.Dir)
}

// ModelSpec chooses a model of docs/math.md section 2: Kind "mlp" with hidden
// Widths (none given: 50, 50, or 1000, 50, 50 for 3-channel inputs), or
// "cnn" (fixed sizes, no widths).
type ModelSpec struct {
	Kind   string `json:"kind"`
	Widths []int  `json:"widths,omitempty"`
}

// Arch returns the architecture of the model for the data of d, applying
// the default widths, and checks it. An MLP's records the shape of d's
// images (Arch.Image).
func (ms ModelSpec) Arch(d DataSpec) (Arch, error) {
	a := Arch{Model: strings.ToLower(ms.Kind), In: d.Input(), Outputs: d.Outputs(), Widths: slices.Clone(ms.Widths)}
	switch a.Model {
	case "mlp":
		if len(a.Widths) == 0 {
			a.Widths = []int{50, 50}
			if a.In[0] == 3 {
				a.Widths = []int{1000, 50, 50}
			}
		}
		a.Image = a.In
		a.In = [3]int{1, 1, a.In[0] * a.In[1] * a.In[2]}
	case "cnn":
		if len(a.Widths) != 0 {
			return a, BadOption("widths", classList(a.Widths), "the cnn's sizes are fixed (give no widths)")
		}
	default:
		return a, BadOption("model", ms.Kind, "unknown model (known: mlp, cnn)")
	}
	if _, err := checkArch(a); err != nil {
		if a.Model == "mlp" {
			return a, BadOption("widths", classList(a.Widths), "%v", err)
		}
		return a, err
	}
	return a, nil
}

// classList writes a list of ints as "1,2,3".
func classList(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
