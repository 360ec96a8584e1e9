package awd

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/awd-toolkit/awd/linalg"
)

// BenchmarkAccumulate times the accumulation for the MNIST MLP layer fc2
// (m = n = 50, d = 2500, L = 10) on random ReLU-shaped samples: Add (C, H,
// M2 in one GEMM), AddPairs (C_pair), and Finish. GFLOP/s counts the packed
// GEMM flops 2 N T(m) T(n) per Kronecker block (T(k) = k(k+1)/2); s/20k is
// the time scaled to the N = 20000.
func BenchmarkAccumulate(b *testing.B) {
	const m, in, l = 50, 50, 10
	n := 2048
	rng := rand.New(rand.NewPCG(1, 1))
	ps := randomPerSample(rng, n, m, in, l, "ce")
	w := randomW(rng, m, in)
	da := PartnerDiff(linalg.DenseOf(n, in, ps.A), randomPartner(rng, n))
	blockFlops := 2 * float64(n) * float64(triLen(m)) * float64(triLen(in))
	for _, tc := range []struct {
		name   string
		blocks float64
		f      func(st *State)
	}{
		{"add", nBlocks, func(st *State) { st.Add(ps) }},
		{"pairs", 1, func(st *State) { st.AddPairs(ps, w, da) }},
		{"all", nBlocks + 1, func(st *State) { st.Add(ps); st.AddPairs(ps, w, da) }},
	} {
		b.Run(fmt.Sprintf("d=%d/N=%d/%s", m*in, n, tc.name), func(b *testing.B) {
			st := NewState(m, in, StateOptions{})
			for b.Loop() {
				tc.f(st)
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(tc.blocks*blockFlops/sec/1e9, "GFLOP/s")
			b.ReportMetric(sec*20000/float64(n), "s/20k")
		})
	}
	b.Run(fmt.Sprintf("d=%d/N=%d/finish", m*in, n), func(b *testing.B) {
		st := NewState(m, in, StateOptions{})
		st.Add(ps)
		st.AddPairs(ps, w, da)
		for b.Loop() {
			if _, err := st.Finish(50, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAccumulateMNIST is the target case: fc2 of the MNIST MLP
// (d = 2500) and N = 20000 samples, C, H, M2 and C_pair accumulated and
// finished (batch 50), as one `awd analyze` does it, in chunks of 2000
// samples. It reports seconds and GFLOP/s of the packed GEMMs.
func BenchmarkAccumulateMNIST(b *testing.B) {
	const m, in, l, n, chunk = 50, 50, 10, 20000, 2000
	rng := rand.New(rand.NewPCG(2, 2))
	ps := randomPerSample(rng, n, m, in, l, "ce")
	w := randomW(rng, m, in)
	da := PartnerDiff(linalg.DenseOf(n, in, ps.A), randomPartner(rng, n))
	flops := (nBlocks + 1) * 2 * float64(n) * float64(triLen(m)) * float64(triLen(in))
	b.Run(fmt.Sprintf("d=%d/N=%d", m*in, n), func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuSeconds()
		for b.Loop() {
			st := NewState(m, in, StateOptions{})
			for s0 := 0; s0 < n; s0 += chunk {
				sub := subSamples(ps, s0, s0+chunk)
				st.Add(sub)
				st.AddPairs(sub, w, da.View(s0, 0, chunk, in))
			}
			if _, err := st.Finish(50, false); err != nil {
				b.Fatal(err)
			}
		}
		sec := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(sec, "s")
		b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s")
		b.ReportMetric(flops/sec/1e9, "GFLOP/s")
	})
}
