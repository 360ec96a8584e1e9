//go:build !purego

package kernels

// setGemmLevel installs the avo-generated micro-kernels (zgemm_amd64.s).
func setGemmLevel(l Level) {
	switch l {
	case AVX512:
		dgemm = dgemmKernel{14, 16, dgemm14x16AVX512}
		sgemm = sgemmKernel{14, 32, sgemm14x32AVX512}
	case AVX2:
		dgemm = dgemmKernel{6, 8, dgemm6x8AVX2}
		sgemm = sgemmKernel{6, 16, sgemm6x16AVX2}
	}
}
