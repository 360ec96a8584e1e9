package linalg

import (
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/awd-toolkit/awd/kernels"
)

// Packing for the Goto/BLIS GEMM (see gemm.go). The micro-kernel reads
// (kernels/gemm.go):
//
//	packed A block, mc x kc, as ceil(mc/mr) panels of mr*kc values:
//	    panel r, element (i, p) = alpha * op(A)[ic + r*mr + i][pc + p]  at  r*mr*kc + p*mr + i
//	packed B block, kc x nc, as ceil(nc/nr) panels of kc*nr values:
//	    panel s, element (p, j) = op(B)[pc + p][jc + s*nr + j]          at  s*nr*kc + p*nr + j
//
// Rows or columns past the edge of the operand are packed as zeros, so the
// micro-kernel always sees full panels and edge tiles only need a temporary
// C tile. alpha is folded into A's packing: A's block is the smaller one
// touched once per (jc, pc), so the scaling is free next to the mc*nc*kc
// FMAs that reuse it.

// float is the element type of a GEMM.
type float interface{ ~float32 | ~float64 }

// operand is op(X) for a row-major X: element (i, j) of op(X) is
// data[i*stride+j], or data[j*stride+i] when trans is set.
type operand[T float] struct {
	data   []T
	stride int
	trans  bool
}

// packA packs rows [i0, i0+mc) and columns [p0, p0+kc) of op(A), scaled by
// alpha, into dst (at least ceil(mc/mr)*mr*kc values).
func packA[T float](dst []T, a operand[T], i0, mc, p0, kc, mr int, alpha T) {
	if a.trans {
		if d, ok := any(dst).([]float64); ok && mr == dgemmMR() {
			// kernels.DpackAT packs this layout for the dgemm kernel's mr
			// (in assembly that prefetches the rows of A ahead).
			src := any(a.data).([]float64)[p0*a.stride+i0:]
			kernels.DpackAT(d, src, a.stride, kc, mc, float64(alpha))
			return
		}
		if d, ok := any(dst).([]float32); ok && mr == sgemmMR() {
			src := any(a.data).([]float32)[p0*a.stride+i0:]
			kernels.SpackAT(d, src, a.stride, kc, mc, float32(alpha))
			return
		}
		// op(A)[i][p] = A[p][i]: row p0+p of A holds the mc values of
		// step p of every panel. Sweeping the rows once (not once per
		// panel) reads each cache line and page of A once: on a wide A
		// (SYRK's N x d samples) the per-panel order revisited every row
		// mc/mr times and spent most of its time in TLB misses.
		for p := 0; p < kc; p++ {
			src := a.data[(p0+p)*a.stride+i0:][:mc]
			for ir := 0; ir < mc; ir += mr {
				h := min(mr, mc-ir)
				d := dst[ir*kc+p*mr:][:mr]
				for i, v := range src[ir : ir+h] {
					d[i] = alpha * v
				}
				clear(d[h:])
			}
		}
		return
	}
	if d, ok := any(dst).([]float64); ok && mr == dgemmMR() {
		src := any(a.data).([]float64)[i0*a.stride+p0:]
		kernels.DpackA(d, src, a.stride, kc, mc, float64(alpha))
		return
	}
	if d, ok := any(dst).([]float32); ok && mr == sgemmMR() {
		src := any(a.data).([]float32)[i0*a.stride+p0:]
		kernels.SpackA(d, src, a.stride, kc, mc, float32(alpha))
		return
	}
	for ir := 0; ir < mc; ir += mr {
		h := min(mr, mc-ir)
		panel := dst[ir*kc : ir*kc+mr*kc]
		// op(A)[i][p] = A[i][p]: each row i reads kc contiguous values and
		// scatters them with stride mr. Four rows at a time keep the writes
		// of one p in the same cache line.
		i := 0
		for ; i+4 <= h; i += 4 {
			r := (i0 + ir + i) * a.stride
			s0 := a.data[r+p0:][:kc]
			s1 := a.data[r+a.stride+p0:][:kc]
			s2 := a.data[r+2*a.stride+p0:][:kc]
			s3 := a.data[r+3*a.stride+p0:][:kc]
			for p := range s0 {
				d := panel[p*mr+i:][:4]
				d[0] = alpha * s0[p]
				d[1] = alpha * s1[p]
				d[2] = alpha * s2[p]
				d[3] = alpha * s3[p]
			}
		}
		for ; i < h; i++ {
			src := a.data[(i0+ir+i)*a.stride+p0:][:kc]
			for p, v := range src {
				panel[p*mr+i] = alpha * v
			}
		}
		if h < mr {
			for p := 0; p < kc; p++ {
				clear(panel[p*mr+h : p*mr+mr])
			}
		}
	}
}

func dgemmMR() int {
	mr, _ := kernels.DgemmShape()
	return mr
}

func dgemmNR() int {
	_, nr := kernels.DgemmShape()
	return nr
}

func sgemmMR() int {
	mr, _ := kernels.SgemmShape()
	return mr
}

func sgemmNR() int {
	_, nr := kernels.SgemmShape()
	return nr
}

// packB packs rows [p0, p0+kc) and columns [j0, j0+nc) of op(B) into dst (at
// least ceil(nc/nr)*nr*kc values).
func packB[T float](dst []T, b operand[T], p0, kc, j0, nc, nr int) {
	if !b.trans {
		if d, ok := any(dst).([]float64); ok && nr == dgemmNR() {
			// kernels.DpackB packs this layout for the dgemm kernel's nr
			// (in assembly that prefetches the rows of B ahead: the
			// shared split packs a few panels at a time, a short run of
			// each row, on its own page).
			src := any(b.data).([]float64)[p0*b.stride+j0:]
			kernels.DpackB(d, src, b.stride, kc, nc)
			return
		}
		if d, ok := any(dst).([]float32); ok && nr == sgemmNR() {
			// The same for the sgemm kernel's nr.
			src := any(b.data).([]float32)[p0*b.stride+j0:]
			kernels.SpackB(d, src, b.stride, kc, nc)
			return
		}
		// op(B)[p][j] = B[p][j]: row p0+p of B holds step p of every
		// panel; sweep the rows once, as packA does for a transposed A.
		full := nc / nr * nr
		for p := 0; p < kc; p++ {
			src := b.data[(p0+p)*b.stride+j0:][:nc]
			// Whole panels: a fixed-size array assignment compiles to
			// inline vector moves, where copy called memmove for every
			// nr values.
			switch nr {
			case 16:
				for jr := 0; jr < full; jr += 16 {
					*(*[16]T)(dst[jr*kc+p*16:]) = *(*[16]T)(src[jr:])
				}
			case 32:
				for jr := 0; jr < full; jr += 32 {
					*(*[32]T)(dst[jr*kc+p*32:]) = *(*[32]T)(src[jr:])
				}
			case 8:
				for jr := 0; jr < full; jr += 8 {
					*(*[8]T)(dst[jr*kc+p*8:]) = *(*[8]T)(src[jr:])
				}
			default:
				full = 0
			}
			for jr := full; jr < nc; jr += nr {
				w := min(nr, nc-jr)
				d := dst[jr*kc+p*nr:][:nr]
				copy(d, src[jr:jr+w])
				clear(d[w:])
			}
		}
		return
	}
	for jr := 0; jr < nc; jr += nr {
		w := min(nr, nc-jr)
		panel := dst[jr*kc : jr*kc+nr*kc]
		// op(B)[p][j] = B[j][p]: each j reads kc contiguous values.
		j := 0
		for ; j+4 <= w; j += 4 {
			r := (j0 + jr + j) * b.stride
			s0 := b.data[r+p0:][:kc]
			s1 := b.data[r+b.stride+p0:][:kc]
			s2 := b.data[r+2*b.stride+p0:][:kc]
			s3 := b.data[r+3*b.stride+p0:][:kc]
			for p := range s0 {
				d := panel[p*nr+j:][:4]
				d[0] = s0[p]
				d[1] = s1[p]
				d[2] = s2[p]
				d[3] = s3[p]
			}
		}
		for ; j < w; j++ {
			src := b.data[(j0+jr+j)*b.stride+p0:][:kc]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
		if w < nr {
			for p := 0; p < kc; p++ {
				clear(panel[p*nr+w : p*nr+nr])
			}
		}
	}
}

// Packing buffers are reused across calls, so a GEMM in a training loop
// allocates nothing once warm. They are kept in a list of their own, not a
// sync.Pool: a pool is emptied by every other garbage collection, and a
// fresh buffer costs its page faults again (several megabytes per large
// product: 4-7 thousand faults per analysis, measured at 15-30 us each on
// the development VM). The list holds at most packKeep buffers and
// packKeepBytes per element type, and is dropped warmKeep after its last
// return, like the warm cache.
const (
	packKeep      = 16
	packKeepBytes = 64 << 20
)

type bufList[T float] struct {
	mu    sync.Mutex
	free  []*[]T
	timer *time.Timer
}

var (
	pool64 bufList[float64]
	pool32 bufList[float32]
)

// get returns the smallest kept buffer of capacity at least n (of those,
// the last returned: its lines may still be in cache), or nil.
func (l *bufList[T]) get(n int) *[]T {
	l.mu.Lock()
	defer l.mu.Unlock()
	best := -1
	for i := len(l.free) - 1; i >= 0; i-- {
		if c := cap(*l.free[i]); c >= n && (best < 0 || c < cap(*l.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	h := l.free[best]
	l.free = slices.Delete(l.free, best, best+1)
	return h
}

// put keeps h, dropping the smallest kept buffers while the list is over
// its bounds (h itself when it is the smallest); a buffer larger than
// packKeepBytes is not kept.
func (l *bufList[T]) put(h *[]T) {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if cap(*h)*size > packKeepBytes {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.free = append(l.free, h)
	for {
		total := 0
		small := 0
		for i, f := range l.free {
			total += cap(*f) * size
			if cap(*f) < cap(*l.free[small]) {
				small = i
			}
		}
		if len(l.free) <= packKeep && total <= packKeepBytes {
			break
		}
		l.free = slices.Delete(l.free, small, small+1)
	}
	if l.timer == nil {
		l.timer = time.AfterFunc(warmKeep, l.drop)
	} else {
		l.timer.Reset(warmKeep)
	}
}

func (l *bufList[T]) drop() {
	l.mu.Lock()
	clear(l.free)
	l.free = l.free[:0]
	l.mu.Unlock()
}

// cacheLine is the alignment of packed panels: aligned panels let the
// micro-kernel's vector loads never split a cache line.
const cacheLine = 64

// getBuf returns a pooled buffer with at least n elements whose start is
// cacheLine-aligned, and the pool handle to give back to putBuf.
func getBuf[T float](n int) (buf []T, handle *[]T) {
	var zero T
	pad := cacheLine / int(unsafe.Sizeof(zero))
	var h *[]T
	switch any(zero).(type) {
	case float32:
		h, _ = any(pool32.get(n + pad)).(*[]T)
	default:
		h, _ = any(pool64.get(n + pad)).(*[]T)
	}
	if h == nil {
		s := make([]T, n+pad)
		h = &s
	}
	s := (*h)[:cap(*h)]
	off := 0
	if mis := int(uintptr(unsafe.Pointer(&s[0])) % cacheLine); mis != 0 {
		off = (cacheLine - mis) / int(unsafe.Sizeof(zero))
	}
	return s[off : off+n], h
}

func putBuf[T float](h *[]T) {
	switch h := any(h).(type) {
	case *[]float32:
		pool32.put(h)
	case *[]float64:
		pool64.put(h)
	}
}
