// Package nn trains the paper's models (MLPs and a small CNN, ReLU, CE or
// MSE-after-softmax) with SGD and hands the analysis, for the layer under
// study, the exact per-sample quantities a_n, delta_n and Gamma_n of
// SPEC section 3. See ../../shared/SPEC.md sections 2-3.
package nn
