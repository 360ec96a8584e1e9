package awd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"codeberg.org/sbinet/npyio/npz"
	"gonum.org/v1/gonum/mat"

	"github.com/awd-toolkit/awd/internal/atomicfile"
	"github.com/awd-toolkit/awd/linalg"
)

// Report is the results JSON of one run (docs/math.md section 6): the run's
// configuration as the caller chose to record it, and per analysed
// checkpoint the training state and the Result. Arrays live in a .npz
// beside it, named by Checkpoint.Arrays (relative to the JSON's folder).
type Report struct {
	SchemaVersion int             `json:"schema_version"`
	Tool          string          `json:"tool"`
	RunID         string          `json:"run_id,omitempty"` // the owner file's run id of the folder that wrote it
	Config        json.RawMessage `json:"config,omitempty"`
	Finished      bool            `json:"finished"` // the command ran to its end
	Training      []EpochLog      `json:"training,omitempty"`
	// StoppedEarly is the early stop of a training that ended before its
	// last epoch (nn.TrainConfig.Stops); nil when it ran every epoch.
	StoppedEarly *EarlyStop   `json:"stopped_early,omitempty"`
	Checkpoints  []Checkpoint `json:"checkpoints"`
	// Owner is the owner file of the folder ReadReport read the report
	// from, when that file names the report's run (nil otherwise: an
	// older folder, or a results file copied elsewhere). Its Data, the
	// fingerprint of the data the run read, tells MakeTable runs of
	// different data under one data set's name apart. Not in the file.
	Owner *Owner `json:"-"`
}

// EarlyStop is an early stop: the epoch training stopped at, the rule's
// train-loss threshold and name (nn.TrainConfig.StopLoss, StopRule), and
// the epochs of the checkpoints asked for (RunConfig.Checkpoints) that
// came after it, whose checkpoints were not written. The checkpoint of
// the stop epoch is written instead.
type EarlyStop struct {
	Epoch      int     `json:"epoch"`
	StopLoss   float64 `json:"stop_loss"`
	StopRule   string  `json:"stop_rule"`
	NotReached []int   `json:"checkpoints_not_reached,omitempty"`
	// AnalysesNotReached are the epochs to analyse (awd run) after the
	// stop: the stop epoch is analysed instead.
	AnalysesNotReached []int `json:"analyses_not_reached,omitempty"`
}

// EpochLog is one training epoch: train loss and accuracy as seen during
// the epoch, test loss and accuracy after it (null without a test set).
type EpochLog struct {
	Epoch     int     `json:"epoch"`
	TrainLoss Float   `json:"train_loss"`
	TrainAcc  Float   `json:"train_acc"`
	FullLoss  Float   `json:"full_loss"` // the whole training set after the epoch (nn.StopFull; null otherwise)
	FullAcc   Float   `json:"full_acc"`
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
// schema version. The file's first field, content_sha256, is the SHA-256
// of the file without that line (sealReport), which ReadReport checks. A
// nil rep is an error.
func WriteReport(path string, rep *Report) error {
	if rep == nil {
		return fmt.Errorf("write %s: no report (nil): give the Report that Run or ReadReport returned", path)
	}
	rep.SchemaVersion = SchemaVersion
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	b = sealReport(append(b, '\n'))
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// reportSumLine starts the line of a results file that holds its checksum:
// the first line after the opening brace.
const reportSumLine = "{\n  \"content_sha256\": \""

// sealReport puts the SHA-256 of b (an indented JSON object) into b as its
// first field. A damaged byte in a results file can leave valid JSON with
// another number in it; without the sum, a resumed run would keep that
// number and every table would read it.
func sealReport(b []byte) []byte {
	sum := sha256.Sum256(b)
	out := []byte(reportSumLine + hex.EncodeToString(sum[:]) + "\",\n")
	return append(out, b[2:]...) // b starts with "{\n"
}

// checkReportSum checks the content_sha256 of a results file: nil for a
// file without one (written by an older awd, or by hand).
func checkReportSum(path string, b []byte) error {
	if !bytes.HasPrefix(b, []byte(reportSumLine)) {
		return nil
	}
	line, rest, _ := bytes.Cut(b[2:], []byte("\n"))
	want, ok := strings.CutPrefix(string(line), `  "content_sha256": "`)
	want, ok2 := strings.CutSuffix(want, `",`)
	sum := sha256.Sum256(append([]byte("{\n"), rest...))
	if !ok || !ok2 || want != hex.EncodeToString(sum[:]) {
		return &ReportChangedError{Path: path}
	}
	return nil
}

// ReportChangedError is ReadReport's refusal of a results file whose content
// no longer matches its content_sha256.
type ReportChangedError struct{ Path string }

func (e *ReportChangedError) Error() string {
	return e.What() + ": run the command that wrote it again, or, if you changed it on purpose, delete its content_sha256 line"
}

// What says what is wrong without the remedy, for callers that give their
// own (a resume, which is that command run again).
func (e *ReportChangedError) What() string {
	return e.Path + ": the file was damaged or changed after awd wrote it (its content does not match its content_sha256)"
}

// resultsFileHint says which file a results file is, for the errors of a
// path that is none.
const resultsFileHint = "give the results.json that awd run, train, analyze or reduce wrote in its output folder"

// ReadReport reads a results JSON and checks its schema version. The
// alignment of M2 that older files recorded as C_awd's where there is no
// C_awd (a convolution layer) is read as M2's, as awd now writes it.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("results file: %w (%s)", err, resultsFileHint)
	}
	if err := checkReportSum(path, b); err != nil {
		return nil, err
	}
	var probe struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%s: not a results file (its JSON is %s, not an object; %s)", path, te.Value, resultsFileHint)
		}
		return nil, fmt.Errorf("%s: not a results file: %w (%s)", path, err, resultsFileHint)
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
		c.Analysis.relabelAlignments()
	}
	rep.Owner = ownerOf(filepath.Dir(path), rep.RunID)
	return &rep, nil
}

// DataSourceKey is the key of a report's config that holds the hash of the
// whole training set its data were drawn from (nn.Dataset.Source), which
// MakeTable compares between the runs of one protocol.
const DataSourceKey = "data_source_sha256"

// WithDataSource returns the report config cfg (a JSON object) with
// DataSourceKey set to source; cfg as it is when source is "" or cfg is
// not an object.
func WithDataSource(cfg json.RawMessage, source string) json.RawMessage {
	var m map[string]json.RawMessage
	if source == "" || json.Unmarshal(cfg, &m) != nil || m == nil {
		return cfg
	}
	m[DataSourceKey], _ = json.Marshal(source)
	b, err := json.Marshal(m)
	if err != nil {
		return cfg
	}
	return b
}

// ownerOf returns the owner file of folder dir when it is of run id (nil
// when there is none, it is unreadable, or it is of another run).
func ownerOf(dir, id string) *Owner {
	if id == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, OwnerFile))
	if err != nil {
		return nil
	}
	var o Owner
	if json.Unmarshal(b, &o) != nil || o.RunID != id {
		return nil
	}
	return &o
}

// npzName maps a covariance name to its array name, "c_" and the name
// without its "_": c_C, c_Cawd, c_Cpair, c_Cpair2, c_Cpair2code, c_Cmb,
// c_M2, and c_Cpairanchor for C_pair_anchor.
func npzName(cov string) string {
	return "c_" + npzLabel(cov)
}

// WriteArrays writes the arrays of r to a .npz file atomically:
//
//	sample_indices   data-set indices of the N analysis samples, in accumulation order
//	H_eigenvalues    lambda_1 >= ... >= lambda_k
//	c_C, c_Cawd, c_Cpair, c_Cpair2, c_Cpair2code, c_Cmb, c_M2   c_i = u_i^T X u_i
//	                 (c_Cpairanchor, ... with the anchor pairs: npzName)
//	s_i              = c_M2 (Thm 5.1)
//	lambda1_samples  lambda_1(H_n) per sample
//	corr             eigenvalue-alignment correlation per direction
//	rho_<X>, rho_rand_<X>   leading block of rho in H's basis and a Haar frame
//	supp_<name>_lambda, supp_<name>_s, supp_<name>_corr   spectra and correlations after each intervention
//	                 (paper protocol: the diagonals h'_i and s'_i in the original basis)
//	gamma_k_<X>      gamma(k') of covariance X for k' = 1..k (GammaPrefix)
//
// A nil r is an error.
func WriteArrays(path string, r *Result) error {
	if r == nil {
		return fmt.Errorf("write %s: no result (nil): give the Result that Analyze or Finalize returned", path)
	}
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
	for _, name := range sortedKeys(a.GammaK) {
		es = append(es, entry{"gamma_k_" + npzLabel(name), a.GammaK[name]})
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
