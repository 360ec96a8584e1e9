//go:build !purego

package kernels

// The level's packers of full panels (zgemm_amd64.s). Each returns the
// number of panels it packed: all of them, or 0 where the level packs in Go.

func dpackATPanels(l Level, dst, src []float64, lds, kc, panels int, alpha float64) int {
	if l == AVX512 {
		dpackAT14AVX512(dst, src, lds, kc, panels, alpha)
		return panels
	}
	return 0
}

func spackATPanels(l Level, dst, src []float32, lds, kc, panels int, alpha float32) int {
	if l == AVX512 {
		spackAT14AVX512(dst, src, lds, kc, panels, alpha)
		return panels
	}
	return 0
}

func dpackAPanels(l Level, dst, src []float64, lda, kc, panels int, alpha float64) int {
	if l == AVX512 {
		dpackA14AVX512(dst, src, lda, kc, panels, alpha)
		return panels
	}
	return 0
}

func spackAPanels(l Level, dst, src []float32, lda, kc, panels int, alpha float32) int {
	if l == AVX512 {
		spackA14AVX512(dst, src, lda, kc, panels, alpha)
		return panels
	}
	return 0
}

func dpackBPanels(l Level, dst, src []float64, lds, kc, panels int) int {
	if l == AVX512 {
		dpackB16AVX512(dst, src, lds, kc, panels)
		return panels
	}
	return 0
}

func spackBPanels(l Level, dst, src []float32, lds, kc, panels int) int {
	if l == AVX512 {
		spackB32AVX512(dst, src, lds, kc, panels)
		return panels
	}
	return 0
}
