package kernels

// Panel packers for the GEMM micro-kernels (gemm.go). The level's assembly
// packs the full panels where it has a packer (pack_amd64.go: dpackATPanels
// and the others return how many panels they packed) and Go packs the rest.

// DpackAT packs rows [0, kc) and columns [0, mc) of the row-major block src
// (stride lds), transposed and scaled by alpha, as the A panels DgemmMicro
// reads: column i of src (row i of op(A) = src^T) goes to panel i/mr, step p
// at dst[(i/mr)*mr*kc + p*mr + i%mr]; a last partial panel is padded with
// zeros. dst needs ceil(mc/mr)*mr*kc values. The assembly packers (AVX2 and
// AVX-512) prefetch the rows of src ahead: on a wide src each row is on its
// own page, out of the hardware prefetchers' reach.
func DpackAT(dst, src []float64, lds, kc, mc int, alpha float64) {
	l := current
	mr, _ := dgemmShape(l)
	if packArgs("DpackAT", kc, mc, len(dst), ceilDiv(mc, mr)*mr*kc, len(src), (kc-1)*lds+mc) {
		full := dpackATPanels(l, dst, src, lds, kc, mc/mr, alpha)
		packATGo(full*mr, mr, dst, src, lds, kc, mc, alpha)
	}
}

// SpackAT is DpackAT in float32, for SgemmMicro's mr.
func SpackAT(dst, src []float32, lds, kc, mc int, alpha float32) {
	l := current
	mr, _ := sgemmShape(l)
	if packArgs("SpackAT", kc, mc, len(dst), ceilDiv(mc, mr)*mr*kc, len(src), (kc-1)*lds+mc) {
		full := spackATPanels(l, dst, src, lds, kc, mc/mr, alpha)
		packATGo(full*mr, mr, dst, src, lds, kc, mc, alpha)
	}
}

// DpackA packs rows [0, mc) and columns [0, kc) of the row-major block src
// (stride lda), scaled by alpha, as the A panels DgemmMicro reads: row i goes
// to panel i/mr, column p at dst[(i/mr)*mr*kc + p*mr + i%mr]; a last partial
// panel is padded with zeros. dst needs ceil(mc/mr)*mr*kc values. The
// assembly packers join two rows per 128-bit store, about twice as fast as
// the Go loop.
func DpackA(dst, src []float64, lda, kc, mc int, alpha float64) {
	l := current
	mr, _ := dgemmShape(l)
	if packArgs("DpackA", kc, mc, len(dst), ceilDiv(mc, mr)*mr*kc, len(src), (mc-1)*lda+kc) {
		full := dpackAPanels(l, dst, src, lda, kc, mc/mr, alpha)
		packAGo(full*mr, mr, dst, src, lda, kc, mc, alpha)
	}
}

// SpackA is DpackA in float32, for SgemmMicro's mr (the assembly joins
// four rows per 128-bit store).
func SpackA(dst, src []float32, lda, kc, mc int, alpha float32) {
	l := current
	mr, _ := sgemmShape(l)
	if packArgs("SpackA", kc, mc, len(dst), ceilDiv(mc, mr)*mr*kc, len(src), (mc-1)*lda+kc) {
		full := spackAPanels(l, dst, src, lda, kc, mc/mr, alpha)
		packAGo(full*mr, mr, dst, src, lda, kc, mc, alpha)
	}
}

// DpackB packs rows [0, kc) and columns [0, nc) of the row-major block src
// (stride lds) as the B panels DgemmMicro reads: column j goes to panel
// j/nr, row p at dst[(j/nr)*nr*kc + p*nr + j%nr]; a last partial panel is
// padded with zeros. dst needs ceil(nc/nr)*nr*kc values. The assembly
// packers prefetch the rows of src ahead, as DpackAT's do.
func DpackB(dst, src []float64, lds, kc, nc int) {
	l := current
	_, nr := dgemmShape(l)
	if packArgs("DpackB", kc, nc, len(dst), ceilDiv(nc, nr)*nr*kc, len(src), (kc-1)*lds+nc) {
		full := dpackBPanels(l, dst, src, lds, kc, nc/nr)
		packBGo(full*nr, nr, dst, src, lds, kc, nc)
	}
}

// SpackB is DpackB in float32, for SgemmMicro's nr.
func SpackB(dst, src []float32, lds, kc, nc int) {
	l := current
	_, nr := sgemmShape(l)
	if packArgs("SpackB", kc, nc, len(dst), ceilDiv(nc, nr)*nr*kc, len(src), (kc-1)*lds+nc) {
		full := spackBPanels(l, dst, src, lds, kc, nc/nr)
		packBGo(full*nr, nr, dst, src, lds, kc, nc)
	}
}

// packArgs checks that dst and src hold the values a packer of a kc x w
// block needs and reports whether there is anything to pack.
func packArgs(name string, kc, w, ndst, needDst, nsrc, needSrc int) bool {
	if kc <= 0 || w <= 0 {
		return false
	}
	if ndst < needDst || nsrc < needSrc {
		panic("kernels: " + name + ": block or destination too short")
	}
	return true
}

// packATGo packs the columns [i0, mc) of src as DpackAT does.
func packATGo[T float](i0, mr int, dst, src []T, lds, kc, mc int, alpha T) {
	for p := 0; p < kc; p++ {
		row := src[p*lds : p*lds+mc]
		for ir := i0; ir < mc; ir += mr {
			h := min(mr, mc-ir)
			d := dst[ir*kc+p*mr:][:mr]
			for i, v := range row[ir : ir+h] {
				d[i] = alpha * v
			}
			clear(d[h:])
		}
	}
}

// packAGo packs the rows [i0, mc) of src as DpackA does.
func packAGo[T float](i0, mr int, dst, src []T, lda, kc, mc int, alpha T) {
	for ir := i0; ir < mc; ir += mr {
		h := min(mr, mc-ir)
		panel := dst[ir*kc : ir*kc+mr*kc]
		for i := 0; i < h; i++ {
			row := src[(ir+i)*lda:][:kc]
			for p, v := range row {
				panel[p*mr+i] = alpha * v
			}
		}
		for p := 0; p < kc; p++ {
			clear(panel[p*mr+h : p*mr+mr])
		}
	}
}

// packBGo packs the columns [j0, nc) of src as DpackB does.
func packBGo[T float](j0, nr int, dst, src []T, lds, kc, nc int) {
	for p := 0; p < kc; p++ {
		row := src[p*lds : p*lds+nc]
		for jr := j0; jr < nc; jr += nr {
			w := min(nr, nc-jr)
			d := dst[jr*kc+p*nr:][:nr]
			copy(d, row[jr:jr+w])
			clear(d[w:])
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
