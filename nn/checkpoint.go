package nn

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npz"
	"github.com/awd-toolkit/awd/internal/atomicfile"
	"github.com/awd-toolkit/awd/internal/npyhead"
)

// CheckpointSchema is the version of the checkpoint JSON. Version 1 (awd
// 0.1) kept the data subset and the layer in a free-form "extra" object;
// LoadCheckpoint still reads it.
const CheckpointSchema = 2

// CheckpointMeta is the JSON written beside a checkpoint's .npz: the
// architecture (an MLP's with the shape of its images), the training config and how far it got (all a resume
// needs: SGD without momentum has no optimizer state, and every shuffle is
// derived from the seed and the epoch), the init seed, the data the model
// was trained on, the layer under study, the run that wrote it, and the
// sha256 of the .npz.
type CheckpointMeta struct {
	Schema int  `json:"schema"`
	Arch   Arch `json:"arch"`
	// Image is the Arch.Image of an MLP: the C, H, W of the images it was
	// built for (absent for a CNN, whose Arch.In is its images' shape, and
	// in checkpoints written before it was recorded, whose MLP then takes
	// any images of its input size).
	Image    *[3]int     `json:"image,omitempty"`
	Epoch    int         `json:"epoch"`
	InitSeed uint64      `json:"init_seed"`
	Train    TrainConfig `json:"train"`
	Data     *DataSpec   `json:"data,omitempty"`
	// DataSHA256 is DataSHA256 of the training subset (Data) the weights
	// were trained on: an analysis of the same subset checks that its
	// folder still holds those data (absent in older checkpoints).
	DataSHA256 string `json:"data_sha256,omitempty"`
	Layer      string `json:"layer,omitempty"`
	// RunID names the run folder that wrote the checkpoint, so that a
	// resume never continues another run's weights.
	RunID     string `json:"run_id,omitempty"`
	NPZSHA256 string `json:"npz_sha256"`
}

// MetaPath returns the JSON path of a checkpoint: x.npz -> x.json.
func MetaPath(npzPath string) string {
	return strings.TrimSuffix(npzPath, ".npz") + ".json"
}

// nextPath is where SaveCheckpoint stages a checkpoint: x.npz -> x.next.npz.
func nextPath(npzPath string) string {
	return strings.TrimSuffix(npzPath, ".npz") + ".next.npz"
}

// SaveCheckpoint writes m's parameters to path (.npz, float32 arrays named
// and shaped as PyTorch's state_dict, e.g. fc1.weight (out, in),
// features.0.weight (out, in, 3, 3)) and meta (with the schema, Arch and the
// checksum filled in) to MetaPath(path).
//
// The two files are one unit: both are first written (each atomically) as
// x.next.npz and x.next.json, then renamed over x.npz and x.json. A crash
// leaves either the old pair, or a staged pair that RecoverCheckpoint
// completes: never a new .npz with an old .json. Weights that are NaN or
// infinite are refused, as LoadCheckpoint refuses them: a checkpoint that
// cannot be read back is not written.
func SaveCheckpoint(path string, m *Model, meta CheckpointMeta) error {
	if m == nil {
		return fmt.Errorf("checkpoint %s: no model (nil)", path)
	}
	for _, p := range m.params {
		for k, v := range p.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("checkpoint %s: parameter %s: non-finite value %g at flat index %d", path, p.Name, v, k)
			}
		}
	}
	var buf bytes.Buffer
	if err := WriteNPZ(&buf, m); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	meta.Schema = CheckpointSchema
	meta.Arch, meta.Image = m.Arch, nil
	if im := m.Arch.Image; im != [3]int{} {
		meta.Image = &im
	}
	meta.NPZSHA256 = hex.EncodeToString(sum[:])
	js, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	next := nextPath(path)
	if err := atomicfile.WriteBytes(next, buf.Bytes()); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := atomicfile.WriteBytes(MetaPath(next), append(js, '\n')); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := RecoverCheckpoint(path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// RecoverCheckpoint completes a SaveCheckpoint of path that was interrupted
// after its staged pair was written, and removes a staged pair that was
// never completed. It reports whether a staged checkpoint was installed.
// Call it before LoadCheckpoint when the folder may hold an interrupted
// save (awd.Run does, under its lock).
func RecoverCheckpoint(path string) (bool, error) {
	next := nextPath(path)
	js, err := os.ReadFile(MetaPath(next))
	if errors.Is(err, os.ErrNotExist) {
		// No staged JSON: a staged .npz alone was never completed.
		if err := os.Remove(next); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, err
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var meta CheckpointMeta
	if err := json.Unmarshal(js, &meta); err != nil {
		return false, fmt.Errorf("%s: %w", MetaPath(next), err)
	}
	// The staged JSON is written after the staged .npz: the .npz is either
	// still staged or already renamed over path.
	if sha, err := fileSHA256(next); err == nil && sha == meta.NPZSHA256 {
		if err := atomicfile.Rename(next, path); err != nil {
			return false, err
		}
	} else if sha, err := fileSHA256(path); err != nil || sha != meta.NPZSHA256 {
		return false, fmt.Errorf("%s: staged checkpoint whose .npz is missing or damaged (sha256 %s recorded)", MetaPath(next), meta.NPZSHA256)
	}
	if err := atomicfile.Rename(MetaPath(next), MetaPath(path)); err != nil {
		return false, err
	}
	syncDir(filepath.Dir(path))
	return true, nil
}

func fileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: not every file system syncs folders
		d.Close()
	}
}

// WriteNPZ writes m's parameters as an uncompressed .npz archive (what
// numpy.savez writes) of little-endian float32 arrays with their shapes.
// The .npy entries are written here rather than by npyio's writer, which
// learns shapes by reflecting over nested slices, element by element.
func WriteNPZ(w io.Writer, m *Model) error {
	zw := zip.NewWriter(w)
	for _, p := range m.params {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: p.Name + ".npy", Method: zip.Store})
		if err != nil {
			return err
		}
		if err := writeNPY(f, p.Shape, p.Data); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
	}
	return zw.Close()
}

// writeNPY writes a version 1.0 .npy file: magic, version, header length,
// a Python dict literal padded with spaces to a multiple of 64 bytes, data.
func writeNPY(w io.Writer, shape []int, data []float32) error {
	var dims []string
	for _, s := range shape {
		dims = append(dims, strconv.Itoa(s))
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	tuple += ")"
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }"
	pad := 64 - (10+len(dict)+1)%64
	if pad == 64 {
		pad = 0
	}
	header := dict + strings.Repeat(" ", pad) + "\n"
	buf := make([]byte, 0, 10+len(header)+4*len(data))
	buf = append(buf, "\x93NUMPY\x01\x00"...)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(header)))
	buf = append(buf, header...)
	for _, v := range data {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	_, err := w.Write(buf)
	return err
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint, or an .npz
// converted from a PyTorch state_dict with no JSON beside it (then the
// architecture is inferred from the names and shapes, see InferArch, and
// meta is nil). The JSON is the one beside path, or beside the file a
// link at path points to. It checks the JSON's schema and checksum, every
// parameter's presence, shape and finiteness, and says what is wrong.
func LoadCheckpoint(path string) (*Model, *CheckpointMeta, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, checkpointReadError(path, err)
	}
	var meta *CheckpointMeta
	mp := MetaPath(path)
	js, err := os.ReadFile(mp)
	if errors.Is(err, os.ErrNotExist) {
		// A link to a checkpoint: its JSON is beside the target (without
		// it the checkpoint read as a bare PyTorch one, of other data).
		if target, terr := filepath.EvalSymlinks(path); terr == nil && target != path {
			if tjs, terr := os.ReadFile(MetaPath(target)); terr == nil {
				mp, js, err = MetaPath(target), tjs, nil
			}
		}
	}
	if err == nil {
		if meta, err = decodeMeta(js); err != nil {
			return nil, nil, fmt.Errorf("checkpoint %s: %w", mp, err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != meta.NPZSHA256 {
			return nil, nil, fmt.Errorf("checkpoint %s: sha256 %s, but %s records %s: the file was damaged or replaced since awd wrote it; weights written back from PyTorch on purpose go in an .npz of another name, read as a bare state_dict", path, got, mp, meta.NPZSHA256)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	var arch *Arch
	if meta != nil {
		if meta.Image != nil {
			meta.Arch.Image = *meta.Image
		}
		arch = &meta.Arch
	}
	m, err := ReadNPZ(bytes.NewReader(data), int64(len(data)), arch)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return m, meta, nil
}

// checkpointReadError says why the checkpoint file path could not be read
// and which file to give: a run's folder names its final.npz.
func checkpointReadError(path string, err error) error {
	const which = "give the .npz that awd run or awd train wrote (OUT/final.npz, OUT/checkpoints/epoch_NNNN.npz) or a PyTorch state_dict saved as .npz"
	if st, serr := os.Stat(path); serr == nil && st.IsDir() {
		if f := filepath.Join(path, "final.npz"); fileExists(f) {
			return Reworded(err, fmt.Sprintf("checkpoint %s is a folder: give its checkpoint, %s", path, f))
		}
		return Reworded(err, fmt.Sprintf("checkpoint %s is a folder, not an .npz file: %s", path, which))
	}
	if errors.Is(err, os.ErrNotExist) {
		return Reworded(err, fmt.Sprintf("checkpoint %s: no such file: %s", path, which))
	}
	return fmt.Errorf("checkpoint: %w", err)
}

// Reworded returns an error whose text is msg and which wraps err, so that
// errors.Is and errors.As still see err (os.ErrNotExist, say) behind a
// message that says what to do instead of repeating err's text.
func Reworded(err error, msg string) error { return &reworded{msg, err} }

type reworded struct {
	msg string
	err error
}

func (e *reworded) Error() string { return e.msg }
func (e *reworded) Unwrap() error { return e.err }

// fileExists reports whether path names a regular file.
func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// maxArray bounds the values of one array: 2^28, 1 GiB of float32 (an MLP
// layer of 16384 x 16384; the largest default layer, CIFAR-10's fc1, has
// 3072000). An .npy header must also match the data its entry holds
// (checkNPYEntry), so a damaged one cannot ask for more than the file has.
const maxArray = 1 << 28

type npzArray struct {
	shape []int
	data  []float32
}

// readArrays reads every array of an npz archive as float32 (float64 data
// is converted), keyed by name without the .npy suffix.
func readArrays(r io.ReaderAt, size int64) (arrs map[string]npzArray, err error) {
	defer func() {
		if e := recover(); e != nil { // a malformed archive must not crash the caller
			arrs, err = nil, fmt.Errorf("malformed npz: %v", e)
		}
	}()
	if err := checkNPYPreambles(r, size); err != nil {
		return nil, err
	}
	zr, err := npz.NewReader(r, size)
	if err != nil {
		return nil, err
	}
	arrs = make(map[string]npzArray)
	for _, key := range zr.Keys() {
		if isDirEntry(key) {
			continue
		}
		name := strings.TrimSuffix(key, ".npy")
		if _, dup := arrs[name]; dup {
			return nil, fmt.Errorf("array %s appears twice", name)
		}
		h := zr.Header(key)
		if h == nil {
			return nil, fmt.Errorf("array %s: not a NumPy array", name)
		}
		shape := slices.Clone(h.Descr.Shape)
		n := 1
		for _, s := range shape {
			if s < 0 || s > maxArray {
				return nil, fmt.Errorf("array %s: shape %v", name, shape)
			}
			n *= s
			if n > maxArray {
				return nil, fmt.Errorf("array %s: shape %v too large", name, shape)
			}
		}
		var data []float32
		// Either byte order: npyio decodes a big-endian ('>') array.
		switch strings.Trim(h.Descr.Type, "<>|='\"") {
		case "f4":
			if err := zr.Read(key, &data); err != nil {
				return nil, err
			}
		case "f8":
			var d64 []float64
			if err := zr.Read(key, &d64); err != nil {
				return nil, err
			}
			data = make([]float32, len(d64))
			for i, v := range d64 {
				if f := float32(v); math.IsInf(float64(f), 0) && !math.IsInf(v, 0) {
					return nil, fmt.Errorf("array %s: value %g at flat index %d does not fit float32", name, v, i)
				}
				data[i] = float32(v)
			}
		default:
			return nil, fmt.Errorf("array %s: dtype %s, want float32 or float64: %s (its .float() makes every array float32)", name, h.Descr.Type, convertHint)
		}
		if len(data) != n {
			return nil, fmt.Errorf("array %s: %d values for shape %v", name, len(data), shape)
		}
		if h.Descr.Fortran {
			data = fromFortran(data, shape) // np.savez of a transposed array
		}
		arrs[name] = npzArray{shape: shape, data: data}
	}
	return arrs, nil
}

// fromFortran returns the values of an array stored in Fortran order (the
// first index fastest) in C order (the last index fastest).
func fromFortran(data []float32, shape []int) []float32 {
	if len(shape) < 2 {
		return data
	}
	out := make([]float32, len(data))
	fstride := make([]int, len(shape)) // Fortran strides
	s := 1
	for d := range shape {
		fstride[d] = s
		s *= shape[d]
	}
	idx := make([]int, len(shape))
	for c := range out {
		f := 0
		for d, i := range idx {
			f += i * fstride[d]
		}
		out[c] = data[f]
		for d := len(shape) - 1; d >= 0; d-- { // the next C-order index
			if idx[d]++; idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

// checkNPYPreambles reads every archive entry to its end, so that
// archive/zip compares its CRC-32 (a damaged byte in the data is an error,
// not a changed weight), and checks the .npy magic and a sane header length
// before npyio parses it.
func checkNPYPreambles(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		if isPickle(r, size) {
			return errTorchSave
		}
		return fmt.Errorf("not an .npz archive (the zip of .npy arrays numpy.savez writes), or a truncated one (%w): %s", err, convertHint)
	}
	for _, f := range zr.File {
		if path.Base(f.Name) == "data.pkl" {
			return errTorchSave
		}
	}
	for _, f := range zr.File {
		if isDirEntry(f.Name) {
			continue
		}
		if err := checkNPYEntry(f); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return nil
}

// convertHint says how to write a PyTorch state_dict as the .npz awd reads.
const convertHint = `write the state_dict with np.savez("model.npz", **{k: v.detach().cpu().float().numpy() for k, v in sd.items()}) (README, PyTorch checkpoints)`

// errTorchSave is the error for a file that torch.save wrote: a zip with
// an archive/data.pkl entry (PyTorch 1.6 on) or a bare pickle (before).
var errTorchSave = errors.New("a PyTorch file written by torch.save, not an .npz of arrays: load it with sd = torch.load(path, map_location=\"cpu\"), then " + convertHint)

// isPickle reports whether r starts as a pickle of protocol 2 to 5 does
// (PROTO opcode 0x80 and the protocol), as torch.save's legacy format does.
func isPickle(r io.ReaderAt, size int64) bool {
	var b [2]byte
	if size < 2 {
		return false
	}
	if _, err := r.ReadAt(b[:], 0); err != nil {
		return false
	}
	return b[0] == 0x80 && b[1] >= 2 && b[1] <= 5
}

// isDirEntry reports whether an archive entry is a folder (numpy skips
// them; zip tools add them).
func isDirEntry(name string) bool { return strings.HasSuffix(name, "/") }

// checkNPYEntry reads one archive entry to its end (archive/zip checks the
// CRC-32 there) and checks its .npy preamble and header: magic, version, a
// sane length, and a header that reads as the dict npyio parses (a damaged
// one made npyio's parser fail with an index out of range).
func checkNPYEntry(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	head, _, err := npyhead.Read(rc)
	if err != nil {
		return err
	}
	dict := bytes.TrimRight(head, " \n\x00")
	if !npyHeader.Match(dict) {
		return fmt.Errorf("damaged .npy header %q", shortText(head, 80))
	}
	if !npyLayout.Match(dict) {
		return fmt.Errorf(".npy header %q is not laid out as numpy writes it (the keys descr, fortran_order, shape in that order, ending in \", }\"), which this reader needs: save the arrays with numpy.savez (README, PyTorch checkpoints)", shortText(head, 80))
	}
	n, err := io.Copy(io.Discard, rc)
	if err != nil {
		return err
	}
	// The data the header describes must be there: readArrays allocates
	// from the shape before reading.
	if want, ok := npyDataBytes(dict); ok && n < want {
		return fmt.Errorf(".npy header %q describes %d bytes of data, but the entry holds %d: the file is damaged or truncated", shortText(head, 80), want, n)
	}
	return nil
}

// npyDataBytes returns the bytes of data an .npy header dict (in numpy's
// layout) describes, and false when its dtype has no size in its name
// (objects, strings) or the size exceeds any array awd reads.
func npyDataBytes(dict []byte) (int64, bool) {
	m := npyShapeType.FindSubmatch(dict)
	if m == nil {
		return 0, false
	}
	size, err := strconv.ParseInt(string(m[1]), 10, 64)
	if err != nil || size < 1 {
		return 0, false
	}
	n := size
	for _, f := range strings.Split(string(m[2]), ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		s, err := strconv.ParseInt(f, 10, 64)
		if err != nil || s > maxArray {
			return 0, false
		}
		if n *= s; n > 8*maxArray {
			return 0, false
		}
	}
	return n, true
}

// npyShapeType picks the element size of the dtype (the digits that end
// its descr, e.g. 4 of '<f4') and the shape's numbers.
var npyShapeType = regexp.MustCompile(`'descr': '[<>|=]?[a-zA-Z](\d+)', 'fortran_order': (?:True|False), 'shape': \(([\d, ]*)\)`)

// npyHeader is the dict of an .npy header: its three keys, each with a
// value of the form numpy writes, in any order.
var npyHeader = regexp.MustCompile(`^\{\s*(?:'(?:descr|fortran_order|shape)'\s*:\s*(?:'[^']*'|\[[^\]]*\]|True|False|\((?:\s*\d+L?\s*,?)*\s*\))\s*,?\s*){3}\}$`)

// npyLayout is the exact layout numpy writes, which npyio's parser
// assumes (it cuts the values at fixed separators: another order or a
// missing trailing comma made it read a wrong shape, or panic on "()").
var npyLayout = regexp.MustCompile(`^\{'descr': '[^']*', 'fortran_order': (?:True|False), 'shape': \((?:\d+(?:, \d+)*,?)?\), \}$`)

// shortText is b as text, cut to n bytes.
func shortText(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// ReadNPZ reads model parameters from an npz archive. With arch nil the
// architecture is inferred from the array names and shapes (InferArch).
func ReadNPZ(r io.ReaderAt, size int64, arch *Arch) (*Model, error) {
	arrs, err := readArrays(r, size)
	if err != nil {
		return nil, err
	}
	var a Arch
	if arch != nil {
		a = *arch
	} else {
		shapes := make(map[string][]int, len(arrs))
		for k, v := range arrs {
			shapes[k] = v.shape
		}
		if a, err = InferArch(shapes); err != nil {
			return nil, err
		}
	}
	m, err := buildModel(a)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool)
	for i := range m.params {
		p := &m.params[i]
		want[p.Name] = true
		got, ok := arrs[p.Name]
		if !ok {
			return nil, fmt.Errorf("parameter %s missing", p.Name)
		}
		if !slices.Equal(got.shape, p.Shape) {
			return nil, fmt.Errorf("parameter %s has shape %v, want %v", p.Name, got.shape, p.Shape)
		}
		for k, v := range got.data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("parameter %s: non-finite value %g at flat index %d", p.Name, v, k)
			}
		}
		copy(p.Data, got.data)
	}
	var extra []string
	for k := range arrs {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return nil, extraArrays(m, extra)
	}
	return m, nil
}

// extraArrays says why the arrays extra, which are none of m's parameters,
// are refused and what to do: a bias of a layer that has none in the
// paper's models is another model; other names are a training
// checkpoint's other entries (optimizer state, step counts) or layers awd
// does not have (BatchNorm and its buffers).
func extraArrays(m *Model, extra []string) error {
	for _, e := range extra {
		if layer, ok := strings.CutSuffix(e, ".bias"); ok {
			if _, has := m.Param(layer + ".weight"); has {
				return fmt.Errorf("unexpected arrays %v for the %s: its layer %s has no bias (nn.Linear(..., bias=False) in the paper's code, README, Commands), so a model trained with one is another model, which awd cannot analyse", extra, m.Arch.Model, layer)
			}
		}
	}
	return fmt.Errorf("unexpected arrays %v for the %s, whose parameters are %s: write the model's state_dict alone (not the optimizer's state or other entries of a training checkpoint); a model with other layers (BatchNorm and its running_mean, ...) is not one awd analyses", extra, m.Arch.Model, strings.Join(m.paramNames(), ", "))
}

// paramNames lists m's parameter names in state_dict order.
func (m *Model) paramNames() []string {
	names := make([]string, len(m.params))
	for i, p := range m.params {
		names[i] = p.Name
	}
	return names
}

// InferArch recognises the paper's models from state_dict names and shapes:
// fc1.weight, fc2.weight, ... make an MLP (input 1 x 1 x in, only the size
// matters; each weight (out, in) takes the previous one's out); features.0.weight ... classifier.weight the CNN, with 28 x 28
// inputs for one channel and 32 x 32 for three (the adaptive pool makes the
// weights independent of the image size).
func InferArch(shapes map[string][]int) (Arch, error) {
	if s, ok := shapes["fc1.weight"]; ok {
		if len(s) != 2 {
			return Arch{}, fmt.Errorf("fc1.weight has shape %v, want (out, in)", s)
		}
		a := Arch{Model: "mlp", In: [3]int{1, 1, s[1]}}
		// Every fcN.weight from fc1 to the highest N must be there.
		top := 1
		for name := range shapes {
			var n int
			if _, err := fmt.Sscanf(name, "fc%d.weight", &n); err == nil && name == "fc"+strconv.Itoa(n)+".weight" {
				top = max(top, n)
			}
		}
		for i := 2; i <= top; i++ {
			if _, ok := shapes["fc"+strconv.Itoa(i)+".weight"]; !ok {
				return Arch{}, fmt.Errorf("parameter fc%d.weight missing (the checkpoint has fc1 .. fc%d)", i, top)
			}
		}
		for i := 1; ; i++ {
			w, ok := shapes["fc"+strconv.Itoa(i)+".weight"]
			if !ok {
				break
			}
			if len(w) != 2 {
				return Arch{}, fmt.Errorf("fc%d.weight has shape %v, want (out, in)", i, w)
			}
			if prev := shapes["fc"+strconv.Itoa(i-1)+".weight"]; i > 1 && w[1] != prev[0] {
				return Arch{}, fmt.Errorf("fc%d.weight has shape %v and fc%d.weight %v: fc%d takes %d inputs but fc%d gives %d; a PyTorch Linear weight is (out, in): write a weight kept as (in, out) transposed (W.T)", i-1, prev, i, w, i, w[1], i-1, prev[0])
			}
			if _, next := shapes["fc"+strconv.Itoa(i+1)+".weight"]; next {
				a.Widths = append(a.Widths, w[0])
			} else {
				a.Outputs = w[0]
			}
		}
		return a, nil
	}
	if s, ok := shapes["features.0.weight"]; ok {
		if len(s) != 4 {
			return Arch{}, fmt.Errorf("features.0.weight has shape %v, want (out, in, 3, 3)", s)
		}
		c := s[1]
		hw := 28
		if c == 3 {
			hw = 32
		}
		cl, ok := shapes["classifier.weight"]
		if !ok || len(cl) != 2 {
			return Arch{}, fmt.Errorf("cnn: classifier.weight missing or not (out, in) (%v)", cl)
		}
		return Arch{Model: "cnn", In: [3]int{c, hw, hw}, Outputs: cl[0]}, nil
	}
	return Arch{}, unrecognisedNames(shapes)
}

// unrecognisedNames says why InferArch found neither model in the names
// of shapes: no arrays at all, the names of a wrapped model (the prefix
// "module." of nn.DataParallel, or the attribute holding the network),
// or other names, some of which it lists.
func unrecognisedNames(shapes map[string][]int) error {
	const want = "want fc1.weight, ... (MLP) or features.0.weight, ... (CNN)"
	if len(shapes) == 0 {
		return errors.New("the archive holds no arrays: " + want)
	}
	names := slices.Sorted(maps.Keys(shapes))
	for _, n := range names {
		for _, first := range []string{"fc1.weight", "features.0.weight"} {
			if prefix, ok := strings.CutSuffix(n, "."+first); ok {
				prefix += "."
				return fmt.Errorf("the parameter names carry the prefix %q (%s, ...; nn.DataParallel adds \"module.\"): %s; write the arrays without it, np.savez(\"model.npz\", **{k.removeprefix(%q): v.detach().cpu().float().numpy() for k, v in sd.items()})", prefix, n, want, prefix)
			}
		}
	}
	shown := names[:min(len(names), 4)]
	more := ""
	if len(names) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(names)-len(shown))
	}
	return fmt.Errorf("unrecognised parameter names %s%s: %s; awd reads only the MLP and CNN of the paper's code (README, Commands), with their PyTorch names", strings.Join(shown, ", "), more, want)
}

// notOurs says what to do when the JSON beside an .npz is not awd's.
const notOurs = "awd reads the JSON of the same name beside an .npz as the checkpoint's: if it is another program's, move it (or the .npz) away, and the .npz is read as a bare state_dict"

// decodeMeta parses a checkpoint JSON of schema 2, or of schema 1, whose
// data subset and layer are translated from the two shapes of its "extra"
// object: {"data": {...}, "layer": "fc2"} written by `awd run` and
// {"run": {...}} written by `awd train`.
func decodeMeta(js []byte) (*CheckpointMeta, error) {
	var meta CheckpointMeta
	if err := json.Unmarshal(js, &meta); err != nil {
		return nil, fmt.Errorf("%w; %s", err, notOurs)
	}
	switch meta.Schema {
	case CheckpointSchema:
		return &meta, nil
	case 1:
	case 0:
		return nil, errors.New("no \"schema\", so not the JSON awd writes beside a checkpoint; " + notOurs)
	default:
		return nil, fmt.Errorf("schema %d, this awd reads 1 and %d", meta.Schema, CheckpointSchema)
	}
	var v1 struct {
		Extra struct {
			Data *struct {
				Name     string `json:"data"`
				K        int    `json:"classes"`
				PerClass int    `json:"per_class"`
				Head     int    `json:"head"`
				Seed     uint64 `json:"data_seed"`
			} `json:"data"`
			Layer string `json:"layer"`
			Run   *struct {
				Name     string `json:"data"`
				Classes  []int  `json:"classes"`
				PerClass int    `json:"per_class"`
				Head     int    `json:"head"`
				Seed     uint64 `json:"seed"`
			} `json:"run"`
		} `json:"extra"`
	}
	if err := json.Unmarshal(js, &v1); err != nil {
		return nil, fmt.Errorf("schema 1 extra: %w", err)
	}
	meta.Layer = v1.Extra.Layer
	if d := v1.Extra.Data; d != nil {
		meta.Data = &DataSpec{Name: d.Name, Classes: FirstClasses(d.K), PerClass: d.PerClass, Head: d.Head, Seed: d.Seed}
	} else if r := v1.Extra.Run; r != nil {
		meta.Data = &DataSpec{Name: r.Name, Classes: r.Classes, PerClass: r.PerClass, Head: r.Head, Seed: r.Seed}
	}
	meta.Schema = CheckpointSchema
	return &meta, nil
}
