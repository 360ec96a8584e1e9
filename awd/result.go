package awd

import "github.com/awd-toolkit/awd/linalg"

// SchemaVersion is the version of the results JSON and .npz layout; readers
// refuse other versions.
const SchemaVersion = 1

// Result is the analysis of one checkpoint (docs/math.md sections 5-6): what the
// results JSON records for it. The arrays (eigenvalues, c_i, ...) are in
// Arrays and go to the .npz file.
type Result struct {
	// What was analysed.
	Dataset string `json:"dataset"`
	Model   string `json:"model"`
	Layer   string `json:"layer"`
	Loss    string `json:"loss"`
	Head    int    `json:"head"`    // L, the number of logits
	Classes []int  `json:"classes"` // the K classes present in the analysis samples
	M       int    `json:"m"`       // layer outputs
	In      int    `json:"n"`       // layer inputs
	D       int    `json:"d"`
	N       int    `json:"samples"`
	K       int    `json:"k"`
	Batch   int    `json:"batch"`

	Config      Config `json:"config"` // the options used: CorrK, RhoBlock and Suppression.CorrK at most K
	KernelLevel string `json:"kernel_level"`

	// Loss and accuracy of the model on the analysis samples.
	SampleLoss Float `json:"sample_loss"`
	SampleAcc  Float `json:"sample_acc"`

	Spectrum SpectrumSummary `json:"spectrum"`
	// Fits of c_i on lambda_i per covariance name (CovarianceNames: C,
	// C_awd, C_pair, C_pair2, C_mb, M2, the code's C_pair2_code and the
	// anchor rule's _anchor variants, each when measured); FitErrors says
	// why a fit is missing.
	Fits      map[string]Fit    `json:"fits"`
	FitErrors map[string]string `json:"fit_errors,omitempty"`
	Bounds    Bounds            `json:"bounds"`
	AllPSD    bool              `json:"all_hn_psd"`

	Alignment      []Alignment       `json:"alignment"`
	AlignErrors    map[string]string `json:"alignment_errors,omitempty"`
	Commutator     Float             `json:"commutator"`
	Correlation    *CorrSummary      `json:"eigenvalue_alignment_correlation,omitempty"`
	Suppression    []Intervention    `json:"suppression,omitempty"`
	SuppressionCfg SuppressionConfig `json:"suppression_config"`

	// MatrixFree describes the run of the matrix-free path (nil for the
	// dense one); Notes say what that path measures differently.
	MatrixFree *MatrixFreeInfo `json:"matrix_free,omitempty"`
	Notes      []string        `json:"notes,omitempty"`

	// Parity with the paper's code and the error bars beyond it
	// (parity_stats.go): which estimator produced every number (by fit,
	// covariance or statistic name), the pair rules with sigma^2 both ways,
	// the scale ratios of the covariances, the commutator normalised as the
	// code does, gamma(k), bootstrap intervals and the maximum-likelihood
	// power-law fits of the spectra.
	Estimators     map[string]string      `json:"estimators"`
	PairRules      []PairRule             `json:"pair_rules,omitempty"`
	Scales         *Scales                `json:"scales,omitempty"`
	CommutatorCode Float                  `json:"commutator_code"`
	GammaK         map[string]GammaK      `json:"gamma_k,omitempty"`
	Bootstrap      map[string]BootstrapCI `json:"bootstrap,omitempty"`
	Jackknife      map[string]JackknifeCI `json:"jackknife,omitempty"`
	PowerLawML     map[string]MLFit       `json:"powerlaw_ml,omitempty"`

	Timings Timings `json:"timings"`
	Arrays  Arrays  `json:"-"`
}

// SpectrumSummary describes H's top-k spectrum and the accumulated scalars.
type SpectrumSummary struct {
	Lambda1    float64 `json:"lambda_1"`
	LambdaK    float64 `json:"lambda_k"`
	Positive   int     `json:"positive"` // eigenvalues > 0 among the top k
	TraceH     float64 `json:"trace_h"`
	TraceC     float64 `json:"trace_c"`
	LocMax     float64 `json:"loc_max"`       // max_n lambda_1(H_n)
	Sigma2     Float   `json:"sigma2"`        // mean ||dtheta_n||^2 / d (or / m); null without matched-pair dtheta_n (a convolution layer)
	Pairs      int     `json:"matched_pairs"` // couples of matched samples (each couple is two samples)
	NegativeHn int     `json:"negative_hn"`   // samples whose H_n has a negative eigenvalue; -1: not computed (no per-sample spectra)
	// LeftOut counts the samples of the analysis set in no balanced batch
	// (the odd sample of a class, the couples short of a last pair of
	// batches: MatchPairs): the analysis uses N of DataN.
	LeftOut int `json:"samples_left_out"`
}

// CorrSummary summarises the eigenvalue-alignment correlations r_i
// (the full vector is the array "corr").
type CorrSummary struct {
	First    Float `json:"r_1"`
	MeanTop  Float `json:"mean_top10"`
	MeanAll  Float `json:"mean"`
	Positive int   `json:"positive"`
}

// Timings are wall-clock seconds per stage.
type Timings struct {
	Pairs       float64 `json:"pairs"`      // balanced batches and the matching
	PerSample   float64 `json:"per_sample"` // nn's per-sample pass and the per-sample spectra
	Accumulate  float64 `json:"accumulate"`
	Eigensolve  float64 `json:"eigensolve"`
	Statistics  float64 `json:"statistics"`
	Suppression float64 `json:"suppression"`
	Total       float64 `json:"total"`
}

// Arrays are the per-direction and per-sample vectors of a Result, written
// to .npz under the names of NpzNames.
type Arrays struct {
	SampleIndices []int
	Lambda        []float64            // H_eigenvalues
	C             map[string][]float64 // c_i per covariance name
	Lambda1       []float64            // lambda_1(H_n) per sample
	Corr          []float64            // eigenvalue-alignment correlations
	Rho, RhoRand  map[string]linalg.Dense
	Suppressed    map[string][3][]float64 // intervention -> (lambda', s', correlations)
	GammaK        map[string][]float64    // gamma(k') for k' = 1..k per covariance
}
