//go:build !purego

package kernels

// setSymvLevel installs the generated Dsymv4 body (zsymv_amd64.s).
func setSymvLevel(l Level) {
	switch l {
	case AVX512:
		symv = symvKernel{8, dsymv4AVX512}
	case AVX2:
		symv = symvKernel{4, dsymv4AVX2}
	}
}
