package awd

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"

	"github.com/awd-toolkit/awd/nn"
)

// refMLP is the independent reference of the parity tests: an MLP (ReLU
// between layers, no biases) evaluated in float64 from scratch from the
// weights of an nn.Model, with the losses written from their definitions
// (docs/math.md section 2). It shares no code with nn's forward pass or per-sample
// quantities, nor with awd: gradients and Hessians come from finite
// differences of its loss (gonum's diff/fd), minimal-norm weight
// perturbations from gonum's least-squares solver.
type refMLP struct {
	w     [][]float64 // weights, layer l is rows[l] x cols[l], row-major
	rows  []int
	cols  []int
	layer int // index of the layer under study
	loss  string
}

func newRefMLP(t testing.TB, m *nn.Model, layer, loss string) *refMLP {
	t.Helper()
	r := &refMLP{loss: loss, layer: -1}
	for _, p := range m.Params() {
		if len(p.Shape) != 2 {
			t.Fatalf("refMLP: parameter %s of shape %v (MLPs without biases only)", p.Name, p.Shape)
		}
		if p.Name == layer+".weight" {
			r.layer = len(r.w)
		}
		w := make([]float64, len(p.Data))
		for i, v := range p.Data {
			w[i] = float64(v)
		}
		r.w = append(r.w, w)
		r.rows = append(r.rows, p.Shape[0])
		r.cols = append(r.cols, p.Shape[1])
	}
	if r.layer < 0 {
		t.Fatalf("refMLP: no layer %s", layer)
	}
	return r
}

// d is the number of weights of the layer under study.
func (r *refMLP) d() int { return len(r.w[r.layer]) }

// theta returns a copy of the studied layer's weights, row-major.
func (r *refMLP) theta() []float64 { return append([]float64(nil), r.w[r.layer]...) }

// forward returns the logits for input x with the studied layer's weights
// replaced by theta, and that layer's input activity.
func (r *refMLP) forward(theta, x []float64) (logits, act []float64) {
	h := x
	for l := range r.w {
		w := r.w[l]
		if l == r.layer {
			w = theta
			act = h
		}
		out := make([]float64, r.rows[l])
		for p := range out {
			var s float64
			for i, v := range h {
				s += w[p*r.cols[l]+i] * v
			}
			out[p] = s
		}
		if l < len(r.w)-1 {
			for p, v := range out {
				out[p] = math.Max(0, v)
			}
		}
		h = out
	}
	return h, act
}

// lossAt is the per-sample loss l(theta; x, y): CE = -log softmax(o)_y,
// MSE = (1/L) sum_k (softmax(o)_k - [k = y])^2.
func (r *refMLP) lossAt(theta, x []float64, y int) float64 {
	o, _ := r.forward(theta, x)
	mx := math.Inf(-1)
	for _, v := range o {
		mx = math.Max(mx, v)
	}
	var z float64
	for _, v := range o {
		z += math.Exp(v - mx)
	}
	if r.loss == "ce" {
		return mx + math.Log(z) - o[y]
	}
	var s float64
	for k, v := range o {
		p := math.Exp(v-mx) / z
		if k == y {
			p--
		}
		s += p * p
	}
	return s / float64(len(o))
}

// meanLoss is the mean loss of the samples idx of xs (rows of length dim).
func (r *refMLP) meanLoss(theta []float64, xs []float64, dim int, ys []int, idx []int) float64 {
	var s float64
	for _, n := range idx {
		s += r.lossAt(theta, xs[n*dim:(n+1)*dim], ys[n])
	}
	return s / float64(len(idx))
}

// fivePoint is the fourth-order central stencil of a first derivative.
var fivePoint = fd.Formula{Stencil: []fd.Point{{Loc: -2, Coeff: 1. / 12}, {Loc: -1, Coeff: -8. / 12}, {Loc: 1, Coeff: 8. / 12}, {Loc: 2, Coeff: -1. / 12}},
	Derivative: 1, Step: 1e-3}

// gradFD is the finite-difference gradient of f at theta by the five-point
// stencil with step 1e-3: truncation O(1e-12 f^(5)), rounding
// O(eps |f| / 1e-3).
func gradFD(f func([]float64) float64, theta []float64) []float64 {
	g := make([]float64, len(theta))
	fd.Gradient(g, f, theta, &fd.Settings{Formula: fivePoint})
	return g
}

// dirDeriv is d/dt g(t) at t = 0 for a vector function g by the five-point
// stencil with step tau.
func dirDeriv(g func(t float64) []float64, tau float64) []float64 {
	g2, g1, gm1, gm2 := g(2*tau), g(tau), g(-tau), g(-2*tau)
	out := make([]float64, len(g1))
	for i := range out {
		out[i] = (-g2[i] + 8*g1[i] - 8*gm1[i] + gm2[i]) / (12 * tau)
	}
	return out
}

// hessFD is the Hessian of f at theta, column j the five-point derivative
// along e_j (step 1e-2) of the five-point gradient, symmetrised.
func hessFD(f func([]float64) float64, theta []float64) *mat.Dense {
	n := len(theta)
	h := mat.NewDense(n, n, nil)
	p := make([]float64, n)
	for j := 0; j < n; j++ {
		col := dirDeriv(func(t float64) []float64 {
			copy(p, theta)
			p[j] += t
			return gradFD(f, p)
		}, 1e-2)
		h.SetCol(j, col)
	}
	var sym mat.Dense
	sym.Add(h, h.T())
	sym.Scale(0.5, &sym)
	return &sym
}

// minNormDTheta solves min ||dW||_F subject to dW a = W da for the m x n
// matrix dW as an underdetermined linear system in vec(dW) (row-major) with
// gonum's minimum-norm least-squares solver: (I_m (x) a^T) vec(dW) = W da.
// It does not use the closed form (W da) a^T / ||a||^2 it is checked against.
func minNormDTheta(t testing.TB, w []float64, m, n int, a, da []float64) []float64 {
	t.Helper()
	sys := mat.NewDense(m, m*n, nil)
	rhs := mat.NewDense(m, 1, nil)
	for p := 0; p < m; p++ {
		for i := 0; i < n; i++ {
			sys.Set(p, p*n+i, a[i])
		}
		var v float64
		for i := 0; i < n; i++ {
			v += w[p*n+i] * da[i]
		}
		rhs.Set(p, 0, v)
	}
	var x mat.Dense
	if err := x.Solve(sys, rhs); err != nil {
		t.Fatalf("minimal-norm solve: %v", err)
	}
	return mat.Col(nil, 0, &x)
}

// relErrDense is max|got - want| / max|want| over the entries.
func relErrDense(got, want *mat.Dense) float64 {
	r, c := want.Dims()
	var num, den float64
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			num = math.Max(num, math.Abs(got.At(i, j)-want.At(i, j)))
			den = math.Max(den, math.Abs(want.At(i, j)))
		}
	}
	if den == 0 {
		return num
	}
	return num / den
}
