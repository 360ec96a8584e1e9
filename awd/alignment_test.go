package awd

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/awd-toolkit/awd/linalg"
)

func TestPhiAndNullStats(t *testing.T) {
	// Reference values of the normal CDF.
	for _, c := range []struct{ z, p float64 }{
		{0, 0.5}, {1, 0.8413447460685429}, {-1.959963984540054, 0.025}, {-3, 0.0013498980316301},
	} {
		if got := Phi(c.z); math.Abs(got-c.p) > 1e-14 {
			t.Errorf("Phi(%v) = %v, want %v", c.z, got, c.p)
		}
	}
	// keff = 2/pi makes mu0 = 1 and SE = sqrt((pi/2 - 1)/M) by hand.
	keff, pairs := 2/math.Pi, 4
	se := math.Sqrt((math.Pi/2 - 1) / 4)
	rbar := 1 - 1.959963984540054*se
	mu0, gotSE, z, p := NullStats(rbar, keff, pairs)
	if math.Abs(mu0-1) > 4*eps || math.Abs(gotSE-se) > 4*eps || math.Abs(z+1.959963984540054) > 1e-14 || math.Abs(p-0.025) > 1e-14 {
		t.Errorf("mu0 %v se %v z %v p %v", mu0, gotSE, z, p)
	}
}

// TestHaarFrameOrthonormal covers one block, several blocks projected once
// (k well below d) and blocks projected twice (k = d: the last blocks keep
// little of their norm).
func TestHaarFrameOrthonormal(t *testing.T) {
	for _, s := range []struct{ d, k int }{{5, 5}, {40, 7}, {300, 50}, {1000, 300}, {400, 400}} {
		q := HaarFrame(s.d, s.k, 3)
		g := linalg.NewDense(s.k, s.k)
		linalg.Gemm(true, false, 1, q, q, 0, g)
		for i := 0; i < s.k; i++ {
			for j := 0; j < s.k; j++ {
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(g.At(i, j)-want) > 8*float64(s.d)*eps {
					t.Fatalf("d=%d k=%d: (Q^T Q)[%d][%d] = %v", s.d, s.k, i, j, g.At(i, j))
				}
			}
		}
	}
}

// wishart returns G G^T for a d x p standard Gaussian G: its law is
// invariant under rotations, so any fixed frame sees it Haar-rotated.
func wishart(d, p int, seed uint64) linalg.Dense {
	rng := rand.New(rand.NewPCG(seed, 99))
	g := linalg.NewDense(d, p)
	for i := range g.Data {
		g.Data[i] = rng.NormFloat64()
	}
	x := linalg.NewDense(d, d)
	linalg.Gemm(false, true, 1, g, g, 0, x)
	return x
}

func TestAlignment(t *testing.T) {
	t.Run("commuting/rbar=0", func(t *testing.T) {
		d, k := 120, 40
		q := HaarFrame(d, d, 11)
		l := make([]float64, d)
		for i := range l {
			l[i] = 1 / float64(i+1)
		}
		h, x := rotated(q, l, 1), rotated(q, l, 1.5) // X = H^1.5
		e, err := linalg.EigSymTop(h, k, true)
		if err != nil {
			t.Fatal(err)
		}
		_, xt := Project(x, e.Vectors, true)
		rbar, pairs := MeanAbsRho(xt)
		// Off-diagonal entries are rounding, O(d eps ||X||), against
		// diagonals of at least x_k = l_k^1.5.
		tol := 16 * float64(d) * eps / math.Pow(l[k-1], 1.5)
		if pairs != k*(k-1)/2 || rbar > tol {
			t.Errorf("rbar %v over %d pairs, want < %v", rbar, pairs, tol)
		}
		if c := Commutator(h, x); c > 16*float64(d)*eps {
			t.Errorf("commutator of commuting matrices %v", c)
		}
	})
	t.Run("haar-rotated/rbar=mu0", func(t *testing.T) {
		// X = G G^T is rotation invariant; with k_eff << d the null law
		// rho ~ N(0, 1/k_eff) holds up to O(k_eff/d).
		d, p, k := 2000, 40, 30
		x := wishart(d, p, 5)
		xt := linalg.NewDense(k, k)
		xt.Copy(x.View(0, 0, k, k)) // the frame e_1..e_k
		a, _ := Align("X", x, xt, nil, HaarFrame(d, k, 17), 17)
		t.Logf("%+v", a)
		if math.Abs(a.Z) > 3 || math.Abs(a.ZRand) > 3 {
			t.Errorf("rbar %v, rbar_rand %v, mu0 %v, SE %v: z %v, z_rand %v", a.RBar, a.RBarRand, a.Mu0, a.SE, a.Z, a.ZRand)
		}
		if a.M != k*(k-1)/2 {
			t.Errorf("pairs %d", a.M)
		}
	})
}

func TestCommutatorBruteForce(t *testing.T) {
	d := 9
	h, c := wishart(d, 4, 1), wishart(d, 6, 2)
	hm, cm := h.Mat(), c.Mat()
	var hc, ch, diff mat.Dense
	hc.Mul(hm, cm)
	ch.Mul(cm, hm)
	diff.Sub(&hc, &ch)
	want := mat.Norm(&diff, 2) / (mat.Norm(hm, 2) * mat.Norm(cm, 2))
	if got := Commutator(h, c); math.Abs(got-want) > 64*float64(d)*eps*want {
		t.Errorf("Commutator %v, gonum %v", got, want)
	}
}

// rotated returns Q diag(l^pow) Q^T.
func rotated(q linalg.Dense, l []float64, pow float64) linalg.Dense {
	d := q.Rows
	qs := q.Clone()
	for r := 0; r < d; r++ {
		for j := range l {
			qs.Data[r*d+j] *= math.Pow(l[j], pow)
		}
	}
	x := linalg.NewDense(d, d)
	linalg.Gemm(false, true, 1, qs, q, 0, x)
	symmetrize(x)
	return x
}

// gramUpper returns w^T w (its upper triangle), what cholQRStep factors.
func gramUpper(w linalg.Dense) linalg.Dense {
	g := linalg.NewDense(w.Cols, w.Cols)
	linalg.Syrk(linalg.Upper, true, 1, w, 0, g, false)
	return g
}

// TestHaarFrameIsQR compares the blocked Gram-Schmidt frame with gonum's
// Householder QR of the same Gaussian matrix, signs fixed so that R has a
// positive diagonal: both are the unique such Q.
func TestHaarFrameIsQR(t *testing.T) {
	for _, s := range []struct{ d, k int }{{30, 30}, {200, 150}, {600, 300}, {300, 300}} {
		seed := uint64(9)
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		g := mat.NewDense(s.d, s.k, nil)
		for i := 0; i < s.d; i++ {
			for j := 0; j < s.k; j++ {
				g.Set(i, j, rng.NormFloat64())
			}
		}
		var qr mat.QR
		qr.Factorize(g)
		var q, r mat.Dense
		qr.QTo(&q)
		qr.RTo(&r)
		got := HaarFrame(s.d, s.k, seed)
		for j := 0; j < s.k; j++ {
			sign := 1.0
			if r.At(j, j) < 0 {
				sign = -1
			}
			for i := 0; i < s.d; i++ {
				// Both are backward stable: they differ by O(cond(G) d eps), and a
				// Gaussian 200 x 150 matrix has cond(G) ~ 14, a square one about d
				// (bound 1000).
				if diff := math.Abs(got.At(i, j) - sign*q.At(i, j)); diff > 1e3*float64(s.d)*eps {
					t.Fatalf("d=%d k=%d: Q[%d][%d] = %v, Householder %v", s.d, s.k, i, j, got.At(i, j), sign*q.At(i, j))
				}
			}
		}
	}
}

// TestAlignAllBruteForce checks the full-basis alignment against the paper
// code's rule written out with gonum: H's eigenvectors from gonum's
// EigenSym, K = V^T X V, R_ij = K_ij / sqrt(|K_ii||K_jj|) (0 where that
// root is below 1e-38), rbar = mean |R_ij| over i != j.
func TestAlignAllBruteForce(t *testing.T) {
	const d = 24
	q := HaarFrame(d, d, 3)
	l := make([]float64, d)
	for i := range l {
		l[i] = math.Pow(float64(i+1), -1.3)
	}
	h := rotated(q, l, 1)
	x := wishart(d, 8, 4)
	var es mat.EigenSym
	if !es.Factorize(mat.NewSymDense(d, h.Clone().Data), true) {
		t.Fatal("eigen")
	}
	var v mat.Dense
	es.VectorsTo(&v)
	// descending order, as our eigensolver
	vd := mat.NewDense(d, d, nil)
	for j := 0; j < d; j++ {
		vd.SetCol(j, mat.Col(nil, d-1-j, &v))
	}
	var kx, tmp mat.Dense
	tmp.Mul(x.Mat(), vd)
	kx.Mul(vd.T(), &tmp)
	var sum float64
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			if i == j {
				continue
			}
			if nf := math.Sqrt(math.Abs(kx.At(i, i)) * math.Abs(kx.At(j, j))); nf > 1e-38 {
				sum += math.Abs(kx.At(i, j)) / nf
			}
		}
	}
	want := sum / float64(d*(d-1))
	es2, err := linalg.EigSym(h, true)
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := AlignAll("X", x, es2.Vectors, nil, HaarFrame(d, d, 5), 5)
	if a.Basis != AlignFull || a.M != d*(d-1)/2 || a.K != d {
		t.Errorf("basis %q, pairs %d, k %d", a.Basis, a.M, a.K)
	}
	// X has rank 8: its smallest diagonal entries in H's basis are not
	// small, so R is well conditioned; both sides are backward stable.
	if math.Abs(a.RBar-want) > 1e-10*want {
		t.Errorf("rbar %v, brute force %v", a.RBar, want)
	}
	// A zero diagonal entry gives a zero row of R that still counts.
	k := linalg.DenseOf(3, 3, []float64{4, 1, 0, 1, 1, 0, 0, 0, 0})
	if r, m := rbarCode(k, nil); m != 3 || math.Abs(r-0.5/3) > 1e-15 {
		t.Errorf("rbarCode %v over %d pairs, want %v over 3", r, m, 0.5/3)
	}
}

// TestCommutatorsBruteForce checks Commutators against gonum's products, at
// orders that leave its 64-row blocks of sums a partial block or none, and
// CommutatorsInBasis from gonum's eigenbasis of H.
func TestCommutatorsBruteForce(t *testing.T) {
	for _, d := range []int{9, 63, 64, 65, 150} {
		h, c := wishart(d, d/2, 1), wishart(d, 2*d/3, 2)
		hm, cm := h.Mat(), c.Mat()
		var hc, ch, diff mat.Dense
		hc.Mul(hm, cm)
		ch.Mul(cm, hm)
		diff.Sub(&hc, &ch)
		wantN := mat.Norm(&diff, 2) / (mat.Norm(hm, 2) * mat.Norm(cm, 2))
		wantP := mat.Norm(&diff, 2) / mat.Norm(&ch, 2)
		gn, gp := Commutators(h, c)
		if math.Abs(gn-wantN) > 64*float64(d)*eps*wantN || math.Abs(gp-wantP) > 64*float64(d)*eps*wantP {
			t.Errorf("d=%d: Commutators %v %v, gonum %v %v", d, gn, gp, wantN, wantP)
		}
		// The same from H's eigenbasis (gonum's eigendecomposition).
		var es mat.EigenSym
		if !es.Factorize(mat.NewSymDense(d, h.Clone().Data), true) {
			t.Fatal("gonum EigenSym failed")
		}
		var u mat.Dense
		es.VectorsTo(&u)
		var ct, tmp mat.Dense
		tmp.Mul(cm, &u)
		ct.Mul(u.T(), &tmp)
		bn, bp := CommutatorsInBasis(es.Values(nil), linalg.FromMat(&ct))
		// The basis is exact to about d eps ||H|| ||C||: the tolerance is a
		// multiple of it relative to the commutator.
		tol := 1e3 * float64(d) * eps
		if math.Abs(bn-wantN) > tol*wantN || math.Abs(bp-wantP) > tol*wantP {
			t.Errorf("d=%d: CommutatorsInBasis %v %v, gonum %v %v", d, bn, bp, wantN, wantP)
		}
	}
}

// TestCholQRFallback: a block with two equal columns is refused by Cholesky
// QR and left as it was; a well-conditioned one comes out orthonormal and
// spanning the same columns (w_old = w_new R with R upper triangular).
func TestCholQRFallback(t *testing.T) {
	const d, b = 40, 6
	rng := rand.New(rand.NewPCG(1, 2))
	w := linalg.NewDense(d, b)
	for i := range w.Data {
		w.Data[i] = rng.NormFloat64()
	}
	for i := 0; i < d; i++ {
		w.Set(i, 4, w.At(i, 1))
	}
	before := w.Clone()
	if cholQRStep(w, gramUpper(w), linalg.NewDense(d, b)) {
		t.Fatal("Cholesky QR accepted a rank-deficient block")
	}
	if !slices.Equal(w.Data, before.Data) {
		t.Fatal("a refused step changed the block")
	}
	for i := 0; i < d; i++ {
		w.Set(i, 4, rng.NormFloat64())
	}
	orig := w.Clone()
	for range 2 {
		if !cholQRStep(w, gramUpper(w), linalg.NewDense(d, b)) {
			t.Fatal("Cholesky QR refused a Gaussian block")
		}
	}
	for i := 0; i < b; i++ {
		for j := 0; j < b; j++ {
			var dot, r float64
			for x := 0; x < d; x++ {
				dot += w.At(x, i) * w.At(x, j)
				r += w.At(x, i) * orig.At(x, j) // R = Q^T W_old
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(dot-want) > 1e-14 {
				t.Errorf("Q^T Q [%d][%d] = %v", i, j, dot)
			}
			if (i > j && math.Abs(r) > 1e-12) || (i == j && r <= 0) {
				t.Errorf("R[%d][%d] = %v: not upper triangular with a positive diagonal", i, j, r)
			}
		}
	}
}

// BenchmarkHaarFrame is the analysis's random frame for d = 2500, k = 1000.
func BenchmarkHaarFrame(b *testing.B) {
	for i := 0; i < b.N; i++ {
		HaarFrame(2500, 1000, 1)
	}
}

// TestAlignNullSpace checks that the alignment is defined by H and X alone
// when H has a null space: H = Q diag(l) Q^T with 8 of its 30 eigenvalues
// exactly zero and X supported on H's range. Any orthonormal basis of the
// null space is a valid set of eigenvectors, so rotating it must not move
// rbar; the paper code's rule over every direction does move (its rho_ij
// there are ratios of rounding errors), which is why the null directions
// are left out. Over the kept directions rbar equals the rule written out
// on the range's eigenvectors alone.
func TestAlignNullSpace(t *testing.T) {
	const d, null = 30, 8
	q := HaarFrame(d, d, 11)
	l := make([]float64, d)
	for i := range d - null {
		l[i] = math.Pow(float64(i+1), -1.2)
	}
	h := rotated(q, l, 1)
	// X = P W P with P the projector on H's range.
	qr := q.View(0, 0, d, d-null)
	p := linalg.NewDense(d, d)
	linalg.Gemm(false, true, 1, qr, qr, 0, p)
	w, pw, x := wishart(d, 12, 4), linalg.NewDense(d, d), linalg.NewDense(d, d)
	linalg.Gemm(false, false, 1, p, w, 0, pw)
	linalg.Gemm(false, false, 1, pw, p, 0, x)
	symmetrize(x)

	e, err := linalg.EigSym(h, true)
	if err != nil {
		t.Fatal(err)
	}
	keep := inRange(e.Values, NullFloor(e.Values, d))
	if got := nullCount(keep); got != null {
		t.Fatalf("%d directions under the null floor %g, want %d (eigenvalues %v)", got, NullFloor(e.Values, d), null, e.Values[d-null-1:])
	}
	// Another valid eigenbasis: the null block turned by a random rotation.
	u2 := e.Vectors.Clone()
	rot := HaarFrame(null, null, 5)
	nb := e.Vectors.View(0, d-null, d, null)
	linalg.Gemm(false, false, 1, nb, rot, 0, u2.View(0, d-null, d, null))
	frame := HaarFrame(d, 10, 7)
	a1, _, _ := AlignAll("X", x, e.Vectors, keep, frame, 7)
	a2, _, _ := AlignAll("X", x, u2, keep, frame, 7)
	if a1.Null != null || a1.K != d-null || a1.M != (d-null)*(d-null-1)/2 {
		t.Errorf("null %d, k %d, pairs %d; want %d, %d, %d", a1.Null, a1.K, a1.M, null, d-null, (d-null)*(d-null-1)/2)
	}
	if math.Abs(a1.RBar-a2.RBar) > 1e-12 {
		t.Errorf("rbar %v in one null basis, %v in another", a1.RBar, a2.RBar)
	}
	// The premise: over every direction the rule depends on the null basis.
	all1, _, _ := AlignAll("X", x, e.Vectors, nil, frame, 7)
	all2, _, _ := AlignAll("X", x, u2, nil, frame, 7)
	if math.Abs(all1.RBar-all2.RBar) < 1e-6 {
		t.Errorf("premise: rbar over all directions %v and %v in two null bases, expected them apart", all1.RBar, all2.RBar)
	}
	// The rule on the range's eigenvectors alone (gonum products).
	ur := mat.NewDense(d, d-null, nil)
	for i := range d {
		for j := range d - null {
			ur.Set(i, j, e.Vectors.At(i, j))
		}
	}
	var kx, tmp mat.Dense
	tmp.Mul(mat.NewDense(d, d, x.Data), ur)
	kx.Mul(ur.T(), &tmp)
	var sum float64
	n := d - null
	for i := range n {
		for j := i + 1; j < n; j++ {
			sum += math.Abs(kx.At(i, j)) / math.Sqrt(kx.At(i, i)*kx.At(j, j))
		}
	}
	if want := sum / float64(n*(n-1)/2); math.Abs(a1.RBar-want) > 1e-12*want {
		t.Errorf("rbar %v, over the range's eigenvectors %v", a1.RBar, want)
	}
	// The top-k form leaves the same directions out.
	xt := Sandwich(x, e.Vectors)
	ak, _ := Align("X", x, xt, keep, frame, 7)
	if ak.Null != null || ak.M != a1.M || math.Abs(ak.RBar-a1.RBar) > 1e-12*a1.RBar {
		t.Errorf("top-k form: null %d, pairs %d, rbar %v; full form %d, %d, %v", ak.Null, ak.M, ak.RBar, a1.Null, a1.M, a1.RBar)
	}
}

// TestKEff: (tr X)^2 / ||X||_F^2 is the number of equal eigenvalues of a
// scaled identity block, NaN for zero, and a non-square matrix panics.
func TestKEff(t *testing.T) {
	x := linalg.NewDense(4, 4)
	for i := 0; i < 3; i++ {
		x.Set(i, i, 2.5)
	}
	if k := KEff(x); math.Abs(k-3) > 1e-15 {
		t.Errorf("KEff of diag(2.5, 2.5, 2.5, 0) = %v, want 3", k)
	}
	if k := KEff(linalg.NewDense(3, 3)); !math.IsNaN(k) {
		t.Errorf("KEff of zero = %v, want NaN", k)
	}
	defer func() {
		if recover() == nil {
			t.Error("KEff of a 3x4 matrix did not panic")
		}
	}()
	KEff(linalg.NewDense(3, 4))
}

// TestAlignmentLabelConv: the matrix-free path records the alignment it
// measures on M2 as M2's where the layer has no C_awd (a convolution),
// once when both C_awd and M2 are asked, and as C_awd's on a fully
// connected layer, which has C_awd; a results file written before, which
// labelled the convolution's C_awd, reads back as M2's.
func TestAlignmentLabelConv(t *testing.T) {
	model := tinyCNN(t, 61)
	data := tinyImages(rand.New(rand.NewPCG(61, 62)), 40, 2)
	cfg := smallConfig("ce", 6, 5)
	cfg.MatFree = MatFreeConfig{Tol: 1e-9, Block: 2}
	labels := func(r *Result) []string {
		var of []string
		for _, a := range r.Alignment {
			of = append(of, a.Of)
		}
		for name := range r.AlignErrors {
			of = append(of, "error "+name)
		}
		slices.Sort(of)
		return of
	}
	layers := model.WeightLayers()
	conv, fc := layers[0], layers[len(layers)-1]
	for _, with := range [][]string{{NameC, NameCAWD}, {NameC, NameCAWD, NameM2}} {
		cfg.AlignWith = with
		rs, err := AnalyzeLayers(context.Background(), model, data, cfg, []string{conv, fc}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantFC := []string{NameC, NameCAWD}
		if slices.Contains(with, NameM2) {
			wantFC = []string{NameC, NameCAWD, NameM2}
		}
		if got := labels(rs[0]); !slices.Equal(got, []string{NameC, NameM2}) {
			t.Errorf("align %v: convolution %s: alignments of %q, want [C M2]", with, conv, got)
		}
		if _, ok := rs[0].Arrays.Rho[NameCAWD]; ok {
			t.Errorf("align %v: convolution %s: an array rho_Cawd", with, conv)
		}
		if got := labels(rs[1]); !slices.Equal(got, wantFC) {
			t.Errorf("align %v: fully connected %s: alignments of %q, want %q", with, fc, got, wantFC)
		}
	}

	// A file of the old label: the convolution's M2 recorded as C_awd,
	// alone or beside M2's own, and an alignment error so recorded.
	cfg.AlignWith = []string{NameC, NameCAWD}
	rs, err := AnalyzeLayers(context.Background(), model, data, cfg, []string{conv, fc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := func(r *Result, both bool) *Result {
		c := *r
		c.Alignment = nil
		for _, a := range r.Alignment {
			if a.Of == NameM2 {
				if both {
					c.Alignment = append(c.Alignment, a)
				}
				a.Of = NameCAWD
			}
			c.Alignment = append(c.Alignment, a)
		}
		c.AlignErrors = map[string]string{NameCAWD: "an old error"}
		return &c
	}
	path := filepath.Join(t.TempDir(), "results.json")
	for _, both := range []bool{false, true} {
		rep := &Report{Tool: Tool, Checkpoints: []Checkpoint{{Analysis: old(rs[0], both)}, {Analysis: rs[1]}}}
		if err := WriteReport(path, rep); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if !strings.Contains(string(b), `"of": "C_awd"`) {
			t.Fatalf("the old file has no alignment of C_awd:\n%s", b)
		}
		back, err := ReadReport(path)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{NameC, NameM2}
		if !both {
			want = append(want, "error "+NameM2)
		}
		if got := labels(back.Checkpoints[0].Analysis); !slices.Equal(got, want) {
			t.Errorf("old file (M2 recorded too: %v): convolution read with alignments of %q, want %q", both, got, want)
		}
		if got := labels(back.Checkpoints[1].Analysis); !slices.Equal(got, []string{NameC, NameCAWD}) {
			t.Errorf("old file: fully connected read with alignments of %q, want [C C_awd]", got)
		}
	}
}
