//go:build cgo && openblas

package openblas

import (
	"fmt"
	"math"
	"testing"

	"github.com/awd-toolkit/awd/bench"
	"github.com/awd-toolkit/awd/linalg"
)

// TestBlasAgrees checks the cgo bindings (argument order, row-major flags)
// against our routines on rectangular, transposed operands: both compute
// the same sums, so they agree within twice the (k+2)*eps*sum|a b| bound.
func TestBlasAgrees(t *testing.T) {
	const m, n, k = 37, 29, 53
	a, b := bench.Rand(k, m, 1), bench.Rand(n, k, 2)
	c1, c2 := bench.Rand(m, n, 3), linalg.NewDense(m, n)
	c2.Copy(c1)
	Dgemm(true, true, 0.37, a, b, -1, c1)
	linalg.Gemm(true, true, 0.37, a, b, -1, c2)
	tol := 2 * (k + 2) * 0x1p-52 * float64(k+1)
	for i := range c1.Data {
		if math.Abs(c1.Data[i]-c2.Data[i]) > tol {
			t.Fatalf("Dgemm entry %d: OpenBLAS %v, ours %v", i, c1.Data[i], c2.Data[i])
		}
	}
	s1, s2 := linalg.NewDense(m, m), linalg.NewDense(m, m)
	Dsyrk(linalg.Lower, true, 1, a, 0, s1)
	linalg.Syrk(linalg.Lower, true, 1, a, 0, s2, false)
	for i := range s1.Data {
		if math.Abs(s1.Data[i]-s2.Data[i]) > tol {
			t.Fatalf("Dsyrk entry %d: OpenBLAS %v, ours %v", i, s1.Data[i], s2.Data[i])
		}
	}
}

// Run with
//
//	OPENBLAS_CORETYPE=SKYLAKEX go test -tags openblas -run '^$' -bench . -benchtime 5x ./bench/openblas
//
// Ours and OpenBLAS on the same operands and thread count, with GFLOP/s.
func BenchmarkOpenBLAS(b *testing.B) {
	type op struct {
		name       string
		flops      float64
		ours, them func()
	}
	var ops []op
	for _, n := range []int{1024, 2048} {
		g := bench.NewGemm(n)
		ops = append(ops, op{fmt.Sprintf("Dgemm/n=%d", n), g.Flops(), g.Ours,
			func() { Dgemm(false, false, 1, g.A, g.B, 0, g.C) }})
		s := bench.NewGemm32(n)
		ops = append(ops, op{fmt.Sprintf("Sgemm/n=%d", n), s.Flops(), s.Ours,
			func() { Sgemm(false, false, 1, s.A, s.B, 0, s.C) }})
	}
	sy := bench.NewSyrk(2000, 2500)
	ops = append(ops, op{"Dsyrk/N=2000/d=2500", sy.Flops(), sy.Ours,
		func() { Dsyrk(linalg.Lower, true, 1, sy.A, 0, sy.C) }})
	for _, o := range ops {
		for _, th := range []int{1, 2} {
			for _, im := range []struct {
				name string
				f    func()
			}{{"ours", o.ours}, {"openblas", o.them}} {
				b.Run(fmt.Sprintf("%s/threads=%d/impl=%s", o.name, th, im.name), func(b *testing.B) {
					defer bench.UseThreads(th)()
					LapackThreads(th)
					im.f()
					b.ResetTimer()
					for b.Loop() {
						im.f()
					}
					b.ReportMetric(o.flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
