package awd

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/awd-toolkit/awd/nn"
)

// mfBenchData is the analysis subset of the matrix-free benchmarks: N =
// 2000 MNIST samples, 200 of each class.
func mfBenchData(b *testing.B) *nn.Dataset {
	sub, _, err := nn.Subset(mnist(b), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 200, 1)
	if err != nil {
		b.Fatal(err)
	}
	return sub
}

// mfBenchModel trains model for epochs on data with CE, so that the
// spectra are those of a network that has learnt something.
func mfBenchModel(b *testing.B, model *nn.Model, data *nn.Dataset, epochs int) {
	tc := nn.DefaultTrainConfig(nn.CE)
	tc.Epochs, tc.Seed = epochs, 1
	if _, err := nn.Train(model, data, nil, tc, nil); err != nil {
		b.Fatal(err)
	}
}

func reportMF(b *testing.B, rs []*Result, cpu0 float64, wall time.Duration) {
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s")
	b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s")
	var eig, per, stat, acc float64
	vec := 0
	for _, r := range rs {
		eig += r.Timings.Eigensolve
		stat += r.Timings.Statistics
		acc += r.Timings.Accumulate
		per = r.Timings.PerSample
		vec += r.MatrixFree.Applied
	}
	b.ReportMetric(per, "persample-s")
	b.ReportMetric(acc, "setup-s")
	b.ReportMetric(eig, "eigensolve-s")
	b.ReportMetric(stat, "statistics-s")
	b.ReportMetric(float64(vec), "H-vectors")
	b.ReportMetric(peakRSS()/(1<<20), "peakRSS-MiB")
}

// BenchmarkMatrixFree is issue 14's MLP target: the matrix-free analysis of
// fc2 of the MNIST MLP 784-w-w-10 (d = w^2: 10^4, 10^5, 10^6) after 5
// epochs of training, on N = 2000 samples with k = 200: the top k of H,
// every c_i, gamma, bounds, alignment and correlations. Run one size at a
// time (-bench MatrixFree/d=1e6 -benchtime 1x): peakRSS is the process's.
func BenchmarkMatrixFree(b *testing.B) {
	for _, c := range []struct {
		name string
		w    int
	}{{"1e4", 100}, {"1e5", 316}, {"1e6", 1000}} {
		b.Run(fmt.Sprintf("d=%s/N=2000/k=200", c.name), func(b *testing.B) {
			data := mfBenchData(b)
			model, err := nn.NewMLP(784, []int{c.w, c.w}, 10, 1)
			if err != nil {
				b.Fatal(err)
			}
			mfBenchModel(b, model, data, 5)
			cfg := DefaultConfig("ce")
			cfg.K, cfg.Layer = 200, "fc2"
			runtime.GC()
			cpu0 := cpuSeconds()
			t0 := time.Now()
			b.ResetTimer()
			var r *Result
			for i := 0; i < b.N; i++ {
				if r, err = AnalyzeMatrixFree(context.Background(), model, data, cfg, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportMF(b, []*Result{r}, cpu0, time.Since(t0))
			b.Logf("d=%d gamma C %.4f, C_awd %.4f, lambda_1 %.4g, lambda_k %.4g, restarts %d, H applied to %d vectors",
				r.D, r.Fits[NameC].Gamma, r.Fits[NameCAWD].Gamma, r.Spectrum.Lambda1, r.Spectrum.LambdaK, r.MatrixFree.Restarts, r.MatrixFree.Applied)
		})
	}
}

// BenchmarkMatrixFreeCNN is issue 14's CNN target: every convolution layer
// of the MNIST CNN (features.0, .3, .6, .8; d = 288, 18432, 73728, 147456)
// analysed matrix-free in one AnalyzeLayers call on N = 2000 samples with
// k = 200, after one epoch of training; J=float64 is the default, J=float32
// keeps the formed Jacobian in float32 (MatFreeConfig.JacobianFloat32).
// Select one with -test.bench 'MatrixFreeCNN/J=float32'.
func BenchmarkMatrixFreeCNN(b *testing.B) {
	for _, f32 := range []bool{false, true} {
		name := "J=float64"
		if f32 {
			name = "J=float32"
		}
		b.Run(name, func(b *testing.B) {
			data := mfBenchData(b)
			model, err := nn.NewCNN(1, 28, 28, 10, 1)
			if err != nil {
				b.Fatal(err)
			}
			mfBenchModel(b, model, data, 1)
			cfg := DefaultConfig("ce")
			cfg.K = 200
			cfg.MatFree.JacobianFloat32 = f32
			layers := []string{"features.0", "features.3", "features.6", "features.8"}
			runtime.GC()
			cpu0 := cpuSeconds()
			t0 := time.Now()
			b.ResetTimer()
			var rs []*Result
			for i := 0; i < b.N; i++ {
				if rs, err = AnalyzeLayers(context.Background(), model, data, cfg, layers, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportMF(b, rs, cpu0, time.Since(t0))
			for _, r := range rs {
				b.Logf("%s d=%d: eigensolve %.1fs (%d restarts, %d vectors), statistics %.1fs, gamma C %.6f, M2 %.6f, lambda_1 %.8g, lambda_k %.8g, Jacobian %s (cache %s)",
					r.Layer, r.D, r.Timings.Eigensolve, r.MatrixFree.Restarts, r.MatrixFree.Applied, r.Timings.Statistics,
					r.Fits[NameC].Gamma, r.Fits[NameM2].Gamma, r.Spectrum.Lambda1, r.Spectrum.LambdaK, r.MatrixFree.Jacobian, FormatBytes(r.MatrixFree.JacobianCache))
			}
		})
	}
}
