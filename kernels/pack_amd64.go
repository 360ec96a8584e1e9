//go:build !purego

package kernels

// The level's packers of full panels (zgemm_amd64.s). Each returns the
// number of panels it packed: all of them, or 0 where the level packs in Go
// (generic).

func dpackATPanels(l Level, dst, src []float64, lds, kc, panels int, alpha float64) int {
	switch l {
	case AVX512:
		dpackAT14AVX512(dst, src, lds, kc, panels, alpha)
	case AVX2:
		dpackAT6AVX2(dst, src, lds, kc, panels, alpha)
	default:
		return 0
	}
	return panels
}

func spackATPanels(l Level, dst, src []float32, lds, kc, panels int, alpha float32) int {
	switch l {
	case AVX512:
		spackAT14AVX512(dst, src, lds, kc, panels, alpha)
	case AVX2:
		spackAT6AVX2(dst, src, lds, kc, panels, alpha)
	default:
		return 0
	}
	return panels
}

func dpackAPanels(l Level, dst, src []float64, lda, kc, panels int, alpha float64) int {
	switch l {
	case AVX512:
		dpackA14AVX512(dst, src, lda, kc, panels, alpha)
	case AVX2:
		dpackA6AVX2(dst, src, lda, kc, panels, alpha)
	default:
		return 0
	}
	return panels
}

func spackAPanels(l Level, dst, src []float32, lda, kc, panels int, alpha float32) int {
	switch l {
	case AVX512:
		spackA14AVX512(dst, src, lda, kc, panels, alpha)
	case AVX2:
		spackA6AVX2(dst, src, lda, kc, panels, alpha)
	default:
		return 0
	}
	return panels
}

func dpackBPanels(l Level, dst, src []float64, lds, kc, panels int) int {
	switch l {
	case AVX512:
		dpackB16AVX512(dst, src, lds, kc, panels)
	case AVX2:
		dpackB8AVX2(dst, src, lds, kc, panels)
	default:
		return 0
	}
	return panels
}

func spackBPanels(l Level, dst, src []float32, lds, kc, panels int) int {
	switch l {
	case AVX512:
		spackB32AVX512(dst, src, lds, kc, panels)
	case AVX2:
		spackB16AVX2(dst, src, lds, kc, panels)
	default:
		return 0
	}
	return panels
}
