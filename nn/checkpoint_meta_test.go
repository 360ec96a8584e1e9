package nn

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Checkpoints written by awd 0.1 (schema 1) keep loading, with their data
// subset and layer translated from either shape of the "extra" object.
func TestCheckpointSchema1(t *testing.T) {
	m, err := NewMLP(6, []int{3}, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		extra string
		want  DataSpec
		layer string
	}{
		"run": {`{"data": {"data": "fashion", "classes": 3, "per_class": 60, "head": 3, "data_seed": 4}, "layer": "fc1"}`,
			DataSpec{Name: "fashion", Classes: []int{0, 1, 2}, PerClass: 60, Head: 3, Seed: 4}, "fc1"},
		"train": {`{"run": {"data": "mnist", "classes": [0, 7], "per_class": 20, "head": 2, "seed": 9, "arch": {}, "train": {}}}`,
			DataSpec{Name: "mnist", Classes: []int{0, 7}, PerClass: 20, Head: 2, Seed: 9}, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.npz")
			if err := SaveCheckpoint(path, m, CheckpointMeta{Epoch: 2}); err != nil {
				t.Fatal(err)
			}
			// Rewrite the JSON as awd 0.1 wrote it.
			var js map[string]any
			b, _ := os.ReadFile(MetaPath(path))
			json.Unmarshal(b, &js)
			js["schema"] = 1
			var extra any
			json.Unmarshal([]byte(c.extra), &extra)
			js["extra"] = extra
			b, _ = json.Marshal(js)
			os.WriteFile(MetaPath(path), b, 0o644)
			_, meta, err := LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			if meta.Data == nil || !meta.Data.SameData(c.want) || meta.Layer != c.layer || meta.Epoch != 2 {
				t.Fatalf("got data %+v layer %q epoch %d, want %+v %q 2", meta.Data, meta.Layer, meta.Epoch, c.want, c.layer)
			}
		})
	}
}

// Every state a kill can leave between the steps of SaveCheckpoint ends,
// after RecoverCheckpoint, in a consistent pair: the old one or the new one.
func TestRecoverCheckpoint(t *testing.T) {
	oldM, _ := NewMLP(6, []int{3}, 2, 1)
	newM, _ := NewMLP(6, []int{3}, 2, 2)
	stage := func(t *testing.T, steps int) string {
		dir := t.TempDir()
		path := filepath.Join(dir, "last.npz")
		if err := SaveCheckpoint(path, oldM, CheckpointMeta{Epoch: 1}); err != nil {
			t.Fatal(err)
		}
		// The new pair, staged by hand up to the given step.
		tmp := filepath.Join(t.TempDir(), "x.npz")
		if err := SaveCheckpoint(tmp, newM, CheckpointMeta{Epoch: 2}); err != nil {
			t.Fatal(err)
		}
		npz, _ := os.ReadFile(tmp)
		js, _ := os.ReadFile(MetaPath(tmp))
		next := nextPath(path)
		if steps >= 1 {
			os.WriteFile(next, npz, 0o644)
		}
		if steps >= 2 {
			os.WriteFile(MetaPath(next), js, 0o644)
		}
		if steps >= 3 {
			os.Rename(next, path)
		}
		return path
	}
	for steps, wantEpoch := range []int{1, 1, 2, 2} {
		t.Run(strings.Repeat("step", steps+1), func(t *testing.T) {
			path := stage(t, steps)
			if _, err := RecoverCheckpoint(path); err != nil {
				t.Fatal(err)
			}
			m, meta, err := LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			want := oldM
			if wantEpoch == 2 {
				want = newM
			}
			if meta.Epoch != wantEpoch || !slices.Equal(m.Params()[0].Data, want.Params()[0].Data) {
				t.Fatalf("after %d steps: epoch %d, want %d", steps, meta.Epoch, wantEpoch)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 2 {
				t.Fatalf("files left: %v", entries)
			}
		})
	}
}

func TestModelSpecArch(t *testing.T) {
	d := DataSpec{Name: "cifar", Classes: []int{1, 2}}
	a, err := ModelSpec{Kind: "mlp"}.Arch(d)
	if err != nil || !slices.Equal(a.Widths, []int{1000, 50, 50}) || a.In != [3]int{1, 1, 3072} || a.Outputs != 10 {
		t.Fatalf("cifar mlp: %+v %v", a, err)
	}
	if _, err := (ModelSpec{Kind: "cnn", Widths: []int{7}}).Arch(d); err == nil {
		t.Fatal("cnn with widths accepted")
	}
	// A hostile width list is refused before anything is allocated.
	w := make([]int, 200)
	for i := range w {
		w[i] = 20000
	}
	if _, err := (ModelSpec{Kind: "mlp", Widths: w}).Arch(d); err == nil {
		t.Fatal("200 x 20000 widths accepted")
	}
}

// writeIDXImages writes the IDX pair prefix-images-idx3-ubyte (n images of
// h x w pixels) and prefix-labels-idx1-ubyte (labels i mod 10) into dir.
func writeIDXImages(t *testing.T, dir, prefix string, n, h, w int) {
	t.Helper()
	pix := make([]byte, n*h*w)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	lab := make([]byte, n)
	for i := range lab {
		lab[i] = byte(i % 10)
	}
	for name, b := range map[string][]byte{prefix + "-images-idx3-ubyte": idxBytes([]int{n, h, w}, pix), prefix + "-labels-idx1-ubyte": idxBytes([]int{n}, lab)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMLPImageShape: an MLP built for MNIST's 28x28 images refuses 14x56
// images (as many pixels) with both shapes and the remedy, when built
// (ModelSpec.Arch) and when read from its checkpoint, whose JSON records
// the shape; it used to take them as its 784 inputs. A checkpoint written
// before the shape was recorded still loads and is held to the size alone,
// and a recorded shape that does not fit the input is refused.
func TestMLPImageShape(t *testing.T) {
	load := func(h, w int) (*Dataset, *Dataset) {
		dir := t.TempDir()
		writeIDXImages(t, dir, "train", 40, h, w)
		writeIDXImages(t, dir, "t10k", 20, h, w)
		train, test, err := DataSpec{Name: "mnist", Dir: dir, Classes: []int{1, 3}}.Load()
		if err != nil {
			t.Fatal(err)
		}
		return train, test
	}
	square, wide := [2]*Dataset{}, [2]*Dataset{}
	square[0], square[1] = load(28, 28)
	wide[0], wide[1] = load(14, 56)
	spec := DataSpec{Name: "mnist", Classes: []int{1, 3}}
	arch, err := ModelSpec{Kind: "mlp", Widths: []int{4}}.Arch(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(arch, 1)
	if err != nil {
		t.Fatal(err)
	}
	const want = "mnist/train inputs are 1x14x56, the model takes 784 inputs of 1x28x28 images: give the data set's own files"
	refused := func(what string, m *Model) {
		t.Helper()
		if err := CheckData(m, square[0], square[1]); err != nil {
			t.Errorf("%s: 28x28 data: %v", what, err)
		}
		if err := CheckData(m, wide[0], wide[1]); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: 14x56 data: %v, want %q", what, err, want)
		}
	}
	refused("built", m)

	path := filepath.Join(t.TempDir(), "c.npz")
	if err := SaveCheckpoint(path, m, CheckpointMeta{Epoch: 1, Data: &spec}); err != nil {
		t.Fatal(err)
	}
	js, _ := os.ReadFile(MetaPath(path))
	if !strings.Contains(string(js), `"image": [`) {
		t.Fatalf("the checkpoint's JSON records no image shape:\n%s", js)
	}
	lm, _, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	refused("loaded", lm)

	rewrite := func(image any) {
		var meta map[string]any
		json.Unmarshal(js, &meta)
		delete(meta, "image")
		if image != nil {
			meta["image"] = image
		}
		b, _ := json.Marshal(meta)
		os.WriteFile(MetaPath(path), b, 0o644)
	}
	rewrite(nil) // as written before the shape was recorded
	old, _, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatalf("a checkpoint without the image shape: %v", err)
	}
	if err := CheckData(old, wide[0], wide[1]); err != nil {
		t.Errorf("a checkpoint without the image shape, 14x56 data (784 inputs): %v", err)
	}
	if err := CheckData(old, &Dataset{Name: "d", N: 1, C: 1, H: 32, W: 32, X: make([]float32, 1024), Y: []int{0}}, nil); err == nil || !strings.Contains(err.Error(), "the model takes 784 inputs: give") {
		t.Errorf("a checkpoint without the image shape, 32x32 data: %v, want the size refused", err)
	}
	rewrite([]int{1, 28, 29})
	if _, _, err := LoadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "image shape [1 28 29]") {
		t.Errorf("an image shape of 812 values for 784 inputs: %v", err)
	}
}
