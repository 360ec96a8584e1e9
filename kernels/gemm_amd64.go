//go:build !purego

package kernels

// setGemmLevel installs the avo-generated micro-kernels (zgemm_amd64.s).
func setGemmLevel(l Level) {
	switch l {
	case AVX512:
		dgemm = dgemmKernel{14, 16, dgemm14x16AVX512}
		sgemm = sgemmKernel{14, 32, sgemm14x32AVX512}
		dgemmStore, sgemmStore = dgemm14x16AVX512Store, sgemm14x32AVX512Store
		dsyrk = [2]func(kc int, a, b, c []float64, ldc int, off int){dsyrk14x16LowerAVX512, dsyrk14x16UpperAVX512}
		dpackA, dpackAT, dpackB = dpackA14AVX512, dpackAT14AVX512, dpackB16AVX512
		spackA, spackAT, spackB = spackA14AVX512, spackAT14AVX512, spackB32AVX512
	case AVX2:
		dgemm = dgemmKernel{6, 8, dgemm6x8AVX2}
		sgemm = sgemmKernel{6, 16, sgemm6x16AVX2}
		dgemmStore, sgemmStore = dgemm6x8AVX2Store, sgemm6x16AVX2Store
	}
}
