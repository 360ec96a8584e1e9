package awd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
	"gonum.org/v1/gonum/mat"
)

// randomLayerSamples builds the LayerSamples of a fully connected m x in
// layer shaped like randomPerSample's (a third of a_n and of the columns of
// Jz zero, CE or MSE Lambda at random logits), with random G = dl/do.
func randomLayerSamples(rng *rand.Rand, n, m, in, l int, loss string) *nn.LayerSamples {
	ps := randomPerSample(rng, n, m, in, l, loss)
	ls := &nn.LayerSamples{LayerInfo: nn.LayerInfo{Layer: "fc", Out: m, In: in, H: 1, W: 1}, N: n, L: l,
		A: ps.A, Jz: ps.J, Lambda: ps.Lambda, G: make([]float64, n*l), Label: ps.Label}
	for i := range ls.G {
		ls.G[i] = rng.NormFloat64()
	}
	return ls
}

// perSampleOf returns the PerSample of a fully connected layer's
// LayerSamples (delta_s = Jz_s^T G_s), for the dense State.
func perSampleOf(ls *nn.LayerSamples) *nn.PerSample {
	m, l := ls.Out, ls.L
	ps := &nn.PerSample{N: ls.N, M: m, In: ls.In, L: l, A: ls.A, J: ls.Jz, Lambda: ls.Lambda,
		Delta: make([]float64, ls.N*m), Label: ls.Label}
	for s := 0; s < ls.N; s++ {
		for k := 0; k < l; k++ {
			g := ls.G[s*l+k]
			for p := 0; p < m; p++ {
				ps.Delta[s*m+p] += g * ls.Jz[(s*l+k)*m+p]
			}
		}
	}
	return ps
}

func randomBlock(rng *rand.Rand, r, c int) linalg.Dense {
	x := linalg.NewDense(r, c)
	for i := range x.Data {
		x.Data[i] = rng.NormFloat64()
	}
	return x
}

// checkOperators applies every matrix-free operator of mf to random blocks
// and compares with the dense matrices, and the projected blocks and
// traces likewise.
func checkOperators(t *testing.T, rng *rand.Rand, mf *MatFree, dense map[Quantity]linalg.Dense, tol float64) {
	t.Helper()
	d := mf.D()
	for q, want := range dense {
		op, err := mf.Operator(q)
		if err != nil {
			t.Fatal(err)
		}
		if op.Dim() != d {
			t.Fatalf("%v: Dim %d, want %d", q, op.Dim(), d)
		}
		for _, b := range []int{1, 3} {
			x := randomBlock(rng, d, b)
			got := linalg.NewDense(d, b)
			for i := range got.Data {
				got.Data[i] = math.NaN() // Apply overwrites
			}
			op.Apply(got, x)
			ref := linalg.NewDense(d, b)
			linalg.Gemm(false, false, 1, want, x, 0, ref)
			if e := relErr(got, ref.Mat()); e > tol {
				t.Errorf("%v b=%d: X x relative error %.3g > %g", q, b, e, tol)
			}
		}
		u := randomBlock(rng, d, 4)
		f := mf.Forward(u)
		got := mf.Block(q, f)
		wantB := Sandwich(want, u)
		if e := relErr(got, wantB.Mat()); e > tol {
			t.Errorf("%v: U^T X U relative error %.3g > %g", q, e, tol)
		}
		if tr, wt := mf.Trace(q), trace(want); math.Abs(tr-wt) > tol*math.Max(1, frob(want))*float64(d) {
			t.Errorf("%v: trace %v, dense %v", q, tr, wt)
		}
	}
}

// TestMatFreeMatchesState applies the matrix-free H, M2, C and C_pair of
// a fully connected layer (samples across a chunk border, centered and not)
// to random blocks and compares with the dense matrices of State, which
// are checked against brute force elsewhere.
func TestMatFreeMatchesState(t *testing.T) {
	const m, in, l, batch = 4, 5, 6, 3
	n := kronChunk(m, 3) + 7
	for _, loss := range []string{"ce", "mse"} {
		for _, centered := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/centered=%v", loss, centered), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(31, 32))
				ls := randomLayerSamples(rng, n, m, in, l, loss)
				clear(ls.A[:in]) // a dead input: sample 0 has no dW
				ps := perSampleOf(ls)
				w := randomW(rng, m, in)
				partner := randomPartner(rng, n)
				st := NewState(m, in, StateOptions{})
				st.Add(ps)
				st.AddPairs(ps, w, PartnerDiff(linalg.DenseOf(n, in, ps.A), partner))
				mats, err := st.Finish(batch, centered)
				if err != nil {
					t.Fatal(err)
				}
				mf, err := NewMatFree(ls, batch, centered)
				if err != nil {
					t.Fatal(err)
				}
				if err := mf.SetPairs(w, partner); err != nil {
					t.Fatal(err)
				}
				if mf.NPairs != mats.NPairs || math.Abs(mf.Sigma2-mats.Sigma2) > 1e-13*mats.Sigma2 {
					t.Errorf("pairs %d, sigma2 %v; State %d, %v", mf.NPairs, mf.Sigma2, mats.NPairs, mats.Sigma2)
				}
				checkOperators(t, rng, mf, map[Quantity]linalg.Dense{
					QuantityH: mats.H, QuantityM2: mats.M2, QuantityC: mats.C, QuantityCPair: mats.CPair,
				}, kronTol)
			})
		}
	}
	if _, err := NewMatFree(&nn.LayerSamples{}, 1, false); err == nil {
		t.Error("no samples accepted")
	}
	// No layer samples at all is an error too, not a nil pointer panic.
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("NewMatFree(nil) panicked: %v", r)
			}
		}()
		if _, err := NewMatFree(nil, 1, false); err == nil || !strings.Contains(err.Error(), "no layer samples (nil)") {
			t.Errorf("NewMatFree(nil): %v, want an error saying there are no layer samples", err)
		}
	}()
}

// tinyCNN is the CNN with features [2, M, 3, M, 4, 4, M] on 1 x 8 x 8
// inputs and 5 logits, weights doubled so that the logits are of order
// one; every layer is small enough for dense references.
func tinyCNN(t testing.TB, seed uint64) *nn.Model {
	t.Helper()
	old := nn.CNNFeatures
	nn.CNNFeatures = []int{2, -1, 3, -1, 4, 4, -1}
	defer func() { nn.CNNFeatures = old }()
	m, err := nn.NewCNN(1, 8, 8, 5, seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		for i := range p.Data {
			p.Data[i] *= 2
		}
	}
	return m
}

func randomImages(rng *rand.Rand, n, dim, classes int) ([]float64, []int) {
	x := make([]float64, n*dim)
	for i := range x {
		x[i] = rng.Float64()
	}
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(classes)
	}
	return x, y
}

// denseFromJ returns scale sum_s J_s^T M_s J_s from the explicit Jacobians,
// M_s = Lambda_s (H), Lambda_s J_s J_s^T Lambda_s (M2) or G_s G_s^T (C),
// by the definition with gonum.
func denseFromJ(ls *nn.LayerSamples, q Quantity, scale float64) linalg.Dense {
	d, l := ls.D(), ls.L
	sum := mat.NewDense(d, d, nil)
	for s := 0; s < ls.N; s++ {
		j := mat.NewDense(l, d, ls.Jacobian(s, nil, nil))
		lam := mat.NewDense(l, l, append([]float64(nil), ls.Lambda[s*l*l:(s+1)*l*l]...))
		var mid mat.Dense
		switch q {
		case QuantityH:
			mid.CloneFrom(lam)
		case QuantityM2:
			var k, t mat.Dense
			k.Mul(j, j.T())
			t.Mul(&k, lam)
			mid.Mul(lam, &t)
		case QuantityC:
			g := mat.NewDense(l, 1, append([]float64(nil), ls.G[s*l:(s+1)*l]...))
			mid.Mul(g, g.T())
		}
		var t, h mat.Dense
		t.Mul(&mid, j)
		h.Mul(j.T(), &t)
		sum.Add(sum, &h)
	}
	sum.Scale(scale, sum)
	return linalg.FromMat(sum)
}

// TestMatFreeConvMatchesDense applies the matrix-free operators of every
// layer of a tiny CNN (explicit and factored Jacobians, and its fully
// connected layers) to random blocks and compares with dense matrices built
// from the explicit per-sample Jacobians, themselves checked against
// finite-difference Hessians in package nn.
func TestMatFreeConvMatchesDense(t *testing.T) {
	model := tinyCNN(t, 41)
	rng := rand.New(rand.NewPCG(41, 42))
	const n, batch = 13, 4
	x, y := randomImages(rng, n, 64, 5)
	for _, loss := range []nn.Loss{nn.CE, nn.MSE} {
		all, err := model.LayerSamples(model.WeightLayers(), x, y, loss)
		if err != nil {
			t.Fatal(err)
		}
		for _, ls := range all {
			for _, centered := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/centered=%v", loss, ls.Layer, centered), func(t *testing.T) {
					mf, err := NewMatFree(ls, batch, centered)
					if err != nil {
						t.Fatal(err)
					}
					c := denseFromJ(ls, QuantityC, 1/float64(batch*n))
					if centered {
						gbar := make([]float64, ls.D())
						for s := 0; s < n; s++ {
							j := ls.Jacobian(s, nil, nil)
							for k := 0; k < ls.L; k++ {
								for i := range gbar {
									gbar[i] += ls.G[s*ls.L+k] * j[k*ls.D()+i] / n
								}
							}
						}
						syr(c, -1/float64(batch), gbar)
					}
					checkOperators(t, rng, mf, map[Quantity]linalg.Dense{
						QuantityH:  denseFromJ(ls, QuantityH, 1.0/n),
						QuantityM2: denseFromJ(ls, QuantityM2, 1.0/n),
						QuantityC:  c,
					}, 1e-12)
				})
			}
		}
	}
}

// TestExplicitJacCache checks that keeping formed chunks of a convolution
// layer's Jacobian changes nothing: with no cache, with room for some of
// the chunks (one full chunk and not the next) and for all of them, two
// rounds of apply, adjoint and gram give the same numbers bit for bit as
// J_s formed anew, and the kept chunks are exactly the formed J_s.
func TestExplicitJacCache(t *testing.T) {
	const n, per, b = 11, 3, 4
	jr := newJacRun(t, 43, n, per, b)
	ls := jr.ls
	l, d := ls.L, ls.D()
	chunkBytes := int64(per * l * d * 8)
	run := func(j *explicitJac) (fwd, hv, adj linalg.Dense, gram []float64) { return jr.run(j, false) }
	ref := &explicitJac{ls: ls, per: per}
	f0, h0, a0, g0 := run(ref)
	for _, cache := range []int64{0, chunkBytes + chunkBytes/2, 100 * chunkBytes} {
		j := &explicitJac{ls: ls, per: per, cacheLeft: cache}
		for round := 0; round < 2; round++ {
			f, h, a, g := run(j)
			for name, p := range map[string][2][]float64{"J u": {f.Data, f0.Data}, "H-shaped u": {h.Data, h0.Data}, "adjoint": {a.Data, a0.Data}, "gram": {g, g0}} {
				if !slices.Equal(p[0], p[1]) {
					t.Errorf("cache %d bytes, round %d: %s differs from the uncached one", cache, round, name)
				}
			}
		}
		kept := 0
		for i, c := range j.cache {
			if c == nil {
				continue
			}
			kept++
			for r := 0; r < len(c)/(l*d); r++ {
				if want := ls.Jacobian(i*per+r, nil, nil); !slices.Equal(c[r*l*d:(r+1)*l*d], want) {
					t.Errorf("cache %d bytes: kept chunk %d, sample %d is not J_s", cache, i, r)
				}
			}
		}
		if want := min(int(cache/chunkBytes), (n+per-1)/per); kept != want {
			t.Errorf("cache %d bytes: %d chunks kept, want %d", cache, kept, want)
		}
	}
}

// TestExplicitJacFloat32 checks the float32 Jacobian: the kept chunks are
// J_s rounded to float32, as many as the room allows; applications with
// none, some or all chunks kept agree with the float64 ones to float32's
// precision (relative Frobenius error below 1e-5), the Grams stay exact.
func TestExplicitJacFloat32(t *testing.T) {
	const n, per, b = 11, 3, 4
	jr := newJacRun(t, 47, n, per, b)
	ls := jr.ls
	l, d := ls.L, ls.D()
	chunkBytes := int64(per * l * d * 4)
	run := func(j *explicitJac) (fwd, hv, adj linalg.Dense, gram []float64) { return jr.run(j, true) }
	f0, h0, a0, g0 := run(&explicitJac{ls: ls, per: per})
	relErr := func(got, want []float64) float64 {
		var num, den float64
		for i := range got {
			num += (got[i] - want[i]) * (got[i] - want[i])
			den += want[i] * want[i]
		}
		return math.Sqrt(num / den)
	}
	for _, cache := range []int64{0, chunkBytes + chunkBytes/2, 100 * chunkBytes} {
		j := &explicitJac{ls: ls, per: per, cacheLeft: cache, f32: true}
		for round := 0; round < 2; round++ {
			f, h, a, g := run(j)
			for name, p := range map[string][2][]float64{"J u": {f.Data, f0.Data}, "H-shaped u": {h.Data, h0.Data}, "adjoint": {a.Data, a0.Data}} {
				e := relErr(p[0], p[1])
				if !(e < 1e-5) {
					t.Errorf("cache %d bytes, round %d: %s: relative error %.3g against float64", cache, round, name, e)
				}
				t.Logf("cache %d bytes, round %d: %s: relative error %.2g", cache, round, name, e)
			}
			if !slices.Equal(g, g0) {
				t.Errorf("cache %d bytes, round %d: the Grams differ from the float64 ones", cache, round)
			}
		}
		if j.cache != nil {
			t.Errorf("cache %d bytes: float64 chunks kept with f32", cache)
		}
		kept := 0
		for i, c := range j.cache32 {
			if c == nil {
				continue
			}
			kept++
			for r := 0; r < len(c)/(l*d); r++ {
				want := ls.Jacobian(i*per+r, nil, nil)
				for e, v := range c[r*l*d : (r+1)*l*d] {
					if v != float32(want[e]) {
						t.Fatalf("cache %d bytes: kept chunk %d, sample %d: entry %d is %g, want float32(%g)", cache, i, r, e, v, want[e])
					}
				}
			}
		}
		if want := min(int(cache/chunkBytes), (n+per-1)/per); kept != want {
			t.Errorf("cache %d bytes: %d chunks kept, want %d", cache, kept, want)
		}
	}
}

// jacRun is a formed convolution Jacobian of a tiny CNN (n samples, chunks
// of per) with random blocks u (d x b) and w (n L x b) to apply it to.
type jacRun struct {
	ls     *nn.LayerSamples
	n, per int
	u, w   linalg.Dense
}

func newJacRun(t *testing.T, seed uint64, n, per, b int) *jacRun {
	t.Helper()
	model := tinyCNN(t, seed)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	x, y := randomImages(rng, n, 64, 5)
	all, err := model.LayerSamples(model.WeightLayers(), x, y, nn.CE)
	if err != nil {
		t.Fatal(err)
	}
	r := &jacRun{n: n, per: per}
	for _, c := range all {
		if c.Conv && c.J == nil {
			r.ls = c
		}
	}
	if r.ls == nil {
		t.Fatal("no layer of the tiny CNN has a formed Jacobian")
	}
	r.u = randomBlock(rng, r.ls.D(), b)
	r.w = randomBlock(rng, n*r.ls.L, b)
	return r
}

// run applies j: F = J u (as mid sees it, before scaling), the
// application with mid scaling F's rows by (r mod 3) - 1/2 when scale is
// set (else the identity), the adjoint on w and the Grams.
func (r *jacRun) run(j *explicitJac, scale bool) (fwd, hv, adj linalg.Dense, gram []float64) {
	l, d, b := r.ls.L, r.ls.D(), r.u.Cols
	fwd = linalg.NewDense(r.n*l, b)
	hv = linalg.NewDense(d, b)
	j.apply(r.u, hv, func(s0, c int, f linalg.Dense) {
		for i := 0; i < c*l; i++ {
			copy(fwd.Row(s0*l+i), f.Row(i))
			if scale {
				for e := range b {
					f.Row(i)[e] *= float64(i%3) - 0.5
				}
			}
		}
	})
	adj = linalg.NewDense(d, b)
	j.adjoint(r.w, adj)
	gram = make([]float64, r.n*l*l)
	j.gram(gram)
	return
}

// TestMatFreeChunkOfFewSamples: the memory plan of a formed Jacobian
// counts, per operator application, one chunk of J and of F = J X for the
// samples there are: below a chunk, each sample adds its own L x d rows
// of J and L x b of F. A whole chunk (about 256 MB of J on the MNIST
// CNN's features.3, 182 samples) was counted for 30 samples, so small
// analyses that fit were refused, with fewer samples as the remedy.
func TestMatFreeChunkOfFewSamples(t *testing.T) {
	model, err := nn.NewCNN(1, 28, 28, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := smallConfig("ce", 10, 10)
	plan := func(n int) mfPlan { return newMFPlan(model, "features.3", n, cfg) }
	p30, p31 := plan(30), plan(31)
	if p30.jacobian != "formed" || explicitChunk(p30.l, p30.info.D()) <= 31 {
		t.Fatalf("features.3: Jacobian %s, chunk %d samples: not the case tested", p30.jacobian, explicitChunk(p30.l, p30.info.D()))
	}
	const b = 10
	got := p31.chunkBytes(b) - p30.chunkBytes(b)
	want := int64(8 * p30.l * (p30.info.D() + b))
	if got != want {
		t.Errorf("one sample more adds %d bytes to an application's scratch, want %d (its rows of J and F)", got, want)
	}
}
