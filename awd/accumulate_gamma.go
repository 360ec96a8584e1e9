package awd

import (
	"math"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// Per-sample curvature in factored form. With J (L x m) and Lambda (L x L),
//
//	Gamma   = J^T Lambda J
//	Gamma^2 = J^T (Lambda K Lambda) J,  K = J J^T (L x L)
//
// so neither needs an m x m x m product: each costs L^2 m + L m^2 / 2 flops
// for the packed upper triangle, and the columns of J that the ReLU masks
// zero are skipped. The eigenvalues of Gamma come from an r x r matrix,
// r = min(L, active units) (see gammaMax).

// gammaWork is the scratch of one goroutine for the per-sample quantities.
type gammaWork struct {
	m, l int
	act  []int     // active (nonzero) columns of J
	jc   []float64 // l x len(act): J restricted to the active columns
	t    []float64 // l x len(act): F J
	f    []float64 // l x l
	k    []float64 // l x l: J J^T
	e    []float64 // l x l scratch
	pc   []float64 // packed upper triangle over the active columns
}

func newGammaWork(m, l int) *gammaWork {
	return &gammaWork{
		m: m, l: l,
		act: make([]int, 0, m),
		jc:  make([]float64, l*m),
		t:   make([]float64, l*m),
		f:   make([]float64, l*l),
		k:   make([]float64, l*l),
		e:   make([]float64, l*l),
		pc:  make([]float64, triLen(m)),
	}
}

// load gathers the active columns of J_s.
func (w *gammaWork) load(ps *nn.PerSample, s int) {
	m, l := w.m, w.l
	j := ps.J[s*l*m : (s+1)*l*m]
	w.act = w.act[:0]
	for p := 0; p < m; p++ {
		for k := 0; k < l; k++ {
			if j[k*m+p] != 0 {
				w.act = append(w.act, p)
				break
			}
		}
	}
	ma := len(w.act)
	for k := 0; k < l; k++ {
		row := w.jc[k*ma : (k+1)*ma]
		for c, p := range w.act {
			row[c] = j[k*m+p]
		}
	}
	// K = Jc Jc^T
	for a := 0; a < l; a++ {
		ra := w.jc[a*ma : (a+1)*ma]
		for b := a; b < l; b++ {
			rb := w.jc[b*ma : (b+1)*ma]
			var sum float64
			for c, x := range ra {
				sum += x * rb[c]
			}
			w.k[a*l+b], w.k[b*l+a] = sum, sum
		}
	}
}

// packedJtFJ writes alpha times the packed upper triangle of J^T F J
// (m x m) into dst, F symmetric L x L. load must have been called.
func (w *gammaWork) packedJtFJ(dst []float64, alpha float64, f []float64) {
	l, ma := w.l, len(w.act)
	// T = F Jc
	clear(w.t[:l*ma])
	for a := 0; a < l; a++ {
		ta := w.t[a*ma : (a+1)*ma]
		for b := 0; b < l; b++ {
			v := f[a*l+b]
			if v == 0 {
				continue
			}
			for c, x := range w.jc[b*ma : (b+1)*ma] {
				ta[c] += v * x
			}
		}
	}
	pc := w.pc[:triLen(ma)]
	clear(pc)
	for a := 0; a < l; a++ {
		ja, ta := w.jc[a*ma:(a+1)*ma], w.t[a*ma:(a+1)*ma]
		off := 0
		for c, x := range ja {
			row := pc[off : off+ma-c]
			off += ma - c
			if x == 0 {
				continue
			}
			for e, y := range ta[c:] {
				row[e] += x * y
			}
		}
	}
	clear(dst[:triLen(w.m)])
	off := 0
	for c, p := range w.act {
		base := triIndex(p, p, w.m) - p // dst index of (p, q) is base + q
		for e, q := range w.act[c:] {
			dst[base+q] = alpha * pc[off+e]
		}
		off += ma - c
	}
}

// lambdaKLambda writes Lambda K Lambda into w.f. load must have been called.
func (w *gammaWork) lambdaKLambda(lam []float64) {
	l := w.l
	// e = K Lambda, f = Lambda e
	for a := 0; a < l; a++ {
		for b := 0; b < l; b++ {
			var s float64
			for c := 0; c < l; c++ {
				s += w.k[a*l+c] * lam[c*l+b]
			}
			w.e[a*l+b] = s
		}
	}
	for a := 0; a < l; a++ {
		for b := a; b < l; b++ {
			var s float64
			for c := 0; c < l; c++ {
				s += lam[a*l+c] * w.e[c*l+b]
			}
			w.f[a*l+b], w.f[b*l+a] = s, s
		}
	}
}

// gammaMax returns the largest eigenvalue of Gamma = J^T Lambda J. With the
// LQ factorisation Jc = Lo Q^T of the active columns (Householder from the
// right, Lo lower triangular L x r, r = min(L, active), Q orthonormal), Gamma
// restricted to the active units is Q (Lo^T Lambda Lo) Q^T, so its spectrum
// is that of the r x r matrix Lo^T Lambda Lo plus m - r zeros. load must have
// been called. Cost 2 L^2 active + 2 L^3 + the r x r eigenvalues (linalg.EigSymSmall).
func (w *gammaWork) gammaMax(lam []float64) float64 {
	l, ma := w.l, len(w.act)
	r := min(l, ma)
	if r == 0 {
		return 0
	}
	x := w.t[:l*ma]
	copy(x, w.jc[:l*ma])
	for k := 0; k < r; k++ {
		v := x[k*ma+k : (k+1)*ma]
		nrm := math.Sqrt(kernels.Ddot(v, v))
		if nrm == 0 {
			continue
		}
		alpha := -math.Copysign(nrm, v[0])
		v[0] -= alpha
		beta := 2 / kernels.Ddot(v, v)
		for i := k + 1; i < l; i++ {
			xi := x[i*ma+k : (i+1)*ma]
			kernels.Daxpy(-beta*kernels.Ddot(xi, v), v, xi)
		}
		v[0] = alpha
		clear(v[1:])
	}
	// f = Lambda Lo (l x r), e = Lo^T f (r x r); Lo[b][c] = x[b*ma+c], zero for c > b.
	for a := 0; a < l; a++ {
		for c := 0; c < r; c++ {
			var s float64
			for b := c; b < l; b++ {
				s += lam[a*l+b] * x[b*ma+c]
			}
			w.f[a*r+c] = s
		}
	}
	for c := 0; c < r; c++ {
		for e := c; e < r; e++ {
			var s float64
			for a := c; a < l; a++ {
				s += x[a*ma+c] * w.f[a*r+e]
			}
			w.e[c*r+e], w.e[e*r+c] = s, s
		}
	}
	ev := w.f[:r] // f is done with
	if err := linalg.EigSymSmall(r, w.e[:r*r], ev, nil); err != nil {
		return math.NaN() // non-finite Lambda or J: let it show
	}
	if w.m > r {
		return math.Max(ev[0], 0)
	}
	return ev[0]
}
