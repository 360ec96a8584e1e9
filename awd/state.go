package awd

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/awd-toolkit/awd/internal/hugepage"
	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
	"github.com/awd-toolkit/awd/nn"
)

// StateOptions chooses what a State accumulates beyond C, H, M2 and C_pair.
type StateOptions struct {
	// Pair2 accumulates C_pair2 (the paper's Eq. 58). Its rows vec(u a^T + delta
	// da^T) are rank 2 as m x n matrices, which the packed Kronecker route
	// cannot exploit, so it is a SYRK of the N x d matrix: N d^2 flops (C,
	// H, M2 and C_pair together cost 2 N d^2) and d^2 more memory.
	Pair2 bool
	// Chunk is the number of samples per GEMM; 0 means DefaultChunk.
	Chunk int
}

// Block order of the shared Kronecker accumulator.
const (
	blockC  = iota // delta delta^T
	blockH         // Gamma
	blockM2        // ||a||^2 Gamma^2
	nBlocks
)

// State is the additive accumulated state of docs/math.md section 4 for one layer
// (W is M x In, d = M*In): sums over samples and their counts, so that shards
// computed apart Merge exactly and Finish gives the matrices. The Kronecker
// sums are kept packed (d^2/4 numbers each, see KronSum).
type State struct {
	M, In int
	Opt   StateOptions

	Count     int // samples in Add (C, H, M2)
	PairCount int // samples in AddPairs (sigma^2, C_pair, C_pair2)
	ZeroA     int // samples passed to AddPairs with a_n = 0, which have no dW_n and are skipped
	Batches   int // mini-batch gradients in AddMinibatches (C_mb)

	kron *kron // sum delta delta^T, Gamma, ||a||^2 Gamma^2 (x) a a^T
	pair *kron // sum u u^T (x) a a^T, u = Gamma W da
	// all holds kron's three blocks and pair's one in one matrix (kron.g
	// and pair.g are its rows), so that AddSamples updates them with one
	// GEMM.
	all *kron

	pair2 linalg.Dense // d x d, upper triangle: sum g2 g2^T (Opt.Pair2)
	mb    linalg.Dense // d x d, upper triangle: sum g_b g_b^T (allocated on first use)

	SumG       []float64 // sum_n g_n (d)
	SumGB      []float64 // sum_b g_b (d)
	SumDTheta2 float64   // sum_n ||dtheta_n||^2
	LocMax     float64   // max_n lambda_1(H_n) = ||a_n||^2 mu_1(Gamma_n); -Inf before any sample

	scratch [3][]float64 // reused chunk buffers (not part of the state)
}

// buf returns an r x c matrix on the reused scratch slot i.
func (s *State) buf(i, r, c int) linalg.Dense {
	if cap(s.scratch[i]) < r*c {
		s.scratch[i] = hugepage.Make[float64](r * c)
	}
	return linalg.DenseOf(r, c, s.scratch[i][:r*c])
}

// NewState returns an empty State for an m x in weight matrix. Memory about
// d^2 numbers (four packed sums of d^2/4), plus d^2 with Pair2 and d^2 once
// mini-batch gradients are added.
func NewState(m, in int, opt StateOptions) *State {
	if m <= 0 || in <= 0 {
		panic(fmt.Sprintf("awd: NewState: layer %dx%d", m, in))
	}
	if opt.Chunk <= 0 {
		opt.Chunk = DefaultChunk
	}
	all := newKron(m, in, nBlocks+1)
	s := &State{
		M: m, In: in, Opt: opt,
		kron:   &kron{m: m, n: in, blocks: nBlocks, g: all.g.View(0, 0, nBlocks*triLen(m), triLen(in))},
		pair:   &kron{m: m, n: in, blocks: 1, g: all.block(nBlocks)},
		all:    all,
		SumG:   make([]float64, m*in),
		SumGB:  make([]float64, m*in),
		LocMax: math.Inf(-1),
	}
	if opt.Pair2 {
		s.pair2 = linalg.NewDense(m*in, m*in)
	}
	return s
}

// D returns the dimension d = M*In.
func (s *State) D() int { return s.M * s.In }

func (s *State) check(ps *nn.PerSample, what string) {
	if ps.M != s.M || ps.In != s.In {
		panic(fmt.Sprintf("awd: State.%s: samples of a %dx%d layer into a %dx%d state", what, ps.M, ps.In, s.M, s.In))
	}
}

// parallelRows calls f(w, r0, r1) on disjoint row ranges of [0, n) from up to
// GOMAXPROCS goroutines; w is the worker index.
func parallelRows(n int, f func(w, r0, r1 int)) int {
	nw := max(1, min(runtime.GOMAXPROCS(0), n/16))
	var wg sync.WaitGroup
	for w := 0; w < nw; w++ {
		r0, r1 := w*n/nw, (w+1)*n/nw
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(w, r0, r1)
		}()
	}
	wg.Wait()
	return nw
}

// parallelEach calls f(i) for i in [0, n) from up to GOMAXPROCS goroutines,
// each taking the next i.
func parallelEach(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), n)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		})
	}
	wg.Wait()
}

// Add accumulates the samples of ps into the sums of C, H and M2, sum g_n and
// LocMax. Cost N d^2 * 3/2 flops for the GEMM plus O(N (L m^2 + L^2 m)).
func (s *State) Add(ps *nn.PerSample) {
	s.check(ps, "Add")
	m, n, l := s.M, s.In, ps.L
	tm, tn := triLen(m), triLen(n)
	chunk := s.Opt.Chunk
	x := s.buf(0, min(chunk, ps.N), nBlocks*tm)
	y := s.buf(1, min(chunk, ps.N), tn)
	nw := runtime.GOMAXPROCS(0)
	works := make([]*gammaWork, nw)
	locs := make([]float64, nw)
	for i := range works {
		works[i] = newGammaWork(m, l)
		locs[i] = math.Inf(-1)
	}
	for s0 := 0; s0 < ps.N; s0 += chunk {
		c := min(chunk, ps.N-s0)
		xv, yv := x.View(0, 0, c, x.Cols), y.View(0, 0, c, y.Cols)
		parallelRows(c, func(w, r0, r1 int) {
			gw := works[w]
			for r := r0; r < r1; r++ {
				smp := s0 + r
				locs[w] = math.Max(locs[w], kronRow(xv.Row(r), gw, ps, smp, true))
				packOuter(yv.Row(r), 1, ps.A[smp*n:(smp+1)*n])
			}
		})
		s.kron.add(xv, yv)
	}
	for _, v := range locs {
		s.LocMax = math.Max(s.LocMax, v)
	}
	addGradSum(s.SumG, 1, ps.Delta, ps.A, m, n, 0, ps.N)
	s.Count += ps.N
}

// kronRow writes sample smp's row of the C, H and M2 blocks (the packed
// upper triangles of delta delta^T, Gamma and ||a||^2 Gamma^2) into xr and,
// when loc is set, returns lambda_1(H_smp) = ||a||^2 mu_1(Gamma) (-Inf
// otherwise).
func kronRow(xr []float64, gw *gammaWork, ps *nn.PerSample, smp int, loc bool) float64 {
	m, n, l := ps.M, ps.In, ps.L
	tm := triLen(m)
	a := ps.A[smp*n : (smp+1)*n]
	lam := ps.Lambda[smp*l*l : (smp+1)*l*l]
	packOuter(xr[blockC*tm:(blockC+1)*tm], 1, ps.Delta[smp*m:(smp+1)*m])
	gw.load(ps, smp)
	gw.packedJtFJ(xr[blockH*tm:(blockH+1)*tm], 1, lam)
	na2 := kernels.Ddot(a, a)
	gw.lambdaKLambda(lam)
	gw.packedJtFJ(xr[blockM2*tm:(blockM2+1)*tm], na2, gw.f)
	if !loc {
		return math.Inf(-1)
	}
	return na2 * gw.gammaMax(lam)
}

// AddSamples is Add and AddPairs together (AddSamplesCode without the
// code's C_pair2).
func (s *State) AddSamples(ps *nn.PerSample, w linalg.Dense, da linalg.Dense, ss *SampleSpectra) {
	s.AddSamplesCode(ps, w, da, nil, nil, ss)
}

// AddSamplesCode is Add and AddPairsCode together, with one GEMM per chunk
// for the four Kronecker sums (C, H, M2 and C_pair share the a_n a_n^T
// side): cost 2 N d^2 flops (plus N d^2 with Pair2), the same sums in the
// same order as the two calls. When ss is not nil, its last ps.N samples
// are ps's spectra (SampleSpectra.Append(ps) came first), and LocMax takes
// their lambda_1 instead of solving each Gamma_n again.
func (s *State) AddSamplesCode(ps *nn.PerSample, w linalg.Dense, da linalg.Dense, code *CodePair2Acc, pos []int, ss *SampleSpectra) {
	s.check(ps, "AddSamples")
	if ss != nil && (ss.N < ps.N || ss.M != s.M || ss.In != s.In) {
		panic(fmt.Sprintf("awd: State.AddSamples: spectra of %d samples of a %dx%d layer for %d samples of %dx%d", ss.N, ss.M, ss.In, ps.N, s.M, s.In))
	}
	kr := &kronRows{all: s.all, ss: ss}
	dt, pairs, zero := addPairs(ps, w, da, pairTargets{pair: s.pair, pair2: s.pair2, code: code, pos: pos, chunk: s.Opt.Chunk, buf: s.buf, kr: kr})
	s.SumDTheta2 += dt
	s.PairCount += pairs
	s.ZeroA += zero
	for _, v := range kr.locs {
		s.LocMax = math.Max(s.LocMax, v)
	}
	addGradSum(s.SumG, 1, ps.Delta, ps.A, s.M, s.In, 0, ps.N)
	s.Count += ps.N
}

// kronRows asks addPairs to put the C, H and M2 blocks (kronRow) before
// the pair block of each row and run the GEMM into all; locs receives each
// worker's largest lambda_1(H_n), from ss when it is not nil.
type kronRows struct {
	all  *kron
	ss   *SampleSpectra
	locs []float64
}

// addGradSum adds alpha sum_{s in [s0,s1)} vec(delta_s a_s^T) to g.
func addGradSum(g []float64, alpha float64, delta, a []float64, m, n, s0, s1 int) {
	add := func(p0, p1 int) {
		for smp := s0; smp < s1; smp++ {
			ar := a[smp*n : (smp+1)*n]
			for p, dp := range delta[smp*m+p0 : smp*m+p1] {
				if dp == 0 {
					continue
				}
				kernels.Daxpy(alpha*dp, ar, g[(p0+p)*n:(p0+p+1)*n])
			}
		}
	}
	if (s1-s0)*m*n < gradSumParallelMin {
		add(0, m)
		return
	}
	// Rows of g over the threads: each row still sums the samples in order,
	// so the result does not depend on the split.
	parallelRows(m, func(_, p0, p1 int) { add(p0, p1) })
}

// gradSumParallelMin is the work (samples x d) from which addGradSum splits
// g's rows over threads: a chunk's sum (2000 x 2500) took 3-5 ms serially,
// while the other thread waited.
const gradSumParallelMin = 1 << 20

// AddPairs accumulates the matched-pair quantities of the samples of ps:
// w is the layer's weight (M x In) and row n of da (N x In) is
// da_n = a_{n'} - a_n for the partner n' of sample n (see MatchPairs). With
// v_n = W da_n the minimal-norm perturbation is dW_n = v_n a_n^T / ||a_n||^2,
// so ||dtheta_n||^2 = ||v_n||^2 / ||a_n||^2 and H_n dtheta_n =
// vec(u_n a_n^T) with u_n = Gamma_n v_n: C_pair is the Kronecker sum with
// P_n = u_n u_n^T, and C_pair2 the SYRK of the rows vec(u_n a_n^T +
// delta_n da_n^T). A sample whose da row starts with NaN has no partner
// (PartnerDiff writes such rows) and is skipped. Samples with a_n = 0 have no
// dW_n; they are counted in ZeroA and skipped. Cost N d^2 / 2 flops (plus N d^2 with Pair2).
func (s *State) AddPairs(ps *nn.PerSample, w linalg.Dense, da linalg.Dense) {
	s.AddPairsCode(ps, w, da, nil, nil)
}

// AddPairsCode is AddPairs that also adds the terms of the paper code's
// C_pair2 to code (when not nil), pos[i] being the position of sample i in
// the analysis.
func (s *State) AddPairsCode(ps *nn.PerSample, w linalg.Dense, da linalg.Dense, code *CodePair2Acc, pos []int) {
	s.check(ps, "AddPairs")
	dt, pairs, zero := addPairs(ps, w, da, pairTargets{pair: s.pair, pair2: s.pair2, code: code, pos: pos, chunk: s.Opt.Chunk, buf: s.buf})
	s.SumDTheta2 += dt
	s.PairCount += pairs
	s.ZeroA += zero
}

// pairTargets are the sums addPairs adds to: C_pair's packed Kronecker sum,
// C_pair2's SYRK (when pair2 has data), and the code's C_pair2 (when code is
// not nil, with the samples' positions pos).
type pairTargets struct {
	pair  *kron
	pair2 linalg.Dense
	code  *CodePair2Acc
	pos   []int
	chunk int
	buf   func(i, r, c int) linalg.Dense
	kr    *kronRows // not nil: the C, H, M2 blocks too, in the same GEMM
}

// addPairs is the work of AddPairs for any pair rule: it adds the pair terms
// of the samples of ps to t and returns sum ||dtheta_n||^2, the number of
// pairs (samples with a partner and a_n != 0) and of samples with a_n = 0.
func addPairs(ps *nn.PerSample, w linalg.Dense, da linalg.Dense, t pairTargets) (sumDT float64, pairs, zeroA int) {
	m, n, l := ps.M, ps.In, ps.L
	if w.Rows != m || w.Cols != n || da.Rows != ps.N || da.Cols != n || t.code != nil && len(t.pos) != ps.N {
		panic(fmt.Sprintf("awd: AddPairs: W %dx%d, da %dx%d, %d positions for %d samples of a %dx%d layer", w.Rows, w.Cols, da.Rows, da.Cols, len(t.pos), ps.N, m, n))
	}
	tm, tn, d := triLen(m), triLen(n), m*n
	withPair2 := t.pair2.Data != nil
	chunk := t.chunk
	width, acc := tm, t.pair
	if t.kr != nil {
		width, acc = (nBlocks+1)*tm, t.kr.all
	}
	x := t.buf(0, min(chunk, ps.N), width)
	y := t.buf(1, min(chunk, ps.N), tn)
	var g2 linalg.Dense
	if withPair2 {
		g2 = t.buf(2, min(chunk, ps.N), d)
	}
	var us linalg.Dense // u_n of the chunk for the code's C_pair2 (added serially)
	if t.code != nil {
		us = linalg.NewDense(min(chunk, ps.N), m)
	}
	nw := runtime.GOMAXPROCS(0)
	type scratch struct {
		v, jv, u []float64
		zero     int
		skip     int
		gw       *gammaWork
		loc      float64
	}
	// ||dtheta_n||^2 per row, summed in sample order after each chunk so
	// that the total does not depend on how the rows were shared out.
	dt2 := make([]float64, min(chunk, ps.N))
	ok := make([]bool, min(chunk, ps.N))
	sc := make([]scratch, nw)
	for i := range sc {
		sc[i] = scratch{v: make([]float64, m), jv: make([]float64, 2*l), u: make([]float64, m), loc: math.Inf(-1)}
		if t.kr != nil {
			sc[i].gw = newGammaWork(m, l)
		}
	}
	for s0 := 0; s0 < ps.N; s0 += chunk {
		c := min(chunk, ps.N-s0)
		xv, yv := x.View(0, 0, c, x.Cols), y.View(0, 0, c, y.Cols)
		parallelRows(c, func(wk, r0, r1 int) {
			t2 := &sc[wk]
			for r := r0; r < r1; r++ {
				smp := s0 + r
				a := ps.A[smp*n : (smp+1)*n]
				dar := da.Row(smp)
				na2 := kernels.Ddot(a, a)
				dt2[r], ok[r] = 0, false
				xr := xv.Row(r)
				if t.kr != nil {
					l1 := kronRow(xr, t2.gw, ps, smp, t.kr.ss == nil)
					if ss := t.kr.ss; ss != nil {
						l1 = ss.Lambda1(ss.N - ps.N + smp)
					}
					t2.loc = math.Max(t2.loc, l1)
					packOuter(yv.Row(r), 1, a)
				}
				xp := xr[width-tm:] // the pair block
				if nopart := math.IsNaN(dar[0]); nopart || na2 == 0 {
					if nopart {
						t2.skip++
					} else {
						t2.zero++
					}
					clear(xp)
					if t.kr == nil {
						clear(yv.Row(r))
					}
					if withPair2 {
						clear(g2.Row(r))
					}
					continue
				}
				ok[r] = true
				for p := 0; p < m; p++ {
					t2.v[p] = kernels.Ddot(w.Row(p), dar)
				}
				dt2[r] = kernels.Ddot(t2.v, t2.v) / na2
				gammaVec(t2.u, ps, smp, t2.v, t2.jv)
				packOuter(xp, 1, t2.u)
				if t.kr == nil {
					packOuter(yv.Row(r), 1, a)
				}
				if t.code != nil {
					copy(us.Row(r), t2.u)
				}
				if withPair2 {
					gr := g2.Row(r)
					delta := ps.Delta[smp*m : (smp+1)*m]
					for p := 0; p < m; p++ {
						row := gr[p*n : (p+1)*n]
						up, dp := t2.u[p], delta[p]
						for i := range row {
							row[i] = up*a[i] + dp*dar[i]
						}
					}
				}
			}
		})
		for _, v := range dt2[:c] {
			sumDT += v
		}
		acc.add(xv, yv)
		if withPair2 {
			linalg.Syrk(linalg.Upper, true, 1, g2.View(0, 0, c, d), 1, t.pair2, false)
		}
		if t.code != nil {
			for r := 0; r < c; r++ {
				smp := s0 + r
				t.code.Count++
				if ok[r] {
					t.code.addVec(t.pos[smp], us.Row(r), ps.A[smp*n:(smp+1)*n], ps.Delta[smp*m:(smp+1)*m], da.Row(smp))
				}
			}
		}
	}
	pairs = ps.N
	// Skipped samples contributed zero rows; they are not pairs.
	for _, t2 := range sc {
		zeroA += t2.zero
		pairs -= t2.zero + t2.skip
		if t.kr != nil {
			t.kr.locs = append(t.kr.locs, t2.loc)
		}
	}
	return sumDT, pairs, zeroA
}

// gammaVec writes u = Gamma_s v = J^T (Lambda (J v)) into u; work has length
// >= 2L. Cost 2 L m + L^2.
func gammaVec(u []float64, ps *nn.PerSample, smp int, v, work []float64) {
	m, l := ps.M, ps.L
	j := ps.J[smp*l*m : (smp+1)*l*m]
	lam := ps.Lambda[smp*l*l : (smp+1)*l*l]
	jv, ljv := work[:l], work[l:2*l]
	for k := 0; k < l; k++ {
		jv[k] = kernels.Ddot(j[k*m:(k+1)*m], v)
	}
	for k := 0; k < l; k++ {
		ljv[k] = kernels.Ddot(lam[k*l:(k+1)*l], jv)
	}
	clear(u[:m])
	for k := 0; k < l; k++ {
		kernels.Daxpy(ljv[k], j[k*m:(k+1)*m], u)
	}
}

// AddMinibatches accumulates the mini-batch gradients
// g_b = (1/|b|) sum_{n in b} g_n for the batches given as sample indices
// into ps, for C_mb. Cost nb d^2 flops (one SYRK) plus N d.
func (s *State) AddMinibatches(ps *nn.PerSample, batches [][]int) {
	s.check(ps, "AddMinibatches")
	m, n := s.M, s.In
	if len(batches) == 0 {
		return
	}
	gb := linalg.NewDense(len(batches), m*n)
	for b, idx := range batches {
		if len(idx) == 0 {
			panic(fmt.Sprintf("awd: State.AddMinibatches: batch %d is empty", b))
		}
		row := gb.Row(b)
		for _, smp := range idx {
			if smp < 0 || smp >= ps.N {
				panic(fmt.Sprintf("awd: State.AddMinibatches: batch %d holds sample %d of %d", b, smp, ps.N))
			}
			addGradSum(row, 1/float64(len(idx)), ps.Delta, ps.A, m, n, smp, smp+1)
		}
	}
	s.AddMinibatchGradients(gb)
}

// AddMinibatchGradients accumulates the mini-batch gradients given as the rows
// of g (nb x d) for C_mb. Cost nb d^2 flops.
func (s *State) AddMinibatchGradients(g linalg.Dense) {
	d := s.D()
	if g.Cols != d {
		panic(fmt.Sprintf("awd: State.AddMinibatchGradients: gradients %dx%d, d=%d", g.Rows, g.Cols, d))
	}
	if g.Rows == 0 {
		return
	}
	if s.mb.Data == nil {
		s.mb = linalg.NewDense(d, d)
	}
	linalg.Syrk(linalg.Upper, true, 1, g, 1, s.mb, false)
	for b := 0; b < g.Rows; b++ {
		kernels.Daxpy(1, g.Row(b), s.SumGB)
	}
	s.Batches += g.Rows
}

// Merge adds the sums of o into s, so that accumulating shards apart and
// merging equals one pass over all samples (up to the order of additions).
// The states must be for the same layer shape and options.
func (s *State) Merge(o *State) error {
	if s.M != o.M || s.In != o.In {
		return fmt.Errorf("awd: merge: state of a %dx%d layer into one of %dx%d", o.M, o.In, s.M, s.In)
	}
	if s.Opt.Pair2 != o.Opt.Pair2 {
		return fmt.Errorf("awd: merge: pair2=%v into pair2=%v", o.Opt.Pair2, s.Opt.Pair2)
	}
	kernels.Daxpy(1, o.kron.g.Data, s.kron.g.Data)
	kernels.Daxpy(1, o.pair.g.Data, s.pair.g.Data)
	if s.Opt.Pair2 {
		kernels.Daxpy(1, o.pair2.Data, s.pair2.Data)
	}
	if o.mb.Data != nil {
		if s.mb.Data == nil {
			s.mb = linalg.NewDense(s.D(), s.D())
		}
		kernels.Daxpy(1, o.mb.Data, s.mb.Data)
	}
	kernels.Daxpy(1, o.SumG, s.SumG)
	kernels.Daxpy(1, o.SumGB, s.SumGB)
	s.SumDTheta2 += o.SumDTheta2
	s.LocMax = math.Max(s.LocMax, o.LocMax)
	s.Count += o.Count
	s.PairCount += o.PairCount
	s.ZeroA += o.ZeroA
	s.Batches += o.Batches
	return nil
}

// Matrices are the d x d matrices of docs/math.md section 4, full symmetric (both
// triangles). A matrix whose samples were never added is the zero-size Dense
// (Data == nil): CPair without AddPairs, CPair2 without StateOptions.Pair2,
// CMB without mini-batches. CAWD is a multiple of M2 and is only built on
// request (FillCAWD), to spare d^2 memory.
type Matrices struct {
	C      linalg.Dense // (1/B)(1/N) sum g g^T  (centered: (1/B)((1/N) sum g g^T - gbar gbar^T))
	CMB    linalg.Dense // (1/nb) sum g_b g_b^T  (centered: minus mean_b g_b mean_b g_b^T)
	H      linalg.Dense // (1/N) sum H_n
	M2     linalg.Dense // (1/N) sum H_n^2
	CAWD   linalg.Dense // (Sigma2 / B) M2: left empty by Finish (its c_i are (Sigma2/B) s_i); FillCAWD builds it
	CPair  linalg.Dense // (1/B)(1/Np) sum (H_n dtheta_n)(H_n dtheta_n)^T
	CPair2 linalg.Dense // (1/B)(1/Np) sum (H_n dtheta_n + vec(delta_n da_n^T))(same)^T

	Sigma2 float64 // (1/Np) sum ||dtheta_n||^2 / d
	LocMax float64 // max_n lambda_1(H_n)
	N      int     // samples in C, H, M2
	NPairs int     // samples in the pair quantities
	NBatch int     // mini-batches in CMB
	B      int     // the batch size used for the 1/B factors
}

// Finish turns the sums into the matrices for SGD batch size batch; centered
// subtracts the mean gradient's outer product from C and C_mb (as the
// paper's code). It needs at least one sample in Add. Memory: one d x d
// matrix per result. Cost O(d^2) per matrix.
func (s *State) Finish(batch int, centered bool) (*Matrices, error) {
	return s.finish(batch, centered, false, nil)
}

// finishConsume is Finish for a State used no more: C_pair2 and C_mb take
// over the State's d x d sums instead of copies (two fewer fresh d x d
// matrices to allocate and fault in), which leaves the State unusable.
//
// afterH, when not nil, is called with H as soon as H is unpacked, before
// the other matrices are; its error stops the finish. Finalize runs the
// eigensolve there: the solver's scratch buffers, back in the warm cache
// when it returns, then hold C and M2 instead of fresh memory (a fresh
// page costs more to fault in on first touch than the unpacking that
// writes it).
func (s *State) finishConsume(batch int, centered bool, afterH func(h linalg.Dense) error) (*Matrices, error) {
	return s.finish(batch, centered, true, afterH)
}

// newSquare returns a d x d matrix with arbitrary contents, borrowed from
// the solvers' warm cache: for results whose every entry is written.
func newSquare(d int) linalg.Dense { return linalg.DenseOf(d, d, linalg.Scratch(d*d)) }

func (s *State) finish(batch int, centered, consume bool, afterH func(h linalg.Dense) error) (*Matrices, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("awd: finish: batch size %d", batch)
	}
	if s.Count == 0 {
		return nil, fmt.Errorf("awd: finish: no samples accumulated")
	}
	d := s.D()
	fb, fn := float64(batch), float64(s.Count)
	r := &Matrices{LocMax: s.LocMax, N: s.Count, NPairs: s.PairCount, NBatch: s.Batches, B: batch}
	// Every entry of C, H and M2 is written (kron.set), so they may start
	// as arbitrary memory.
	r.H = newSquare(d)
	s.kron.set(r.H, blockH, 1/fn)
	if consume {
		// The chunk buffers are mapped already: the eigensolver and the
		// matrices below borrow them instead of faulting in fresh memory.
		for i, b := range s.scratch {
			linalg.Recycle(b)
			s.scratch[i] = nil
		}
	}
	if afterH != nil {
		if err := afterH(r.H); err != nil {
			return nil, err
		}
	}
	r.C = newSquare(d)
	s.kron.set(r.C, blockC, 1/(fb*fn))
	if centered {
		syr(r.C, -1/fb/(fn*fn), s.SumG)
	}
	r.M2 = newSquare(d)
	s.kron.set(r.M2, blockM2, 1/fn)
	if s.PairCount > 0 {
		fp := float64(s.PairCount)
		r.Sigma2 = s.SumDTheta2 / fp / float64(d)
		if consume && s.all != nil {
			// C_pair goes where the four packed sums were (4 T(m) T(n) >=
			// d^2 numbers, all read by now but C_pair's own, which is
			// copied out first): one fresh d x d matrix fewer to fault in.
			pk := linalg.DenseOf(s.pair.g.Rows, s.pair.g.Cols, linalg.Scratch(s.pair.g.Rows*s.pair.g.Cols))
			pk.Copy(s.pair.g)
			r.CPair = linalg.DenseOf(d, d, s.all.g.Data[:d*d])
			unpackKron(r.CPair, 1/(fb*fp), pk, s.M, s.In, true)
			linalg.Recycle(pk.Data)
		} else {
			r.CPair = newSquare(d)
			s.pair.set(r.CPair, 0, 1/(fb*fp))
		}
		if s.Opt.Pair2 {
			r.CPair2 = s.pair2
			if !consume {
				r.CPair2 = s.pair2.Clone()
			}
			linalg.Mirror(linalg.Upper, r.CPair2)
			scale(r.CPair2, 1/(fb*fp))
		}
	}
	if s.Batches > 0 {
		nb := float64(s.Batches)
		r.CMB = s.mb
		if !consume {
			r.CMB = s.mb.Clone()
		}
		linalg.Mirror(linalg.Upper, r.CMB)
		scale(r.CMB, 1/nb)
		if centered {
			syr(r.CMB, -1/(nb*nb), s.SumGB)
		}
	}
	if consume {
		s.pair2, s.mb = linalg.Dense{}, linalg.Dense{}
		s.kron, s.pair, s.all = nil, nil, nil
	}
	return r, nil
}

// FillCAWD sets CAWD = (Sigma2 / B) M2 (a new d x d matrix) and returns it;
// it is empty when no pairs were accumulated.
func (r *Matrices) FillCAWD() linalg.Dense {
	if r.NPairs == 0 || r.M2.Data == nil {
		r.CAWD = linalg.Dense{}
		return r.CAWD
	}
	r.CAWD = r.M2.Clone()
	scale(r.CAWD, r.Sigma2/float64(r.B))
	return r.CAWD
}

// syr adds alpha x x^T to a.
func syr(a linalg.Dense, alpha float64, x []float64) {
	for i, xi := range x {
		if xi != 0 {
			kernels.Daxpy(alpha*xi, x, a.Row(i))
		}
	}
}

func scale(a linalg.Dense, alpha float64) {
	for i := 0; i < a.Rows; i++ {
		row := a.Row(i)
		for j := range row {
			row[j] *= alpha
		}
	}
}
