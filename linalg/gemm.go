package linalg

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/awd-toolkit/awd/kernels"
)

// Uplo selects a triangle of a symmetric matrix.
type Uplo byte

const (
	Upper Uplo = 'U'
	Lower Uplo = 'L'
)

// Gemm computes C = alpha op(A) op(B) + beta C with op(X) = X or X^T as tA,
// tB say, with BLAS semantics: beta = 0 overwrites C (NaN in C does not
// propagate), alpha = 0 or k = 0 only scales C by beta and never reads A or
// B. op(A) is m x k, op(B) k x n, C m x n; any of them may be a strided view.
// Cost 2*m*n*k flops.
//
// It is built the Goto/BLIS way: five loops around kernels.DgemmMicro,
//
//	for jc over n in steps of nc        (B block kc x nc lives in L3)
//	  for pc over k in steps of kc      pack op(B)[pc:pc+kc, jc:jc+nc]
//	    for ic over m in steps of mc    pack alpha*op(A)[ic:ic+mc, pc:pc+kc] (lives in L2)
//	      for jr over nc in steps of nr (B micro-panel lives in L1)
//	        for ir over mc in steps of mr
//	          C[ic+ir:+mr, jc+jr:+nr] += Apanel * Bpanel   (micro-kernel)
//
// with block sizes from the cache sizes (see blockSizes) and beta applied to
// each C tile just before its first update, while it is in cache (beta = 0:
// the first k block's micro-kernel stores instead of adding). Large
// problems are split over Threads() goroutines: tall ones the BLIS way (the
// workers pack each B block together and claim chunks of the ic loop), the
// others into one independent block of columns per goroutine. The result
// does not depend on the thread count (every element sums its k products in
// the same order).
func Gemm(tA, tB bool, alpha float64, a, b Dense, beta float64, c Dense) {
	a.check("Gemm", "A")
	b.check("Gemm", "B")
	c.check("Gemm", "C")
	m, k := a.Rows, a.Cols
	if tA {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if tB {
		kb, n = n, kb
	}
	if k != kb || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("linalg: Gemm: shape mismatch: op(A) %dx%d, op(B) %dx%d, C %dx%d", m, k, kb, n, c.Rows, c.Cols))
	}
	mr, nr := kernels.DgemmShape()
	g := gemmJob[float64]{
		a: operand[float64]{a.Data, a.Stride, tA}, b: operand[float64]{b.Data, b.Stride, tB},
		c: c.Data, ldc: c.Stride, m: m, n: n, k: k, alpha: alpha, beta: beta,
		mr: mr, nr: nr, micro: kernels.DgemmMicro, store: kernels.DgemmMicroStore,
	}
	g.do()
}

// Threads is the number of goroutines Gemm, Gemm32, Syrk and the
// eigensolvers use for large problems: the value set by SetThreads, or
// GOMAXPROCS when unset.
func Threads() int {
	if t := int(threads.Load()); t > 0 {
		return t
	}
	return runtime.GOMAXPROCS(0)
}

// SetThreads sets the goroutine count of Gemm, Gemm32, Syrk and the
// eigensolvers (n <= 0 means GOMAXPROCS) and returns the previous setting.
// For benchmarks and start-up; calls already running keep their count.
func SetThreads(n int) (prev int) {
	return int(threads.Swap(int64(max(n, 0))))
}

var threads atomic.Int64

// parallelMin is the size (m*n*k) below which a product runs on the
// calling goroutine: about 50 us of single-core work. Waking a second
// worker costs several microseconds on an idle machine and can cost the
// whole product when that worker's core is busy, so training's 50x784x50
// products (1.96e6) stay on one goroutine; measured on the shared 2-vCPU
// machine, two workers made them 2.4x slower.
const parallelMin = 128 * 128 * 128

// Block sizes, after BLIS's analytical model (Low et al., "Analytical
// modeling is enough for high-performance BLIS", 2016) but fitted to what
// was measured on this project's machine (AMD Zen 5, 48 KiB L1d, 1 MiB L2):
// there the micro-kernel keeps its rate with the kc x nr micro-panel of B
// streaming from L2, while every extra k block costs a pass over C, so kc
// is large: the B micro-panel fills 4/3 of L1 (kc = 512 for the 14x16
// AVX-512 kernel, 5-8% faster at n = 1024 than the L1-resident kc = 256),
// capped at maxKC. The mc x kc block of A takes a quarter of L2 (smaller
// mc with larger kc measured best), the kc x nc block of B half of L3.
const (
	defaultL1 = 32 << 10
	defaultL2 = 512 << 10
	defaultL3 = 8 << 20
	maxKC     = 512
	maxNC     = 4096
)

// blockSizes returns kc, mc and nc for a micro-kernel of shape mr x nr on
// elements of elem bytes, from kernels.CacheSizes (with defaults for caches
// cpuid does not report), or the sizes SetBlockSizes gave.
func blockSizes(mr, nr, elem int) (kc, mc, nc int) {
	l1, l2, l3 := kernels.CacheSizes()
	kc, mc, nc = blockSizesFor(l1, l2, l3, mr, nr, elem)
	if o := blockOverride.Load(); o != nil {
		kc, mc, nc = o[0], o[1], o[2]
		mc, nc = max(mc/mr, 1)*mr, max(nc/nr, 1)*nr
	}
	return kc, mc, nc
}

// blockSizesFor is blockSizes for caches of l1, l2 and l3 bytes (0 or less:
// not reported, the defaults).
//
// A small L2 (256 KiB: Haswell and Broadwell Xeons, Intel client cores)
// gives the quarter-L2 A block only two micro-panels at kc = 512 (mc = 12
// for 6 x 8), so every B micro-panel brought into L1 would serve two tiles
// before the next one streams in. Below minMCPanels panels kc is halved
// (down to 128) and the A block may take half of L2: at 256 KiB that is
// kc = 256, mc = 60, near BLIS's Haswell choice (kc 256, mc 72). Not
// measured here (this machine's L2 is 1 MiB, where nothing changes).
func blockSizesFor(l1, l2, l3, mr, nr, elem int) (kc, mc, nc int) {
	if l1 <= 0 {
		l1 = defaultL1
	}
	if l2 <= 0 {
		l2 = defaultL2
	}
	if l3 <= 0 {
		l3 = defaultL3
	}
	kc = min(max(l1*4/3/(nr*elem)/8*8, 64), maxKC)
	mc = l2 / 4 / (kc * elem) / mr * mr
	for mc < minMCPanels*mr && kc > 128 {
		kc /= 2
		mc = l2 / 2 / (kc * elem) / mr * mr
	}
	mc = max(mc, mr)
	nc = min(max(l3/2/(kc*elem)/nr*nr, nr), maxNC/nr*nr)
	return kc, mc, nc
}

// minMCPanels is the fewest micro-panels of A an mc block should hold (the
// AVX-512 14 x 16 kernel on this machine's 1 MiB L2 has 4).
const minMCPanels = 4

// SetBlockSizes replaces the cache-derived block sizes kc, mc and nc of
// Gemm, Gemm32 and Syrk (mc and nc are rounded down to multiples of the
// micro-kernel's mr and nr); all zero restores them. It is for tuning
// experiments on a new machine, not for concurrent use with running products.
func SetBlockSizes(kc, mc, nc int) {
	if kc <= 0 || mc <= 0 || nc <= 0 {
		blockOverride.Store(nil)
		return
	}
	blockOverride.Store(&[3]int{kc, mc, nc})
}

var blockOverride atomic.Pointer[[3]int]

// gemmJob is one C = alpha op(A) op(B) + beta C, or its uplo triangle when
// uplo is set (Syrk); diag, when set, is the micro-kernel for full tiles
// across the diagonal, which updates only their part of the uplo triangle.
type gemmJob[T float] struct {
	a, b        operand[T]
	c           []T
	ldc         int
	m, n, k     int
	alpha, beta T
	mr, nr      int
	micro       func(kc int, a, b, c []T, ldc int)
	store       func(kc int, a, b, c []T, ldc int) // micro's c = a*b variant
	uplo        Uplo                               // 0 for a full product
	diag        func(kc int, a, b, c []T, ldc int, off int)
}

// do runs the job, split over goroutines when it is large enough.
func (g *gemmJob[T]) do() {
	if g.m == 0 || g.n == 0 {
		return
	}
	if g.alpha == 0 || g.k == 0 {
		g.scaleC()
		return
	}
	var zero T
	kc, mc, nc := blockSizes(g.mr, g.nr, int(unsafe.Sizeof(zero)))
	// Balance the k blocks so the last one is not a sliver.
	kc = ceilDiv(g.k, ceilDiv(g.k, kc))

	workers := 1
	if size := g.m * g.n * g.k; size >= parallelMin {
		// At most one worker per parallelMin of work: on a many-core node a
		// 256^3 product gets 8 workers, not 128 that each wake for 1/16 of
		// the time a wake-up is worth. (Unchanged on 2 cores: from
		// parallelMin up a product has two workers.)
		workers = min(Threads(), ceilDiv(size, parallelMin))
	}
	useShared := g.uplo == 0 && g.m > g.n
	if workers > 2 && g.n < workers*minBlockCols {
		// Many workers: independent column blocks would each pack all of
		// op(A) again (see minBlockCols), so they share the B blocks.
		useShared = true
	}
	if splitOverride != 0 {
		useShared = splitOverride > 0
	}
	if workers > 1 && useShared && g.m*g.n*g.k >= sharedMin {
		// BLIS's split of the ic loop: the workers pack one B block
		// together and each its own rows of A. Every operand is read
		// once, and the shared B block is read from the shared L3.
		// Measured on the project's 2-vCPU machine, it only pays for a
		// tall C (1.5% at 2000 x 64 x 2000): for square products and
		// SYRK the independent blocks below are 5-10% faster (n = 1024,
		// 2048, SYRK 2000 x 2500), and 35% at 3000 x 3000 x 32, though
		// they pack A (or B) twice; with another process competing for
		// the CPUs both splits measured the same.
		if workers = min(workers, ceilDiv(g.m, g.mr)); workers > 1 {
			g.shared(workers, kc, mc, nc)
			return
		}
	}
	// Otherwise split C into one block of columns per worker (of rows for
	// a tall C): each worker packs its own B and a copy of A (or its own A
	// and a copy of B), with no synchronisation.
	byRows := g.uplo == 0 && g.m > g.n
	align, dim := g.nr, g.n
	if byRows {
		align, dim = g.mr, g.m
	}
	workers = max(min(workers, ceilDiv(dim, align)), 1)
	if workers == 1 {
		g.run(0, g.m, 0, g.n, kc, mc, nc, nil)
		return
	}
	g.parallel(workers, byRows, dim, align, kc, mc, nc)
}

// minBlockCols is the narrowest block of columns a worker of the
// independent split takes. Each worker packs the whole m x k op(A) for a
// product of m k w multiply-adds on its w columns: packing costs about as
// much per element as cpack ~ 32-64 FMAs of the micro-kernel (a load and a
// store against a streamed FMA, measured on the packers in kernels), so
// the repeated packing adds cpack/w of the work: 1/8 to 1/4 at w = 256,
// more than the shared split's own loss (about 10% on 2 workers, not
// understood). Two workers keep the independent split at every size: it
// measured 5-10% faster for n = 1024 and 2048, SYRK 2000 x 2500 and
// 3000 x 3000 x 32; from 3 workers a product narrower than 256 columns per
// worker shares its B blocks (with 16 and more, every n <= 4096).
const minBlockCols = 256

// sharedMin is the size (m*n*k) from which the shared-B split is used: its
// two barriers per k block cost a few microseconds each (much more when a
// worker is descheduled on a busy machine), so smaller products such as
// training's 50x784x50 split into independent column blocks instead.
const sharedMin = 256 * 256 * 256

// splitOverride, when not 0, forces the shared-B split (> 0) or the
// independent blocks (< 0) for every large job, triangles included, so that
// tests and tuning runs can compare the two.
var splitOverride int

// shared runs the job on workers goroutines that share each packed B block
// and split the rows of C: for every (jc, pc) block the workers pack B's
// micro-panels, all meet at a barrier, then they multiply the rows of C
// and go on to pack the next block's B into a second buffer. Both the B
// micro-panels and the rows are handed out dynamically (claimed from atomic counters, in chunks
// that shrink towards the end of the block), so a worker that the OS
// deschedules on a busy machine delays its partners by at most one chunk
// instead of holding half of every block.
func (g gemmJob[T]) shared(workers, kc, mc, nc int) {
	nc = ceilDiv(min(nc, g.n), g.nr) * g.nr
	// Two B buffers, alternating between blocks: a worker that finishes its
	// last rows of one block packs the next block's B into the other buffer
	// while its partner still multiplies, so the workers meet once per
	// block (before the multiply), not twice. The buffer it overwrites
	// belongs to the block before, which every worker finished before
	// passing the current block's barrier.
	buf, h := getBuf[T](2 * nc * kc)
	defer putBuf(h)
	pb := [2][]T{buf[:nc*kc], buf[nc*kc:]}
	bar := newBarrier(workers)
	// The (jc, pc) blocks that hold part of the job (a triangle skips some),
	// each with its own counters, so none is ever reset.
	var blocks []sharedBlock
	for jc := 0; jc < g.n; jc += nc {
		ncE := min(nc, g.n-jc)
		r0, r1 := 0, g.m
		switch g.uplo {
		case Lower:
			r0 = jc
		case Upper:
			r1 = min(r1, jc+ncE)
		}
		if r0 >= r1 {
			continue
		}
		for pc := 0; pc < g.k; pc += kc {
			blocks = append(blocks, sharedBlock{jc: jc, nc: ncE, pc: pc, kc: min(kc, g.k-pc), r0: r0, r1: r1})
		}
	}
	// The partners join at a last barrier (spinning) instead of a
	// WaitGroup, whose waiter blocks and takes a wake-up to return.
	for t := 1; t < workers; t++ {
		go func() {
			g.sharedWorker(workers, pb, bar, blocks, mc)
			bar.wait()
		}()
	}
	g.sharedWorker(workers, pb, bar, blocks, mc)
	bar.wait()
}

// sharedBlock is one (jc, pc) block of the shared split: columns [jc,
// jc+nc) of C and op(B), rows [pc, pc+kc) of op(B), and the rows [r0, r1)
// of C that it updates; panel and row are the next unclaimed B micro-panel
// and row of C (relative to the block's first).
type sharedBlock struct {
	jc, nc, pc, kc, r0, r1 int
	panel, row             atomic.Int64
	_                      [48]byte // keep each block's counters off its neighbours' cache lines
}

// panelChunk is how many B micro-panels a worker packs per claim.
const panelChunk = 4

func (g *gemmJob[T]) sharedWorker(workers int, pbs [2][]T, bar *barrier, blocks []sharedBlock, mc int) {
	mr, nr := g.mr, g.nr
	mc = ceilDiv(min(mc, g.m), mr) * mr
	var kc int
	for i := range blocks {
		kc = max(kc, blocks[i].kc)
	}
	buf, h := getBuf[T](mc*kc + mr*nr)
	defer putBuf(h)
	pa, tile := buf[:mc*kc], buf[mc*kc:]
	for u := range blocks {
		bl, pb := &blocks[u], pbs[u%2]
		panels := ceilDiv(bl.nc, nr)
		for {
			p0 := int(bl.panel.Add(panelChunk)) - panelChunk
			if p0 >= panels {
				break
			}
			p1 := min(p0+panelChunk, panels)
			packB(pb[p0*nr*bl.kc:], g.b, bl.pc, bl.kc, bl.jc+p0*nr, min(p1*nr, bl.nc)-p0*nr, nr)
		}
		bar.wait()
		rows := bl.r1 - bl.r0
		for {
			i0, i1, ok := claimRows(&bl.row, rows, mr, mc, workers)
			if !ok {
				break
			}
			for ic := bl.r0 + i0; ic < bl.r0+i1; ic += mc {
				mcE := min(mc, bl.r0+i1-ic)
				packA(pa, g.a, ic, mcE, bl.pc, bl.kc, mr, g.alpha)
				g.macro(pa, pb, tile, ic, mcE, bl.jc, bl.nc, bl.kc, bl.pc == 0)
			}
		}
	}
}

// claimRows claims the next chunk [i0, i1) of rows rows from next: about a
// quarter of each worker's share of what is left, a multiple of mr between
// mr and mc rows (guided scheduling), so that claims are few while the
// block is young and small at its end, where they balance the workers.
func claimRows(next *atomic.Int64, rows, mr, mc, workers int) (i0, i1 int, ok bool) {
	for {
		cur := int(next.Load())
		if cur >= rows {
			return 0, 0, false
		}
		size := ceilDiv(ceilDiv(rows-cur, 4*workers), mr) * mr
		size = min(max(size, mr), mc)
		end := min(cur+size, rows)
		if next.CompareAndSwap(int64(cur), int64(end)) {
			return cur, end, true
		}
	}
}

// barrier makes a fixed number of goroutines wait for each other,
// repeatedly. A waiter spins (yielding to other goroutines) for up to
// barrierSpin before it blocks: the shared split's workers reach each
// barrier within microseconds of each other, and a blocked one takes 50-100
// us to wake on this project's virtual machines, a percent of a 1024^3
// product per barrier.
type barrier struct {
	n    int64
	left atomic.Int64
	gen  atomic.Uint64
	mu   sync.Mutex
	cond sync.Cond
}

// barrierSpin bounds the spinning of a barrier's waiters: long enough to
// cover the skew between workers that share the processors, short enough
// that a descheduled partner does not keep a processor busy for nothing.
const barrierSpin = 200 * time.Microsecond

func newBarrier(n int) *barrier {
	b := &barrier{n: int64(n)}
	b.left.Store(b.n)
	b.cond.L = &b.mu
	return b
}

func (b *barrier) wait() { b.waitSpin(barrierSpin) }

// waitSpin is wait with spin in place of barrierSpin (0: block at once).
func (b *barrier) waitSpin(spin time.Duration) {
	// The generation is read before arriving, so it cannot have moved on
	// without this waiter.
	gen := b.gen.Load()
	if b.left.Add(-1) == 0 {
		// Last to arrive: rearm, then release the others. A released
		// waiter may reach the next barrier at once, so left is reset
		// before the generation changes.
		b.left.Store(b.n)
		b.mu.Lock()
		b.gen.Add(1)
		b.cond.Broadcast()
		b.mu.Unlock()
		return
	}
	for t0 := time.Now(); time.Since(t0) < spin; {
		if b.gen.Load() != gen {
			return
		}
		runtime.Gosched()
	}
	b.mu.Lock()
	for b.gen.Load() == gen {
		b.cond.Wait()
	}
	b.mu.Unlock()
}

// parallel runs the job on workers goroutines, the calling one included. It
// takes the job by value so that only this path moves it to the heap.
func (g gemmJob[T]) parallel(workers int, byRows bool, dim, align, kc, mc, nc int) {
	cuts := make([]int, workers+1)
	for t := 1; t <= workers; t++ {
		cuts[t] = g.cut(t, workers, dim, align)
	}
	// Each worker publishes its last (jc, pc) block in tails[t]; a worker
	// done with its own part helps with the row blocks left in the others'
	// (see tail).
	tails := make([]atomic.Pointer[tail[T]], workers)
	var finished atomic.Int64
	var bar *barrier
	run := func(t int) {
		if lo, hi := cuts[t], cuts[t+1]; lo < hi {
			if byRows {
				g.run(lo, hi, 0, g.n, kc, mc, nc, &tails[t])
			} else {
				g.run(0, g.m, lo, hi, kc, mc, nc, &tails[t])
			}
		}
		finished.Add(1)
		if g.help(tails, t, &finished) {
			bar.wait()
		} else {
			bar.waitSpin(0) // it spun as long already
		}
	}
	// Joined at a spinning barrier, as the shared split's workers are: a
	// WaitGroup's waiter blocks and takes a wake-up to return (0.5-2.5%
	// of a 2-vCPU product from 1024^3 down to 3000 x 3000 x 32).
	bar = newBarrier(workers)
	for t := 1; t < workers; t++ {
		go run(t)
	}
	run(0)
}

// cut is the start of part t of workers over dim, a multiple of align. A full
// product splits evenly; a triangle splits its columns so that each part
// holds about the same number of entries: column j of a lower triangle has
// n-j of them, of an upper one j+1.
func (g *gemmJob[T]) cut(t, workers, dim, align int) int {
	if t == workers {
		return dim
	}
	f := float64(t) / float64(workers)
	var x float64
	switch g.uplo {
	case Lower:
		x = float64(dim) * (1 - math.Sqrt(1-f))
	case Upper:
		x = float64(dim) * math.Sqrt(f)
	default:
		x = float64(dim) * f
	}
	return min(int(x+float64(align)/2)/align*align, dim)
}

// tail is a worker's last (jc, pc) block in the independent split: its
// packed B block, and the row blocks of C below it, which the owner and any
// worker that finished its own part claim one at a time (next) and count
// when done. Two workers of equal parts do not finish together on the
// development VM: on 1024^3 products at AVX2 the part that started first,
// on the caller's thread, took 0.1-2.3 ms (up to 11%) longer than its
// partner's, whatever half it had and in whatever order it swept A, so
// the faster one used to wait at the barrier (bench/README.md). A row
// block computes the same entries the same way whoever runs it, and the
// owner leaves only when every claimed block is done (its B block stays
// valid until then).
type tail[T float] struct {
	pb                         []T
	jc, nc, pc, kc, r0, r1, mc int
	blocks                     int64
	next, done                 atomic.Int64
}

// tailHook, when set (tests), runs as a worker has published its tail;
// helpedBlocks counts the row blocks run by helpers.
var (
	tailHook     func()
	helpedBlocks atomic.Int64
)

// rowBlock computes row block b of the tail with the A buffer pa.
func (g *gemmJob[T]) rowBlock(t *tail[T], b int, pa, tile []T) {
	ic := t.r0 + b*t.mc
	mcE := min(t.mc, t.r1-ic)
	packA(pa, g.a, ic, mcE, t.pc, t.kc, g.mr, g.alpha)
	g.macro(pa, t.pb, tile, ic, mcE, t.jc, t.nc, t.kc, t.pc == 0)
}

// help runs row blocks of the other workers' tails until every worker has
// finished its own part and no tail has blocks left (true: the workers are
// about to meet), or until it has found nothing to do for barrierSpin
// (false: the others are far from their tails).
func (g *gemmJob[T]) help(tails []atomic.Pointer[tail[T]], self int, finished *atomic.Int64) bool {
	var buf []T
	var h *[]T
	defer func() {
		if h != nil {
			putBuf(h)
		}
	}()
	idle := time.Now()
	for {
		found := false
		for w := range tails {
			t := tails[w].Load()
			if w == self || t == nil {
				continue
			}
			for {
				b := t.next.Add(1) - 1
				if b >= t.blocks {
					break
				}
				if need := t.mc*t.kc + g.mr*g.nr; len(buf) < need {
					if h != nil {
						putBuf(h)
					}
					buf, h = getBuf[T](need)
				}
				g.rowBlock(t, int(b), buf[:t.mc*t.kc], buf[t.mc*t.kc:])
				t.done.Add(1)
				helpedBlocks.Add(1)
				found = true
			}
		}
		if finished.Load() == int64(len(tails)) {
			return true
		}
		if found {
			idle = time.Now()
		} else if time.Since(idle) > barrierSpin {
			return false
		}
		runtime.Gosched()
	}
}

// run computes the block rows [i0, i1) x columns [j0, j1) of C. With slot
// set (a worker of parallel), its last (jc, pc) block is published there
// for the other workers to help with (see tail).
func (g *gemmJob[T]) run(i0, i1, j0, j1, kc, mc, nc int, slot *atomic.Pointer[tail[T]]) {
	mr, nr := g.mr, g.nr
	mc = min(mc, i1-i0)
	mc = ceilDiv(mc, mr) * mr
	nc = min(nc, j1-j0)
	nc = ceilDiv(nc, nr) * nr
	buf, h := getBuf[T](mc*kc + nc*kc + mr*nr)
	defer putBuf(h)
	pa, pb, tile := buf[:mc*kc], buf[mc*kc:mc*kc+nc*kc], buf[mc*kc+nc*kc:]

	for jc := j0; jc < j1; jc += nc {
		ncE := min(nc, j1-jc)
		// The rows of this column block that hold part of the triangle.
		r0, r1 := i0, i1
		switch g.uplo {
		case Lower:
			r0 = max(r0, jc)
		case Upper:
			r1 = min(r1, jc+ncE)
		}
		if r0 >= r1 {
			continue
		}
		// Whether a later column block holds rows of the job (for a
		// lower triangle they start at the block's first column).
		later := jc+nc < j1 && (g.uplo != Lower || max(i0, jc+nc) < i1)
		for pc := 0; pc < g.k; pc += kc {
			kcE := min(kc, g.k-pc)
			packB(pb, g.b, pc, kcE, jc, ncE, nr)
			if slot != nil && !later && pc+kcE >= g.k {
				t := &tail[T]{pb: pb, jc: jc, nc: ncE, pc: pc, kc: kcE, r0: r0, r1: r1, mc: mc, blocks: int64(ceilDiv(r1-r0, mc))}
				slot.Store(t)
				if tailHook != nil {
					tailHook()
				}
				for b := t.next.Add(1) - 1; b < t.blocks; b = t.next.Add(1) - 1 {
					g.rowBlock(t, int(b), pa, tile)
					t.done.Add(1)
				}
				for t.done.Load() < t.blocks {
					runtime.Gosched()
				}
				return
			}
			for ic := r0; ic < r1; ic += mc {
				mcE := min(mc, r1-ic)
				packA(pa, g.a, ic, mcE, pc, kcE, mr, g.alpha)
				g.macro(pa, pb, tile, ic, mcE, jc, ncE, kcE, pc == 0)
			}
		}
	}
}

// macro is BLIS's macro-kernel: the jr and ir loops over the packed blocks.
// first says this is the first k block, so C's tiles are scaled by beta
// before they are updated.
func (g *gemmJob[T]) macro(pa, pb, tile []T, ic, mc, jc, nc, kc int, first bool) {
	mr, nr, ldc := g.mr, g.nr, g.ldc
	for jr := 0; jr < nc; jr += nr {
		w := min(nr, nc-jr)
		bp := pb[jr*kc : jr*kc+kc*nr]
		gj := jc + jr
		for ir := 0; ir < mc; ir += mr {
			h := min(mr, mc-ir)
			gi := ic + ir
			// Tiles of a triangle: skip those outside, mask those across
			// the diagonal. Entry (i, j) of the tile is in the lower
			// triangle when j <= i+off, in the upper one when j >= i+off.
			off, masked := gi-gj, false
			switch g.uplo {
			case Lower:
				if gj > gi+h-1 {
					continue
				}
				masked = gj+w-1 > gi
			case Upper:
				if gj+w-1 < gi {
					continue
				}
				masked = gj < gi+h-1
			}
			ap := pa[ir*kc : ir*kc+kc*mr]
			cc := g.c[gi*ldc+gj:]
			if first && g.beta == 0 && !masked && h == mr && w == nr {
				// Overwrite the tile in the micro-kernel: no pass that
				// clears C first, and its old contents are never read.
				g.store(kc, ap, bp, cc, ldc)
				continue
			}
			if first && g.beta != 1 {
				g.scaleTile(cc, h, w, off, masked)
			}
			switch {
			case !masked && h == mr && w == nr:
				g.micro(kc, ap, bp, cc, ldc)
			case masked && g.diag != nil && h == mr && w == nr:
				g.diag(kc, ap, bp, cc, ldc, off)
			default:
				clear(tile)
				g.micro(kc, ap, bp, tile, nr)
				g.addTile(cc, tile, h, w, off, masked)
			}
		}
	}
}

// inTri reports whether entry (i, j) of a tile whose corner is off below
// the diagonal belongs to the job's triangle.
func (g *gemmJob[T]) inTri(i, j, off int) bool {
	if g.uplo == Lower {
		return j <= i+off
	}
	return j >= i+off
}

// scaleTile multiplies the h x w tile at cc by beta (beta = 0 stores zeros,
// so NaN in C does not survive), only inside the triangle when masked.
func (g *gemmJob[T]) scaleTile(cc []T, h, w, off int, masked bool) {
	for i := 0; i < h; i++ {
		row := cc[i*g.ldc : i*g.ldc+w]
		if masked {
			// Keep the columns j of the triangle: j <= i+off (lower) or
			// j >= i+off (upper).
			if g.uplo == Lower {
				row = row[:min(max(i+off+1, 0), w)]
			} else {
				row = row[min(max(i+off, 0), w):]
			}
		}
		if g.beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= g.beta
		}
	}
}

// addTile adds the h x w corner of the mr x nr tile (stride nr) into cc.
func (g *gemmJob[T]) addTile(cc, tile []T, h, w, off int, masked bool) {
	for i := 0; i < h; i++ {
		row := cc[i*g.ldc : i*g.ldc+w]
		t := tile[i*g.nr : i*g.nr+w]
		for j := range row {
			if masked && !g.inTri(i, j, off) {
				continue
			}
			row[j] += t[j]
		}
	}
}

// scaleC computes C = beta C (its triangle for Syrk) when there is no product
// to add.
func (g *gemmJob[T]) scaleC() {
	if g.beta == 1 {
		return
	}
	for i := 0; i < g.m; i++ {
		j0, j1 := 0, g.n
		switch g.uplo {
		case Lower:
			j1 = i + 1
		case Upper:
			j0 = i
		}
		row := g.c[i*g.ldc+j0 : i*g.ldc+j1]
		if g.beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= g.beta
		}
	}
}

// Mirror copies the uplo triangle of the square matrix c onto the other one.
// It works in square blocks so that the transposed reads stay in cache.
func Mirror(uplo Uplo, c Dense) {
	if c.Rows != c.Cols {
		panic(fmt.Sprintf("linalg: Mirror: matrix is %dx%d, not square", c.Rows, c.Cols))
	}
	const bs = 64
	n, s, d := c.Rows, c.Stride, c.Data
	// Band ib (rows [ib, ib+bs) of the lower triangle, columns of the
	// upper one) writes only its own entries of the other triangle, so
	// the bands may go to different threads; the widest go first.
	band := func(ib int) {
		for jb := 0; jb <= ib; jb += bs {
			for i := ib; i < min(ib+bs, n); i++ {
				for j := jb; j < min(jb+bs, i); j++ {
					if uplo == Lower {
						d[j*s+i] = d[i*s+j]
					} else {
						d[i*s+j] = d[j*s+i]
					}
				}
			}
		}
	}
	bands := (n + bs - 1) / bs
	workers := min(Threads(), bands)
	if n*n < mirrorParallelMin || workers < 2 {
		for b := range bands {
			band(b * bs)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := int(next.Add(1)) - 1; b < bands; b = int(next.Add(1)) - 1 {
				band((bands - 1 - b) * bs)
			}
		})
	}
	wg.Wait()
}

// mirrorParallelMin is the size (n^2) from which Mirror uses every thread:
// a 1000 x 1000 mirror took 10-15 ms on one (the statistics run several).
const mirrorParallelMin = 512 * 512

func ceilDiv(a, b int) int { return (a + b - 1) / b }
