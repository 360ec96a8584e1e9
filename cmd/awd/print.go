package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/awd-toolkit/awd/awd"
)

// printSummary writes the one-screen summary of a report: gamma per
// analysed epoch, then everything measured at the last one.
func printSummary(w io.Writer, rep *awd.Report, path string) {
	if len(rep.Checkpoints) == 0 {
		fmt.Fprintf(w, "no analysed epoch; results: %s\n", path)
		return
	}
	tw := columns(w)
	fmt.Fprintf(tw, "\n%-6s\t%-10s\t%-8s\t%-18s\t%-22s\t%s\n", "epoch", "loss", "acc", "gamma (C)", "gamma_awd", "R2")
	for _, c := range rep.Checkpoints {
		g := c.Analysis.Fits[awd.NameC]
		r2 := "n/a"
		if g.Used > 0 {
			r2 = fmt.Sprintf("%.3f", g.R2)
		}
		fmt.Fprintf(tw, "%-6d\t%-10.4g\t%-8.4f\t%-18s\t%-22s\t%s\n", c.Epoch, float64(c.TrainLoss), float64(c.TrainAcc), g.Short(), awdGamma(c.Analysis), r2)
	}
	tw.Flush()
	last := rep.Checkpoints[len(rep.Checkpoints)-1]
	r := last.Analysis
	fmt.Fprintf(w, "\n%s %s, layer %s (%dx%d, d=%d), %s loss, %d logits, K=%d, N=%s, k=%d, B=%d, kernels %s\n",
		r.Dataset, r.Model, r.Layer, r.M, r.In, r.D, r.Loss, r.Head, len(r.Classes), samplesUsed(r), r.K, r.Batch, r.KernelLevel)
	printFits(w, r)
	printStatistics(w, r)
	t := r.Timings
	fmt.Fprintf(w, "  time: pairs %.1fs, per-sample %.1fs, accumulate %.1fs, eigensolve %.1fs, statistics %.1fs, suppression %.1fs, total %.1fs\n",
		t.Pairs, t.PerSample, t.Accumulate, t.Eigensolve, t.Statistics, t.Suppression, t.Total)
	fmt.Fprintf(w, "results: %s (arrays: %s)\n", path, filepath.Join(filepath.Dir(path), last.Arrays))
}

// awdGamma is the gamma_awd column of a summary: C_awd's fit, or M2's
// with "(M2)" where C_awd has none (a convolution layer, whose matched
// pairs have no dW: gamma of C_awd = (sigma^2/B) M2 is M2's).
func awdGamma(r *awd.Result) string {
	if withoutCAWD(r) {
		return r.Fits[awd.NameM2].Short() + " (M2)"
	}
	return r.Fits[awd.NameCAWD].Short()
}

// withoutCAWD reports whether r has M2's fit but none of C_awd: then M2
// stands for C_awd, and the summary names it M2.
func withoutCAWD(r *awd.Result) bool {
	_, cawd := r.Fits[awd.NameCAWD]
	_, m2 := r.Fits[awd.NameM2]
	return !cawd && m2
}

// printFits writes every exponent, or n/a with the reason, with its
// bootstrap interval when there is one; M2's after C_awd where C_awd has
// no fit (a convolution layer).
func printFits(w io.Writer, r *awd.Result) {
	names := []string{awd.NameC, awd.NameCAWD, awd.NameCPair, awd.NameCPair2, awd.NameCPair2Code, awd.NameCMb}
	if withoutCAWD(r) {
		names = slices.Insert(names, 2, awd.NameM2)
	}
	for _, n := range []string{awd.NameCPair, awd.NameCPair2, awd.NameCPair2Code} {
		names = append(names, n+awd.AnchorSuffix)
	}
	for _, name := range names {
		if f, ok := r.Fits[name]; ok {
			ci := ""
			if b, ok := r.Bootstrap[name]; ok {
				ci = fmt.Sprintf(", bootstrap %.0f%% basic interval [%.3f, %.3f]", 100*b.Level, float64(b.BasicLow), float64(b.BasicHigh))
			}
			if f.Null > 0 {
				ci = fmt.Sprintf(", %d in H's null space%s", f.Null, ci)
			}
			fmt.Fprintf(w, "  gamma %-19s %s  (R2 %.3f, %d of %d directions used%s)\n", name, f.Short(), f.R2, f.Used, f.Used+f.Dropped, ci)
		} else if e, ok := r.FitErrors[name]; ok {
			fmt.Fprintf(w, "  gamma %-19s n/a: %s\n", name, e)
		}
	}
	if sc := r.Scales; sc != nil && len(r.PairRules) > 0 {
		p := r.PairRules[0]
		fmt.Fprintf(w, "  sigma^2 per d %s, per m %s (%s pairs); c_C/c_Cawd %s with sigma^2 per d, %s per m; c_Cpair/c_Cawd %s, %s\n",
			orNA(p.Sigma2D), orNA(p.Sigma2M), p.Rule, orNA(sc.COverCAWDD), orNA(sc.COverCAWDM), orNA(sc.CPairOverCAWDD), orNA(sc.CPairOverCAWDM))
	}
}

// printStatistics writes the bounds, alignment, commutator, correlations
// and suppression.
func printStatistics(w io.Writer, r *awd.Result) {
	b := r.Bounds
	applies := ""
	if !b.Upper.Applies {
		applies = " (not implied: some H_n not PSD)"
	}
	fmt.Fprintf(w, "  Thm 5.1  lambda_i^2 <= s_i: %d/%d;  s_i <= lambda_loc_max*lambda_i: %d/%d%s  (lambda_loc_max %.4g)\n",
		b.Lower.Holds, b.Lower.Total, b.Upper.Holds, b.Upper.Total, applies, b.LocMax)
	for _, a := range r.Alignment {
		null := ""
		if a.Null > 0 {
			null = fmt.Sprintf(" (%d directions of H's null space left out)", a.Null)
		}
		fmt.Fprintf(w, "  alignment %-6s rbar %.4f, random frame %.4f, null mu0 %.4f ± %.4f (k_eff %.1f): z = %.1f, p = %.2g%s\n",
			a.Of, a.RBar, a.RBarRand, a.Mu0, a.SE, a.KEff, a.Z, a.P, null)
	}
	for of, e := range r.AlignErrors {
		fmt.Fprintf(w, "  alignment %-6s n/a: %s\n", of, e)
	}
	fmt.Fprintf(w, "  commutator ||HC-CH||/(||H|| ||C||) = %s, ||HC-CH||/||CH|| = %s\n", orNA(r.Commutator), orNA(r.CommutatorCode))
	if c := r.Correlation; c != nil {
		n := min(r.K, r.Config.CorrK) // the directions correlated; the mean is of the first 10
		fmt.Fprintf(w, "  eigenvalue-alignment correlation: r_1 %.3f, mean of top %d %.3f, positive %d/%d\n",
			float64(c.First), min(10, n), float64(c.MeanTop), c.Positive, n)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for _, iv := range r.Suppression {
		extra := ""
		if iv.Stiff > 0 {
			extra = fmt.Sprintf(" (%d stiff samples)", iv.Stiff)
		}
		if iv.FitErr != "" {
			fmt.Fprintf(w, "  suppression %-14s gamma_M2 n/a: %s\n", iv.Name, iv.FitErr)
			continue
		}
		fmt.Fprintf(w, "  suppression %-14s gamma_M2 %s%s (%s protocol, %d samples)\n", iv.Name, iv.Fit.Short(), extra, iv.Protocol, iv.Samples)
	}
}

// printLayers writes the summary of a report of several layers of one
// checkpoint (awd analyze --layers): gamma of C and of C_awd (M2 where
// there are no matched pairs, as for a convolution) per layer, from input
// to output.
func printLayers(w io.Writer, rep *awd.Report, path string) {
	tw := columns(w)
	fmt.Fprintf(tw, "\n%-12s\t%-9s\t%-18s\t%-22s\t%-6s\t%s\n", "layer", "d", "gamma (C)", "gamma_awd", "R2", "eigensolve")
	for _, c := range rep.Checkpoints {
		r := c.Analysis
		g := r.Fits[awd.NameC]
		fmt.Fprintf(tw, "%-12s\t%-9d\t%-18s\t%-22s\t%-6.3f\t%.1fs\n", r.Layer, r.D, g.Short(), awdGamma(r), g.R2, r.Timings.Eigensolve)
	}
	tw.Flush()
	r := rep.Checkpoints[0].Analysis
	fmt.Fprintf(w, "%s %s, %s loss, %d logits, K=%d, N=%s, k=%d, B=%d, kernels %s, matrix-free\n",
		r.Dataset, r.Model, r.Loss, r.Head, len(r.Classes), samplesUsed(r), r.K, r.Batch, r.KernelLevel)
	fmt.Fprintf(w, "results: %s (arrays_epochNNNN_<layer>.npz beside it; 'awd plot' draws gamma_layers_eNNNN)\n", path)
}

// samplesUsed is N, with the samples of the analysis set that no balanced
// batch holds when there are any.
func samplesUsed(r *awd.Result) string {
	if n := r.Spectrum.LeftOut; n > 0 {
		return fmt.Sprintf("%d (%d of %d samples left out of the balanced batches)", r.N, n, r.N+n)
	}
	return fmt.Sprint(r.N)
}

// orNA is v as %.3g, or n/a for a value not computed (NaN, null in the JSON).
func orNA(v awd.Float) string {
	if math.IsNaN(float64(v)) {
		return "n/a"
	}
	return fmt.Sprintf("%.3g", float64(v))
}

// columns writes the tab-separated cells of a summary's table as columns
// at least as wide as their format's width (a cell "%-12s\t" is padded to
// 12 characters, then one space), widened where a cell is longer, such as
// a PyTorch layer name like layer4.1.conv2, so that no cell pushes the
// columns after it out of line. Widths count characters, not bytes: the
// "±" of a gamma cell takes one.
func columns(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
}
