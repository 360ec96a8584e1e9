package awd

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npz"
	"gonum.org/v1/gonum/mat"

	"github.com/awd-toolkit/awd/internal/atomicfile"
	"github.com/awd-toolkit/awd/linalg"
)

// Report is the results JSON of one run (SPEC section 6): the run's
// configuration as the caller chose to record it, and per analysed
// checkpoint the training state and the Result. Arrays live in a .npz
// beside it, named by Checkpoint.Arrays (relative to the JSON's folder).
type Report struct {
	SchemaVersion int             `json:"schema_version"`
	Tool          string          `json:"tool"`
	Config        json.RawMessage `json:"config,omitempty"`
	Training      []EpochLog      `json:"training,omitempty"`
	Checkpoints   []Checkpoint    `json:"checkpoints"`
}

// EpochLog is one training epoch: train loss and accuracy as seen during
// the epoch, test loss and accuracy after it (null without a test set).
type EpochLog struct {
	Epoch     int     `json:"epoch"`
	TrainLoss Float   `json:"train_loss"`
	TrainAcc  Float   `json:"train_acc"`
	TestLoss  Float   `json:"test_loss"`
	TestAcc   Float   `json:"test_acc"`
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"`
}

// Checkpoint is one analysed model: its epoch (0 for an untrained or
// external model), its train/test loss and accuracy when known (null
// otherwise), the checkpoint file, and the analysis.
type Checkpoint struct {
	Epoch     int     `json:"epoch"`
	TrainLoss Float   `json:"train_loss"`
	TrainAcc  Float   `json:"train_acc"`
	TestLoss  Float   `json:"test_loss"`
	TestAcc   Float   `json:"test_acc"`
	File      string  `json:"checkpoint,omitempty"`
	Arrays    string  `json:"arrays,omitempty"`
	Analysis  *Result `json:"analysis"`
}

// WriteReport writes rep as indented JSON to path atomically, setting the
// schema version.
func WriteReport(path string, rep *Report) error {
	rep.SchemaVersion = SchemaVersion
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	b = append(b, '\n')
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// ReadReport reads a results JSON and checks its schema version.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var probe struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%s: not a results JSON: %w", path, err)
	}
	if probe.SchemaVersion == nil {
		return nil, fmt.Errorf("%s: field schema_version is missing", path)
	}
	if *probe.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%s: field schema_version is %d, this awd reads %d", path, *probe.SchemaVersion, SchemaVersion)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, c := range rep.Checkpoints {
		if c.Analysis == nil {
			return nil, fmt.Errorf("%s: checkpoints[%d].analysis is missing", path, i)
		}
	}
	return &rep, nil
}

// npzName maps a covariance name to its array name: c_C, c_Cawd, c_Cpair,
// c_Cpair2, c_Cmb, c_M2.
func npzName(cov string) string {
	return "c_" + npzLabel(cov)
}

// WriteArrays writes the arrays of r to a .npz file atomically:
//
//	sample_indices   data-set indices of the N analysis samples, in accumulation order
//	H_eigenvalues    lambda_1 >= ... >= lambda_k
//	c_C, c_Cawd, c_Cpair, c_Cpair2, c_Cmb, c_M2   c_i = u_i^T X u_i
//	s_i              = c_M2 (Thm 5.1)
//	lambda1_samples  lambda_1(H_n) per sample
//	corr             eigenvalue-alignment correlation per direction
//	rho_<X>, rho_rand_<X>   leading block of rho in H's basis and a Haar frame
//	supp_<name>_lambda, supp_<name>_s, supp_<name>_corr   spectra and correlations after each intervention
func WriteArrays(path string, r *Result) error {
	a := &r.Arrays
	idx := make([]int64, len(a.SampleIndices))
	for i, v := range a.SampleIndices {
		idx[i] = int64(v)
	}
	type entry struct {
		name string
		v    any
	}
	es := []entry{{"sample_indices", idx}, {"H_eigenvalues", a.Lambda}}
	for _, name := range sortedKeys(a.C) {
		es = append(es, entry{npzName(name), a.C[name]})
	}
	if s, ok := a.C[NameM2]; ok {
		es = append(es, entry{"s_i", s})
	}
	if a.Lambda1 != nil {
		es = append(es, entry{"lambda1_samples", a.Lambda1})
	}
	if a.Corr != nil {
		es = append(es, entry{"corr", a.Corr})
	}
	for _, name := range sortedKeys(a.Rho) {
		es = append(es, entry{"rho_" + npzLabel(name), denseMat(a.Rho[name])})
	}
	for _, name := range sortedKeys(a.RhoRand) {
		es = append(es, entry{"rho_rand_" + npzLabel(name), denseMat(a.RhoRand[name])})
	}
	for _, name := range sortedKeys(a.Suppressed) {
		v := a.Suppressed[name]
		es = append(es, entry{"supp_" + name + "_lambda", v[0]}, entry{"supp_" + name + "_s", v[1]})
		if v[2] != nil {
			es = append(es, entry{"supp_" + name + "_corr", v[2]})
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		zw := npz.NewWriter(w)
		for _, e := range es {
			if err := zw.Write(e.name+".npy", e.v); err != nil {
				return err
			}
		}
		return zw.Close()
	})
}

func npzLabel(cov string) string { return strings.ReplaceAll(cov, "_", "") }

// denseMat copies a into a compact gonum matrix (npyio writes *mat.Dense as
// a 2-D array); a zero-size matrix becomes 0 x 0.
func denseMat(a linalg.Dense) *mat.Dense {
	if a.Rows == 0 || a.Cols == 0 {
		return &mat.Dense{}
	}
	return a.Clone().Mat()
}

// ReadArrays reads the named 1-D float64 arrays of a .npz file written by
// WriteArrays (for plots and independent checks).
func ReadArrays(path string, names ...string) (map[string][]float64, error) {
	r, err := npz.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := map[string][]float64{}
	for _, n := range names {
		if !slices.Contains(r.Keys(), n+".npy") {
			continue
		}
		var v []float64
		if err := r.Read(n+".npy", &v); err != nil {
			return nil, fmt.Errorf("%s: array %s: %w", path, n, err)
		}
		out[n] = v
	}
	return out, nil
}

// ReadMatrix reads a 2-D float64 array of a .npz file.
func ReadMatrix(path, name string) (*mat.Dense, error) {
	r, err := npz.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if !slices.Contains(r.Keys(), name+".npy") {
		return nil, fmt.Errorf("%s: no array %s", path, name)
	}
	var m mat.Dense
	if err := r.Read(name+".npy", &m); err != nil {
		return nil, fmt.Errorf("%s: array %s: %w", path, name, err)
	}
	return &m, nil
}

// TableRow is one line of the paper's Table 1 / Table 3 layout: a data set,
// model and K, and for each loss the exponents as mean ± std over seeds
// (results files).
type TableRow struct {
	Data, Model string
	K           int
	Cells       map[string]MeanStd // key "<loss>/<covariance>", e.g. "ce/C"
}

// Table groups the last checkpoint of every report by (data, model, K) and
// summarises gamma for the covariances covs (Table 1: C and C_awd; Table 3:
// C, C_pair2) for MSE and CE over the reports (seeds).
func Table(reps []*Report, covs []string) []TableRow {
	type key struct {
		data, model string
		k           int
	}
	vals := map[key]map[string][]float64{}
	var keys []key
	for _, rep := range reps {
		if len(rep.Checkpoints) == 0 {
			continue
		}
		r := rep.Checkpoints[len(rep.Checkpoints)-1].Analysis
		k := key{r.Dataset, r.Model, len(r.Classes)}
		if _, ok := vals[k]; !ok {
			vals[k] = map[string][]float64{}
			keys = append(keys, k)
		}
		for _, c := range covs {
			if f, ok := r.Fits[c]; ok {
				vals[k][r.Loss+"/"+c] = append(vals[k][r.Loss+"/"+c], f.Gamma)
			}
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.data, b.data); c != 0 {
			return c
		}
		if c := strings.Compare(a.model, b.model); c != 0 {
			return c
		}
		return a.k - b.k
	})
	var rows []TableRow
	for _, k := range keys {
		row := TableRow{Data: k.data, Model: k.model, K: k.k, Cells: map[string]MeanStd{}}
		for cell, v := range vals[k] {
			row.Cells[cell] = Summarize(v)
		}
		rows = append(rows, row)
	}
	return rows
}

func tableHeader(covs []string) []string {
	h := []string{"data", "model", "K"}
	for _, loss := range []string{"mse", "ce"} {
		for _, c := range covs {
			h = append(h, fmt.Sprintf("gamma(%s) %s", c, strings.ToUpper(loss)))
		}
	}
	return h
}

// TableMarkdown renders rows as a Markdown table.
func TableMarkdown(rows []TableRow, covs []string) string {
	var b bytes.Buffer
	h := tableHeader(covs)
	b.WriteString("| " + strings.Join(h, " | ") + " |\n|")
	for range h {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		cells := []string{r.Data, r.Model, strconv.Itoa(r.K)}
		for _, loss := range []string{"mse", "ce"} {
			for _, c := range covs {
				cells = append(cells, r.Cells[loss+"/"+c].String())
			}
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// TableCSV renders rows as CSV with separate mean, std and n columns.
func TableCSV(rows []TableRow, covs []string) (string, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	h := []string{"data", "model", "K"}
	for _, loss := range []string{"mse", "ce"} {
		for _, c := range covs {
			p := "gamma_" + npzLabel(c) + "_" + loss
			h = append(h, p+"_mean", p+"_std", p+"_n")
		}
	}
	if err := w.Write(h); err != nil {
		return "", err
	}
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	for _, r := range rows {
		rec := []string{r.Data, r.Model, strconv.Itoa(r.K)}
		for _, loss := range []string{"mse", "ce"} {
			for _, c := range covs {
				s, ok := r.Cells[loss+"/"+c]
				if !ok {
					rec = append(rec, "", "", "0")
					continue
				}
				rec = append(rec, f(s.Mean), f(s.Std), strconv.Itoa(s.N))
			}
		}
		if err := w.Write(rec); err != nil {
			return "", err
		}
	}
	w.Flush()
	return b.String(), w.Error()
}
