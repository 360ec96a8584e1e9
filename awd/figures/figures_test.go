package figures

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/linalg"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// report returns a report of one analysed epoch whose arrays are written
// to dir with the given eigenvalues and projections.
func report(t *testing.T, dir string, lambda, c []float64, rhoBlock int) *awd.Report {
	t.Helper()
	r := &awd.Result{Dataset: "mnist", Model: "mlp", Layer: "fc2", Loss: "ce", Batch: 10, K: len(lambda),
		Fits: map[string]awd.Fit{}, Spectrum: awd.SpectrumSummary{Sigma2: 0.1}}
	if len(lambda) > 0 {
		r.Spectrum.Lambda1, r.Spectrum.LambdaK = lambda[0], lambda[len(lambda)-1]
	}
	if len(lambda) == len(c) {
		if f, err := awd.FitPowerLaw(lambda, c); err == nil {
			r.Fits[awd.NameC] = f
		}
	}
	r.Arrays = awd.Arrays{Lambda: lambda, C: map[string][]float64{awd.NameC: c, awd.NameCAWD: c, awd.NameM2: c},
		Rho: map[string]linalg.Dense{awd.NameC: linalg.NewDense(rhoBlock, rhoBlock)}, RhoRand: map[string]linalg.Dense{awd.NameC: linalg.NewDense(rhoBlock, rhoBlock)}}
	r.Alignment = []awd.Alignment{{Of: awd.NameC}}
	if err := awd.WriteArrays(filepath.Join(dir, "arrays_epoch0001.npz"), r); err != nil {
		t.Fatal(err)
	}
	return &awd.Report{Checkpoints: []awd.Checkpoint{{Epoch: 1, Arrays: "arrays_epoch0001.npz", Analysis: r}}}
}

func TestDraw(t *testing.T) {
	dir := t.TempDir()
	rep := report(t, dir, []float64{4, 2, 1, 0.5}, []float64{8, 3, 1, 0.2}, 3)
	files, notes, err := Draw(rep, filepath.Join(dir, "results.json"), filepath.Join(dir, "fig"), false)
	if err != nil || len(notes) != 0 {
		t.Fatalf("err %v, notes %v", err, notes)
	}
	for _, want := range []string{"powerlaw_e0001.png", "powerlaw_e0001.svg", "spectra_e0001.svg", "rho_e0001.png"} {
		if !strings.Contains(strings.Join(files, " "), want) {
			t.Errorf("%s not drawn: %v", want, files)
		}
	}
}

// A figure that cannot be written is an error, not a note: here a folder
// stands where spectra_e0001.png should go (a read-only or full disk fails
// the same way, and a folder blocks the write even for root).
func TestDrawWriteError(t *testing.T) {
	dir := t.TempDir()
	rep := report(t, dir, []float64{4, 2, 1, 0.5}, []float64{8, 3, 1, 0.2}, 3)
	fig := filepath.Join(dir, "fig")
	if err := os.MkdirAll(filepath.Join(fig, "spectra_e0001.png", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, notes, err := Draw(rep, filepath.Join(dir, "results.json"), fig, false)
	if err == nil || !strings.Contains(err.Error(), "spectra_e0001") || strings.Contains(err.Error(), "skipped") {
		t.Fatalf("err %v; want the write error of spectra_e0001", err)
	}
	if len(notes) != 0 || len(files) != 2 {
		t.Errorf("files %v, notes %v; want the two powerlaw files written before, no note", files, notes)
	}
}

// Results that awd itself writes for degenerate networks, and damaged or
// hostile arrays, skip figures with a note; nothing panics.
func TestDrawDegenerate(t *testing.T) {
	cases := map[string]func(dir string) *awd.Report{
		"dead-network": func(dir string) *awd.Report { return report(t, dir, []float64{0, 0, 0}, []float64{0, 0, 0}, 2) },
		"nan": func(dir string) *awd.Report {
			return report(t, dir, []float64{math.NaN(), 1, -1}, []float64{1, math.NaN(), 2}, 2)
		},
		"rho-block-0": func(dir string) *awd.Report { return report(t, dir, []float64{3, 2, 1}, []float64{3, 2, 1}, 0) },
		"short-arrays": func(dir string) *awd.Report {
			rep := report(t, dir, []float64{3, 2, 1}, []float64{3}, 2)
			return rep
		},
		"outside-folder": func(dir string) *awd.Report {
			rep := report(t, dir, []float64{3, 2, 1}, []float64{3, 2, 1}, 2)
			rep.Checkpoints[0].Arrays = "../../etc/passwd"
			return rep
		},
		"huge-shape": func(dir string) *awd.Report {
			rep := report(t, dir, []float64{3, 2, 1}, []float64{3, 2, 1}, 2)
			writeNPZ(t, filepath.Join(dir, "arrays_epoch0001.npz"), "H_eigenvalues", "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }", nil)
			return rep
		},
		"header-longer-than-file": func(dir string) *awd.Report {
			rep := report(t, dir, []float64{3, 2, 1}, []float64{3, 2, 1}, 2)
			writeNPZ(t, filepath.Join(dir, "arrays_epoch0001.npz"), "H_eigenvalues", strings.Repeat(" ", 5000), []byte{1})
			return rep
		},
		"matrix-as-vector": func(dir string) *awd.Report {
			rep := report(t, dir, []float64{3, 2, 1}, []float64{3, 2, 1}, 2)
			writeNPZ(t, filepath.Join(dir, "arrays_epoch0001.npz"), "H_eigenvalues", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", make([]byte, 8))
			return rep
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			rep := mk(dir)
			_, notes, err := Draw(rep, filepath.Join(dir, "results.json"), filepath.Join(dir, "fig"), false)
			if err != nil {
				t.Fatal(err)
			}
			if name != "nan" && len(notes) == 0 {
				t.Errorf("no note for a figure that cannot be drawn")
			}
		})
	}
}

// writeNPZ writes an archive of one .npy entry with the given header text
// (declared length: the text's) and data.
func writeNPZ(t *testing.T, path, name, header string, data []byte) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, _ := zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store})
	f.Write([]byte("\x93NUMPY\x01\x00"))
	binary.Write(f, binary.LittleEndian, uint16(len(header)+1))
	f.Write([]byte(header + "\n"))
	f.Write(data)
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// FuzzArrays feeds arbitrary bytes to the arrays reader and the figures:
// errors or notes, never a panic or a huge allocation.
func FuzzArrays(f *testing.F) {
	dir := f.TempDir()
	rep := func() *awd.Report {
		r := &awd.Result{Fits: map[string]awd.Fit{}, Batch: 1}
		return &awd.Report{Checkpoints: []awd.Checkpoint{{Epoch: 1, Arrays: "a.npz", Analysis: r}}}
	}
	good := filepath.Join(dir, "seed.npz")
	r := &awd.Result{Arrays: awd.Arrays{Lambda: []float64{2, 1}, C: map[string][]float64{awd.NameC: {2, 1}}}}
	if err := awd.WriteArrays(good, r); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(good)
	f.Add(seed)
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, "a.npz"), b, 0o644)
		awd.ReadArrays(filepath.Join(d, "a.npz"), "H_eigenvalues", "c_C")
		awd.ReadMatrix(filepath.Join(d, "a.npz"), "rho_C")
		if _, _, err := Draw(rep(), filepath.Join(d, "results.json"), filepath.Join(d, "fig"), false); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDrawOtherArrays: an arrays file of another analysis put in place of
// this one's (copied by hand) is not drawn under this analysis's title and
// fits: a note says so.
func TestDrawOtherArrays(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	rep := report(t, dir, []float64{4, 2, 1, 0.5}, []float64{8, 3, 1, 0.2}, 3)
	report(t, other, []float64{5, 3, 2, 1, 0.5}, []float64{9, 4, 2, 1, 0.3}, 3)
	b, err := os.ReadFile(filepath.Join(other, "arrays_epoch0001.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "arrays_epoch0001.npz"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	files, notes, err := Draw(rep, filepath.Join(dir, "results.json"), filepath.Join(dir, "fig"), false)
	if err != nil || len(files) != 0 || len(notes) != 1 || !strings.Contains(notes[0], "holds the arrays of another analysis (5 eigenvalues from 5 to 0.5; the results record k=4 from 4 to 0.5)") {
		t.Errorf("files %v, notes %v, err %v", files, notes, err)
	}
}

// TestGammaEpochsAbsurdSE: an SE of 1e308 or Inf in a results file (edited
// by hand) made the error bars' range overflow and drawing never end; such
// bars are left out and the figure is drawn.
func TestGammaEpochsAbsurdSE(t *testing.T) {
	var rep awd.Report
	for e, se := range []float64{1e308, 0.02, 0.01} {
		r := &awd.Result{Dataset: "mnist", Model: "mlp", Layer: "fc2", Loss: "ce",
			Fits: map[string]awd.Fit{awd.NameC: {Gamma: 1.2, SE: awd.Float(se)}, awd.NameCAWD: {Gamma: 1.1, SE: awd.Float(se)}}}
		rep.Checkpoints = append(rep.Checkpoints, awd.Checkpoint{Epoch: e + 1, Analysis: r})
	}
	done := make(chan error, 1)
	go func() { done <- gammaEpochs(&rep).Save(300, 200, filepath.Join(t.TempDir(), "g.png")) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("drawing gamma over epochs with an SE of 1e308 did not end in a minute")
	}
}

// TestDrawOneRunPerFolder: a folder of figures holds those of one run.
// Figures of another run, or figures without the record of their run, are
// refused (an awd.FolderError naming the other results file) and left as
// they are; fresh replaces them; a redraw of the same run removes its
// earlier figures that it does not draw again; a file awd did not write
// is never removed.
func TestDrawOneRunPerFolder(t *testing.T) {
	dirA, dirB, fig := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "fig")
	repA := report(t, dirA, []float64{4, 2, 1, 0.5}, []float64{8, 3, 1, 0.2}, 3)
	repB := report(t, dirB, []float64{4, 2, 1, 0.5}, []float64{8, 3, 1, 0.2}, 3)
	repA.RunID, repB.RunID = "aaaa", "bbbb"
	repB.Checkpoints[0].Epoch = 2
	resA, resB := filepath.Join(dirA, "results.json"), filepath.Join(dirB, "results.json")
	has := func(names ...string) {
		t.Helper()
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(fig, n)); err != nil {
				t.Errorf("%s is gone: %v", n, err)
			}
		}
	}
	hasNot := func(names ...string) {
		t.Helper()
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(fig, n)); err == nil {
				t.Errorf("%s is still there", n)
			}
		}
	}
	refused := func(err error, want string) {
		t.Helper()
		var fe *awd.FolderError
		if !errors.As(err, &fe) || fe.Remedy != awd.OtherFolder || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want a FolderError (another folder) saying %q", err, want)
		}
	}
	if _, _, err := Draw(repA, resA, fig, false); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(fig, "notes.txt"), []byte("mine"), 0o644)

	_, _, err := Draw(repB, resB, fig, false)
	refused(err, fig+" holds the figures of another run ("+resA+", run aaaa)")
	has("powerlaw_e0001.png", "rho_e0001.svg")
	hasNot("powerlaw_e0002.png")

	if _, _, err := Draw(repB, resB, fig, true); err != nil {
		t.Fatal(err)
	}
	has("powerlaw_e0002.png", "rho_e0002.svg", "notes.txt", awd.FiguresFile)
	hasNot("powerlaw_e0001.png", "powerlaw_e0001.svg", "spectra_e0001.png", "rho_e0001.svg")

	// The same run drawn again without its epoch 2 (here: as epoch 3).
	repB.Checkpoints[0].Epoch = 3
	if _, _, err := Draw(repB, resB, fig, false); err != nil {
		t.Fatal(err)
	}
	has("powerlaw_e0003.png", "notes.txt")
	hasNot("powerlaw_e0002.png", "rho_e0002.svg")

	// Figures without a record (an older awd): whose they are is unknown.
	os.Remove(filepath.Join(fig, awd.FiguresFile))
	_, _, err = Draw(repA, resA, fig, false)
	refused(err, "but no "+awd.FiguresFile)
	if _, _, err := Draw(repA, resA, fig, true); err != nil {
		t.Fatal(err)
	}
	has("powerlaw_e0001.png", "notes.txt")
	hasNot("powerlaw_e0003.png")

	// In figures/ beside the results file (plot's default) figures
	// without a record are the run's own: drawn again, not refused.
	own := filepath.Join(filepath.Dir(resA), "figures")
	if _, _, err := Draw(repA, resA, own, false); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(own, awd.FiguresFile))
	os.WriteFile(filepath.Join(own, "powerlaw_e0009.png"), []byte("older"), 0o644)
	if _, _, err := Draw(repA, resA, own, false); err != nil {
		t.Errorf("the run's own figures/ without a record: %v", err)
	}
	if _, err := os.Stat(filepath.Join(own, "powerlaw_e0009.png")); err == nil {
		t.Error("the run's earlier figure not drawn again is still there")
	}
}

// TestDrawLockedFolder: a plot holds its folder's lock while it draws
// (another goroutine here, taking the lock as Draw does), so a second
// plot into the folder is refused, naming the holder, and writes nothing
// there: no figure, no record of its run. Once the lock is released the
// plot draws.
func TestDrawLockedFolder(t *testing.T) {
	dir := t.TempDir()
	rep := report(t, dir, []float64{4, 2, 1, 0.5}, []float64{8, 3, 1, 0.2}, 3)
	fig := filepath.Join(dir, "fig")
	if err := os.MkdirAll(fig, 0o755); err != nil {
		t.Fatal(err)
	}
	held, release, done := make(chan error), make(chan struct{}), make(chan error)
	go func() {
		lock, err := awd.LockFolder(fig, "plot")
		held <- err
		if err != nil {
			return
		}
		<-release
		done <- lock.Unlock()
	}()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	files, _, err := Draw(rep, filepath.Join(dir, "results.json"), fig, false)
	if !errors.Is(err, awd.ErrFolderBusy) || !strings.Contains(err.Error(), fig) || !strings.Contains(err.Error(), "awd plot (pid") {
		t.Errorf("plot into a folder another plot holds: err %v, want one that wraps ErrFolderBusy and names %s and its holder", err, fig)
	}
	if entries, _ := os.ReadDir(fig); len(files) != 0 || slices.ContainsFunc(entries, func(e os.DirEntry) bool { return awd.IsFigure(e.Name()) }) {
		t.Errorf("the refused plot wrote %v; the folder holds %v", files, entries)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, _, err := Draw(rep, filepath.Join(dir, "results.json"), fig, false); err != nil {
		t.Errorf("plot after the other released the folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(fig, awd.FiguresFile)); err != nil {
		t.Errorf("no record after the plot: %v", err)
	}
}

// TestGammaLayersLegendAbovePoints: on the 6 x 4 inch gamma_layers figure
// the legend (top right) lies above every point and error bar, whatever
// the gammas: the highest here is the last layer's, under the legend's
// corner.
func TestGammaLayersLegendAbovePoints(t *testing.T) {
	for _, gammas := range [][]float64{{1.0, 2.0, 1.5, 2.1}, {0.8, 0.8, 0.8}, {-0.3, 1.9}} {
		var rep awd.Report
		for i, g := range gammas {
			r := &awd.Result{Dataset: "mnist", Model: "mlp", Layer: fmt.Sprintf("fc%d", i+1), Loss: "ce", Classes: []int{0, 1, 2},
				Fits: map[string]awd.Fit{awd.NameC: {Gamma: g, SE: 0.05}, awd.NameCAWD: {Gamma: g - 0.1, SE: 0.02}}}
			rep.Checkpoints = append(rep.Checkpoints, awd.Checkpoint{Epoch: 3, Analysis: r})
		}
		p := gammaLayers(&rep, 3)
		c := draw.New(vgimg.New(6*vg.Inch, 4*vg.Inch))
		p.Draw(c)
		dc := p.DataCanvas(c)
		_, ty := p.Transforms(&dc)
		top, low := math.Inf(-1), math.Inf(1)
		for _, g := range gammas {
			top, low = math.Max(top, g+0.05), math.Min(low, g-0.1-0.02)
		}
		// The legend's two entries, from the top of the data area down or
		// from its bottom up (its canvas holds the data area; 4 pt: a
		// point's glyph radius and more).
		height := 2*p.Legend.TextStyle.Rectangle("gamma_awd (C_awd, or M2)").Size().Y + p.Legend.Padding
		if p.Legend.Top {
			if pt, edge := ty(top)+4, dc.Max.Y-height; pt >= edge {
				t.Errorf("gammas %v: highest bar's top at %.1f pt, the legend's bottom at %.1f pt: they overlap", gammas, pt, edge)
			}
		} else if pt, edge := ty(low)-4, dc.Min.Y+height; pt <= edge {
			t.Errorf("gammas %v: lowest bar's bottom at %.1f pt, the legend's top at %.1f pt: they overlap", gammas, pt, edge)
		}
	}
}
