package figures

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/awd-toolkit/awd/awd"
)

// SeedSeries is gamma over training for one configuration run with several
// seeds: at each analysed epoch, per covariance, the mean and sample std of
// gamma over the seeds that analysed that epoch.
type SeedSeries struct {
	Title  string
	Epochs []int
	Gamma  map[string][]awd.MeanStd // per covariance, one per epoch
}

// DrawSeedSeries draws s as dir/name.png and .svg: gamma against the
// training epoch for C (blue) and C_awd (red), a line through the means
// with error bars of ± one sample std over the seeds (none with one seed),
// and n in the legend. Other covariances get the next colours.
func DrawSeedSeries(s SeedSeries, dir, name string) ([]string, error) {
	if len(s.Epochs) == 0 {
		return nil, fmt.Errorf("figure %s: no analysed epoch", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := plot.New()
	p.Title.Text = s.Title + ": gamma over training (mean ± std over seeds)"
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "gamma"
	var covs []string
	for _, c := range awd.CovarianceNames {
		if _, ok := s.Gamma[c]; ok {
			covs = append(covs, c)
		}
	}
	drawn := 0
	for i, c := range covs {
		col := []color.Color{colC, colAWD}[min(i, 1)]
		if i >= 2 {
			col = palette8[(i+1)%len(palette8)]
		}
		var xy plotter.XYs
		var errs plotter.YErrors
		n := 0
		for e, m := range s.Gamma[c] {
			if m.N == 0 || math.IsNaN(m.Mean) || math.IsInf(m.Mean, 0) {
				continue
			}
			sd := m.Std
			if m.N < 2 || math.IsNaN(sd) {
				sd = 0
			}
			xy = append(xy, plotter.XY{X: float64(s.Epochs[e]), Y: m.Mean})
			errs = append(errs, struct{ Low, High float64 }{sd, sd})
			n = max(n, m.N)
		}
		if len(xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("figure %s: %w", name, err)
		}
		l.Color, pts.Color = col, col
		if eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{xy, errs}); err == nil {
			eb.Color = col
			p.Add(eb)
		}
		p.Add(l, pts)
		p.Legend.Add(fmt.Sprintf("gamma %s (n <= %d)", c, n), l, pts)
		drawn++
	}
	if drawn == 0 {
		return nil, errors.New("figure " + name + ": no finite gamma to draw")
	}
	if slices.Max(s.Epochs) == slices.Min(s.Epochs) {
		p.X.Min, p.X.Max = float64(s.Epochs[0])-1, float64(s.Epochs[0])+1
	}
	p.Y.Tick.Marker = twoDecimals{}
	p.Legend.Top = false // gamma rises during training: the lower right is free
	return savePlot(p, dir, name, 6*vg.Inch, 4*vg.Inch)
}

// twoDecimals labels gonum's default ticks with two decimals, so that close
// gammas get distinct labels.
type twoDecimals struct{}

func (twoDecimals) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = fmt.Sprintf("%.2f", ts[i].Value)
		}
	}
	return ts
}
