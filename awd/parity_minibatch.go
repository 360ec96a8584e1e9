package awd

import (
	"fmt"
	"math/rand/v2"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// ShuffledBatches returns the batches of one shuffled pass over the
// positions 0..n-1, as PyTorch's DataLoader(shuffle=True) cuts them in the
// paper's code (utils.cal_fisher_information): a permutation drawn from
// PCG(seed, 0x617764736875666) (the ASCII of "awdshuf" and a hex 6; the
// constant stays as it is so that C_mb is reproducible) cut into
// ceil(n/B) batches of B, the last one
// smaller when B does not divide n. Every position is in exactly one batch.
// A negative n or a batch below 1 is a programming error: it panics.
func ShuffledBatches(n, batch int, seed uint64) [][]int {
	if n < 0 || batch < 1 {
		panic(fmt.Sprintf("awd: ShuffledBatches: n=%d, batch=%d", n, batch))
	}
	perm := rand.New(rand.NewPCG(seed, 0x617764736875666)).Perm(n)
	var out [][]int
	for b0 := 0; b0 < n; b0 += batch {
		out = append(out, perm[b0:min(n, b0+batch)])
	}
	return out
}

// MinibatchAcc accumulates C_mb, the covariance of the mini-batch gradients
// of one pass over fixed batches (the paper's Eq. 1-2, as the paper's code computes
// it in utils.cal_noise_covar_minibatch):
//
//	C_mb = (1/nb) sum_b g_b g_b^T - gbar gbar^T,
//	g_b = (1/|b|) sum_{n in b} g_n,   gbar = (1/N) sum_n g_n,
//
// with g_n = vec(delta_n a_n^T) and gbar the full-data gradient (equal to
// the mean of the g_b when B divides N). Samples are identified by their
// position 0..N-1 in the analysis; each batch's gradient sum is kept
// (nb x d numbers), so samples may arrive in any order and in any shards:
// accumulations over disjoint sets of samples Merge exactly, whatever
// batches they straddle.
type MinibatchAcc struct {
	M, In   int
	Batch   []int        // Batch[pos] = batch of position pos
	Size    []int        // |b|
	G       linalg.Dense // nb x d: row b = sum of g_n over the samples of b added so far
	Count   int          // samples added
	Stratum string       // how the batches were made, for the record ("shuffled", "stratified")
}

// NewMinibatchAcc returns an empty accumulator for an m x in layer and the
// given batches of the positions 0..N-1 (every position in exactly one
// batch). Memory nb d numbers.
func NewMinibatchAcc(m, in int, batches [][]int, stratum string) *MinibatchAcc {
	n := 0
	for _, b := range batches {
		n += len(b)
	}
	a := &MinibatchAcc{M: m, In: in, Batch: make([]int, n), Size: make([]int, len(batches)),
		G: linalg.NewDense(len(batches), m*in), Stratum: stratum}
	for i := range a.Batch {
		a.Batch[i] = -1
	}
	for b, idx := range batches {
		if len(idx) == 0 {
			panic(fmt.Sprintf("awd: NewMinibatchAcc: batch %d is empty", b))
		}
		a.Size[b] = len(idx)
		for _, p := range idx {
			if p < 0 || p >= n || a.Batch[p] >= 0 {
				panic(fmt.Sprintf("awd: NewMinibatchAcc: position %d out of 0..%d or in two batches", p, n-1))
			}
			a.Batch[p] = b
		}
	}
	return a
}

// Add adds the gradients of the samples of ps; pos[i] is the position of
// sample i of ps in the analysis. Cost 2 N d flops.
func (a *MinibatchAcc) Add(ps *nn.PerSample, pos []int) {
	if ps.M != a.M || ps.In != a.In || len(pos) != ps.N {
		panic(fmt.Sprintf("awd: MinibatchAcc.Add: %d samples of a %dx%d layer, %d positions, into %dx%d", ps.N, ps.M, ps.In, len(pos), a.M, a.In))
	}
	for s, p := range pos {
		if p < 0 || p >= len(a.Batch) {
			panic(fmt.Sprintf("awd: MinibatchAcc.Add: position %d of %d", p, len(a.Batch)))
		}
		addGradSum(a.G.Row(a.Batch[p]), 1, ps.Delta, ps.A, a.M, a.In, s, s+1)
	}
	a.Count += ps.N
}

// Merge adds the sums of o (the same batches, other samples) into a.
func (a *MinibatchAcc) Merge(o *MinibatchAcc) error {
	if a.M != o.M || a.In != o.In || len(a.Batch) != len(o.Batch) || len(a.Size) != len(o.Size) {
		return fmt.Errorf("awd: merge mini-batches: %d batches of %d samples (%dx%d) into %d of %d (%dx%d)",
			len(o.Size), len(o.Batch), o.M, o.In, len(a.Size), len(a.Batch), a.M, a.In)
	}
	for p, b := range a.Batch {
		if o.Batch[p] != b {
			return fmt.Errorf("awd: merge mini-batches: position %d is in batch %d here, %d there", p, b, o.Batch[p])
		}
	}
	kernels.Daxpy(1, o.G.Data, a.G.Data)
	a.Count += o.Count
	return nil
}

// Finish returns C_mb (d x d, both triangles). It is an error unless every
// position was added exactly once (Count = N). Cost nb d^2 flops (one SYRK)
// and one d x d matrix.
func (a *MinibatchAcc) Finish() (linalg.Dense, error) {
	f, err := a.factor()
	if err != nil {
		return linalg.Dense{}, err
	}
	d := a.M * a.In
	c := newSquare(d) // every entry written: the SYRK with beta = 0, mirrored
	linalg.Syrk(linalg.Upper, true, f.Alpha, f.G, 0, c, false)
	linalg.Mirror(linalg.Upper, c)
	syr(c, -1, f.Minus)
	return c, nil
}

// factor returns C_mb as (1/nb) G^T G - gbar gbar^T, G's rows the mean
// gradients g_b of the batches (nb x d, nb = N/B), without forming the
// d x d matrix: the projections on a d x k basis then cost 2 nb d k flops
// instead of 2 d^2 k (nb = 400 against d = 2500 for the MNIST MLP's fc2 at
// N = 20000, B = 50). It is an error unless every position was added
// exactly once.
func (a *MinibatchAcc) factor() (lowRank, error) {
	n := len(a.Batch)
	if a.Count != n {
		return lowRank{}, fmt.Errorf("awd: C_mb: %d of %d samples accumulated", a.Count, n)
	}
	nb, d := len(a.Size), a.M*a.In
	if nb < 2 {
		return lowRank{}, fmt.Errorf("awd: C_mb: %d mini-batch, need 2", nb)
	}
	gb := linalg.NewDense(nb, d)
	gbar := make([]float64, d)
	// Blocks of columns on every thread (one thread took 30 ms here, its
	// fresh pages included); every column still sums the batches in order,
	// and the blocks start at multiples of the kernels' vector length, so
	// the result does not depend on the split.
	const cols = 256
	parallelEach((d+cols-1)/cols, func(i int) {
		c0, c1 := i*cols, min(d, (i+1)*cols)
		for b := 0; b < nb; b++ {
			g := a.G.Row(b)[c0:c1]
			kernels.Daxpy(1/float64(a.Size[b]), g, gb.Row(b)[c0:c1])
			kernels.Daxpy(1/float64(n), g, gbar[c0:c1])
		}
	})
	return lowRank{G: gb, Alpha: 1 / float64(nb), Minus: gbar}, nil
}

// lowRank is a covariance kept as its factors, X = Alpha G^T G - m m^T
// (G r x d with r much below d; m of length d, or nil for none).
type lowRank struct {
	G     linalg.Dense
	Alpha float64
	Minus []float64
}

// project returns the diagonal of U^T X U, c_i = Alpha ||G u_i||^2 -
// (m . u_i)^2, for the d x k basis U: 2 r d k flops.
func (f lowRank) project(u linalg.Dense) []float64 {
	r, k := f.G.Rows, u.Cols
	gu := linalg.DenseOf(r, k, linalg.Scratch(r*k)) // every entry written
	defer linalg.Recycle(gu.Data)
	linalg.Gemm(false, false, 1, f.G, u, 0, gu)
	c := make([]float64, k)
	for b := 0; b < r; b++ {
		for i, v := range gu.Row(b) {
			c[i] += v * v
		}
	}
	mu := make([]float64, k)
	if f.Minus != nil {
		for row, m := range f.Minus {
			if m != 0 {
				kernels.Daxpy(m, u.Row(row), mu)
			}
		}
	}
	for i := range c {
		c[i] = f.Alpha*c[i] - mu[i]*mu[i]
	}
	return c
}
