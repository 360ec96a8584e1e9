package awd

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
)

// The Kronecker route of docs/math.md section 4. Every d x d matrix of the analysis
// that is accumulated per sample has the form
//
//	S = sum_n P_n (x) a_n a_n^T,   S[(p,i),(q,j)] = sum_n P_n[p][q] a_n[i] a_n[j]
//
// with a symmetric m x m matrix P_n (delta delta^T for C, Gamma_n for H,
// ||a_n||^2 Gamma_n^2 for M2, u_n u_n^T for C_pair). Because P_n and
// a_n a_n^T are both symmetric, S is fixed by the m(m+1)/2 x n(n+1)/2 matrix
//
//	G[{p,q}][{i,j}] = sum_n P_n[p][q] a_n[i] a_n[j]   (p <= q, i <= j)
//
// which is one GEMM G += X^T Y over samples, with X's rows the packed upper
// triangles of P_n and Y's rows the packed upper triangles of a_n a_n^T. That
// costs N d^2 / 2 flops (a quarter of the full m^2 x n^2 product; half a SYRK
// of the N x d matrix of vec(P_n^(1/2) a_n^T)), and the state is d^2/4 numbers.
// unpackKron scatters G back into the d x d matrix: every block (p,q) of S is
// the symmetric n x n matrix read off row {p,q} of G, and block (q,p) equals
// block (p,q).

// DefaultChunk is the number of samples per GEMM when nothing else is asked
// for: large enough that the GEMM's inner dimension amortises its packing,
// small enough that X and Y stay a few MB for d = 2500.
const DefaultChunk = 512

// triIndex returns the position of (i, j), i <= j, in the row-major packed
// upper triangle of an n x n matrix.
func triIndex(i, j, n int) int { return i*n - i*(i-1)/2 + (j - i) }

// triLen is the length of the packed upper triangle of an n x n matrix.
func triLen(n int) int { return n * (n + 1) / 2 }

// packUpper writes the upper triangle of the n x n row-major matrix src into
// dst (length triLen(n)) row by row.
func packUpper(dst, src []float64, n int) {
	k := 0
	for i := 0; i < n; i++ {
		k += copy(dst[k:], src[i*n+i:(i+1)*n])
	}
}

// packOuter writes the upper triangle of alpha x x^T into dst, row by row.
func packOuter(dst []float64, alpha float64, x []float64) {
	k := 0
	for i, xi := range x {
		s := alpha * xi
		for _, xj := range x[i:] {
			dst[k] = s * xj
			k++
		}
	}
}

// unpackKron adds alpha times the d x d matrix encoded by the packed Kronecker
// sum g (triLen(m) x triLen(n)) to dst (d x d, d = m n), both triangles, or
// overwrites dst with it when set is true. Each block is expanded once into
// an n x n scratch from its packed row (which stays in L1), then written row
// by row to blocks (p,q) and (q,p), so dst is written contiguously; block
// rows are shared out among GOMAXPROCS goroutines. Cost 2 d^2 flops, bound
// by memory bandwidth.
func unpackKron(dst linalg.Dense, alpha float64, g linalg.Dense, m, n int, set bool) {
	d := m * n
	if dst.Rows != d || dst.Cols != d || g.Rows != triLen(m) || g.Cols != triLen(n) {
		panic(fmt.Sprintf("awd: unpackKron: dst %dx%d, packed %dx%d for m=%d n=%d", dst.Rows, dst.Cols, g.Rows, g.Cols, m, n))
	}
	ld := dst.Stride
	nw := max(1, min(runtime.GOMAXPROCS(0), m))
	var wg sync.WaitGroup
	for w := 0; w < nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			blk := make([]float64, n*n)
			// Rows p = w, w+nw, ... : block (p,q) for q >= p and (q,p).
			// Blocks (q,p) of different p never overlap.
			for p := w; p < m; p += nw {
				for q := p; q < m; q++ {
					row := g.Row(triIndex(p, q, m))
					k := 0
					for i := 0; i < n; i++ {
						for j := i; j < n; j++ {
							v := alpha * row[k]
							k++
							blk[i*n+j], blk[j*n+i] = v, v
						}
					}
					for i := 0; i < n; i++ {
						b := blk[i*n : (i+1)*n]
						o1, o2 := (p*n+i)*ld+q*n, (q*n+i)*ld+p*n
						if set {
							copy(dst.Data[o1:o1+n], b)
							copy(dst.Data[o2:o2+n], b)
						} else {
							kernels.Daxpy(1, b, dst.Data[o1:o1+n])
							if q != p {
								kernels.Daxpy(1, b, dst.Data[o2:o2+n])
							}
						}
					}
				}
			}
		}()
	}
	wg.Wait()
}

// KronSum adds
//
//	alpha * sum_n P_n (x) a_n a_n^T
//
// to dst (d x d, d = m n, both triangles), where P_n is row n of p (N x m^2)
// read as a symmetric m x m matrix (only its upper triangle is used) and a_n
// is row n of a (N x n). Samples are streamed in chunks of DefaultChunk: the
// memory beyond dst is O(d^2/4 + chunk (m^2 + n^2)). Cost N d^2 / 2 flops
// (one GEMM) plus 2 d^2 for the unpacking. To accumulate over several calls
// (or several P sharing a_n in one GEMM) and unpack once, use KronAcc.
func KronSum(dst linalg.Dense, alpha float64, p linalg.Dense, a linalg.Dense) {
	n := a.Cols
	m := int(math.Round(math.Sqrt(float64(p.Cols))))
	if m*m != p.Cols || p.Rows != a.Rows || dst.Rows != m*n || dst.Cols != m*n {
		panic(fmt.Sprintf("awd: KronSum: P %dx%d (rows are m x m), a %dx%d, dst %dx%d", p.Rows, p.Cols, a.Rows, a.Cols, dst.Rows, dst.Cols))
	}
	k := kronPool.Get().(*KronAcc)
	if k.k == nil || k.k.m != m || k.k.n != n || k.k.blocks != 1 {
		k = NewKronAcc(m, n, 1)
	} else {
		clear(k.k.g.Data)
		k.count = 0
	}
	k.Add(a, p)
	k.AddTo(dst, 0, alpha)
	kronPool.Put(k)
}

// kronPool keeps KronSum's packed accumulator (d^2/4 numbers) between calls:
// callers stream chunks through KronSum, and fresh memory is slow to touch.
var kronPool = sync.Pool{New: func() any { return new(KronAcc) }}

// KronAcc accumulates, for blocks b = 0..blocks-1, the Kronecker sums
// S_b = sum_n P_bn (x) a_n a_n^T (P_bn symmetric m x m, a_n of length n) in
// packed form, d^2/4 numbers each, with one GEMM per chunk of samples for all
// blocks together (the a_n a_n^T side is shared). The suppression experiment
// rebuilds H' and M2' with it (blocks = 2).
type KronAcc struct {
	k     *kron
	count int
	x, y  []float64
}

// NewKronAcc returns an empty accumulator for m x m matrices P and
// activities of length n.
func NewKronAcc(m, n, blocks int) *KronAcc {
	if m <= 0 || n <= 0 || blocks <= 0 {
		panic(fmt.Sprintf("awd: NewKronAcc: m=%d n=%d blocks=%d", m, n, blocks))
	}
	return &KronAcc{k: newKron(m, n, blocks)}
}

// Count is the number of samples added.
func (k *KronAcc) Count() int { return k.count }

// Add accumulates the samples given as the rows of a (N x n) and, for each
// block b, of p[b] (N x m^2, row n is P_bn row-major; only its upper triangle
// is read). Cost N d^2 / 2 flops per block.
func (k *KronAcc) Add(a linalg.Dense, p ...linalg.Dense) {
	m, n, nb := k.k.m, k.k.n, k.k.blocks
	if len(p) != nb || a.Cols != n {
		panic(fmt.Sprintf("awd: KronAcc.Add: %d blocks for an accumulator of %d, a %dx%d for n=%d", len(p), nb, a.Rows, a.Cols, n))
	}
	for b, pb := range p {
		if pb.Rows != a.Rows || pb.Cols != m*m {
			panic(fmt.Sprintf("awd: KronAcc.Add: P[%d] %dx%d for %d samples of m=%d", b, pb.Rows, pb.Cols, a.Rows, m))
		}
	}
	tm, tn := triLen(m), triLen(n)
	chunk := min(DefaultChunk, a.Rows)
	if len(k.x) < chunk*nb*tm {
		k.x = make([]float64, chunk*nb*tm)
		k.y = make([]float64, chunk*tn)
	}
	for s0 := 0; s0 < a.Rows; s0 += chunk {
		c := min(chunk, a.Rows-s0)
		x := linalg.DenseOf(c, nb*tm, k.x)
		y := linalg.DenseOf(c, tn, k.y)
		parallelRows(c, func(_, r0, r1 int) {
			for r := r0; r < r1; r++ {
				xr := x.Row(r)
				for b, pb := range p {
					packUpper(xr[b*tm:(b+1)*tm], pb.Row(s0+r), m)
				}
				packOuter(y.Row(r), 1, a.Row(s0+r))
			}
		})
		k.k.add(x, y)
	}
	k.count += a.Rows
}

// AddTo adds alpha S_b to dst (d x d, both triangles). Cost 2 d^2.
func (k *KronAcc) AddTo(dst linalg.Dense, b int, alpha float64) { k.k.unpack(dst, b, alpha) }

// Matrix returns alpha S_b as a new d x d matrix (both triangles).
func (k *KronAcc) Matrix(b int, alpha float64) linalg.Dense {
	d := k.k.m * k.k.n
	dst := linalg.NewDense(d, d)
	k.k.set(dst, b, alpha)
	return dst
}

// kron is a packed accumulator of blocks Kronecker sums that share a_n: block
// b is rows b*triLen(m) .. (b+1)*triLen(m) of g.
type kron struct {
	m, n, blocks int
	g            linalg.Dense // blocks*triLen(m) x triLen(n)
}

func newKron(m, n, blocks int) *kron {
	return &kron{m: m, n: n, blocks: blocks, g: linalg.NewDense(blocks*triLen(m), triLen(n))}
}

// add accumulates g += x^T y: x is c x blocks*triLen(m), y is c x triLen(n).
func (k *kron) add(x, y linalg.Dense) {
	if x.Rows == 0 {
		return
	}
	linalg.Gemm(true, false, 1, x, y, 1, k.g)
}

// block returns the packed sum of block b.
func (k *kron) block(b int) linalg.Dense {
	t := triLen(k.m)
	return k.g.View(b*t, 0, t, k.g.Cols)
}

// unpack adds alpha times block b, as a d x d matrix, to dst.
func (k *kron) unpack(dst linalg.Dense, b int, alpha float64) {
	unpackKron(dst, alpha, k.block(b), k.m, k.n, false)
}

// set overwrites dst with alpha times block b as a d x d matrix.
func (k *kron) set(dst linalg.Dense, b int, alpha float64) {
	unpackKron(dst, alpha, k.block(b), k.m, k.n, true)
}
