package main

import (
	"fmt"
	"io"
	"math"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
)

func init() {
	var verbose, calibrate bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "print the version, Go version, CPU and kernel level (--verbose: the tuning derived from this CPU)",
		Args:  argCount(0, 0),
		Run: func(cmd *cobra.Command, _ []string) {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "awd %s\n", version)
			fmt.Fprintf(w, "go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(w, "cpu: %s\n", kernels.CPUName())
			fmt.Fprintf(w, "kernels: %s (available: %v)\n", kernels.Current(), kernels.Available())
			if verbose || calibrate {
				t := linalg.CurrentTuning()
				if calibrate {
					t = linalg.CalibrateTwoStage()
				}
				printTuning(w, t)
			}
		},
	}
	cmd.Flags().BoolVar(&verbose, "verbose", false, "also print the cache sizes, cores, block sizes and crossovers in force")
	cmd.Flags().BoolVar(&calibrate, "calibrate", false, "measure the two-stage eigensolver crossover again now (about 3 s) and print the tuning")
	rootCmd.AddCommand(cmd)
}

func printTuning(w io.Writer, t linalg.Tuning) {
	kib := func(b int) string {
		if b <= 0 {
			return "not reported"
		}
		return fmt.Sprintf("%d KiB", b>>10)
	}
	fmt.Fprintf(w, "cores: %d, threads: %d\n", t.Cores, t.Threads)
	fmt.Fprintf(w, "caches (cpuid): L1d %s, L2 %s, L3 %s\n", kib(t.L1D), kib(t.L2), kib(t.L3))
	for _, b := range []struct {
		name string
		b    linalg.Blocks
	}{{"dgemm", t.Dgemm}, {"sgemm", t.Sgemm}} {
		fmt.Fprintf(w, "%s blocks: micro-kernel %dx%d, kc %d, mc %d, nc %d\n", b.name, b.b.MR, b.b.NR, b.b.KC, b.b.MC, b.b.NC)
	}
	n := fmt.Sprint(t.TwoStageMin)
	if t.TwoStageMin == math.MaxInt {
		n = "never"
	}
	fmt.Fprintf(w, "eigenvalues without vectors, two-stage reduction from n = %s: %s\n", n, t.TwoStageFrom)
}
