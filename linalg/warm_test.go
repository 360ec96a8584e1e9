package linalg

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
	"unsafe"
)

// The warm cache hands a returned buffer out again (the smallest that
// fits), and new memory when none fits.
func TestWarm(t *testing.T) {
	dropWarm()
	a := getWarm(1000)
	b := getWarm(5000)
	if len(a) != 1000 || len(b) != 5000 {
		t.Fatalf("lengths %d, %d", len(a), len(b))
	}
	putWarm(b)
	putWarm(a)
	if c := getWarm(800); &c[0] != &a[0] || len(c) != 800 {
		t.Errorf("getWarm(800) did not reuse the 1000-buffer")
	}
	if c := getWarm(4000); &c[0] != &b[0] {
		t.Errorf("getWarm(4000) did not reuse the 5000-buffer")
	}
	if c := getWarm(100); len(c) != 100 {
		t.Errorf("empty cache: length %d", len(c))
	}
	dropWarm()
}

// The cache keeps its buffers twice as long as the longest loan among the
// returns (2 s to a minute), from the last return; a buffer it did not
// lend counts as a short loan, and a loan never returned (a result kept
// by the caller) is forgotten among the newest warmLoans.
func TestWarmKeep(t *testing.T) {
	dropWarm()
	defer dropWarm()
	for _, c := range []struct{ out, keep time.Duration }{
		{0, warmKeep}, {time.Second, warmKeep}, {1500 * time.Millisecond, 3 * time.Second},
		{10 * time.Second, 20 * time.Second}, {10 * time.Minute, warmKeepMax},
	} {
		if got := keepFor(c.out); got != c.keep {
			t.Errorf("keepFor(%v) = %v, want %v", c.out, got, c.keep)
		}
	}
	// left is how long the cache will keep its buffers; the calls between
	// take some of it (a loan backdated by 10 s is out a little longer).
	left := func() time.Duration {
		warm.mu.Lock()
		defer warm.mu.Unlock()
		return time.Until(warm.until)
	}
	near := func(what string, got, want time.Duration) {
		t.Helper()
		if got > want+time.Second || got < want-time.Second {
			t.Errorf("%s: kept for %v more, want %v", what, got, want)
		}
	}
	putWarm(make([]float64, 1000))
	near("a buffer not lent", left(), warmKeep)
	b := getWarm(1000)
	warm.mu.Lock()
	warm.loans[len(warm.loans)-1].at = time.Now().Add(-10 * time.Second)
	warm.mu.Unlock()
	putWarm(b)
	near("a buffer out for 10 s", left(), 20*time.Second)
	putWarm(getWarm(1000)) // a short loan does not shorten the keep
	near("then a short loan", left(), 20*time.Second)

	dropWarm()
	kept := make([][]float64, 3*warmLoans)
	for i := range kept {
		kept[i] = getWarm(100)
	}
	warm.mu.Lock()
	n := len(warm.loans)
	warm.mu.Unlock()
	if n != warmLoans {
		t.Errorf("%d loans never returned are remembered, want the newest %d", n, warmLoans)
	}
	putWarm(kept[0]) // forgotten: counted as not lent
	near("a forgotten loan", left(), warmKeep)
}

// The solvers overwrite what they borrow: with NaN in every cached buffer
// the results are those of a clean run, bit for bit.
func TestWarmGarbage(t *testing.T) {
	defer func(m int) { twoStageMin = m }(twoStageMin)
	twoStageMin = 257
	for _, n := range []int{150, 300} {
		rng := rand.New(rand.NewPCG(uint64(n), 9))
		a := eigCases[0].gen(n, rng)
		run := func() (Eigen, Eigen, Eigen, Eigen) {
			ev, err := EigSym(a, true)
			if err != nil {
				t.Fatal(err)
			}
			e, err := EigSym(a, false)
			if err != nil {
				t.Fatal(err)
			}
			// The subset's vectors by divide and conquer (its n x n
			// scratch is borrowed).
			defer func(s float64) { steinSwitch = s }(steinSwitch)
			steinSwitch = 0
			top, err := EigSymTop(a, n/4, true)
			if err != nil {
				t.Fatal(err)
			}
			// And by inverse iteration, whose n x k result is borrowed
			// too and must start zero.
			steinSwitch = math.Inf(1)
			stein, err := EigSymTop(a, n/4, true)
			if err != nil {
				t.Fatal(err)
			}
			return ev, e, top, stein
		}
		dropWarm()
		want, wantv, wantTop, wantStein := run()
		for range warmMax {
			buf := make([]float64, 2*n*n)
			for i := range buf {
				buf[i] = math.NaN()
			}
			putWarm(buf)
		}
		got, gotv, gotTop, gotStein := run()
		for i := range wantTop.Vectors.Data {
			if gotTop.Vectors.Data[i] != wantTop.Vectors.Data[i] {
				t.Fatalf("n=%d: top-k vectors differ after NaN-filled buffers were cached", n)
			}
			if gotStein.Vectors.Data[i] != wantStein.Vectors.Data[i] {
				t.Fatalf("n=%d: top-k vectors by inverse iteration differ after NaN-filled buffers were cached", n)
			}
		}
		for i := range want.Values {
			if got.Values[i] != want.Values[i] || gotv.Values[i] != wantv.Values[i] {
				t.Fatalf("n=%d: value %d differs after NaN-filled buffers were cached", n, i)
			}
		}
		for i := range want.Vectors.Data {
			if got.Vectors.Data[i] != want.Vectors.Data[i] {
				t.Fatalf("n=%d: vectors differ after NaN-filled buffers were cached", n)
			}
		}
		dropWarm()
	}
}

// A buffer much larger than a request lends its front and keeps its back
// for the next one; the two never overlap.
func TestWarmSplit(t *testing.T) {
	dropWarm()
	defer dropWarm()
	big := make([]float64, 3*warmSplitMin)
	putWarm(big)
	a := getWarm(warmSplitMin)
	b := getWarm(warmSplitMin / 2) // the rest, 2*warmSplitMin, is split again
	c := getWarm(warmSplitMin)     // what is left is under warmSplitMin beyond the request: lent whole
	if &a[0] != &big[0] || cap(a) != warmSplitMin {
		t.Fatalf("first loan: not the front of the cached buffer, or cap %d", cap(a))
	}
	if &b[0] != &big[warmSplitMin] || cap(b) != warmSplitMin/2 {
		t.Fatalf("second loan: not the next part, or cap %d", cap(b))
	}
	if &c[0] != &big[warmSplitMin+warmSplitMin/2] || len(c) != warmSplitMin {
		t.Fatalf("third loan: not the last part, or length %d", len(c))
	}
	if d := getWarm(10); &d[0] == &big[0] || cap(d) != 10 {
		t.Fatalf("empty cache lent part of a loaned buffer")
	}
}

// TestPackBufList: the packing buffers' list lends the smallest kept
// buffer that is large enough (cache-line aligned, of the length asked),
// never more than packKeep buffers or packKeepBytes, and survives a
// garbage collection (a sync.Pool would not).
func TestPackBufList(t *testing.T) {
	pool64.drop()
	defer pool64.drop()
	var hs []*[]float64
	for _, n := range []int{100, 1000, 10000} {
		buf, h := getBuf[float64](n)
		if len(buf) != n || uintptr(unsafe.Pointer(&buf[0]))%cacheLine != 0 {
			t.Fatalf("getBuf(%d): len %d, address %p", n, len(buf), &buf[0])
		}
		hs = append(hs, h)
	}
	for _, h := range hs {
		putBuf(h)
	}
	runtime.GC()
	runtime.GC()
	_, h := getBuf[float64](500)
	if h != hs[1] {
		t.Fatalf("getBuf(500) did not lend the kept 1000-number buffer")
	}
	putBuf(h)
	// Over the count: the smallest go first.
	for i := 0; i < 2*packKeep; i++ {
		_, h := getBuf[float64](20000 + i)
		defer putBuf(h)
	}
	for i := 0; i < 3*packKeep; i++ {
		s := make([]float64, 30000+i)
		putBuf(&s)
	}
	total := 0
	for _, f := range pool64.free {
		total += 8 * cap(*f)
		if cap(*f) < 30000 {
			t.Errorf("kept a %d-number buffer over larger ones", cap(*f))
		}
	}
	if len(pool64.free) > packKeep || total > packKeepBytes {
		t.Fatalf("kept %d buffers, %d bytes", len(pool64.free), total)
	}
	// A buffer larger than the bound is not kept.
	pool64.drop()
	big := make([]float64, packKeepBytes/8+1)
	putBuf(&big)
	small := make([]float64, 10)
	putBuf(&small)
	if len(pool64.free) != 1 || cap(*pool64.free[0]) != 10 {
		t.Fatalf("after a huge and a small buffer: %d kept", len(pool64.free))
	}
}

// TestWarmZero: getWarmZero returns zeros whether the buffer is new or a
// dirty one the cache kept.
func TestWarmZero(t *testing.T) {
	dropWarm()
	defer dropWarm()
	for round := 0; round < 2; round++ {
		b := getWarmZero(3 * touchMin)
		for i, v := range b {
			if v != 0 {
				t.Fatalf("round %d: b[%d] = %v", round, i, v)
			}
			b[i] = float64(i + 1)
		}
		putWarm(b) // dirty: the second round takes it back
	}
}
