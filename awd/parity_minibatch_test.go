package awd

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

func TestShuffledBatches(t *testing.T) {
	for _, tc := range []struct{ n, b int }{{0, 3}, {1, 5}, {10, 5}, {23, 5}, {50, 50}, {51, 50}} {
		bs := ShuffledBatches(tc.n, tc.b, 7)
		if want := (tc.n + tc.b - 1) / tc.b; len(bs) != want {
			t.Errorf("n=%d B=%d: %d batches, want %d", tc.n, tc.b, len(bs), want)
		}
		var all []int
		for i, b := range bs {
			if i < len(bs)-1 && len(b) != tc.b || len(b) == 0 || len(b) > tc.b {
				t.Errorf("n=%d B=%d: batch %d has %d samples", tc.n, tc.b, i, len(b))
			}
			all = append(all, b...)
		}
		slices.Sort(all)
		for i, v := range all {
			if v != i {
				t.Fatalf("n=%d B=%d: the batches are not a partition of 0..n-1: %v", tc.n, tc.b, all)
			}
		}
	}
	a, b := ShuffledBatches(40, 8, 1), ShuffledBatches(40, 8, 2)
	if slices.Equal(a[0], b[0]) && slices.Equal(a[1], b[1]) {
		t.Error("seeds 1 and 2 give the same batches")
	}
	if c := ShuffledBatches(40, 8, 1); !slices.Equal(a[3], c[3]) {
		t.Error("the same seed gives other batches")
	}
}

// randomMLPData returns a small MLP and n random inputs with labels. The
// inputs are drawn so that every pre-activation z = W a of the layer (the
// studied one; a ReLU follows it) is at least 0.05 away from the kink at 0,
// so that the finite differences of the reference (steps up to 0.02 in the
// weights along dtheta, 0.002 along a coordinate) never cross it.
func randomMLPData(t testing.TB, seed uint64, in int, widths []int, L, n int, layer string) (*nn.Model, []float64, []int) {
	t.Helper()
	model, err := nn.NewMLP(in, widths, L, seed)
	if err != nil {
		t.Fatal(err)
	}
	ref := newRefMLP(t, model, layer, "ce")
	w := ref.theta()
	rows, cols := ref.rows[ref.layer], ref.cols[ref.layer]
	rng := rand.New(rand.NewPCG(seed, 99))
	var x []float64
	var y []int
	for tries := 0; len(y) < n; tries++ {
		if tries > 1000*n {
			t.Fatalf("randomMLPData: no inputs away from the kinks")
		}
		xs := make([]float64, in)
		for i := range xs {
			xs[i] = rng.Float64()
		}
		_, a := ref.forward(w, xs)
		ok := true
		for p := 0; p < rows && ok; p++ {
			var z float64
			for i := 0; i < cols; i++ {
				z += w[p*cols+i] * a[i]
			}
			ok = math.Abs(z) > 0.05
		}
		if ok {
			x = append(x, xs...)
			y = append(y, rng.IntN(L))
		}
	}
	return model, x, y
}

// TestMinibatchCovarianceFD checks C_mb against its definition on a real
// network: each mini-batch gradient is the finite-difference gradient of
// the batch's mean loss (refMLP), gbar that of the mean loss over all
// samples, and C_mb = (1/nb) sum_b g_b g_b^T - gbar gbar^T is formed with
// gonum. The samples arrive in two shards, out of order, merged.
func TestMinibatchCovarianceFD(t *testing.T) {
	const in, n, batch, layer = 6, 23, 5, "fc2"
	for _, loss := range []nn.Loss{nn.CE, nn.MSE} {
		t.Run(loss.String(), func(t *testing.T) {
			model, x, y := randomMLPData(t, 3, in, []int{5, 4}, 3, n, layer)
			batches := ShuffledBatches(n, batch, 11)
			ref := newRefMLP(t, model, layer, loss.String())
			d := ref.d()
			theta := ref.theta()
			gradOf := func(idx []int) *mat.VecDense {
				return mat.NewVecDense(d, gradFD(func(th []float64) float64 { return ref.meanLoss(th, x, in, y, idx) }, theta))
			}
			want := mat.NewDense(d, d, nil)
			for _, b := range batches {
				g := gradOf(b)
				want.RankOne(want, 1/float64(len(batches)), g, g)
			}
			gbar := gradOf(seq(0, n))
			want.RankOne(want, -1, gbar, gbar)

			m, nIn, _ := model.LayerShape(layer)
			acc := NewMinibatchAcc(m, nIn, batches, "shuffled")
			shard := NewMinibatchAcc(m, nIn, batches, "shuffled")
			perm := rand.New(rand.NewPCG(5, 5)).Perm(n)
			for i, part := range [][]int{perm[:9], perm[9:]} {
				xs := make([]float64, 0, len(part)*in)
				var ys []int
				for _, p := range part {
					xs = append(xs, x[p*in:(p+1)*in]...)
					ys = append(ys, y[p])
				}
				ps, err := model.PerSample(layer, xs, ys, loss)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					acc.Add(ps, part)
				} else {
					shard.Add(ps, part)
				}
			}
			if _, err := acc.Finish(); err == nil {
				t.Error("Finish with samples missing accepted")
			}
			if err := acc.Merge(shard); err != nil {
				t.Fatal(err)
			}
			got, err := acc.Finish()
			if err != nil {
				t.Fatal(err)
			}
			// The five-point gradients are accurate to ~1e-12 relative; the
			// centering cancels ||gbar||^2 against the batch term.
			scale := mat.Norm(want, 1) + mat.Dot(gbar, gbar)
			diff := mat.NewDense(d, d, nil)
			diff.Sub(got.Mat(), want)
			e := mat.Norm(diff, 1) / scale
			t.Logf("relative error %.3g", e)
			if e > 1e-9 {
				t.Errorf("C_mb differs from the finite-difference definition by %.3g (relative)", e)
			}
		})
	}
}

func TestMinibatchAccMergeRejects(t *testing.T) {
	a := NewMinibatchAcc(2, 3, ShuffledBatches(10, 4, 1), "shuffled")
	for i, o := range []*MinibatchAcc{
		NewMinibatchAcc(2, 3, ShuffledBatches(10, 4, 2), "shuffled"),
		NewMinibatchAcc(2, 3, ShuffledBatches(10, 5, 1), "shuffled"),
		NewMinibatchAcc(3, 2, ShuffledBatches(10, 4, 1), "shuffled"),
	} {
		if err := a.Merge(o); err == nil {
			t.Errorf("case %d: merge of other batches accepted", i)
		}
	}
	one := NewMinibatchAcc(2, 3, [][]int{{0, 1, 2}}, "shuffled")
	one.Count = 3
	if _, err := one.Finish(); err == nil {
		t.Error("C_mb of one batch accepted")
	}
}

// TestMinibatchFactorProject: the c_i of C_mb from its batch gradients
// (lowRank.project) are those of the d x d matrix Finish forms (Project),
// to rounding.
func TestMinibatchFactorProject(t *testing.T) {
	const m, in, n, batch, k = 3, 4, 24, 4, 5
	acc := shuffledAcc(m, in, n, batch, 5, 7)
	dense, err := acc.Finish()
	if err != nil {
		t.Fatal(err)
	}
	f, err := acc.factor()
	if err != nil {
		t.Fatal(err)
	}
	d := m * in
	u := HaarFrame(d, k, 3)
	want, _ := Project(dense, u, false)
	got := f.project(u)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-13*math.Abs(want[0]) {
			t.Errorf("c_%d = %v from the factors, %v from the matrix", i, got[i], want[i])
		}
	}
}

// TestMinibatchFactorThreads: the batch means and the overall mean that
// factor forms in blocks of columns on every thread are, bit for bit, the
// serial sums over the whole rows, on one thread and on three, for a
// layer wider than one block (d = 600).
func TestMinibatchFactorThreads(t *testing.T) {
	const m, in, n, batch = 20, 30, 36, 4
	acc := shuffledAcc(m, in, n, batch, 8, 2)
	d, nb := m*in, len(acc.Size)
	wantG := linalg.NewDense(nb, d)
	wantBar := make([]float64, d)
	for b := 0; b < nb; b++ {
		kernels.Daxpy(1/float64(acc.Size[b]), acc.G.Row(b), wantG.Row(b))
		kernels.Daxpy(1/float64(n), acc.G.Row(b), wantBar)
	}
	for _, procs := range []int{1, 3} {
		old := runtime.GOMAXPROCS(procs)
		f, err := acc.factor()
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		if f.Alpha != 1/float64(nb) {
			t.Errorf("GOMAXPROCS=%d: alpha %v, want 1/%d", procs, f.Alpha, nb)
		}
		for b := 0; b < nb; b++ {
			for j, v := range f.G.Row(b) {
				if v != wantG.At(b, j) {
					t.Fatalf("GOMAXPROCS=%d: G[%d][%d] = %v, want %v", procs, b, j, v, wantG.At(b, j))
				}
			}
		}
		for j, v := range f.Minus {
			if v != wantBar[j] {
				t.Fatalf("GOMAXPROCS=%d: mean[%d] = %v, want %v", procs, j, v, wantBar[j])
			}
		}
	}
}

// shuffledAcc is a shuffled-rule C_mb accumulator (batches of batch drawn
// with shuffle) holding n random samples of an m x in layer (seed seed,
// ce loss), added in order.
func shuffledAcc(m, in, n, batch int, seed, shuffle uint64) *MinibatchAcc {
	ps := randomPerSample(rand.New(rand.NewPCG(seed, seed+1)), n, m, in, 3, "ce")
	acc := NewMinibatchAcc(m, in, ShuffledBatches(n, batch, shuffle), MBShuffled)
	pos := make([]int, n)
	for i := range pos {
		pos[i] = i
	}
	acc.Add(ps, pos)
	return acc
}
