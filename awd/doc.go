// Package awd is the analysis of docs/math.md sections 4-6: it accumulates
// the noise covariance C, the Hessian H and M2 = mean H_n^2 of one weight
// matrix by the Kronecker route, builds the Activity-Weight-Duality
// covariances, diagonalises H and measures the power law
// c_i ~ lambda_i^gamma, the Thm 5.1 bounds, the alignment of the
// covariances with H's eigenbasis and the suppression experiments; and it
// runs the whole pipeline of a study.
//
// The pipeline, as a library:
//
//	Run          train, checkpoint, analyse at chosen epochs, resume (run.go, run_train.go),
//	             in an output folder that one process owns (folder.go)
//	Accumulate   the additive part of one analysis, for one shard of the samples
//	             (accumulation.go; Save/LoadAccumulation/Merge for sharded analyses)
//	Finalize     accumulated sums -> matrices -> eigensolve -> statistics -> Result (finalize.go)
//	Analyze      Accumulate + Finalize; AnalyzeMatrixFree instead for a convolution
//	             layer, Config.MatrixFree, or a dense analysis over the memory budget
//	AnalyzeMatrixFree, AnalyzeLayers   the same without any d x d matrix (matfree*.go)
//
// One file per step of the analysis: pairs.go (balanced batches, matched
// pairs), accumulate.go and state.go (C, H, M2, C_pair, C_pair2, C_mb as
// Kronecker GEMMs over samples), persample_spectra.go (eigenpairs of every
// H_n = Gamma_n (x) a_n a_n^T from an L x L problem), spectra.go (top-k of H,
// c_i = u_i^T X u_i), powerlaw.go (gamma, SE, R^2), bounds.go
// (lambda_i^2 <= s_i <= lambda_loc_max lambda_i), alignment.go (rbar against a
// Haar frame, k_eff, z, p, the commutator), correlation.go (lambda_1(H_n)
// against (v_1^n . u_i)^2), suppression.go (rank1, mean, stiff, shuffle),
// statistics.go (all of section 5), results.go and npz.go (JSON and .npz),
// table.go (Table 1 / Table 3) and memory.go (the memory estimate and
// budget); matfree*.go the same without any d x d matrix, for any layer (H,
// M2, C, C_pair as sums of J_s^T M_s J_s applied to blocks of vectors, block
// Lanczos, projected k x k blocks). The figures are in package awd/figures,
// so that linking the analysis does not pull in plotting. docs/math.md maps
// every formula to its output field.
package awd
