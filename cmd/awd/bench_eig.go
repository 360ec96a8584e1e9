package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"

	"github.com/awd-toolkit/awd/bench"
	"github.com/awd-toolkit/awd/bench/openblas"
	"github.com/awd-toolkit/awd/kernels"
	"github.com/awd-toolkit/awd/linalg"
)

// eigResult is one line of `awd bench eig --json`. Times are seconds, the
// best of the runs made; ratios are ours/theirs (below 1: ours is faster).
type eigResult struct {
	Op          string  `json:"op"` // eig (all pairs) or eig-top (k largest)
	N           int     `json:"n"`
	K           int     `json:"k"`
	Vectors     bool    `json:"vectors"`
	Threads     int     `json:"threads"`
	Level       string  `json:"level"`
	OursS       float64 `json:"ours_s"`
	GonumS      float64 `json:"gonum_s,omitempty"`
	LapackS     float64 `json:"lapack_s,omitempty"`
	OursCPU     float64 `json:"ours_cpu_s"`
	LapackCPU   float64 `json:"lapack_cpu_s,omitempty"`
	RatioGonum  float64 `json:"ratio_gonum,omitempty"`
	RatioLapack float64 `json:"ratio_lapack,omitempty"`
	Lapack      string  `json:"lapack,omitempty"`
	CPU         string  `json:"cpu"`
}

func init() {
	var sizes []int
	var k int
	var vectors bool
	eig := &cobra.Command{
		Use:   "eig",
		Short: "symmetric eigensolver (all pairs, or the top k) against gonum and LAPACK",
		Long: `eig times linalg.EigSym (or EigSymTop with --k) on a random symmetric
n x n matrix, and in the same process gonum's Dsyev (all pairs; it has no
subset driver, so its time for --k is the full solve) and, when the binary
is built with -tags openblas, LAPACK's dsyevd (all pairs) or dsyevr (top k)
from OpenBLAS (run with OPENBLAS_CORETYPE=SKYLAKEX for its AVX-512 kernels).
Each time is the best of the runs that fit in --time (at least one), after
one untimed warm-up run of ours and of LAPACK (first touches of fresh memory
are expensive on virtual machines and would favour whichever runs second). gonum
is skipped above --gonum-max (it needs minutes at n = 2500) or with
--no-gonum.`,
		Args: argCount(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			header := false
			if err := positiveSizes("n", sizes, 2); err != nil {
				return err
			}
			for _, n := range sizes { // the matrix, vectors and work of two solvers
				if err := benchFits(fmt.Sprintf("eig --n %d", n), 6*float64(n)*float64(n)); err != nil {
					return err
				}
			}
			for _, n := range sizes {
				if k < 0 || k > n {
					return fmt.Errorf("--k %d: want 0 (all pairs) up to --n %d", k, n)
				}
				a := randomSym(n, 1)
				for _, t := range benchThreads {
					r, err := benchEig(a, k, vectors, t)
					if err != nil {
						return err
					}
					printEig(w, r, &header)
				}
			}
			return nil
		},
	}
	eig.Flags().IntSliceVar(&sizes, "n", []int{500, 2500}, "matrix sizes n, comma-separated, each at least 2")
	eig.Flags().IntVar(&k, "k", 0, "compute only the k largest pairs, 0 to the smallest --n (0: all)")
	eig.Flags().BoolVar(&vectors, "vectors", true, "compute eigenvectors too")
	benchCmd.AddCommand(eig)
}

// randomSym returns a symmetric matrix with uniform(-1, 1) entries.
func randomSym(n int, seed uint64) linalg.Dense {
	rng := rand.New(rand.NewPCG(seed, 0xe16))
	a := linalg.NewDense(n, n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			v := 2*rng.Float64() - 1
			a.Data[i*n+j], a.Data[j*n+i] = v, v
		}
	}
	return a
}

// bestOf runs f at least once and until d has passed, returning the best
// wall time and the best process CPU time in seconds. On a shared machine
// the CPU time of a one-thread run is the steadier measure of the work
// (it excludes time spent waiting for a core, not memory stalls).
//
// With warm set, one untimed run comes first: the first touch of fresh
// memory is expensive on virtual machines (about 3 ms per MB here, a
// quarter of an n = 2500 solve), and whichever solver runs second in a
// process would otherwise get the memory the first one freed already
// mapped.
func bestOf(d time.Duration, warm bool, f func() error) (wall, cpu float64, err error) {
	if warm {
		if err := f(); err != nil {
			return 0, 0, err
		}
	}
	for start := time.Now(); ; {
		c0 := cpuSeconds()
		t0 := time.Now()
		if err := f(); err != nil {
			return 0, 0, err
		}
		el := time.Since(t0).Seconds()
		ce := cpuSeconds() - c0
		if wall == 0 || el < wall {
			wall = el
		}
		if cpu == 0 || ce < cpu {
			cpu = ce
		}
		if time.Since(start) >= d {
			return wall, cpu, nil
		}
	}
}

// timing is the best wall and CPU seconds of the runs of one solver.
type timing struct{ wall, cpu float64 }

// bestOfPair is bestOf (with its warm-up) for two solvers called in turn,
// a, b, a, b, ..., until about 2d has passed (at least one timed run each).
func bestOfPair(d time.Duration, fa, fb func() error) (t [2]timing, err error) {
	fs := [2]func() error{fa, fb}
	for _, f := range fs {
		if err := f(); err != nil {
			return t, err
		}
	}
	for start := time.Now(); t[0].wall == 0 || time.Since(start) < 2*d; {
		for i, f := range fs {
			c0 := cpuSeconds()
			t0 := time.Now()
			if err := f(); err != nil {
				return t, err
			}
			el, ce := time.Since(t0).Seconds(), cpuSeconds()-c0
			if t[i].wall == 0 || el < t[i].wall {
				t[i].wall = el
			}
			if t[i].cpu == 0 || ce < t[i].cpu {
				t[i].cpu = ce
			}
		}
	}
	return t, nil
}

func benchEig(a linalg.Dense, k int, vectors bool, t int) (eigResult, error) {
	n := a.Rows
	restore := bench.UseThreads(t)
	defer restore()
	openblas.LapackThreads(t)
	r := eigResult{Op: "eig", N: n, K: n, Vectors: vectors, Threads: t,
		Level: kernels.Current().String(), CPU: kernels.CPUName()}
	if k > 0 && k < n {
		r.Op, r.K = "eig-top", k
	}
	ours := func() error {
		var e error
		if r.Op == "eig" {
			_, e = linalg.EigSym(a, vectors)
		} else {
			_, e = linalg.EigSymTop(a, k, vectors)
		}
		return e
	}
	var err error
	if !openblas.LapackAvailable {
		r.OursS, r.OursCPU, err = bestOf(benchTime, true, ours)
		if err != nil {
			return r, err
		}
	} else {
		c := linalg.NewDense(n, n)
		wv := make([]float64, n)
		var z []float64
		if r.Op == "eig-top" && vectors {
			z = make([]float64, n*k)
		}
		r.Lapack = "dsyevd"
		if r.Op == "eig-top" {
			r.Lapack = "dsyevr"
		}
		lapackRun := func() error {
			c.Copy(a)
			if r.Op == "eig" {
				return openblas.Dsyevd(vectors, n, c.Data, wv)
			}
			_, e := openblas.Dsyevr(vectors, n, c.Data, n-k+1, n, wv, z)
			return e
		}
		// In turn, so that a busy moment of the machine hits both.
		tm, err := bestOfPair(benchTime, ours, lapackRun)
		if err != nil {
			return r, err
		}
		r.OursS, r.OursCPU, r.LapackS, r.LapackCPU = tm[0].wall, tm[0].cpu, tm[1].wall, tm[1].cpu
		r.RatioLapack = r.OursS / r.LapackS
	}
	if !benchNoGonum && n <= benchGonumTo {
		if r.GonumS, err = benchGonumEig(a, vectors); err != nil {
			return r, err
		}
		r.RatioGonum = r.OursS / r.GonumS
	}
	return r, nil
}

// benchGonumEig times gonum's Dsyev on a (all eigenpairs, or values only).
func benchGonumEig(a linalg.Dense, vectors bool) (float64, error) {
	n := a.Rows
	c := linalg.NewDense(n, n)
	wv := make([]float64, n)
	job := lapack.EVNone
	if vectors {
		job = lapack.EVCompute
	}
	impl := lapackgonum.Implementation{}
	work := []float64{0}
	impl.Dsyev(job, blas.Lower, n, c.Data, n, wv, work, -1)
	work = make([]float64, int(work[0]))
	s, _, err := bestOf(0, false, func() error {
		c.Copy(a)
		if !impl.Dsyev(job, blas.Lower, n, c.Data, n, wv, work, len(work)) {
			return fmt.Errorf("gonum Dsyev n=%d did not converge", n)
		}
		return nil
	})
	return s, err
}

func printEig(w io.Writer, r eigResult, header *bool) {
	if benchJSON {
		line, _ := json.Marshal(r)
		fmt.Fprintln(w, string(line))
		return
	}
	if !*header {
		fmt.Fprintf(w, "# %s, %d CPUs, kernels %s; best of runs over %v per case after a warm-up (with LAPACK: both in turn, over twice that); ratio = ours/theirs\n",
			r.CPU, runtime.NumCPU(), r.Level, benchTime)
		fmt.Fprintf(w, "%-8s %6s %6s %5s %7s %9s %9s %8s %9s %8s %10s %10s\n",
			"op", "n", "k", "vecs", "threads", "ours s", "gonum s", "ratio", "lapack s", "ratio", "ours cpu", "lapack cpu")
		*header = true
	}
	gs, gr, ls, lr, lc := "-", "-", "-", "-", "-"
	if r.GonumS > 0 {
		gs, gr = fmt.Sprintf("%.3f", r.GonumS), fmt.Sprintf("%.3f", r.RatioGonum)
	}
	if r.LapackS > 0 {
		ls, lr, lc = fmt.Sprintf("%.3f", r.LapackS), fmt.Sprintf("%.3f", r.RatioLapack), fmt.Sprintf("%.3f", r.LapackCPU)
	}
	fmt.Fprintf(w, "%-8s %6d %6d %5v %7d %9.3f %9s %8s %9s %8s %10.3f %10s\n",
		r.Op, r.N, r.K, r.Vectors, r.Threads, r.OursS, gs, gr, ls, lr, r.OursCPU, lc)
}
