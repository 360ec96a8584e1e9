package awd

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/awd-toolkit/awd/internal/npyhead"
	"github.com/awd-toolkit/awd/linalg"
)

// The reader of the .npz arrays that WriteArrays writes: NumPy's .npy
// format (magic, version, header length, a dict literal, data), parsed here
// so that a damaged or hostile file is refused with a message before
// anything is allocated: the header must fit in its entry, the shape must
// be a tuple of at most two sizes whose product (at most maxNPYElems) times
// 8 bytes is exactly the data that follows, and the type little-endian
// float64 or int64 in C order.

// maxNPYElems bounds the values of one array read (2^28: 2 GiB).
const maxNPYElems = 1 << 28

var (
	npyDescr   = regexp.MustCompile(`'descr':\s*'([<>|=]?[a-zA-Z]\d+)'`)
	npyFortran = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// npyArray is one array: its shape and values as float64.
type npyArray struct {
	shape []int
	data  []float64
}

// readNPZArrays reads the named arrays of an .npz archive (absent names are
// left out of the map).
func readNPZArrays(path string, names ...string) (map[string]npyArray, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (%s)", path, err, arraysFileHint)
	}
	defer zr.Close()
	out := map[string]npyArray{}
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		want := false
		for _, n := range names {
			want = want || n == name
		}
		if !want {
			continue
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s: array %s appears twice", path, name)
		}
		a, err := readNPYEntry(f)
		if err != nil {
			return nil, fmt.Errorf("%s: array %s: %w", path, name, err)
		}
		out[name] = a
	}
	return out, nil
}

func readNPYEntry(f *zip.File) (npyArray, error) {
	size := f.UncompressedSize64
	rc, err := f.Open()
	if err != nil {
		return npyArray{}, err
	}
	defer rc.Close()
	r := io.LimitReader(rc, int64(min(size, math.MaxInt64)))
	head, pre, err := npyhead.Read(r)
	if err != nil {
		return npyArray{}, err
	}
	shape, isInt, err := parseNPYHeader(string(head))
	if err != nil {
		return npyArray{}, err
	}
	n := 1
	for _, s := range shape {
		n *= s
	}
	consumed := uint64(pre + len(head))
	if size-consumed != 8*uint64(n) {
		return npyArray{}, fmt.Errorf("shape %v needs %d bytes of data, the entry has %d", shape, 8*n, size-consumed)
	}
	raw := make([]byte, 8*n)
	if _, err := io.ReadFull(r, raw); err != nil {
		return npyArray{}, fmt.Errorf("truncated data: %w", err)
	}
	// archive/zip compares the entry's CRC-32 only at its end: read to it,
	// so that a damaged byte in the data is an error, not a changed value.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return npyArray{}, err
	}
	data := make([]float64, n)
	for i := range data {
		u := binary.LittleEndian.Uint64(raw[8*i:])
		if isInt {
			data[i] = float64(int64(u))
		} else {
			data[i] = math.Float64frombits(u)
		}
	}
	return npyArray{shape: shape, data: data}, nil
}

// parseNPYHeader reads the shape and type from a .npy header dict.
func parseNPYHeader(h string) (shape []int, isInt bool, err error) {
	d := npyDescr.FindStringSubmatch(h)
	if d == nil {
		return nil, false, fmt.Errorf("header without descr: %q", h)
	}
	switch d[1] {
	case "<f8":
	case "<i8":
		isInt = true
	default:
		return nil, false, fmt.Errorf("dtype %s, want <f8 or <i8", d[1])
	}
	if fo := npyFortran.FindStringSubmatch(h); fo == nil || fo[1] != "False" {
		return nil, false, fmt.Errorf("Fortran order or no fortran_order in the header")
	}
	sh := npyShape.FindStringSubmatch(h)
	if sh == nil {
		return nil, false, fmt.Errorf("header without shape: %q", h)
	}
	total := 1
	for _, p := range strings.Split(sh[1], ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > maxNPYElems {
			return nil, false, fmt.Errorf("shape (%s)", sh[1])
		}
		if total *= v; total > maxNPYElems {
			return nil, false, fmt.Errorf("shape (%s): more than %d values", sh[1], maxNPYElems)
		}
		shape = append(shape, v)
	}
	if len(shape) > 2 {
		return nil, false, fmt.Errorf("shape (%s): more than 2 dimensions", sh[1])
	}
	return shape, isInt, nil
}

// ArrayNames lists the arrays of a .npz file (written by WriteArrays or
// by numpy), in the file's order: what ReadArrays and ReadMatrix can read.
func ArrayNames(path string) ([]string, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		if name, ok := strings.CutSuffix(f.Name, ".npy"); ok {
			names = append(names, name)
		}
	}
	return names, nil
}

// arraysFileHint says which file an arrays file is, for the errors of a
// path that is none.
const arraysFileHint = "give an arrays file that awd wrote: arrays_epochNNNN.npz beside its results.json"

// ReadArrays reads the named 1-D arrays of a .npz file written by
// WriteArrays (for plots and independent checks); absent names are left
// out, so no names give an empty map (ArrayNames lists the present ones).
// An array of another rank is an error.
func ReadArrays(path string, names ...string) (map[string][]float64, error) {
	arrs, err := readNPZArrays(path, names...)
	if err != nil {
		return nil, err
	}
	out := map[string][]float64{}
	for name, a := range arrs {
		if len(a.shape) != 1 {
			return nil, fmt.Errorf("%s: array %s has shape %v, want a vector", path, name, a.shape)
		}
		out[name] = a.data
	}
	return out, nil
}

// ReadMatrix reads a 2-D array of a .npz file written by WriteArrays.
func ReadMatrix(path, name string) (linalg.Dense, error) {
	arrs, err := readNPZArrays(path, name)
	if err != nil {
		return linalg.Dense{}, err
	}
	a, ok := arrs[name]
	if !ok {
		return linalg.Dense{}, fmt.Errorf("%s: no array %s", path, name)
	}
	if len(a.shape) != 2 {
		return linalg.Dense{}, fmt.Errorf("%s: array %s has shape %v, want a matrix", path, name, a.shape)
	}
	return linalg.DenseOf(a.shape[0], a.shape[1], a.data), nil
}

// checkNPZ reads every entry of a .npz to its end, so that archive/zip
// checks its CRC-32: a missing, truncated or damaged file is an error.
func checkNPZ(path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return err
	}
	defer zr.Close()
	if len(zr.File) == 0 {
		return errors.New("no arrays")
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return nil
}
