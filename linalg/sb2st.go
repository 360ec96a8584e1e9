package linalg

import (
	"github.com/awd-toolkit/awd/kernels"
)

// band is a symmetric n x n band matrix of half-bandwidth b with room for
// the bulges of dsb2st: column c of its lower triangle, A(c:c+ld, c), is
// stored contiguously at ab[c*ld:], ld = 2b. So A(r, c) = ab[c*(ld-1) + r]
// for c <= r < c+ld: with stride ld-1 the storage reads like a row-major
// matrix whose row c is the lower triangle's column c, and any block of
// the band is a Dense view (rows = columns of A) with that stride.
type band struct {
	n, b, ld int
	ab       []float64
}

func newBand(n, b int) band {
	return band{n: n, b: b, ld: 2 * b, ab: make([]float64, n*2*b)}
}

// cols returns the columns c0..c0+rows-1 of A, rows r0..r0+cols-1 of each,
// as the rows of a Dense (the entries must lie in the stored band).
func (s band) cols(c0, rows, r0, cols int) Dense {
	l := s.ld - 1
	off := c0*l + r0
	return Dense{Rows: rows, Cols: cols, Stride: l, Data: s.ab[off : off+(rows-1)*l+cols]}
}

// bandFromLower copies the band of half-bandwidth b of the lower triangle of a.
func bandFromLower(a Dense, b int) band {
	s := newBand(a.Rows, b)
	for c := 0; c < s.n; c++ {
		col := s.ab[c*s.ld : c*s.ld+min(b+1, s.n-c)]
		for k := range col {
			col[k] = a.Data[(c+k)*a.Stride+c]
		}
	}
	return s
}

// dsb2st reduces the band matrix to symmetric tridiagonal form (LAPACK's
// DSYTRD_SB2ST without vectors; the bulge-chasing of Lang and of Haidar,
// Ltaief and Dongarra) and returns its diagonal d and off-diagonal e.
//
// Sweep i annihilates A(i+2:i+b+1, i) with a reflector H of length b, which
// applied from both sides to the diagonal block D = A(i+1:i+b+1, i+1:i+b+1)
// and from the right to the block B below it fills B (the bulge, up to 2b-1
// below the diagonal). The next reflector annihilates B's first column
// below its first entry; applied from the left to B's other columns, from
// both sides to the next diagonal block and from the right to the block
// below that, it moves the bulge b rows down, and so on to the end of the
// matrix. The fill left in B's other columns is annihilated by the next
// sweeps. Each block step costs about 12 b^2 flops on data that fits in
// cache, and there are about n/b per sweep: 6 b n^2 flops in all.
func dsb2st(s band) (d, e []float64) {
	n, b := s.n, s.b
	v := make([]float64, b)
	w := make([]float64, b)
	u := make([]float64, b)
	scratch := make([]float64, b)
	for i := 0; i < n-2; i++ {
		sweep(s, i, v, w, u, scratch)
	}
	d = make([]float64, n)
	e = make([]float64, max(n-1, 0))
	for c := 0; c < n; c++ {
		d[c] = s.ab[c*s.ld]
		if c < n-1 {
			e[c] = s.ab[c*s.ld+1]
		}
	}
	return d, e
}

// sweep runs sweep i of dsb2st; v, w, u and scratch hold b values.
func sweep(s band, i int, v, w, u, scratch []float64) {
	n, b := s.n, s.b
	// The column to annihilate: A(p:e, c), with the diagonal block D =
	// A(p:e, p:e) and the block below it, B = A(e:e2, p:e).
	c, p, e := i, i+1, min(i+1+b, n)
	for {
		h := s.cols(c, 1, p, e-p).Data
		beta, tau := dlarfg(h[0], h[1:])
		v = v[:e-p]
		v[0] = 1
		copy(v[1:], h[1:])
		h[0] = beta
		clear(h[1:])
		if c != i {
			// The reflector from B's first column, from the left to the
			// others: rows 1.. of the block below c's diagonal block.
			if bt := s.cols(c+1, p-c-1, p, e-p); tau != 0 && bt.Rows > 0 {
				t := scratch[:bt.Rows]
				dotRows(t, bt.Data, bt.Stride, v, u)
				for k := range t {
					kernels.Daxpy(-tau*t[k], v, bt.Data[k*bt.Stride:k*bt.Stride+len(v)])
				}
			}
		}
		if tau != 0 {
			symTwoSided(s.cols(p, e-p, p, e-p), v, tau, w)
		}
		e2 := min(e+b, n)
		if e2 == e {
			return
		}
		if tau != 0 {
			// B = B H: u = B v, B -= tau u v^T (B's columns are bt's rows).
			bt := s.cols(p, e-p, e, e2-e)
			uu := u[:e2-e]
			clear(uu)
			axpyRows(uu, bt.Data, bt.Stride, v)
			for k, vk := range v {
				kernels.Daxpy(-tau*vk, uu, bt.Data[k*bt.Stride:k*bt.Stride+len(uu)])
			}
		}
		c, p, e = p, e, e2
	}
}

// symTwoSided applies H = I - tau v v^T from both sides to the symmetric
// matrix whose upper triangle is stored in the rows of a: A = H A H, as
//
//	w = tau A v,  w -= (tau/2)(w.v) v,  A -= v w^T + w v^T,
//
// with w (at least len(v) long) as workspace. Cost about 4 m^2 flops.
func symTwoSided(a Dense, v []float64, tau float64, w []float64) {
	m := len(v)
	w = w[:m]
	clear(w)
	symvUpper(a, v, w)
	kernels.Dscal(tau, w)
	alpha := -0.5 * tau * kernels.Ddot(w, v)
	kernels.Daxpy(alpha, v, w)
	for r := 0; r < m; r++ {
		rr := a.Data[r*a.Stride+r : r*a.Stride+m]
		kernels.Daxpy(-v[r], w[r:], rr)
		kernels.Daxpy(-w[r], v[r:], rr)
	}
}
