//go:build !purego

package kernels

// setLevel1Level installs the generated level-1 kernels (zlevel1_amd64.s).
func setLevel1Level(l Level) {
	switch l {
	case AVX512:
		ddotImpl, daxpyImpl, dscalImpl, drotImpl = ddotAVX512, daxpyAVX512, dscalAVX512, drotAVX512
	case AVX2:
		ddotImpl, daxpyImpl, dscalImpl, drotImpl = ddotAVX2, daxpyAVX2, dscalAVX2, drotAVX2
	}
}
