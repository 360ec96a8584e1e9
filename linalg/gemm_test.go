package linalg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/awd-toolkit/awd/kernels"
)

// The reference for every product is gonum's blas64 (pure Go, an independent
// implementation). Both it and ours compute each entry as a sum of k
// products plus beta*c, so each is within (k+2)*eps*(|alpha| sum|a||b| +
// |beta c|) of the exact value (Higham, Accuracy and Stability, eq. 3.5);
// their difference is within twice that. tolFactor is that 2*(k+2).
func tolFactor(k int) float64 { return 2 * float64(k+2) }

// forEachLevel runs f once per kernel level this CPU and build support,
// restoring the level afterwards.
func forEachLevel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := kernels.Current()
	defer func() {
		if err := kernels.SetLevel(saved); err != nil {
			t.Fatal(err)
		}
	}()
	for _, l := range kernels.Available() {
		if err := kernels.SetLevel(l); err != nil {
			t.Fatal(err)
		}
		t.Run("level="+l.String(), f)
	}
}

// threadCounts are the goroutine counts every product is computed with; the
// results must agree bit for bit (the split never changes an entry's sum).
// 3 splits unevenly; -short keeps 1 and 2.
func threadCounts() []int {
	if testing.Short() {
		return []int{1, 2}
	}
	return []int{1, 2, 3}
}

// withThreads runs f with SetThreads(n), restoring the previous setting.
func withThreads(n int, f func()) {
	prev := SetThreads(n)
	defer SetThreads(prev)
	f()
}

// randView returns an r x c view with random entries in [-1, 1), placed at
// an offset inside a larger matrix when view is set, so the stride exceeds
// the width and the surrounding entries (filled with guard) must survive.
func randView(rng *rand.Rand, r, c int, view bool, guard float64) (v, whole Dense) {
	if !view {
		whole = NewDense(r, c)
		v = whole
	} else {
		whole = NewDense(r+3, c+5)
		for i := range whole.Data {
			whole.Data[i] = guard
		}
		v = whole.View(2, 3, r, c)
	}
	for i := 0; i < r; i++ {
		row := v.Row(i)
		for j := range row {
			row[j] = 2*rng.Float64() - 1
		}
	}
	return v, whole
}

// general returns a as a blas64.General gonum accepts (stride >= max(1, cols)
// and storage that covers it).
func general(a Dense) blas64.General {
	g := blas64.General{Rows: a.Rows, Cols: a.Cols, Stride: a.Stride, Data: a.Data}
	if g.Stride < max(g.Cols, 1) {
		g.Stride = max(g.Cols, 1)
	}
	if a.Rows == 0 || a.Cols == 0 {
		g.Data = make([]float64, g.Rows*g.Stride)
	}
	return g
}

type gemmCase struct {
	m, n, k int
	name    string
}

// gemmShapes covers the degenerate sizes, partial tiles, every blocking loop
// (k past kc, m past mc, n past nc is in gemmLongShapes) and the training
// shape 50x784x50.
var gemmShapes = []gemmCase{
	{0, 0, 0, "empty"}, {0, 3, 2, "m=0"}, {3, 0, 2, "n=0"}, {3, 4, 0, "k=0"},
	{1, 1, 1, "1x1x1"}, {1, 7, 5, "row"}, {7, 1, 5, "column"}, {5, 6, 1, "outer"},
	{17, 19, 23, "odd"}, {64, 64, 64, "64"}, {50, 50, 784, "train-50x784x50"},
	{900, 3, 7, "tall-skinny"}, {3, 900, 7, "wide"}, {6, 5, 1300, "long-k"},
	{333, 41, 257, "m>mc"},
}

// gemmLongShapes reach the nc loop and the parallel split of large products.
var gemmLongShapes = []gemmCase{
	{9, 4500, 70, "n>nc"}, {301, 299, 305, "parallel"},
}

var scalars = []float64{0, 1, -1, 0.37}

func TestGemm(t *testing.T) {
	shapes := gemmShapes
	if !testing.Short() {
		shapes = append(shapes, gemmLongShapes...)
	}
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, sh := range shapes {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for ia, alpha := range scalars {
						for ib, beta := range scalars {
							// The big shapes run every scalar pair once on one
							// transpose pair, and one pair on the others.
							big := sh.m*sh.n*sh.k > 100000
							if big && (tA || tB) && (ia != 3 || ib != 3) {
								continue
							}
							view := (ia+ib)%2 == 1
							name := fmt.Sprintf("%s/tA=%v/tB=%v/alpha=%v/beta=%v/view=%v", sh.name, tA, tB, alpha, beta, view)
							checkGemm(t, rng, name, sh, tA, tB, alpha, beta, view)
						}
					}
				}
			}
		}
	})
}

func checkGemm(t *testing.T, rng *rand.Rand, name string, sh gemmCase, tA, tB bool, alpha, beta float64, view bool) {
	t.Helper()
	const guard = -7777
	ar, ac := sh.m, sh.k
	if tA {
		ar, ac = ac, ar
	}
	br, bc := sh.k, sh.n
	if tB {
		br, bc = bc, br
	}
	a, _ := randView(rng, ar, ac, view, guard)
	b, _ := randView(rng, br, bc, view, guard)
	c, cw := randView(rng, sh.m, sh.n, view, guard)
	if beta == 0 {
		// BLAS: beta = 0 overwrites C, NaN included.
		for i := 0; i < c.Rows; i++ {
			for j := range c.Row(i) {
				c.Row(i)[j] = math.NaN()
			}
		}
	}
	want := c.Clone()
	if sh.m > 0 && sh.n > 0 {
		blas64.Gemm(transOf(tA), transOf(tB), alpha, general(a), general(b), beta, general(want))
	}
	c0 := c.Clone()
	results := map[int]Dense{}
	for _, th := range threadCounts() {
		c.Copy(c0)
		withThreads(th, func() { Gemm(tA, tB, alpha, a, b, beta, c) })
		results[th] = c.Clone()
	}
	// |op(A)| |op(B)|, the scale of each entry's rounding error.
	absAB := NewDense(sh.m, sh.n)
	if sh.m > 0 && sh.n > 0 {
		blas64.Gemm(transOf(tA), transOf(tB), 1, general(absOf(a)), general(absOf(b)), 0, general(absAB))
	}
	for i := 0; i < sh.m; i++ {
		for j := 0; j < sh.n; j++ {
			mag := math.Abs(alpha) * absAB.At(i, j)
			if beta != 0 {
				mag += math.Abs(beta * c0.At(i, j))
			}
			tol := tolFactor(sh.k) * 0x1p-52 * mag
			got, w := results[1].At(i, j), want.At(i, j)
			if math.IsNaN(got) || math.Abs(got-w) > tol {
				t.Fatalf("%s: C[%d][%d] = %v, want %v (tol %.3g)", name, i, j, got, w, tol)
			}
			for _, th := range threadCounts()[1:] {
				if g := results[th].At(i, j); g != got {
					t.Fatalf("%s: threads=%d gives C[%d][%d] = %v, threads=1 %v", name, th, i, j, g, got)
				}
			}
		}
	}
	if view {
		checkGuard(t, name, cw, 2, 3, sh.m, sh.n, guard)
	}
}

// checkGuard verifies that the entries of whole outside the r x c view at
// (i0, j0) still hold guard.
func checkGuard(t *testing.T, name string, whole Dense, i0, j0, r, c int, guard float64) {
	t.Helper()
	for i := 0; i < whole.Rows; i++ {
		for j := 0; j < whole.Cols; j++ {
			inside := i >= i0 && i < i0+r && j >= j0 && j < j0+c
			if !inside && whole.At(i, j) != guard {
				t.Fatalf("%s: entry (%d, %d) outside the view changed to %v", name, i, j, whole.At(i, j))
			}
		}
	}
}

// absOf returns a compact copy of |a|.
func absOf(a Dense) Dense {
	b := a.Clone()
	for i, v := range b.Data {
		b.Data[i] = math.Abs(v)
	}
	return b
}

func transOf(tr bool) blas.Transpose {
	if tr {
		return blas.Trans
	}
	return blas.NoTrans
}

func TestGemmShapePanics(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a, b, c Dense
		want    string
	}{
		{"inner", NewDense(2, 3), NewDense(4, 5), NewDense(2, 5), "op(A) 2x3, op(B) 4x5, C 2x5"},
		{"rows", NewDense(2, 3), NewDense(3, 5), NewDense(3, 5), "op(A) 2x3, op(B) 3x5, C 3x5"},
		{"cols", NewDense(2, 3), NewDense(3, 5), NewDense(2, 4), "op(A) 2x3, op(B) 3x5, C 2x4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Fatalf("panic %v, want one naming %q", r, tc.want)
				}
			}()
			Gemm(false, false, 1, tc.a, tc.b, 0, tc.c)
		})
	}
	defer func() {
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, "C 3x3") {
			t.Fatalf("Syrk panic %v, want one naming C 3x3", r)
		}
	}()
	Syrk(Lower, true, 1, NewDense(4, 2), 0, NewDense(3, 3), false)
}

// TestViewPanics checks that the products and eigensolvers refuse, on the
// caller's goroutine with a message naming the view, a view whose rows
// overlap (stride < cols) or whose Data ends before its last row: a large
// product used to fail inside a worker goroutine, which no recover can
// catch, and overlapping rows were computed on silently.
func TestViewPanics(t *testing.T) {
	overlap := Dense{Rows: 3, Cols: 4, Stride: 2, Data: make([]float64, 12)}
	short := Dense{Rows: 300, Cols: 300, Stride: 300, Data: make([]float64, 300*299)}
	big := NewDense(300, 300)
	for _, tc := range []struct {
		name string
		call func()
		want string
	}{
		{"gemm/overlap", func() { Gemm(false, false, 1, overlap, NewDense(4, 1), 0, NewDense(3, 1)) }, "Gemm: A is 3x4 with stride 2"},
		{"gemm/short", func() { Gemm(false, false, 1, short, big, 0, NewDense(300, 300)) }, "Gemm: A is 300x300 with stride 300 over 89700 values"},
		{"gemm/c", func() { Gemm(false, false, 1, big, big, 0, short) }, "Gemm: C is 300x300"},
		{"gemm32", func() {
			Gemm32(false, false, 1, Dense32{Rows: 3, Cols: 4, Stride: 2, Data: make([]float32, 12)}, NewDense32(4, 1), 0, NewDense32(3, 1))
		}, "Gemm32: A is 3x4 with stride 2"},
		{"syrk", func() { Syrk(Lower, true, 1, overlap, 0, NewDense(4, 4), false) }, "Syrk: A is 3x4 with stride 2"},
		{"gemmt", func() { Gemmt(Lower, false, true, 1, overlap, overlap, 0, NewDense(3, 3)) }, "Gemmt: A is 3x4 with stride 2"},
		{"eigsym", func() { EigSym(Dense{Rows: 3, Cols: 3, Stride: 1, Data: make([]float64, 9)}, true) }, "EigSym: A is 3x3 with stride 1"},
		{"eigsymtop", func() { EigSymTop(Dense{Rows: 3, Cols: 3, Stride: 3, Data: make([]float64, 8)}, 1, true) }, "EigSymTop: A is 3x3 with stride 3 over 8 values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Fatalf("panic %v, want one saying %q", r, tc.want)
				}
			}()
			tc.call()
		})
	}
	// Well-formed views: a strided view of a larger matrix, an empty one
	// and a single row whose stride is irrelevant.
	w := NewDense(6, 6)
	Gemm(false, false, 1, w.View(1, 1, 3, 4), w.View(0, 0, 4, 2), 0, NewDense(3, 2))
	Gemm(false, false, 1, Dense{Rows: 0, Cols: 4}, NewDense(4, 2), 0, Dense{Rows: 0, Cols: 2})
	Gemm(false, false, 1, Dense{Rows: 1, Cols: 4, Stride: 0, Data: make([]float64, 4)}, NewDense(4, 2), 0, NewDense(1, 2))
}

func TestSyrk(t *testing.T) {
	type syrkCase struct {
		n, k int
		name string
	}
	shapes := []syrkCase{
		{0, 0, "empty"}, {0, 3, "n=0"}, {3, 0, "k=0"}, {1, 1, "1x1"}, {1, 9, "n=1"},
		{7, 1, "rank-1"}, {19, 23, "odd"}, {64, 40, "64"}, {131, 300, "k>kc"},
		{300, 9, "n>mc"},
	}
	if !testing.Short() {
		shapes = append(shapes, syrkCase{520, 130, "parallel"})
	}
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, sh := range shapes {
			for _, uplo := range []Uplo{Lower, Upper} {
				for _, trans := range []bool{false, true} {
					for ia, alpha := range scalars {
						for ib, beta := range scalars {
							big := sh.n*sh.n*sh.k > 100000
							if big && (uplo == Upper || trans) && (ia != 3 || ib != 3) {
								continue
							}
							view := (ia+ib)%2 == 1
							mirror := ia%2 == 0
							name := fmt.Sprintf("%s/uplo=%c/trans=%v/alpha=%v/beta=%v/view=%v/mirror=%v",
								sh.name, uplo, trans, alpha, beta, view, mirror)
							checkSyrk(t, rng, name, sh.n, sh.k, uplo, trans, alpha, beta, view, mirror)
						}
					}
				}
			}
		}
	})
}

func checkSyrk(t *testing.T, rng *rand.Rand, name string, n, k int, uplo Uplo, trans bool, alpha, beta float64, view, mirror bool) {
	t.Helper()
	const guard, other = -7777, 4242
	ar, ac := n, k
	if trans {
		ar, ac = k, n
	}
	a, _ := randView(rng, ar, ac, view, guard)
	c, cw := randView(rng, n, n, view, guard)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			switch {
			case (uplo == Lower && j > i) || (uplo == Upper && j < i):
				c.Set(i, j, other) // must stay unless mirrored
			case beta == 0:
				c.Set(i, j, math.NaN())
			}
		}
	}
	want := c.Clone()
	if n > 0 {
		blas64.Syrk(transOf(trans), alpha, general(a), beta,
			blas64.Symmetric{Uplo: blas.Uplo(uplo), N: n, Stride: want.Stride, Data: want.Data})
	}
	c0 := c.Clone()
	results := map[int]Dense{}
	for _, th := range threadCounts() {
		c.Copy(c0)
		withThreads(th, func() { Syrk(uplo, trans, alpha, a, beta, c, mirror) })
		results[th] = c.Clone()
	}
	// |X| |X|^T, the scale of each entry's rounding error.
	absAA := NewDense(n, n)
	if n > 0 {
		abs := general(absOf(a))
		blas64.Gemm(transOf(trans), transOf(!trans), 1, abs, abs, 0, general(absAA))
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			ti, tj := i, j // the triangle entry that (i, j) must equal
			if (uplo == Lower && j > i) || (uplo == Upper && j < i) {
				if !mirror {
					if g := results[1].At(i, j); g != other {
						t.Fatalf("%s: C[%d][%d] outside the triangle changed to %v", name, i, j, g)
					}
					continue
				}
				ti, tj = j, i
			}
			mag := math.Abs(alpha) * absAA.At(ti, tj)
			if beta != 0 {
				mag += math.Abs(beta * c0.At(ti, tj))
			}
			tol := tolFactor(k) * 0x1p-52 * mag
			got, w := results[1].At(i, j), want.At(ti, tj)
			if math.IsNaN(got) || math.Abs(got-w) > tol {
				t.Fatalf("%s: C[%d][%d] = %v, want %v (tol %.3g)", name, i, j, got, w, tol)
			}
			for _, th := range threadCounts()[1:] {
				if g := results[th].At(i, j); g != got {
					t.Fatalf("%s: threads=%d gives C[%d][%d] = %v, threads=1 %v", name, th, i, j, g, got)
				}
			}
		}
	}
	if view {
		checkGuard(t, name, cw, 2, 3, n, n, guard)
	}
}

// TestSyrkMatchesGemm checks the triangle-aware tiling against the full
// product it halves: every entry of Syrk's triangle equals Gemm's (the same
// k products summed in the same order by the same micro-kernel).
func TestSyrkMatchesGemm(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, n := range []int{1, 5, 33, 97} {
			a, _ := randView(rng, 45, n, false, 0)
			full := NewDense(n, n)
			Gemm(true, false, 0.37, a, a, 0, full)
			for _, uplo := range []Uplo{Lower, Upper} {
				c := NewDense(n, n)
				Syrk(uplo, true, 0.37, a, 0, c, true)
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						if (uplo == Lower) == (j <= i) || i == j {
							if c.At(i, j) != full.At(i, j) {
								t.Fatalf("n=%d uplo=%c: Syrk C[%d][%d] = %v, Gemm %v", n, uplo, i, j, c.At(i, j), full.At(i, j))
							}
						}
					}
				}
			}
		}
	})
}

func TestGemm32(t *testing.T) {
	shapes := gemmShapes
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, sh := range shapes {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for ia, alpha := range scalars {
						for ib, beta := range scalars {
							if sh.m*sh.n*sh.k > 100000 && (ia+ib)%3 != 0 {
								continue
							}
							name := fmt.Sprintf("%s/tA=%v/tB=%v/alpha=%v/beta=%v", sh.name, tA, tB, alpha, beta)
							checkGemm32(t, rng, name, sh, tA, tB, float32(alpha), float32(beta))
						}
					}
				}
			}
		}
	})
}

// checkGemm32 compares with the float64 product of the same float32 inputs,
// so the reference's own error is negligible and the bound is (k+2)*eps32.
func checkGemm32(t *testing.T, rng *rand.Rand, name string, sh gemmCase, tA, tB bool, alpha, beta float32) {
	t.Helper()
	rnd := func(r, c int) Dense32 {
		x := NewDense32(r, c)
		for i := range x.Data {
			x.Data[i] = float32(2*rng.Float64() - 1)
		}
		return x
	}
	ar, ac := sh.m, sh.k
	if tA {
		ar, ac = ac, ar
	}
	br, bc := sh.k, sh.n
	if tB {
		br, bc = bc, br
	}
	a, b, c := rnd(ar, ac), rnd(br, bc), rnd(sh.m, sh.n)
	if beta == 0 {
		for i := range c.Data {
			c.Data[i] = float32(math.NaN())
		}
	}
	c0 := append([]float32(nil), c.Data...)
	at := func(x Dense32, tr bool, i, j int) float64 {
		if tr {
			i, j = j, i
		}
		return float64(x.Data[i*x.Stride+j])
	}
	Gemm32(tA, tB, alpha, a, b, beta, c)
	const eps32 = 0x1p-23
	for i := 0; i < sh.m; i++ {
		for j := 0; j < sh.n; j++ {
			var s, mag float64
			for p := 0; p < sh.k; p++ {
				v := at(a, tA, i, p) * at(b, tB, p, j)
				s += v
				mag += math.Abs(v)
			}
			want := float64(alpha) * s
			mag = math.Abs(float64(alpha)) * mag
			if beta != 0 {
				want += float64(beta) * float64(c0[i*c.Stride+j])
				mag += math.Abs(float64(beta) * float64(c0[i*c.Stride+j]))
			}
			tol := float64(sh.k+2) * eps32 * mag
			got := float64(c.Data[i*c.Stride+j])
			if math.IsNaN(got) || math.Abs(got-want) > tol {
				t.Fatalf("%s: C[%d][%d] = %v, want %v (tol %.3g)", name, i, j, got, want, tol)
			}
		}
	}
}

// TestGemmSmallNoAlloc checks that a warm single-threaded training-size
// product allocates nothing (packing buffers come from the pool).
func TestGemmSmallNoAlloc(t *testing.T) {
	a, b, c := NewDense(50, 784), NewDense(784, 50), NewDense(50, 50)
	withThreads(1, func() {
		Gemm(false, false, 1, a, b, 0, c)
		if n := testing.AllocsPerRun(20, func() { Gemm(false, false, 1, a, b, 0, c) }); n > 0 {
			t.Errorf("Gemm 50x784x50 allocates %v times per call", n)
		}
	})
}

func TestMirror(t *testing.T) {
	// From 512 the bands go to every thread: one thread and three.
	defer SetThreads(SetThreads(1))
	for _, th := range []int{1, 3} {
		SetThreads(th)
		testMirror(t)
	}
}

func testMirror(t *testing.T) {
	for _, n := range []int{0, 1, 2, 63, 64, 65, 150, 513, 700} {
		for _, uplo := range []Uplo{Lower, Upper} {
			c := NewDense(n, n)
			for i := range c.Data {
				c.Data[i] = float64(i)
			}
			src := c.Clone()
			Mirror(uplo, c)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					ti, tj := i, j
					if (uplo == Lower && j > i) || (uplo == Upper && j < i) {
						ti, tj = j, i
					}
					if c.At(i, j) != src.At(ti, tj) {
						t.Fatalf("n=%d uplo=%c: C[%d][%d] = %v, want %v", n, uplo, i, j, c.At(i, j), src.At(ti, tj))
					}
				}
			}
		}
	}
}

// TestParallelSplits checks that the two ways of splitting a product over
// goroutines (shared B blocks with rows of C per worker, or independent
// column blocks) give bit-identical results, for full and triangular jobs;
// with small blocks too, so that the shared split runs through many (jc, pc)
// blocks and both of its alternating B buffers.
func TestParallelSplits(t *testing.T) {
	defer func(s int) { splitOverride = s }(splitOverride)
	defer SetBlockSizes(0, 0, 0)
	for _, bs := range [][3]int{{0, 0, 0}, {40, 28, 64}} {
		SetBlockSizes(bs[0], bs[1], bs[2])
		testParallelSplits(t, fmt.Sprintf("kc,mc,nc=%v", bs))
	}
}

func testParallelSplits(t *testing.T, blocks string) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, sh := range []gemmCase{{301, 299, 305, "square"}, {1400, 90, 140, "tall"}} {
		a, _ := randView(rng, sh.m, sh.k, false, 0)
		b, _ := randView(rng, sh.k, sh.n, false, 0)
		x, _ := randView(rng, sh.k, sh.m, false, 0)
		var gemms, syrks [2]Dense
		for i, s := range []int{1, -1} {
			splitOverride = s
			gemms[i], syrks[i] = NewDense(sh.m, sh.n), NewDense(sh.m, sh.m)
			withThreads(2, func() {
				Gemm(false, false, 0.37, a, b, 0, gemms[i])
				Syrk(Lower, true, 0.37, x, 0, syrks[i], false)
			})
		}
		for _, r := range []struct {
			op   string
			c, d Dense
		}{{"gemm", gemms[0], gemms[1]}, {"syrk", syrks[0], syrks[1]}} {
			for i, v := range r.c.Data {
				if v != r.d.Data[i] {
					t.Fatalf("%s %s %s: entry %d: shared split %v, column split %v", blocks, sh.name, r.op, i, v, r.d.Data[i])
				}
			}
		}
	}
}

// TestManyWorkers runs products and SYRKs on more goroutines than the
// machine has cores, where narrow column blocks switch to the shared-B
// split (minBlockCols), and checks them bit for bit against one thread: the
// order of every element's sums does not depend on the split.
func TestManyWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	m, n, k := 700, 650, 300
	a, _ := randView(rng, m, k, false, 0)
	b, _ := randView(rng, k, n, false, 0)
	x, _ := randView(rng, k, n, false, 0)
	var want, wantS Dense
	for _, th := range []int{1, 3, 16} {
		c, s := NewDense(m, n), NewDense(n, n)
		withThreads(th, func() {
			Gemm(false, false, 0.37, a, b, 0, c)
			Syrk(Upper, true, 0.37, x, 0, s, false)
		})
		if th == 1 {
			want, wantS = c, s
			continue
		}
		for i, v := range c.Data {
			if v != want.Data[i] {
				t.Fatalf("%d threads: gemm entry %d = %v, one thread %v", th, i, v, want.Data[i])
			}
		}
		for i, v := range s.Data {
			if v != wantS.Data[i] {
				t.Fatalf("%d threads: syrk entry %d = %v, one thread %v", th, i, v, wantS.Data[i])
			}
		}
	}
}

// TestGemmtMatchesGemm checks Gemmt's triangle against the full product of
// two different operands (every transpose, alpha and beta, views with
// guards, 1 and 3 threads): its entries are Gemm's bit for bit, and the
// other triangle is left as it was.
func TestGemmtMatchesGemm(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, n := range []int{1, 5, 33, 97, 301} {
			for _, k := range []int{1, 45, 600} {
				for _, tA := range []bool{false, true} {
					for _, tB := range []bool{false, true} {
						for _, beta := range []float64{0, 1, -0.5} {
							checkGemmt(t, rng, n, k, tA, tB, 0.37, beta)
						}
					}
				}
			}
		}
	})
}

func checkGemmt(t *testing.T, rng *rand.Rand, n, k int, tA, tB bool, alpha, beta float64) {
	ra, ca := n, k
	if tA {
		ra, ca = k, n
	}
	rb, cb := k, n
	if tB {
		rb, cb = n, k
	}
	a, _ := randView(rng, ra, ca, true, 0)
	b, _ := randView(rng, rb, cb, true, 0)
	c0, _ := randView(rng, n, n, false, 0)
	full := c0.Clone()
	Gemm(tA, tB, alpha, a, b, beta, full)
	for _, uplo := range []Uplo{Lower, Upper} {
		for _, th := range []int{1, 3} {
			c := c0.Clone()
			withThreads(th, func() { Gemmt(uplo, tA, tB, alpha, a, b, beta, c) })
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					want := c0.At(i, j)
					if (uplo == Lower && j <= i) || (uplo == Upper && j >= i) {
						want = full.At(i, j)
					}
					if got := c.At(i, j); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
						t.Fatalf("n=%d k=%d tA=%v tB=%v beta=%v uplo=%c threads=%d: C[%d][%d] = %v, want %v", n, k, tA, tB, beta, uplo, th, i, j, got, want)
					}
				}
			}
		}
	}
}

// TestParallelHelp delays the first worker of the independent split to
// publish its last (jc, pc) block, so that the others finish first and run
// row blocks of it: the products must equal the one-thread ones bit for
// bit, with help given.
func TestParallelHelp(t *testing.T) {
	defer SetBlockSizes(0, 0, 0)
	defer func(s int) { splitOverride = s }(splitOverride)
	defer func() { tailHook = nil }()
	splitOverride = -1
	SetBlockSizes(40, 28, 64)
	rng := rand.New(rand.NewPCG(13, 14))
	a, _ := randView(rng, 301, 120, true, 0)
	b, _ := randView(rng, 120, 203, true, 0)
	x, _ := randView(rng, 150, 260, true, 0)
	tall, _ := randView(rng, 700, 90, true, 0)
	type job struct {
		name string
		c    Dense
		run  func(c Dense)
	}
	jobs := []job{
		{"gemm", NewDense(301, 203), func(c Dense) { Gemm(false, false, 0.37, a, b, 0.5, c) }},
		{"gemm tall", NewDense(700, 120), func(c Dense) { Gemm(false, false, 1, tall, b.View(0, 0, 90, 120), 0, c) }},
		{"syrk lower", NewDense(260, 260), func(c Dense) { Syrk(Lower, true, 0.37, x, 0.5, c, false) }},
		{"syrk upper", NewDense(260, 260), func(c Dense) { Syrk(Upper, true, 0.37, x, 0, c, false) }},
	}
	for _, j := range jobs {
		for i := range j.c.Data {
			j.c.Data[i] = float64(i%13) - 6
		}
		want := j.c.Clone()
		withThreads(1, func() { j.run(want) })
		for _, th := range []int{2, 3} {
			// The first worker to publish its tail waits until another has
			// helped with it: every other worker publishes its own tail
			// after it, and then finds this one's blocks. (A fixed sleep
			// failed under emulation on a loaded machine, where a partner
			// could take longer than the sleep to come round.)
			var first atomic.Bool
			helped := helpedBlocks.Load()
			tailHook = func() {
				if first.CompareAndSwap(false, true) {
					for end := time.Now().Add(20 * time.Second); helpedBlocks.Load() == helped && time.Now().Before(end); {
						time.Sleep(time.Millisecond)
					}
				}
			}
			got := j.c.Clone()
			withThreads(th, func() { j.run(got) })
			tailHook = nil
			if !equalData(got, want) {
				t.Fatalf("%s, %d threads: differs from one thread", j.name, th)
			}
			if helpedBlocks.Load() == helped {
				t.Errorf("%s, %d threads: no row block was helped with", j.name, th)
			}
		}
	}
}

func equalData(a, b Dense) bool {
	for i := 0; i < a.Rows; i++ {
		for j := 0; j < a.Cols; j++ {
			if x, y := a.At(i, j), b.At(i, j); x != y && !(math.IsNaN(x) && math.IsNaN(y)) {
				return false
			}
		}
	}
	return true
}
