package linalg

import "github.com/awd-toolkit/awd/kernels"

// Back-transformation Z := Q Z with Q = H(0) H(1) ... H(n-2) from dsytrd
// (LAPACK DORMTR, side 'L', no transpose, in compact WY form).
//
// A block of nb consecutive reflectors is
//
//	H(i0) ... H(i0+nb-1) = I - V T V^T          (DLARFT, forward, columnwise)
//
// with V the (n-i0-1) x nb matrix of the unit vectors (kept here as the nb
// rows of Vr = V^T) and T upper triangular,
//
//	T(i,i) = tau_i,  T(0:i, i) = -tau_i T(0:i, 0:i) V(:, 0:i)^T v_i.
//
// Blocks are applied last to first: Z := Z - Vr^T (T (Vr Z)), two GEMMs and a
// small triangular product each. Cost 2 n^2 k flops for k columns.

// ormtrBlock is the number of reflectors per block: 128 rounded down to a
// multiple of the GEMM micro-kernel's rows, since the block's product
// V Z has that many rows (126 for the AVX-512 kernel's 14 measured 2-4%
// faster than 128, whose last tile of 2 rows costs a whole one of 14).
func ormtrBlock() int {
	mr, _ := kernels.DgemmShape()
	return max(128/mr*mr, mr)
}

// dormtr overwrites z (n x k) with Q z, Q from the reduction t.
func dormtr(t tridiag, z Dense) {
	n, tau := t.n, t.tau
	k := z.Cols
	if n < 2 || k == 0 {
		return
	}
	nr := n - 1             // number of reflectors
	ormtrNB := ormtrBlock() // of the level in use now, not at start-up
	vr := NewDense(ormtrNB, n)
	tt := NewDense(ormtrNB, ormtrNB)
	tmp := NewDense(ormtrNB, k)
	tmp2 := NewDense(ormtrNB, k)
	last := ((nr - 1) / ormtrNB) * ormtrNB
	for i0 := last; i0 >= 0; i0 -= ormtrNB {
		nb := min(ormtrNB, nr-i0)
		m := n - i0 - 1 // rows i0+1..n-1
		v := Dense{Rows: nb, Cols: m, Stride: vr.Stride, Data: vr.Data}
		for p := 0; p < nb; p++ {
			row := v.Data[p*v.Stride : p*v.Stride+m]
			clear(row[:p])
			row[p] = 1
			copy(row[p+1:], t.reflector(i0+p))
		}
		tb := Dense{Rows: nb, Cols: nb, Stride: tt.Stride, Data: tt.Data}
		dlarft(v, tau[i0:i0+nb], tb)
		zs := z.View(i0+1, 0, m, k)
		w := Dense{Rows: nb, Cols: k, Stride: tmp.Stride, Data: tmp.Data}
		w2 := Dense{Rows: nb, Cols: k, Stride: tmp2.Stride, Data: tmp2.Data}
		Gemm(false, false, 1, v, zs, 0, w)
		Gemm(false, false, 1, tb, w, 0, w2)
		Gemm(true, false, -1, v, w2, 1, zs)
	}
}

// dlarft forms the upper triangular T of the block reflector
// I - V T V^T = H(0) ... H(nb-1) from the rows of vr (the unit vectors,
// zero before their leading 1) and tau. Cost about nb^2 m flops (one Gram
// product) plus nb^3/3.
func dlarft(vr Dense, tau []float64, t Dense) {
	nb := vr.Rows
	g := NewDense(nb, nb)
	Gemm(false, true, 1, vr, vr, 0, g) // g(p, i) = v_p . v_i
	dlarftRows(g, tau, t)
}
