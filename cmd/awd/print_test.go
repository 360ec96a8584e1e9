package main

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/awd"
)

// columnsAligned checks that every row of a table printed under header
// has each cell, want[i][j], starting where the header's column j starts,
// counted in characters (runes): a cell holding "±" (two bytes in UTF-8)
// pushes no later column to the right. The header's columns are named by
// cols.
func columnsAligned(t *testing.T, out string, cols []string, want [][]string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	h := -1
	for i, l := range lines {
		if strings.HasPrefix(l, cols[0]+" ") {
			h = i
			break
		}
	}
	if h < 0 || h+len(want) >= len(lines) {
		t.Fatalf("no header %q with %d rows below it:\n%s", cols[0], len(want), out)
	}
	start := make([]int, len(cols)+1)
	for j, c := range cols {
		b := strings.Index(lines[h], c)
		if b < 0 {
			t.Fatalf("header %q lacks column %q", lines[h], c)
		}
		start[j] = len([]rune(lines[h][:b]))
	}
	start[len(cols)] = math.MaxInt
	for i, cells := range want {
		row := []rune(lines[h+1+i])
		for j, cell := range cells {
			from, to := start[j], min(start[j+1], len(row))
			if from > len(row) {
				t.Errorf("row %q ends before column %q (character %d)", string(row), cols[j], from)
				break
			}
			if got := strings.TrimRight(string(row[from:to]), " "); got != cell {
				t.Errorf("row %q: column %q (characters %d..%d) holds %q, want %q", string(row), cols[j], from, to, got, cell)
			}
		}
	}
}

// TestSummaryColumnsAligned: the gamma columns of the summary of one layer
// and of several (--layers) hold "gamma ± SE", whose "±" is one character
// of two bytes; every column of every row starts under its header, as the
// terminal shows them (a column padded by bytes would come out one
// character narrow per "±" and shift the columns after it left).
func TestSummaryColumnsAligned(t *testing.T) {
	fit := func(g, se float64) awd.Fit { return awd.Fit{Gamma: g, SE: awd.Float(se), R2: 0.987, Used: 10} }
	fc := &awd.Result{Layer: "fc2", D: 2500, Fits: map[string]awd.Fit{
		awd.NameC: fit(1.059, 0.01), awd.NameCAWD: fit(1.127, 0.012), awd.NameM2: fit(1.127, 0.012)}}
	// A PyTorch layer name and a gamma cell wider than their columns'
	// widths widen the columns instead of pushing the cells after them.
	conv := &awd.Result{Layer: "layer4.1.conv2", D: 216, Fits: map[string]awd.Fit{
		awd.NameC: fit(-0.5, 0.25), awd.NameM2: fit(12345.678, 1234.5)}}
	rep := &awd.Report{Checkpoints: []awd.Checkpoint{
		{Epoch: 1, TrainLoss: 1.28, TrainAcc: 0.5967, Analysis: conv},
		{Epoch: 20, TrainLoss: 0.009017, TrainAcc: 0.9987, Analysis: fc},
	}}
	var b bytes.Buffer
	printSummary(&b, rep, "results.json")
	columnsAligned(t, b.String(), []string{"epoch", "loss", "acc", "gamma (C)", "gamma_awd", "R2"}, [][]string{
		{"1", "1.28", "0.5967", "-0.500 ± 0.250", "12345.678 ± 1234.500 (M2)", "0.987"},
		{"20", "0.009017", "0.9987", "1.059 ± 0.010", "1.127 ± 0.012", "0.987"},
	})
	b.Reset()
	rep.Checkpoints[0].Epoch = 20
	printLayers(&b, rep, "results.json")
	columnsAligned(t, b.String(), []string{"layer", "d", "gamma (C)", "gamma_awd", "R2", "eigensolve"}, [][]string{
		{"layer4.1.conv2", "216", "-0.500 ± 0.250", "12345.678 ± 1234.500 (M2)", "0.987", "0.0s"},
		{"fc2", "2500", "1.059 ± 0.010", "1.127 ± 0.012", "0.987", "0.0s"},
	})
}

// TestMissingResultsFile: plot and table of a path that does not exist say
// which file they read, in one line.
func TestMissingResultsFile(t *testing.T) {
	dir := t.TempDir()
	none := filepath.Join(dir, "none.json")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plot", none}, "results file: open " + none + ": no such file or directory (give the results.json that awd run, train, analyze or reduce wrote"},
		{[]string{"table", none}, none + " does not exist: table reads one sweep folder or sweep file (given alone), or results .json files"},
		{[]string{"table", filepath.Join(dir, "sweepdir")}, "does not exist: table reads one sweep folder or sweep file"},
	} {
		_, se, code := awdCmd(t, c.args...)
		if code != 1 || strings.Count(se, "\n") != 1 || !strings.Contains(se, c.want) {
			t.Errorf("awd %s: exit %d, stderr %q; want one line with %q", strings.Join(c.args, " "), code, se, c.want)
		}
	}
}

// TestCorrelationLineCountsDirections: with fewer than 10 directions
// correlated (k = 5) the summary's mean is of the top 5, as results.json's
// mean_top10 is (the line said "top 10").
func TestCorrelationLineCountsDirections(t *testing.T) {
	for _, tc := range []struct{ k, corrK, top, of int }{{5, 200, 5, 5}, {300, 200, 10, 200}, {300, 8, 8, 8}} {
		r := &awd.Result{K: tc.k, Config: awd.Config{CorrK: tc.corrK},
			Correlation: &awd.CorrSummary{First: 0.5, MeanTop: 0.25, MeanAll: 0.1, Positive: 3}}
		var b bytes.Buffer
		printStatistics(&b, r)
		want := fmt.Sprintf("mean of top %d 0.250, positive 3/%d", tc.top, tc.of)
		if !strings.Contains(b.String(), want) {
			t.Errorf("k %d, corr-k %d: %q, want %q", tc.k, tc.corrK, b.String(), want)
		}
	}
}
