package linalg

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
)

func benchMatrix(n int) Dense { return eigCases[0].gen(n, rand.New(rand.NewPCG(uint64(n), 9))) }

// BenchmarkEigSym compares the full solver with gonum's Dsyev on the same
// random matrix; "gflops" counts the nominal 4/3 n^3 + 2 n^3 (vectors) or
// 4/3 n^3 (values) of the reduction and back-transformation.
func BenchmarkEigSym(b *testing.B) {
	for _, n := range []int{200, 500, 1000} {
		a := benchMatrix(n)
		for _, vec := range []bool{true, false} {
			flops := 4.0 / 3 * float64(n*n*n)
			if vec {
				flops += 2 * float64(n*n*n)
			}
			b.Run(fmt.Sprintf("n=%d/vectors=%v/impl=ours", n, vec), func(b *testing.B) {
				for b.Loop() {
					if _, err := EigSym(a, vec); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "gflops")
			})
			if n > 500 {
				continue // gonum needs many seconds per call above this
			}
			b.Run(fmt.Sprintf("n=%d/vectors=%v/impl=gonum", n, vec), func(b *testing.B) {
				impl := lapackgonum.Implementation{}
				job := lapack.EVNone
				if vec {
					job = lapack.EVCompute
				}
				c := NewDense(n, n)
				w := make([]float64, n)
				work := []float64{0}
				impl.Dsyev(job, blas.Lower, n, c.Data, n, w, work, -1)
				work = make([]float64, int(work[0]))
				for b.Loop() {
					c.Copy(a)
					impl.Dsyev(job, blas.Lower, n, c.Data, n, w, work, len(work))
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "gflops")
			})
		}
	}
}

func BenchmarkEigSymTop(b *testing.B) {
	for _, n := range []int{500, 1000} {
		a := benchMatrix(n)
		for _, k := range []int{10, n / 5} {
			b.Run(fmt.Sprintf("n=%d/k=%d", n, k), func(b *testing.B) {
				for b.Loop() {
					if _, err := EigSymTop(a, k, true); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkEigSymSmall(b *testing.B) {
	for _, n := range []int{3, 10, 16, 64} {
		a := benchMatrix(n)
		w := make([]float64, n)
		v := make([]float64, n*n)
		b.Run(fmt.Sprintf("n=%d/impl=ours", n), func(b *testing.B) {
			for b.Loop() {
				if err := EigSymSmall(n, a.Data, w, v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/impl=gonum", n), func(b *testing.B) {
			impl := lapackgonum.Implementation{}
			c := make([]float64, n*n)
			work := []float64{0}
			impl.Dsyev(lapack.EVCompute, blas.Lower, n, c, n, w, work, -1)
			work = make([]float64, int(work[0]))
			for b.Loop() {
				copy(c, a.Data)
				impl.Dsyev(lapack.EVCompute, blas.Lower, n, c, n, w, work, len(work))
			}
		})
	}
}

func BenchmarkLanczosTop(b *testing.B) {
	for _, n := range []int{1000, 2000} {
		a := benchMatrix(n)
		for _, k := range []int{10, 50} {
			b.Run(fmt.Sprintf("n=%d/k=%d", n, k), func(b *testing.B) {
				for b.Loop() {
					if _, err := LanczosTop(DenseOp{a}, k, LanczosOptions{Seed: 1}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
