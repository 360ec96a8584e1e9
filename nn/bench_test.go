package nn

import (
	"fmt"
	"syscall"
	"testing"
)

// benchTrain trains one epoch per iteration on n random inputs and reports
// training throughput in samples/s (forward, backward, update; no test
// evaluation).
func benchTrain(b *testing.B, m *Model, ds *Dataset, batch int) {
	cfg := DefaultTrainConfig(CE)
	var prof TrainProfile
	cfg.Batch, cfg.StopLoss, cfg.Profile = batch, 0, &prof
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		cfg.StartEpoch, cfg.Epochs = i, i+1
		if _, err := Train(m, ds, nil, cfg, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ds.N)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	// On a shared machine wall time says little; throughput per CPU second
	// times the idle cores bounds what the machine gives alone.
	b.ReportMetric(float64(ds.N)*float64(b.N)/(cpuSeconds()-cpu0), "samples/cpu-s")
	if prof.ConvFlops > 0 {
		// `awd bench cnn` sets this against the FMA peak
		b.ReportMetric(prof.ConvFlops/prof.Conv.Seconds()/1e9, "conv-GFLOP/s")
		b.ReportMetric(100*prof.Conv.Seconds()/prof.Total.Seconds(), "conv-%time")
	}
}

// cpuSeconds is the user+system CPU time of the process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkTrainMLP is the MNIST MLP 784-50-50-10 with B = 50 on an epoch of
// 20000 samples (P = 2000, K = 10): the target is 100 epochs in
// under 60 s, i.e. above 33000 samples/s.
func BenchmarkTrainMLP(b *testing.B) {
	ds := randDataset(1, 20000, 1, 28, 28, 10)
	m, _ := NewMLP(784, []int{50, 50}, 10, 1)
	benchTrain(b, m, ds, 50)
}

// BenchmarkTrainCNN is the CNN on MNIST-sized inputs with B = 128 (as
// `awd bench cnn`, which also sets the convolutions' rate against the FMA
// peak and PyTorch).
func BenchmarkTrainCNN(b *testing.B) {
	for _, n := range []int{1024} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			ds := randDataset(1, n, 1, 28, 28, 10)
			m, _ := NewCNN(1, 28, 28, 10, 1)
			benchTrain(b, m, ds, 128)
		})
	}
}

// BenchmarkPerSample is the per-sample quantities of fc2 of the MNIST MLP
// for a block of 1000 samples.
func BenchmarkPerSample(b *testing.B) {
	ds := randDataset(1, 1000, 1, 28, 28, 10)
	m, _ := NewMLP(784, []int{50, 50}, 10, 1)
	x := ds.Float64(nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.PerSample("fc2", x, ds.Y, MSE); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ds.N)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkPerSampleCNN is the per-sample quantities of the CNN's fc layer
// (float64 forward through the convolutions) for 256 MNIST-sized inputs.
func BenchmarkPerSampleCNN(b *testing.B) {
	ds := randDataset(1, 256, 1, 28, 28, 10)
	m, _ := NewCNN(1, 28, 28, 10, 1)
	x := ds.Float64(nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.PerSample("fc", x, ds.Y, CE); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ds.N)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
