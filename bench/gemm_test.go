package bench

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/awd-toolkit/awd/kernels"
)

// Run with, e.g.,
//
//	go test -run '^$' -bench 'Dgemm/n=1024' -benchtime 3x ./bench
//
// Each result reports GFLOP/s and, for ours, the percentage of the FMA peak
// of the same kernel level and thread count, measured in the same process.

var peaks sync.Map // "level/threads" -> GFLOP/s

func peakFor(t int) float64 {
	key := fmt.Sprintf("%s/%d", kernels.Current(), t)
	if p, ok := peaks.Load(key); ok {
		return p.(float64)
	}
	p := Peak(t, 500*time.Millisecond)
	peaks.Store(key, p)
	return p
}

type impl struct {
	name string
	run  func()
}

// benchOp times each implementation on threads goroutines. lanes is 1 for
// float64 work and 2 for float32 (twice the lanes per FMA, so twice the
// float64 peak).
func benchOp(b *testing.B, threads int, flops, lanes float64, impls []impl) {
	for _, im := range impls {
		b.Run("impl="+im.name, func(b *testing.B) {
			defer UseThreads(threads)()
			var peak float64
			if im.name == "ours" {
				peak = lanes * peakFor(threads)
			}
			im.run() // warm-up: packing buffers, page faults
			b.ResetTimer()
			for b.Loop() {
				im.run()
			}
			gf := flops * float64(b.N) / b.Elapsed().Seconds() / 1e9
			b.ReportMetric(gf, "GFLOP/s")
			if peak > 0 {
				b.ReportMetric(100*gf/peak, "%peak")
			}
		})
	}
}

func BenchmarkDgemm(b *testing.B) {
	for _, n := range []int{256, 1024, 2048} {
		g := NewGemm(n)
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/threads=%d", n, th), func(b *testing.B) {
				benchOp(b, th, g.Flops(), 1, []impl{{"ours", g.Ours}, {"gonum", g.Gonum}})
			})
		}
	}
}

func BenchmarkSgemm(b *testing.B) {
	for _, n := range []int{256, 1024, 2048} {
		g := NewGemm32(n)
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/threads=%d", n, th), func(b *testing.B) {
				benchOp(b, th, g.Flops(), 2, []impl{{"ours", g.Ours}, {"gonum", g.Gonum}})
			})
		}
	}
}

func BenchmarkDsyrk(b *testing.B) {
	s := NewSyrk(2000, 2500)
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("N=2000/d=2500/threads=%d", th), func(b *testing.B) {
			benchOp(b, th, s.Flops(), 1, []impl{{"ours", s.Ours}, {"gonum", s.Gonum}})
		})
	}
}

// BenchmarkTrainGemm is the training step's small product (batch 50, 784
// inputs, 50 hidden units), which must stay fast without threads.
func BenchmarkTrainGemm(b *testing.B) {
	a, w, c := Rand(50, 784, 1), Rand(50, 784, 2), Rand(50, 50, 3)
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("50x784x50/threads=%d", th), func(b *testing.B) {
			benchOp(b, th, GemmFlops(50, 50, 784), 1, []impl{{"ours", func() { oursNT(a, w, c) }}})
		})
	}
}

// TestHarness checks that ours and gonum compute the same products on the
// benchmark operands (so the timings compare equal work), within the
// (k+2)*eps relative bound both satisfy per entry, doubled.
func TestHarness(t *testing.T) {
	g, s := NewGemm(67), NewSyrk(45, 37)
	g.Ours()
	want := g.C.Clone()
	g.Gonum()
	s.Ours()
	wantS := s.C.Clone()
	s.Gonum()
	for _, tc := range []struct {
		name      string
		got, want []float64
		k         int
	}{{"gemm", g.C.Data, want.Data, 67}, {"syrk", s.C.Data, wantS.Data, 45}} {
		// Entries are sums of k products of values in [-1, 1).
		tol := 2 * float64(tc.k+2) * 0x1p-52 * float64(tc.k)
		for i := range tc.got {
			if math.Abs(tc.got[i]-tc.want[i]) > tol {
				t.Fatalf("%s: entry %d: ours %v, gonum %v", tc.name, i, tc.want[i], tc.got[i])
			}
		}
	}
	if p := Peak(1, 20*time.Millisecond); !(p > 0) {
		t.Fatalf("Peak = %v", p)
	}
}

// TestAmdahl checks the scaling model's two formulas against each other
// and its closed forms.
func TestAmdahl(t *testing.T) {
	for _, s := range []float64{0, 0.05, 0.3, 1} {
		for _, p := range []int{2, 3, 8} {
			tp := s + (1-s)/float64(p) // t1 = 1
			if got := SerialFraction(1, tp, p); math.Abs(got-s) > 1e-12 {
				t.Errorf("SerialFraction(1, %v, %d) = %v, want %v", tp, p, got, s)
			}
			if got := AmdahlSpeedup(s, p); math.Abs(got-1/tp) > 1e-12 {
				t.Errorf("AmdahlSpeedup(%v, %d) = %v, want %v", s, p, got, 1/tp)
			}
		}
	}
	if got := SerialFraction(1, 0.4, 2); got != 0 {
		t.Errorf("superlinear speed-up: s = %v, want 0 (clamped)", got)
	}
}
