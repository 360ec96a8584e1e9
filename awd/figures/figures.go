// Package figures draws the figures of an analysis (PNG and SVG) from a
// results JSON and the .npz arrays beside it, so they can be redrawn
// without recomputing anything. It is apart from package awd so that
// linking the analysis does not pull in the plotting libraries.
package figures

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/internal/atomicfile"
	"github.com/awd-toolkit/awd/linalg"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figures of docs/math.md section 6, drawn from a results JSON and its .npz arrays
// (so they can be redrawn without recomputing anything):
//
//	powerlaw_eNNNN   c_i vs lambda_i, log-log: C and C_awd with their fit lines and
//	                 the Thm 5.1 bounds (sigma^2/B) lambda^2 and (sigma^2/B) lambda_loc_max lambda
//	                 on C_awd (paper Fig. 2)
//	spectra_eNNNN    lambda_i of H and c_i of C against the index i, log y
//	rho_eNNNN        |rho_ij| of C in H's eigenbasis next to a Haar-random frame (Fig. 1)
//	gamma_epochs     gamma of C and C_awd (± SE) over the analysed epochs
//	gamma_layers_eNNNN  gamma of C and C_awd (M2 where a layer has no matched
//	                 pairs, as a convolution) against depth, when the report holds
//	                 several layers of one epoch (awd analyze --layers); the
//	                 per-epoch figures above then carry the layer in their name
//	suppression_eNNNN  s'_i vs lambda'_i after each intervention, log-log (Fig. 3)
//
// Each figure is written as .png and .svg, atomically. A folder of figures
// holds those of one run (see Draw and awd.FiguresFile).

var (
	colC     = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colAWD   = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	colBnd   = color.RGBA{R: 100, G: 100, B: 100, A: 255}
	palette8 = []color.Color{
		color.RGBA{R: 0, G: 0, B: 0, A: 255}, colC, colAWD,
		color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 148, G: 103, B: 189, A: 255},
		color.RGBA{R: 255, G: 127, B: 14, A: 255},
	}
)

// Draw draws every figure the report supports into dir and returns the
// files written and notes on the figures it skipped. The .npz files are
// looked up in the report's folder only: an arrays name with a folder in it
// is refused. A figure whose data cannot be drawn (no positive value for a
// log axis, a missing or malformed array) is skipped with a note rather
// than failing the others; a file that cannot be written (a read-only or
// full disk) is an error, returned with the files written so far.
//
// dir holds the figures of one run (awd.FiguresFile records which, and the
// files drawn): a dir with figures of another run, or figures without a
// record, is refused with an awd.FolderError unless fresh, which removes
// them first. Figures of the same run's earlier plot that this one does
// not draw again are removed. No other file of dir is ever removed. dir is
// locked while Draw works in it (awd.LockFolder): a folder that another
// plot (or any awd command) holds is refused with an error that wraps
// awd.ErrFolderBusy and names the holder.
func Draw(rep *awd.Report, reportPath, dir string, fresh bool) (files, notes []string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, &awd.FolderError{Err: fmt.Errorf("folder of the figures %s cannot be made or used (%v)", dir, err), Remedy: awd.NewFolder}
	}
	abs, err := filepath.Abs(reportPath)
	if err != nil {
		return nil, nil, fmt.Errorf("figures: %w", err)
	}
	// Two plots into one folder would interleave their figures and leave
	// the record of one beside the figures of the other.
	lock, err := awd.LockFolder(dir, "plot")
	if err != nil {
		return nil, nil, fmt.Errorf("figures: %w", err)
	}
	defer lock.Unlock()
	earlier, err := claim(dir, rep, abs, fresh)
	if err != nil {
		return nil, nil, err
	}
	files, notes, err = drawAll(rep, reportPath, dir)
	if serr := settle(dir, rep, abs, earlier, files, err == nil); err == nil {
		err = serr
	}
	return files, notes, err
}

// drawAll draws the figures of Draw.
func drawAll(rep *awd.Report, reportPath, dir string) (files, notes []string, err error) {
	base := filepath.Dir(reportPath)
	layered := multiLayer(rep)
	for _, ck := range rep.Checkpoints {
		tag := fmt.Sprintf("_e%04d", ck.Epoch)
		if layered {
			tag += "_" + ck.Analysis.Layer
		}
		if ck.Arrays == "" || ck.Arrays != filepath.Base(ck.Arrays) || ck.Arrays == ".." || filepath.IsAbs(ck.Arrays) {
			notes = append(notes, fmt.Sprintf("epoch %d: arrays %q is not a file in %s; skipped", ck.Epoch, ck.Arrays, base))
			continue
		}
		fs, ns, err := checkpointFigures(ck, filepath.Join(base, ck.Arrays), dir, tag)
		files, notes = append(files, fs...), append(notes, ns...)
		if err != nil {
			return files, notes, err
		}
	}
	var summaries []struct {
		name string
		p    func() *plot.Plot
	}
	if layered {
		for _, e := range epochs(rep) {
			summaries = append(summaries, struct {
				name string
				p    func() *plot.Plot
			}{fmt.Sprintf("gamma_layers_e%04d", e), func() *plot.Plot { return gammaLayers(rep, e) }})
		}
	} else if len(rep.Checkpoints) > 1 {
		summaries = append(summaries, struct {
			name string
			p    func() *plot.Plot
		}{"gamma_epochs", func() *plot.Plot { return gammaEpochs(rep) }})
	}
	for _, sm := range summaries {
		fs, err := guarded(sm.name, func() ([]string, error) {
			return savePlot(sm.p(), dir, sm.name, 6*vg.Inch, 4*vg.Inch)
		})
		files = append(files, fs...)
		if isWriteError(err) {
			return files, notes, err
		} else if err != nil {
			notes = append(notes, err.Error())
		}
	}
	return files, notes, nil
}

// writeError is a figure file that could not be written: unlike data that
// cannot be drawn, it is not skipped with a note but fails Draw.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

func isWriteError(err error) bool {
	var w *writeError
	return errors.As(err, &w)
}

// multiLayer reports whether the report holds more than one layer.
func multiLayer(rep *awd.Report) bool {
	for _, ck := range rep.Checkpoints {
		if ck.Analysis.Layer != rep.Checkpoints[0].Analysis.Layer {
			return true
		}
	}
	return false
}

// epochs lists the report's epochs in order of appearance.
func epochs(rep *awd.Report) []int {
	var out []int
	for _, ck := range rep.Checkpoints {
		if len(out) == 0 || out[len(out)-1] != ck.Epoch {
			out = append(out, ck.Epoch)
		}
	}
	return out
}

// guarded runs one figure, turning a panic of the plotting library (which
// panics on, e.g., an empty log axis) into an error.
func guarded(name string, f func() ([]string, error)) (files []string, err error) {
	defer func() {
		if e := recover(); e != nil {
			files, err = nil, fmt.Errorf("%s skipped: %v", name, e)
		}
	}()
	files, err = f()
	if isWriteError(err) {
		err = fmt.Errorf("figure %s: %w", name, err)
	} else if err != nil {
		err = fmt.Errorf("%s skipped: %v", name, err)
	}
	return files, err
}

// checkpointFigures draws the figures of one analysed epoch; a figure that
// cannot be drawn is skipped with a note, one that cannot be written is an
// error.
func checkpointFigures(ck awd.Checkpoint, npzPath, dir, tag string) (files, notes []string, err error) {
	r := ck.Analysis
	names := []string{"H_eigenvalues", "c_C", "c_Cawd", "c_M2"}
	for _, iv := range r.Suppression {
		names = append(names, "supp_"+iv.Name+"_lambda", "supp_"+iv.Name+"_s")
	}
	arr, err := awd.ReadArrays(npzPath, names...)
	if err != nil {
		return nil, []string{fmt.Sprintf("epoch %d: %v; its figures skipped", ck.Epoch, err)}, nil
	}
	if arr["H_eigenvalues"] == nil {
		return nil, []string{fmt.Sprintf("epoch %d: %s has no H_eigenvalues; its figures skipped", ck.Epoch, npzPath)}, nil
	}
	// The arrays must be this analysis's: its k eigenvalues, the first and
	// last as the results file records them (a file copied from another
	// analysis was drawn under this one's title and fits).
	if h, sp := arr["H_eigenvalues"], r.Spectrum; len(h) != r.K || len(h) > 0 && (h[0] != sp.Lambda1 || h[len(h)-1] != sp.LambdaK) {
		first, last := math.NaN(), math.NaN()
		if len(h) > 0 {
			first, last = h[0], h[len(h)-1]
		}
		return nil, []string{fmt.Sprintf("epoch %d: %s holds the arrays of another analysis (%d eigenvalues from %.6g to %.6g; the results record k=%d from %.6g to %.6g); its figures skipped",
			ck.Epoch, npzPath, len(h), first, last, r.K, sp.Lambda1, sp.LambdaK)}, nil
	}
	for _, name := range names[1:] {
		if v, ok := arr[name]; ok && !strings.HasPrefix(name, "supp_") && len(v) != len(arr["H_eigenvalues"]) {
			notes = append(notes, fmt.Sprintf("epoch %d: %s has %d values for %d eigenvalues; drawn over the first %d",
				ck.Epoch, name, len(v), len(arr["H_eigenvalues"]), min(len(v), len(arr["H_eigenvalues"]))))
		}
	}
	f := &epochFigures{ck: ck, arr: arr, dir: dir, tag: tag, npz: npzPath,
		title: fmt.Sprintf("%s %s %s, %s loss, K=%d, epoch %d", r.Dataset, r.Model, r.Layer, r.Loss, len(r.Classes), ck.Epoch)}
	for _, fig := range []struct {
		name string
		draw func() ([]string, error)
	}{{"powerlaw" + tag, f.powerLaw}, {"spectra" + tag, f.spectra}, {"rho" + tag, f.rho}, {"suppression" + tag, f.suppression}} {
		fs, err := guarded(fig.name, fig.draw)
		files = append(files, fs...)
		if isWriteError(err) {
			return files, notes, err
		} else if err != nil {
			notes = append(notes, err.Error())
		}
	}
	return files, notes, nil
}

// epochFigures holds what the figures of one analysed epoch are drawn from.
type epochFigures struct {
	ck                   awd.Checkpoint
	arr                  map[string][]float64
	dir, tag, title, npz string
}

// powerLaw is Fig. 2: c_i vs lambda_i with fits and bounds.
func (f *epochFigures) powerLaw() ([]string, error) {
	r, lambda := f.ck.Analysis, f.arr["H_eigenvalues"]
	p := plot.New()
	p.Title.Text = f.title
	logLog(p)
	p.X.Label.Text = "lambda_i (eigenvalue of H)"
	p.Y.Label.Text = "c_i = u_i^T X u_i"
	points := 0
	for _, s := range []struct {
		name, arr string
		col       color.Color
	}{{awd.NameC, "c_C", colC}, {awd.NameCAWD, "c_Cawd", colAWD}} {
		n, err := scatterFit(p, lambda, f.arr[s.arr], r.Fits[s.name], s.name, s.col)
		if err != nil {
			return nil, err
		}
		points += n
	}
	if points == 0 {
		return nil, fmt.Errorf("no positive (lambda_i, c_i) to draw on log axes")
	}
	if r.Batch > 0 && r.Spectrum.Sigma2 > 0 {
		s := float64(r.Spectrum.Sigma2) / float64(r.Batch)
		lo, hi := posRange(lambda)
		if err := boundLine(p, lo, hi, func(l float64) float64 { return s * l * l }, "Thm 5.1 lower (σ²/B) λ²"); err != nil {
			return nil, err
		}
		if lm := r.Bounds.LocMax; r.Bounds.Upper.Applies && lm > 0 {
			if err := boundLine(p, lo, hi, func(l float64) float64 { return s * lm * l }, "Thm 5.1 upper (σ²/B) λ_loc,max λ"); err != nil {
				return nil, err
			}
		}
	}
	p.Legend.Top, p.Legend.Left = true, true
	return savePlot(p, f.dir, "powerlaw"+f.tag, 6*vg.Inch, 5*vg.Inch)
}

// spectra draws lambda_i of H and c_i of C against i.
func (f *epochFigures) spectra() ([]string, error) {
	p := plot.New()
	p.Title.Text = f.title
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, decadeTicks{}
	p.X.Label.Text = "index i"
	p.Y.Label.Text = "value"
	points := 0
	for j, s := range []struct {
		label string
		v     []float64
	}{{"lambda_i of H", f.arr["H_eigenvalues"]}, {"c_i of C", f.arr["c_C"]}} {
		xy := plotter.XYs{}
		for i, v := range s.v {
			if v > 0 && !math.IsInf(v, 0) {
				xy = append(xy, plotter.XY{X: float64(i + 1), Y: v})
			}
		}
		if len(xy) == 0 {
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, err
		}
		l.Color = palette8[j+1]
		p.Add(l)
		p.Legend.Add(s.label, l)
		points += len(xy)
	}
	if points == 0 {
		return nil, fmt.Errorf("no positive eigenvalue or projection to draw on a log axis")
	}
	p.Legend.Top = true
	return savePlot(p, f.dir, "spectra"+f.tag, 6*vg.Inch, 4*vg.Inch)
}

// rho is Fig. 1: |rho| in H's eigenbasis and in a random frame.
func (f *epochFigures) rho() ([]string, error) {
	rho, err := awd.ReadMatrix(f.npz, "rho_C")
	if err != nil {
		return nil, nil // not measured (no alignment of C)
	}
	rr, err := awd.ReadMatrix(f.npz, "rho_rand_C")
	if err != nil {
		return nil, err
	}
	if rho.Rows == 0 || rho.Cols == 0 || rr.Rows == 0 || rr.Cols == 0 {
		return nil, fmt.Errorf("the rho block is empty (--rho-block 0)")
	}
	var zs, zr string
	for _, a := range f.ck.Analysis.Alignment {
		if a.Of == awd.NameC {
			zs = fmt.Sprintf(" (rbar %.3f, z %.1f)", a.RBar, a.Z)
			zr = fmt.Sprintf(" (rbar %.3f)", a.RBarRand)
		}
	}
	left := heat(rho, "|rho_ij| of C, H eigenbasis"+zs)
	right := heat(rr, "|rho_ij| of C, random frame"+zr)
	return saveRow([]*plot.Plot{left, right}, f.dir, "rho"+f.tag, 11*vg.Inch, 5*vg.Inch)
}

// suppression is Fig. 3: the spectra after the interventions.
func (f *epochFigures) suppression() ([]string, error) {
	r := f.ck.Analysis
	if len(r.Suppression) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = f.title + ": suppression"
	logLog(p)
	p.X.Label.Text = "lambda'_i"
	p.Y.Label.Text = "s'_i = u'_i^T M2' u'_i"
	points, err := scatterFit(p, f.arr["H_eigenvalues"], f.arr["c_M2"], r.Fits[awd.NameM2], "original", palette8[0])
	if err != nil {
		return nil, err
	}
	for j, iv := range r.Suppression {
		n, err := scatterFit(p, f.arr["supp_"+iv.Name+"_lambda"], f.arr["supp_"+iv.Name+"_s"], iv.Fit, iv.Name, palette8[(j+1)%len(palette8)])
		if err != nil {
			return nil, err
		}
		points += n
	}
	if points == 0 {
		return nil, fmt.Errorf("no positive spectrum to draw on log axes")
	}
	p.Legend.Top, p.Legend.Left = true, true
	return savePlot(p, f.dir, "suppression"+f.tag, 6*vg.Inch, 5*vg.Inch)
}

// decadeTicks labels the powers of ten of a log axis as 1e-5, 1e-4, ...
// and marks the 2..9 multiples without labels.
type decadeTicks struct{}

func (decadeTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= 0 {
		return nil
	}
	var ts []plot.Tick
	k0, k1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	step := max(1, (k1-k0)/8) // at most about 8 labels
	for k := k0; k <= k1; k++ {
		base := math.Pow(10, float64(k))
		if base >= lo && base <= hi {
			label := ""
			if (k-k0)%step == 0 {
				label = fmt.Sprintf("1e%d", k)
			}
			ts = append(ts, plot.Tick{Value: base, Label: label})
		}
		if step == 1 {
			for m := 2; m <= 9; m++ {
				if v := float64(m) * base; v >= lo && v <= hi {
					ts = append(ts, plot.Tick{Value: v})
				}
			}
		}
	}
	return ts
}

func logLog(p *plot.Plot) {
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, decadeTicks{}
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, decadeTicks{}
}

// scatterFit adds the positive (lambda_i, c_i) as points and the fit line
// exp(b) lambda^gamma over their range.
// scatterFit adds the points (lambda_i, c_i) with both positive and finite
// (over the shorter of the two) and the fit line, and returns the number of
// points.
func scatterFit(p *plot.Plot, lambda, c []float64, f awd.Fit, name string, col color.Color) (int, error) {
	xy := plotter.XYs{}
	for i := range min(len(lambda), len(c)) {
		if l := lambda[i]; l > 0 && c[i] > 0 && !math.IsInf(l, 0) && !math.IsInf(c[i], 0) {
			xy = append(xy, plotter.XY{X: l, Y: c[i]})
		}
	}
	if len(xy) == 0 {
		return 0, nil
	}
	s, err := plotter.NewScatter(xy)
	if err != nil {
		return 0, err
	}
	s.GlyphStyle.Color = col
	s.GlyphStyle.Radius = vg.Points(1.5)
	p.Add(s)
	label := name
	if f.Used >= 2 && !math.IsNaN(f.Gamma) && !math.IsInf(f.Gamma, 0) {
		label = fmt.Sprintf("%s: γ = %.3f ± %.3f", name, f.Gamma, float64(f.SE))
		lo, hi := posRange(lambda)
		ylo, yhi := math.Exp(f.Intercept)*math.Pow(lo, f.Gamma), math.Exp(f.Intercept)*math.Pow(hi, f.Gamma)
		if ylo > 0 && yhi > 0 && !math.IsInf(ylo, 0) && !math.IsInf(yhi, 0) {
			line, err := plotter.NewLine(plotter.XYs{{X: lo, Y: ylo}, {X: hi, Y: yhi}})
			if err != nil {
				return 0, err
			}
			line.Color = col
			line.Width = vg.Points(1.5)
			p.Add(line)
		}
	}
	p.Legend.Add(label, s)
	return len(xy), nil
}

func boundLine(p *plot.Plot, lo, hi float64, f func(float64) float64, label string) error {
	const n = 32
	xy := make(plotter.XYs, n)
	for i := range xy {
		x := lo * math.Pow(hi/lo, float64(i)/(n-1))
		xy[i] = plotter.XY{X: x, Y: f(x)}
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color = colBnd
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(l)
	p.Legend.Add(label, l)
	return nil
}

func posRange(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), 0
	for _, x := range v {
		if x > 0 && !math.IsInf(x, 0) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	if hi == 0 {
		return 1, 1
	}
	return lo, hi
}

// absGrid is |m| as a heat-map grid, entry (i, j) at x = j+1, y = i+1.
type absGrid struct{ m linalg.Dense }

func (g absGrid) Dims() (c, r int)   { return g.m.Cols, g.m.Rows }
func (g absGrid) X(c int) float64    { return float64(c + 1) }
func (g absGrid) Y(r int) float64    { return float64(r + 1) }
func (g absGrid) Z(c, r int) float64 { return math.Abs(g.m.At(r, c)) }

// reversed is a palette in the opposite order: with palette.Heat, white
// for 0 through yellow to red for 1.
type reversed struct{ p palette.Palette }

func (r reversed) Colors() []color.Color {
	c := r.p.Colors()
	out := make([]color.Color, len(c))
	for i := range c {
		out[i] = c[len(c)-1-i]
	}
	return out
}

func heat(m linalg.Dense, title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	h := plotter.NewHeatMap(absGrid{m}, reversed{palette.Heat(64, 1)})
	h.Min, h.Max = 0, 1
	h.NaN = color.White
	p.Add(h)
	p.X.Label.Text = "j"
	p.Y.Label.Text = "i"
	return p
}

// barSE is the half-length of a gamma's error bar: its SE, or none (0)
// for a NaN, negative or absurd one (an SE of 1e308 made the axis's range
// overflow to Inf and the tick search never end).
func barSE(se float64) float64 {
	if !(se >= 0 && se <= 1e100) {
		return 0
	}
	return se
}

func gammaEpochs(rep *awd.Report) *plot.Plot {
	p := plot.New()
	r0 := rep.Checkpoints[0].Analysis
	p.Title.Text = fmt.Sprintf("%s %s %s, %s loss, K=%d: gamma over training", r0.Dataset, r0.Model, r0.Layer, r0.Loss, len(r0.Classes))
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "gamma"
	for j, name := range []string{awd.NameC, awd.NameCAWD} {
		var xy plotter.XYs
		var errs plotter.YErrors
		for _, ck := range rep.Checkpoints {
			if f, ok := ck.Analysis.Fits[name]; ok && !math.IsNaN(f.Gamma) && !math.IsInf(f.Gamma, 0) {
				xy = append(xy, plotter.XY{X: float64(ck.Epoch), Y: f.Gamma})
				se := barSE(float64(f.SE))
				errs = append(errs, struct{ Low, High float64 }{se, se})
			}
		}
		if len(xy) == 0 {
			continue
		}
		sort.SliceStable(xy, func(a, b int) bool { return xy[a].X < xy[b].X })
		l, s, err := plotter.NewLinePoints(xy)
		if err != nil {
			continue
		}
		col := []color.Color{colC, colAWD}[j]
		l.Color, s.Color = col, col
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{xy, errs})
		if err == nil {
			eb.Color = col
			p.Add(eb)
		}
		p.Add(l, s)
		p.Legend.Add("gamma "+name, l, s)
	}
	p.Legend.Top = false // gamma rises during training: the lower right is free
	return p
}

// gammaLayers is gamma of C and of C_awd (or M2, which has the same
// exponent, where a layer has no matched pairs) against the depth of the
// layers analysed at epoch e, in report order (input to output), with ± SE.
func gammaLayers(rep *awd.Report, e int) *plot.Plot {
	p := plot.New()
	var names []string
	var r0 *awd.Result
	for _, ck := range rep.Checkpoints {
		if ck.Epoch == e {
			names = append(names, ck.Analysis.Layer)
			if r0 == nil {
				r0 = ck.Analysis
			}
		}
	}
	p.Title.Text = fmt.Sprintf("%s %s, %s loss, K=%d, epoch %d: gamma against depth", r0.Dataset, r0.Model, r0.Loss, len(r0.Classes), e)
	p.X.Label.Text = "layer"
	p.Y.Label.Text = "gamma"
	p.X.Tick.Marker = layerTicks(names)
	lo, hi := math.Inf(1), math.Inf(-1) // the points' range, bars included
	for j, series := range []struct {
		label string
		fit   func(r *awd.Result) (awd.Fit, bool)
	}{
		{"gamma " + awd.NameC, func(r *awd.Result) (awd.Fit, bool) { f, ok := r.Fits[awd.NameC]; return f, ok }},
		{"gamma_awd (C_awd, or M2)", func(r *awd.Result) (awd.Fit, bool) {
			if f, ok := r.Fits[awd.NameCAWD]; ok {
				return f, true
			}
			f, ok := r.Fits[awd.NameM2]
			return f, ok
		}},
	} {
		var xy plotter.XYs
		var errs plotter.YErrors
		i := 0
		for _, ck := range rep.Checkpoints {
			if ck.Epoch != e {
				continue
			}
			if f, ok := series.fit(ck.Analysis); ok && !math.IsNaN(f.Gamma) && !math.IsInf(f.Gamma, 0) {
				xy = append(xy, plotter.XY{X: float64(i), Y: f.Gamma})
				se := barSE(float64(f.SE))
				errs = append(errs, struct{ Low, High float64 }{se, se})
			}
			i++
		}
		if len(xy) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(xy)
		if err != nil {
			continue
		}
		col := []color.Color{colC, colAWD}[j]
		l.Color, s.Color = col, col
		if eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{xy, errs}); err == nil {
			eb.Color = col
			p.Add(eb)
		}
		p.Add(l, s)
		p.Legend.Add(series.label, l, s)
		for i, v := range xy {
			lo, hi = min(lo, v.Y-errs[i].Low), max(hi, v.Y+errs[i].High)
		}
	}
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	// gamma has no trend with depth, so no corner is sure to be free: the
	// legend (top right) gets a band of its own above the points.
	if lo <= hi {
		span := hi - lo
		if span == 0 {
			span = math.Max(math.Abs(hi), 1) * 0.1
		}
		p.Y.Min, p.Y.Max = math.Min(p.Y.Min, lo-0.05*span), hi+legendBand*span
	}
	p.Legend.Top = true
	return p
}

// legendBand is the headroom above the highest point of gamma_layers, as a
// share of the points' range: room for its two legend entries on a
// 6 x 4 inch figure.
const legendBand = 0.45

// layerTicks labels the integer positions 0.. with the layer names.
type layerTicks []string

func (t layerTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for i, n := range t {
		ts = append(ts, plot.Tick{Value: float64(i), Label: n})
	}
	return ts
}

// savePlot writes p as dir/name.png and dir/name.svg.
func savePlot(p *plot.Plot, dir, name string, w, h vg.Length) ([]string, error) {
	var files []string
	for _, ext := range []string{"png", "svg"} {
		wt, err := p.WriterTo(w, h, ext)
		if err != nil {
			return files, err
		}
		path := filepath.Join(dir, name+"."+ext)
		if err := atomicfile.Write(path, func(out io.Writer) error { _, err := wt.WriteTo(out); return err }); err != nil {
			return files, &writeError{err}
		}
		files = append(files, path)
	}
	return files, nil
}

// saveRow writes the plots side by side as dir/name.png and .svg.
func saveRow(ps []*plot.Plot, dir, name string, w, h vg.Length) ([]string, error) {
	var files []string
	for _, ext := range []string{"png", "svg"} {
		c, err := draw.NewFormattedCanvas(w, h, ext)
		if err != nil {
			return files, err
		}
		t := draw.Tiles{Rows: 1, Cols: len(ps), PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
		cs := plot.Align([][]*plot.Plot{ps}, t, draw.New(c))
		for i, p := range ps {
			p.Draw(cs[0][i])
		}
		path := filepath.Join(dir, name+"."+ext)
		if err := atomicfile.Write(path, func(out io.Writer) error { _, err := c.WriteTo(out); return err }); err != nil {
			return files, &writeError{err}
		}
		files = append(files, path)
	}
	return files, nil
}
