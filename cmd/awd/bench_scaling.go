package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/bench"
	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
)

// scalingResult is one line of `awd bench scaling --json`: the best
// one-thread and p-thread wall times of a case, the serial fraction they
// imply (Amdahl) and the speed-ups it predicts.
type scalingResult struct {
	Case      string             `json:"case"`
	Level     string             `json:"level"`
	P         int                `json:"p"`
	T1        float64            `json:"t1_s"`
	TP        float64            `json:"tp_s"`
	SpeedUp   float64            `json:"speedup"`
	Serial    float64            `json:"serial_fraction"`
	Predict   map[string]float64 `json:"predicted_speedup"`
	Bandwidth []float64          `json:"bandwidth_gbs,omitempty"` // the bandwidth row: 1 and p threads
	CPU       string             `json:"cpu"`
}

const scalingHelp = `scaling times dgemm (n x n), dsyrk (2000 x n), and the eigensolver on an
n x n matrix (all pairs, the top k, values only) on one thread and on p
threads (the largest of --threads), alternating the two so that a busy
moment hits both, and keeps the best of each. From the speed-up S it
derives Amdahl's serial fraction s = (p T_p/T_1 - 1)/(p - 1) and the
speed-up it predicts on 16, 32 and 128 threads, 1/(s + (1-s)/q). It also
measures the memory bandwidth (y += a x over arrays beyond the caches) on 1
and p threads: the phases that stream memory (the symmetric matrix-vector
products of the one-stage reduction, packing) scale with it, not with the
cores. bench/README.md has the model and its assumptions.`

func init() {
	var n, gemmN, k int
	scaling := &cobra.Command{
		Use:   "scaling",
		Short: "one-thread against p-thread times of each kernel, the serial fraction and the predicted many-core speed-up",
		Long:  scalingHelp,
		Args:  argCount(0, 0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return runScaling(cmd.OutOrStdout(), n, gemmN, k) },
	}
	scaling.Flags().IntVar(&n, "n", 2500, "order of the eigenproblems and of SYRK's result, at least 2")
	scaling.Flags().IntVar(&gemmN, "gemm-n", 2048, "order of the GEMM, at least 1")
	scaling.Flags().IntVar(&k, "k", 1000, "pairs of the top-k case, 1 to --n")
	benchCmd.AddCommand(scaling)
}

// alternate runs f on 1 and on p threads in turn, one warm-up of each
// first, until d has passed (at least twice each), and returns the best
// wall time of each.
func alternate(f func(), p int, d time.Duration) (t1, tp float64) {
	run := func(t int) float64 {
		defer bench.UseThreads(t)()
		t0 := time.Now()
		f()
		return time.Since(t0).Seconds()
	}
	run(1)
	run(p)
	t1, tp = run(1), run(p)
	for start := time.Now(); time.Since(start) < d; {
		t1, tp = min(t1, run(1)), min(tp, run(p))
	}
	return t1, tp
}

// randSym is a random symmetric n x n matrix with N(0, 1) entries.
func randSym(n int) linalg.Dense {
	a := linalg.NewDense(n, n)
	rng := rand.New(rand.NewPCG(uint64(n), 23))
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			v := rng.NormFloat64()
			a.Data[i*n+j], a.Data[j*n+i] = v, v
		}
	}
	return a
}

// runScaling is `awd bench scaling`.
func runScaling(w io.Writer, n, gemmN, k int) error {
	if n < 2 || gemmN < 1 || k < 1 || k > n {
		return fmt.Errorf("--n %d, --gemm-n %d, --k %d: want n >= 2, gemm-n >= 1 and 1 <= k <= n", n, gemmN, k)
	}
	if err := errors.Join(benchFits(fmt.Sprintf("scaling --n %d", n), 8*float64(n)*float64(n)+2000*float64(n)),
		benchFits(fmt.Sprintf("scaling --gemm-n %d", gemmN), 4*float64(gemmN)*float64(gemmN))); err != nil {
		return err
	}
	p := slices.Max(benchThreads)
	if p < 2 {
		p = 2
	}
	d := min(300*time.Millisecond, benchTime)
	bw := []float64{bench.Bandwidth(1, d), bench.Bandwidth(p, d)}
	sym := randSym(n)
	g, s := bench.NewGemm(gemmN), bench.NewSyrk(2000, n)
	cases := []struct {
		name string
		f    func()
	}{
		{fmt.Sprintf("dgemm n=%d", gemmN), g.Ours},
		{fmt.Sprintf("dsyrk N=2000 n=%d", n), s.Ours},
		{fmt.Sprintf("eig n=%d all pairs", n), func() { linalg.EigSym(sym, true) }},
		{fmt.Sprintf("eig n=%d top %d", n, k), func() { linalg.EigSymTop(sym, k, true) }},
		{fmt.Sprintf("eig n=%d values", n), func() { linalg.EigSym(sym, false) }},
	}
	if !benchJSON {
		fmt.Fprintf(w, "# %s, %d CPUs, kernels %s; best of alternating 1- and %d-thread runs over %v per case\n",
			kernels.CPUName(), runtime.NumCPU(), kernels.Current(), p, benchTime)
		fmt.Fprintf(w, "# memory bandwidth (y += a x, 64 MiB per thread): 1 thread %.1f GB/s, %d threads %.1f GB/s (%.1f per thread)\n",
			bw[0], p, bw[1], bw[1]/float64(p))
		fmt.Fprintf(w, "%-24s %8s %8s %6s %7s %6s %6s %6s\n", "case", "T1 s", fmt.Sprintf("T%d s", p), "S", "serial", "S16", "S32", "S128")
	}
	for _, c := range cases {
		t1, tp := alternate(c.f, p, benchTime)
		r := scalingResult{Case: c.name, Level: kernels.Current().String(), P: p, T1: t1, TP: tp,
			SpeedUp: t1 / tp, Serial: bench.SerialFraction(t1, tp, p), CPU: kernels.CPUName(),
			Predict: map[string]float64{}, Bandwidth: bw}
		for _, q := range []int{16, 32, 128} {
			r.Predict[fmt.Sprint(q)] = bench.AmdahlSpeedup(r.Serial, q)
		}
		if benchJSON {
			line, _ := json.Marshal(r)
			fmt.Fprintln(w, string(line))
			continue
		}
		fmt.Fprintf(w, "%-24s %8.3f %8.3f %6.2f %7.3f %6.1f %6.1f %6.1f\n", r.Case, t1, tp, r.SpeedUp, r.Serial,
			r.Predict["16"], r.Predict["32"], r.Predict["128"])
	}
	return nil
}
