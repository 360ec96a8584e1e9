package nn

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"

	"codeberg.org/sbinet/npyio/npz"

	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func testModels(t testing.TB) map[string]*Model {
	mlp, err := NewMLP(12, []int{7, 5}, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	cnn, err := NewCNN(3, 8, 8, 6, 4)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Model{"mlp": mlp, "cnn": cnn}
}

func sameParams(t *testing.T, a, b *Model) {
	t.Helper()
	if len(a.Params()) != len(b.Params()) {
		t.Fatalf("%d params vs %d", len(a.Params()), len(b.Params()))
	}
	for i, p := range a.Params() {
		q := b.Params()[i]
		if p.Name != q.Name || !slices.Equal(p.Shape, q.Shape) || !slices.Equal(p.Data, q.Data) {
			t.Fatalf("param %s/%s differs", p.Name, q.Name)
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	for name, m := range testModels(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "c.npz")
			data := &DataSpec{Name: "mnist", Classes: []int{0, 4}, PerClass: 9, Head: 2, Seed: 5}
			meta := CheckpointMeta{Epoch: 7, InitSeed: 3, Train: DefaultTrainConfig(MSE), Data: data, Layer: "fc", RunID: "r1"}
			if err := SaveCheckpoint(path, m, meta); err != nil {
				t.Fatal(err)
			}
			got, gm, err := LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			sameParams(t, m, got)
			if gm == nil || gm.Epoch != 7 || gm.Train.Loss != MSE || gm.Arch.Model != name || gm.Layer != "fc" || gm.RunID != "r1" ||
				gm.Data == nil || !gm.Data.SameData(*data) {
				t.Fatalf("meta %+v", gm)
			}
			// Without the JSON (a converted PyTorch state_dict) the
			// architecture is inferred and the weights are the same.
			if err := os.Remove(MetaPath(path)); err != nil {
				t.Fatal(err)
			}
			got2, gm2, err := LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			if gm2 != nil {
				t.Fatal("meta without JSON")
			}
			sameParams(t, m, got2)
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Fatalf("temporary files left: %v", entries)
			}
		})
	}
}

// TestCheckpointErrors damages checkpoints in the ways that matter and
// expects an error naming the problem.
func TestCheckpointErrors(t *testing.T) {
	m := testModels(t)["mlp"]
	other, _ := NewMLP(12, []int{7, 6}, 4, 3)
	nan := m.Clone()
	nan.Params()[1].Data[3] = float32(math.NaN())
	cases := []struct {
		name  string
		write func(path string) error
		want  string
	}{
		{"checksum", func(p string) error {
			if err := SaveCheckpoint(p, m, CheckpointMeta{}); err != nil {
				return err
			}
			var buf bytes.Buffer
			WriteNPZ(&buf, other)
			return os.WriteFile(p, buf.Bytes(), 0o644)
		}, "sha256"},
		{"shape", func(p string) error {
			if err := SaveCheckpoint(p, m, CheckpointMeta{}); err != nil {
				return err
			}
			var buf bytes.Buffer
			WriteNPZ(&buf, other)
			os.Remove(MetaPath(p))
			// a JSON that claims the other architecture
			return saveCheckpointMetaOnly(p, m, buf.Bytes())
		}, "shape"},
		{"nan", func(p string) error {
			// A NaN weight written by another program: SaveCheckpoint
			// refuses it (below), LoadCheckpoint must too.
			var buf bytes.Buffer
			WriteNPZ(&buf, nan)
			return os.WriteFile(p, buf.Bytes(), 0o644)
		}, "non-finite"},
		{"truncated", func(p string) error {
			var buf bytes.Buffer
			WriteNPZ(&buf, m)
			return os.WriteFile(p, buf.Bytes()[:buf.Len()/2], 0o644)
		}, "zip"},
		{"crc", func(p string) error {
			// A converted PyTorch checkpoint (no JSON, so no sha256) with one
			// byte of its first array's data changed: the zip's CRC-32 says so.
			var buf bytes.Buffer
			WriteNPZ(&buf, m)
			b := buf.Bytes()
			at := bytes.Index(b, []byte("\x93NUMPY"))
			hlen := int(b[at+8]) | int(b[at+9])<<8
			b[at+10+hlen+3] ^= 0x10
			return os.WriteFile(p, b, 0o644)
		}, "checksum"},
		{"schema", func(p string) error {
			if err := SaveCheckpoint(p, m, CheckpointMeta{}); err != nil {
				return err
			}
			js, _ := os.ReadFile(MetaPath(p))
			return os.WriteFile(MetaPath(p), bytes.Replace(js, []byte(`"schema": 2`), []byte(`"schema": 99`), 1), 0o644)
		}, "schema 99"},
		{"unknown-names", func(p string) error {
			return os.WriteFile(p, npzOf(t, map[string]any{"conv.weight.npy": []float32{1}}), 0o644)
		}, "unrecognised"},
		{"missing", func(p string) error {
			return os.WriteFile(p, npzOf(t, map[string]any{"fc1.weight.npy": [][]float32{{1, 2}}, "fc3.weight.npy": [][]float32{{1}}}), 0o644)
		}, "missing"},
		{"extra", func(p string) error {
			return os.WriteFile(p, npzOf(t, map[string]any{"fc1.weight.npy": [][]float32{{1, 2}}, "fc1.bias.npy": []float32{1}}), 0o644)
		}, "unexpected"},
		{"dtype", func(p string) error {
			return os.WriteFile(p, npzOf(t, map[string]any{"fc1.weight.npy": [][]int32{{1, 2}}}), 0o644)
		}, "dtype"},
	}
	// A checkpoint that LoadCheckpoint would refuse is not written.
	dir := t.TempDir()
	if err := SaveCheckpoint(filepath.Join(dir, "c.npz"), nan, CheckpointMeta{}); err == nil || !strings.Contains(err.Error(), "parameter "+nan.Params()[1].Name+": non-finite value NaN at flat index 3") {
		t.Errorf("SaveCheckpoint of a NaN weight: %v", err)
	}
	if err := SaveCheckpoint(filepath.Join(dir, "c.npz"), nil, CheckpointMeta{}); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("SaveCheckpoint of no model: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused saves left %v", entries)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.npz")
			if err := c.write(p); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadCheckpoint(p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// saveCheckpointMetaOnly writes npzBytes at p and a valid JSON (checksum of
// those bytes) describing m's architecture.
func saveCheckpointMetaOnly(p string, m *Model, npzBytes []byte) error {
	dir := filepath.Dir(p)
	q := filepath.Join(dir, "tmp.npz")
	if err := SaveCheckpoint(q, m, CheckpointMeta{}); err != nil {
		return err
	}
	js, _ := os.ReadFile(MetaPath(q))
	if err := os.WriteFile(p, npzBytes, 0o644); err != nil {
		return err
	}
	// replace the checksum with the one of npzBytes
	meta := string(js)
	i := strings.Index(meta, `"npz_sha256": "`) + len(`"npz_sha256": "`)
	meta = meta[:i] + sha256Hex(npzBytes) + meta[i+64:]
	return os.WriteFile(MetaPath(p), []byte(meta), 0o644)
}

func npzOf(t testing.TB, arrs map[string]any) []byte {
	var buf bytes.Buffer
	zw := npzWriter(&buf)
	keys := make([]string, 0, len(arrs))
	for k := range arrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := zw.Write(k, arrs[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func FuzzCheckpoint(f *testing.F) {
	// The CNN's 243k parameters would make every execution slow: its names
	// are seeded through a small archive instead.
	f.Add(npzOf(f, map[string]any{"features.0.weight.npy": [][][][]float32{{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}}, "classifier.weight.npy": [][]float32{{1, 2}}}))
	for _, m := range []*Model{testModels(f)["mlp"]} {
		var buf bytes.Buffer
		if err := WriteNPZ(&buf, m); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
		f.Add(buf.Bytes()[:buf.Len()-7])
	}
	f.Add(npzOf(f, map[string]any{"fc1.weight.npy": [][]float64{{1, 2}, {3, 4}}, "fc2.weight.npy": [][]float64{{1, math.Inf(1)}}}))
	f.Add([]byte("PK\x03\x04 not really"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadNPZ(bytes.NewReader(b), int64(len(b)), nil)
		if err != nil {
			return
		}
		// Whatever loads must be a consistent, finite model that saves
		// and loads to the same weights.
		var buf bytes.Buffer
		if err := WriteNPZ(&buf, m); err != nil {
			t.Fatal(err)
		}
		m2, err := ReadNPZ(bytes.NewReader(buf.Bytes()), int64(buf.Len()), &m.Arch)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range m.Params() {
			if !slices.Equal(p.Data, m2.Params()[i].Data) {
				t.Fatalf("%s changed in a round trip", p.Name)
			}
		}
	})
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func npzWriter(w io.Writer) *npz.Writer { return npz.NewWriter(w) }

// TestNumPyFiles loads archives written by NumPy 1.24 (numpy.savez of
// float32 arrays, numpy.savez_compressed of float64 ones), as a converted
// PyTorch state_dict is: fc1.weight = arange(12).reshape(3,4)/8,
// fc2.weight = arange(6).reshape(2,3)/4 - 1; also big-endian ('>f4',
// '>f8'), Fortran-order (np.asfortranarray: a transposed tensor's numpy())
// and an archive with a folder entry, all of which numpy reads.
func TestNumPyFiles(t *testing.T) {
	for _, name := range []string{"numpy_mlp.npz", "numpy_mlp_f64_compressed.npz", "numpy_mlp_bigendian.npz", "numpy_mlp_fortran.npz", "numpy_mlp_dirent.npz"} {
		m, meta, err := LoadCheckpoint(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if meta != nil || m.Arch.Model != "mlp" || !slices.Equal(m.Arch.Widths, []int{3}) || m.Arch.Outputs != 2 {
			t.Fatalf("%s: arch %+v", name, m.Arch)
		}
		w1, _ := m.Param("fc1.weight")
		w2, _ := m.Param("fc2.weight")
		for i, v := range w1.Data {
			if v != float32(i)/8 {
				t.Fatalf("%s: fc1.weight[%d] = %g", name, i, v)
			}
		}
		for i, v := range w2.Data {
			if v != float32(i)/4-1 {
				t.Fatalf("%s: fc2.weight[%d] = %g", name, i, v)
			}
		}
	}
}

// TestNumPyFilesRefused: a float64 value beyond float32's range and a
// damaged .npy header (written by numpy, then edited) are refused with
// messages that say so, naming the array or the entry.
func TestNumPyFilesRefused(t *testing.T) {
	for name, want := range map[string]string{
		"numpy_mlp_f64_overflow.npz": "array fc2.weight: value 1e+39 at flat index 0 does not fit float32",
		"numpy_mlp_badheader.npz":    "fc2.weight.npy: damaged .npy header",
	} {
		_, _, err := LoadCheckpoint(filepath.Join("testdata", name))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
}

// TestTorchSaveRefused: a file written by torch.save (a zip with
// archive/data.pkl since PyTorch 1.6, a bare pickle before) given in place
// of an .npz is named as such, and the message says how to convert it; a
// file that is no zip at all says it is not an .npz and how to write one.
func TestTorchSaveRefused(t *testing.T) {
	var pt bytes.Buffer
	zw := zip.NewWriter(&pt)
	for _, name := range []string{"archive/data.pkl", "archive/byteorder", "archive/data/0", "archive/version"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("\x80\x02}q\x00."))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		b    []byte
		want []string
	}{
		"model.pt":   {pt.Bytes(), []string{"written by torch.save", "torch.load", "np.savez("}},
		"legacy.pt":  {[]byte("\x80\x02\x8a\x0alZ\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03."), []string{"written by torch.save", "np.savez("}},
		"model.npz":  {pt.Bytes(), []string{"written by torch.save", "np.savez("}},
		"notzip.npz": {[]byte("weights as text, not an archive"), []string{"not an .npz archive", "np.savez("}},
	} {
		loadRefuses(t, name, name, tc.b, tc.want...)
	}
}

// loadRefuses writes b as the file file in a new folder and checks that
// LoadCheckpoint refuses it with a message holding every string of want;
// what names the case in the test's errors.
func loadRefuses(t *testing.T, what, file string, b []byte, want ...string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadCheckpoint(p)
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("%s: %v, want a message with %q", what, err, w)
		}
	}
}

// TestUnrecognisedNames: an .npz whose names InferArch does not know says
// why: no arrays at all; the prefix of a wrapped model (nn.DataParallel's
// "module.") with the conversion that drops it; or other names, listed.
func TestUnrecognisedNames(t *testing.T) {
	w := [][]float32{{1, 2}}
	for name, tc := range map[string]struct {
		arrs map[string]any
		want []string
	}{
		"empty":     {map[string]any{}, []string{"holds no arrays"}},
		"module":    {map[string]any{"module.fc1.weight.npy": w, "module.fc2.weight.npy": w}, []string{`prefix "module."`, `k.removeprefix("module.")`}},
		"cnn-model": {map[string]any{"model.features.0.weight.npy": w}, []string{`prefix "model."`, `k.removeprefix("model.")`}},
		"other": {map[string]any{"conv1.weight.npy": w, "conv2.weight.npy": w, "bn1.bias.npy": w, "bn1.weight.npy": w, "head.weight.npy": w},
			[]string{"unrecognised parameter names bn1.bias, bn1.weight, conv1.weight, conv2.weight and 1 more", "fc1.weight"}},
	} {
		loadRefuses(t, name, "m.npz", npzOf(t, tc.arrs), tc.want...)
	}
}

// TestDtypeRefused: an array of another dtype than float32 or float64 (a
// model.half() state_dict, an int64 num_batches_tracked, a bool mask) is
// refused, naming the array and its dtype, with the conversion to float32.
func TestDtypeRefused(t *testing.T) {
	w := [][]float32{{1, 2}}
	for name, b := range map[string][]byte{
		"fc1.weight":              halfNPZ(t),
		"bn1.num_batches_tracked": npzOf(t, map[string]any{"fc1.weight.npy": w, "bn1.num_batches_tracked.npy": []int64{3}}),
		"mask":                    npzOf(t, map[string]any{"fc1.weight.npy": w, "mask.npy": []bool{true}}),
	} {
		loadRefuses(t, name, "m.npz", b, "array "+name+": dtype", "want float32 or float64", ".float().numpy()")
	}
}

// halfNPZ is an .npz of one float16 array fc1.weight of shape (1, 2), as
// np.savez writes a model.half() state_dict.
func halfNPZ(t *testing.T) []byte {
	return rawNPZ(t, "<f2", "(1, 2)", []byte{0x00, 0x3c, 0x00, 0x40}) // 1.0, 2.0
}

// rawNPZ is an .npz of one stored entry fc1.weight.npy whose header (in
// numpy's layout) says descr and shape, followed by data as given.
func rawNPZ(t *testing.T, descr, shape string, data []byte) []byte {
	dict := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }"
	header := dict + strings.Repeat(" ", 64-(10+len(dict)+1)%64) + "\n"
	npy := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), 0)
	npy = append(append(npy, header...), data...)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "fc1.weight.npy", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(npy)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHeaderBeyondData: an .npy header whose shape needs more data than
// its entry holds is refused before anything is allocated, naming both
// sizes (a 16384 x 16384 float32 header over 8 bytes asked for 1 GiB).
func TestHeaderBeyondData(t *testing.T) {
	eight := []byte{0, 0, 128, 63, 0, 0, 0, 64}
	for _, tc := range []struct{ descr, shape, want string }{
		{"<f4", "(16384, 16384)", "describes 1073741824 bytes of data, but the entry holds 8"},
		{"<f4", "(3, 2)", "describes 24 bytes of data, but the entry holds 8"},
		{"<f8", "(2,)", "describes 16 bytes of data, but the entry holds 8"},
	} {
		loadRefuses(t, tc.descr+" "+tc.shape, "m.npz", rawNPZ(t, tc.descr, tc.shape, eight), tc.want, "damaged or truncated")
	}
	// The header matching its data still loads (as far as the model check).
	p := filepath.Join(t.TempDir(), "m.npz")
	if err := os.WriteFile(p, rawNPZ(t, "<f4", "(1, 2)", eight), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadCheckpoint(p); err != nil && strings.Contains(err.Error(), "damaged") {
		t.Errorf("(1, 2) over 8 bytes: %v", err)
	}
}

// TestExtraArraysRefused: arrays that are none of the model's parameters
// are refused, listed, with the reason: a bias of a layer that has none is
// another model; other arrays (BatchNorm buffers, a step count) are not
// parameters of awd's models, whose parameter names the message gives.
func TestExtraArraysRefused(t *testing.T) {
	w1, w2 := [][]float32{{1, 2}, {3, 4}}, [][]float32{{1, 2}}
	for name, tc := range map[string]struct {
		arrs map[string]any
		want []string
	}{
		"bias": {map[string]any{"fc1.weight.npy": w1, "fc2.weight.npy": w2, "fc1.bias.npy": []float32{0, 0}},
			[]string{"unexpected arrays [fc1.bias] for the mlp", "layer fc1 has no bias", "bias=False"}},
		"batchnorm": {map[string]any{"fc1.weight.npy": w1, "fc2.weight.npy": w2, "bn1.running_mean.npy": []float32{0, 0}, "step.npy": []float32{3}},
			[]string{"unexpected arrays [bn1.running_mean step] for the mlp", "parameters are fc1.weight, fc2.weight", "state_dict alone"}},
	} {
		loadRefuses(t, name, "m.npz", npzOf(t, tc.arrs), tc.want...)
	}
}

// TestTransposedWeightsRefused: fcN.weight arrays whose shapes do not
// chain (a weight stored as (in, out), as JAX or Keras keep it) are
// refused naming both arrays and the (out, in) layout, not as a wrong
// shape of the next layer.
func TestTransposedWeightsRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		shapes map[string][]int
		want   string
	}{
		"first":  {map[string][]int{"fc1.weight": {784, 32}, "fc2.weight": {24, 32}, "fc3.weight": {3, 24}}, "fc1.weight has shape [784 32] and fc2.weight [24 32]: fc2 takes 32 inputs but fc1 gives 784; a PyTorch Linear weight is (out, in)"},
		"middle": {map[string][]int{"fc1.weight": {32, 784}, "fc2.weight": {32, 24}, "fc3.weight": {3, 24}}, "fc1.weight has shape [32 784] and fc2.weight [32 24]: fc2 takes 24 inputs but fc1 gives 32"},
		"all":    {map[string][]int{"fc1.weight": {784, 32}, "fc2.weight": {32, 24}, "fc3.weight": {24, 3}}, "fc2 takes 24 inputs but fc1 gives 784"},
	} {
		_, err := InferArch(tc.shapes)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	// Shapes that chain are an MLP.
	a, err := InferArch(map[string][]int{"fc1.weight": {32, 784}, "fc2.weight": {24, 32}, "fc3.weight": {3, 24}})
	if err != nil || a.In != [3]int{1, 1, 784} || !slices.Equal(a.Widths, []int{32, 24}) || a.Outputs != 3 {
		t.Errorf("chained shapes: %+v, %v", a, err)
	}
}

// TestForeignJSONBeside: a JSON of the checkpoint's name that another
// program wrote (a training config, or no JSON at all) is refused saying
// that awd reads it as the checkpoint's and what to do; without it the
// .npz reads as a bare state_dict.
func TestForeignJSONBeside(t *testing.T) {
	m := testModels(t)["mlp"]
	for name, js := range map[string]string{
		"config":  `{"hidden": [7, 5], "lr": 0.1}`,
		"notjson": "lr = 0.1\n",
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, "model.npz")
		var b bytes.Buffer
		if err := WriteNPZ(&b, m); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(MetaPath(p), []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadCheckpoint(p)
		for _, want := range []string{MetaPath(p), "as the checkpoint's: if it is another program's, move it"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want a message with %q", name, err, want)
			}
		}
		if name == "config" && (err == nil || !strings.Contains(err.Error(), `no "schema"`)) {
			t.Errorf("%s: %v, want it to say the JSON has no schema", name, err)
		}
		os.Remove(MetaPath(p))
		if got, meta, err := LoadCheckpoint(p); err != nil || meta != nil {
			t.Errorf("%s: without the JSON: meta %v, %v", name, meta, err)
		} else {
			sameParams(t, m, got)
		}
	}
}

// TestReplacedNPZ: an awd checkpoint whose .npz was overwritten with
// weights written back from PyTorch no longer matches its JSON's sha256:
// the message says so and where such weights go; under another name they
// read as a bare state_dict.
func TestReplacedNPZ(t *testing.T) {
	m := testModels(t)["mlp"]
	p := filepath.Join(t.TempDir(), "final.npz")
	if err := SaveCheckpoint(p, m, CheckpointMeta{Epoch: 3}); err != nil {
		t.Fatal(err)
	}
	tuned := m.Clone()
	tuned.Params()[0].Data[0] += 0.5
	var b bytes.Buffer
	if err := WriteNPZ(&b, tuned); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadCheckpoint(p)
	for _, want := range []string{"records", "damaged or replaced since awd wrote it", "an .npz of another name, read as a bare state_dict"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v, want a message with %q", err, want)
		}
	}
	other := filepath.Join(filepath.Dir(p), "tuned.npz")
	if err := os.WriteFile(other, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, meta, err := LoadCheckpoint(other)
	if err != nil || meta != nil {
		t.Fatalf("under another name: meta %v, %v", meta, err)
	}
	sameParams(t, tuned, got)
}

// TestCheckpointPathRefused: a checkpoint path that does not exist, or a
// folder, says so and which file to give; a run's folder names its
// final.npz.
func TestCheckpointPathRefused(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, "final.npz"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.npz"): "checkpoint " + filepath.Join(dir, "missing.npz") + ": no such file: give the .npz that awd run or awd train wrote",
		dir:                               "checkpoint " + dir + " is a folder, not an .npz file: give the .npz",
		run:                               "checkpoint " + run + " is a folder: give its checkpoint, " + filepath.Join(run, "final.npz"),
	} {
		if _, _, err := LoadCheckpoint(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	// The message is new; the error behind it is still os's.
	if _, _, err := LoadCheckpoint(filepath.Join(dir, "missing.npz")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v does not wrap os.ErrNotExist", err)
	}
}
