package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/awd"
	"github.com/awd-toolkit/awd/bench"
	"github.com/awd-toolkit/awd/bench/openblas"
	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
)

// Flags shared by every bench subcommand (persistent on benchCmd, so the
// eig subcommand reads the same variables).
var (
	benchThreads []int
	benchJSON    bool
	benchLevel   string
	benchTime    time.Duration
	benchNoGonum bool
	benchGonumTo int
)

// benchCmd is `awd bench`; with no subcommand it runs a short default of
// gemm and syrk.
var benchCmd = &cobra.Command{
	Use:   "bench",
	Short: "measure GEMM and SYRK against gonum and the FMA peak",
	Long: `bench measures, in one process, the speed of awd's GEMM and SYRK and of
gonum's pure-Go BLAS on the same operands, and the FMA peak of the kernel
level in use (an assembly loop of independent multiply-adds), and prints
GFLOP/s of both, their ratio and the fraction of peak. Every figure is the
best of repeated runs, peak included. With no subcommand it runs a short
default (gemm n=256,1024 and syrk N=1000 d=1000 on 1 and all threads).

Built with -tags openblas (cgo, libopenblas-dev) it also times OpenBLAS on the
same operands; run it with OPENBLAS_CORETYPE=SKYLAKEX on AVX-512 machines that
OpenBLAS 0.3.21 does not recognise.

Flops: gemm 2 n^3; syrk (C = A^T A, A N x n) N n (n+1).`,
	Args: argCount(0, 0),
	PersistentPreRunE: func(*cobra.Command, []string) error {
		if err := kernels.InitError(); err != nil {
			return err
		}
		if benchLevel != "" {
			l, err := kernels.ParseLevel(benchLevel)
			if err != nil {
				return fmt.Errorf("--level: %v", err)
			}
			if err := kernels.SetLevel(l); err != nil {
				return fmt.Errorf("--level %s: %v; 'awd version' lists the levels this CPU has", benchLevel, err)
			}
		}
		if err := positiveSizes("threads", benchThreads, 1); err != nil {
			return err
		}
		switch {
		case benchTime <= 0:
			return fmt.Errorf("--time %v: want a positive duration", benchTime)
		case benchGonumTo < 0:
			return fmt.Errorf("--gonum-max %d: want at least 0", benchGonumTo)
		}
		return nil
	},
	RunE: func(cmd *cobra.Command, _ []string) error {
		b := newBencher(cmd.OutOrStdout(), min(benchTime, 300*time.Millisecond))
		for _, n := range []int{256, 1024} {
			b.gemm(n, false)
		}
		b.syrk(1000, 1000)
		return nil
	},
}

func init() {
	pf := benchCmd.PersistentFlags()
	def := []int{1}
	if c := runtime.NumCPU(); c > 1 {
		def = append(def, c)
	}
	pf.IntSliceVar(&benchThreads, "threads", def, "goroutine counts to measure, comma-separated, each at least 1")
	pf.BoolVar(&benchJSON, "json", false, "print one JSON object per line instead of a table")
	pf.StringVar(&benchLevel, "level", "", "kernel level: generic, avx2, avx512 or neon (default: the best this CPU has, or AWD_KERNELS)")
	pf.DurationVar(&benchTime, "time", time.Second, "measuring time per case, positive (best of the runs in it)")
	pf.BoolVar(&benchNoGonum, "no-gonum", false, "skip gonum's implementation")
	pf.IntVar(&benchGonumTo, "gonum-max", 2048, "skip gonum above this matrix size, at least 0 (it runs at a few GFLOP/s)")
	rootCmd.AddCommand(benchCmd)
}

// The GEMM and SYRK subcommands of awd bench.
func init() {
	var sizes []int
	gemm := &cobra.Command{
		Use:   "gemm",
		Short: "C = A B for n x n matrices (float64)",
		Args:  argCount(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := positiveSizes("n", sizes, 1); err != nil {
				return err
			}
			for _, n := range sizes { // A, B, C and a reference's C
				if err := benchFits(fmt.Sprintf("gemm --n %d", n), 4*float64(n)*float64(n)); err != nil {
					return err
				}
			}
			b := newBencher(cmd.OutOrStdout(), benchTime)
			for _, n := range sizes {
				b.gemm(n, false)
			}
			return nil
		},
	}
	gemm.Flags().IntSliceVar(&sizes, "n", []int{256, 1024, 2048}, "matrix sizes n, comma-separated, each at least 1")

	var sizes32 []int
	sgemm := &cobra.Command{
		Use:   "sgemm",
		Short: "C = A B for n x n matrices (float32, the training precision)",
		Args:  argCount(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := positiveSizes("n", sizes32, 1); err != nil {
				return err
			}
			for _, n := range sizes32 { // float32: half the words
				if err := benchFits(fmt.Sprintf("sgemm --n %d", n), 2*float64(n)*float64(n)); err != nil {
					return err
				}
			}
			b := newBencher(cmd.OutOrStdout(), benchTime)
			for _, n := range sizes32 {
				b.gemm(n, true)
			}
			return nil
		},
	}
	sgemm.Flags().IntSliceVar(&sizes32, "n", []int{256, 1024, 2048}, "matrix sizes n, comma-separated, each at least 1")

	var dims, samples []int
	syrk := &cobra.Command{
		Use:   "syrk",
		Short: "the lower triangle of C = A^T A for an N x n matrix A (N samples of n features)",
		Args:  argCount(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := errors.Join(positiveSizes("n", dims, 1), positiveSizes("N", samples, 1)); err != nil {
				return err
			}
			for _, N := range samples { // A, C and a reference's C
				for _, n := range dims {
					if err := benchFits(fmt.Sprintf("syrk --N %d --n %d", N, n), float64(N)*float64(n)+2*float64(n)*float64(n)); err != nil {
						return err
					}
				}
			}
			b := newBencher(cmd.OutOrStdout(), benchTime)
			for _, N := range samples {
				for _, n := range dims {
					b.syrk(N, n)
				}
			}
			return nil
		},
	}
	syrk.Flags().IntSliceVar(&dims, "n", []int{2500}, "sizes n of C (features), comma-separated, each at least 1")
	syrk.Flags().IntSliceVar(&samples, "N", []int{2000}, "rows N of A (samples), comma-separated, each at least 1")

	benchCmd.AddCommand(gemm, sgemm, syrk)
}

// benchResult is one line of `awd bench --json`.
type benchResult struct {
	Op          string  `json:"op"`
	N           int     `json:"n"`
	Samples     int     `json:"N,omitempty"`
	Threads     int     `json:"threads"`
	Level       string  `json:"level"`
	OursGFLOPS  float64 `json:"ours_gflops"`
	GonumGFLOPS float64 `json:"gonum_gflops,omitempty"`
	Ratio       float64 `json:"ratio,omitempty"`
	OpenBLAS    float64 `json:"openblas_gflops,omitempty"`
	PeakGFLOPS  float64 `json:"peak_gflops"`
	PctPeak     float64 `json:"pct_peak"`
	CPU         string  `json:"cpu"`
}

// bencher measures cases and prints them as it goes, with the FMA peak of
// each thread count measured once.
type bencher struct {
	w      io.Writer
	d      time.Duration
	peaks  map[int]float64
	header bool
}

func newBencher(w io.Writer, d time.Duration) *bencher {
	return &bencher{w: w, d: d, peaks: map[int]float64{}}
}

// peak is the float64 FMA peak on t goroutines: measured again for every
// case (the other helpers of a shared machine come and go) and the best so
// far kept, so that a busy moment never inflates the fraction of peak.
func (b *bencher) peak(t int) float64 {
	p := max(b.peaks[t], bench.Peak(t, max(b.d/4, 100*time.Millisecond)))
	b.peaks[t] = p
	return p
}

func (b *bencher) gemm(n int, single bool) {
	op, flops := "gemm", bench.GemmFlops(n, n, n)
	var ours, theirs, ref func()
	if single {
		g := bench.NewGemm32(n)
		op, ours, theirs = "sgemm", g.Ours, g.Gonum
		if openblas.BlasAvailable {
			ref = func() { openblas.Sgemm(false, false, 1, g.A, g.B, 0, g.C) }
		}
	} else {
		g := bench.NewGemm(n)
		ours, theirs = g.Ours, g.Gonum
		if openblas.BlasAvailable {
			ref = func() { openblas.Dgemm(false, false, 1, g.A, g.B, 0, g.C) }
		}
	}
	for _, t := range benchThreads {
		b.measure(benchResult{Op: op, N: n, Threads: t}, flops, n, single, ours, theirs, ref)
	}
}

func (b *bencher) syrk(N, n int) {
	s := bench.NewSyrk(N, n)
	var ref func()
	if openblas.BlasAvailable {
		ref = func() { openblas.Dsyrk(linalg.Lower, true, 1, s.A, 0, s.C) }
	}
	for _, t := range benchThreads {
		b.measure(benchResult{Op: "syrk", N: n, Samples: N, Threads: t}, s.Flops(), max(n, N), false, s.Ours, s.Gonum, ref)
	}
}

// measure fills r with the rates of ours, gonum (unless skipped for size)
// and OpenBLAS (ref, when built in) on r.Threads goroutines and prints it.
// float32 work is compared with twice the float64 peak (twice the lanes per
// FMA).
func (b *bencher) measure(r benchResult, flops float64, size int, single bool, ours, theirs, ref func()) {
	restore := bench.UseThreads(r.Threads)
	defer restore()
	r.Level, r.CPU = kernels.Current().String(), kernels.CPUName()
	r.PeakGFLOPS = b.peak(r.Threads)
	if single {
		r.PeakGFLOPS *= 2
	}
	if ref != nil {
		// Ours and OpenBLAS in turn, so that a busy moment hits both.
		openblas.LapackThreads(r.Threads)
		r.OursGFLOPS, r.OpenBLAS = bench.RatePair(flops, b.d, ours, ref)
	} else {
		r.OursGFLOPS = bench.Rate(flops, b.d, true, ours)
	}
	if !benchNoGonum && size <= benchGonumTo {
		// gonum packs nothing, so it needs no warm-up; one call of a large
		// product already takes seconds.
		r.GonumGFLOPS = bench.Rate(flops, b.d/4, false, theirs)
		r.Ratio = r.OursGFLOPS / r.GonumGFLOPS
	}
	// Peak again after the case, keeping the best (see peak).
	if r.PeakGFLOPS = b.peak(r.Threads); single {
		r.PeakGFLOPS *= 2
	}
	r.PctPeak = 100 * r.OursGFLOPS / r.PeakGFLOPS
	b.print(r)
}

func (b *bencher) print(r benchResult) {
	if benchJSON {
		line, _ := json.Marshal(r)
		fmt.Fprintln(b.w, string(line))
		return
	}
	if !b.header {
		fmt.Fprintf(b.w, "# %s, %d CPUs, kernels %s; best of runs over %v per case (with OpenBLAS: both in turn, over twice that)\n", r.CPU, runtime.NumCPU(), r.Level, b.d)
		fmt.Fprintf(b.w, "%-6s %6s %6s %7s %10s %10s %8s %10s %10s %7s\n",
			"op", "n", "N", "threads", "ours GF/s", "gonum GF/s", "ratio", "OpenBLAS", "peak GF/s", "%peak")
		b.header = true
	}
	samples, gonum, ratio, ob := "-", "-", "-", "-"
	if r.OpenBLAS > 0 {
		ob = fmt.Sprintf("%.1f", r.OpenBLAS)
	}
	if r.Samples > 0 {
		samples = fmt.Sprint(r.Samples)
	}
	if r.GonumGFLOPS > 0 {
		gonum, ratio = fmt.Sprintf("%.2f", r.GonumGFLOPS), fmt.Sprintf("%.1fx", r.Ratio)
	}
	fmt.Fprintf(b.w, "%-6s %6d %6s %7d %10.1f %10s %8s %10s %10.1f %6.1f%%\n",
		r.Op, r.N, samples, r.Threads, r.OursGFLOPS, gonum, ratio, ob, r.PeakGFLOPS, r.PctPeak)
}

// benchFits refuses a case whose operands (words float64 numbers, or
// their bytes' worth) would not fit the memory budget (awd.MemoryBudget:
// GOMEMLIMIT, else 90% of this machine's memory), before they are
// allocated: an out-of-memory crash of the runtime is no answer.
func benchFits(what string, words float64) error {
	need, budget := 8*words*1.1, awd.MemoryBudget(0)
	if need > float64(budget) {
		return fmt.Errorf("%s needs about %s, more than the memory budget of %s (GOMEMLIMIT in Go's units, such as 8GiB, else 90%% of this machine's memory)",
			what, awd.FormatBytes(int64(min(need, 1<<62))), awd.FormatBytes(budget))
	}
	return nil
}

// positiveSizes checks that every value of the list flag name is at least
// lo.
func positiveSizes(name string, v []int, lo int) error {
	for _, x := range v {
		if x < lo {
			return fmt.Errorf("--%s %d: want at least %d", name, x, lo)
		}
	}
	return nil
}
