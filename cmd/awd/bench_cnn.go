package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/awd-toolkit/awd/bench"
	"github.com/awd-toolkit/awd/kernels"
)

// cnnResult is one line of `awd bench cnn --json`.
type cnnResult struct {
	Op          string  `json:"op"` // cnn, or cnn-pytorch for the reference
	Samples     int     `json:"samples"`
	Batch       int     `json:"batch"`
	Threads     int     `json:"threads"`
	Level       string  `json:"level"`
	SamplesPerS float64 `json:"samples_per_s"`
	ConvGFLOPS  float64 `json:"conv_gflops"`
	PeakGFLOPS  float64 `json:"peak_gflops"` // float32 FMA peak
	PctPeak     float64 `json:"pct_peak"`    // convolutions' share of the peak
	ConvShare   float64 `json:"conv_share"`  // share of the training time in the convolutions
	PoolShare   float64 `json:"pool_share,omitempty"`
	CPU         string  `json:"cpu"`
}

func init() {
	var n, batch int
	var script, python string
	cnn := &cobra.Command{
		Use:   "cnn",
		Short: "train the CNN (MNIST shape, float32) and its convolutions against the FMA peak",
		Long: `cnn trains the CNN of the paper (features [32, M, 64, M, 128, 128, M],
fc 128 -> 20, classifier 20 -> 10) on --n random 1 x 28 x 28 inputs with
batches of --batch, SGD as awd train does, one epoch per run, and reports
the best epoch's samples per second, the convolutions' GFLOP/s (their useful
flops, 2 h w in out 9 per sample and pass: forward, weight gradient, input
gradient except at the first layer; bias and ReLU included in their time)
and that rate as a share of the float32 FMA peak (twice the float64 peak loop
measured in the same process), after one untimed warm-up epoch.

With --torch PATH (bench/torch_cnn.py of the repository) it then runs the
same model and training step in PyTorch on the CPU with the same sizes and
thread counts (--python, Debian's python3-torch), in the same process tree,
and prints its rows below ours. awd itself never needs Python.`,
		Args: argCount(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 || batch < 1 {
				return fmt.Errorf("--n %d, --batch %d: want at least 1", n, batch)
			}
			// float32 images (784 values each) and a batch's activations
			// and gradients (about 60,000 values per sample).
			if err := benchFits(fmt.Sprintf("cnn --n %d --batch %d", n, batch), (784*float64(n)+60000*float64(batch))/2); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			header := false
			peaks := map[int]float64{}
			for _, t := range benchThreads {
				printCNN(w, benchCNN(n, batch, t, benchTime, peaks), &header)
			}
			if script == "" {
				return nil
			}
			rows, err := torchCNN(python, script, n, batch)
			if err != nil {
				return err
			}
			for _, r := range rows {
				r.PeakGFLOPS = peaks[r.Threads]
				if r.PeakGFLOPS > 0 {
					r.PctPeak = 100 * r.ConvGFLOPS / r.PeakGFLOPS
				}
				printCNN(w, r, &header)
			}
			return nil
		},
	}
	cnn.Flags().IntVar(&n, "n", 1024, "training samples per epoch, at least 1")
	cnn.Flags().IntVar(&batch, "batch", 128, "mini-batch size, at least 1")
	cnn.Flags().StringVar(&script, "torch", "", "path of bench/torch_cnn.py: also time PyTorch")
	cnn.Flags().StringVar(&python, "python", "/usr/bin/python3", "the Python that has torch (for --torch)")
	benchCmd.AddCommand(cnn)
}

// benchCNN trains epochs of n samples on t goroutines for about d after a
// warm-up epoch and keeps the fastest; peaks[t] is the best float32 peak so
// far (measured before and after).
func benchCNN(n, batch, t int, d time.Duration, peaks map[int]float64) cnnResult {
	restore := bench.UseThreads(t)
	defer restore()
	peak := func() {
		peaks[t] = max(peaks[t], 2*bench.Peak(t, max(d/4, 100*time.Millisecond)))
	}
	peak()
	c := bench.NewCNN(n, batch)
	c.Epoch()
	var best = c.Epoch()
	for start := time.Now(); time.Since(start) < d; {
		if p := c.Epoch(); p.Total < best.Total {
			best = p
		}
	}
	peak()
	r := cnnResult{Op: "cnn", Samples: n, Batch: batch, Threads: t, Level: kernels.Current().String(), CPU: kernels.CPUName(),
		SamplesPerS: float64(best.Samples) / best.Total.Seconds(), ConvGFLOPS: best.ConvFlops / best.Conv.Seconds() / 1e9,
		PeakGFLOPS: peaks[t], ConvShare: best.Conv.Seconds() / best.Total.Seconds(), PoolShare: best.Pool.Seconds() / best.Total.Seconds()}
	r.PctPeak = 100 * r.ConvGFLOPS / r.PeakGFLOPS
	return r
}

// torchCNN runs bench/torch_cnn.py for benchThreads and reads its JSON lines.
func torchCNN(python, script string, n, batch int) ([]cnnResult, error) {
	var ts []string
	for _, t := range benchThreads {
		ts = append(ts, strconv.Itoa(t))
	}
	cmd := exec.Command(python, script, "--json", "--n", strconv.Itoa(n), "--batch", strconv.Itoa(batch), "--threads", strings.Join(ts, ","))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v: %s", python, script, err, strings.TrimSpace(stderr.String()))
	}
	var rows []cnnResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var p struct {
			Impl        string  `json:"impl"`
			Threads     int     `json:"threads"`
			SamplesPerS float64 `json:"samples_per_s"`
			ConvGFLOPS  float64 `json:"conv_gflops"`
			ConvS       float64 `json:"conv_s_per_epoch"`
			EpochS      float64 `json:"epoch_s"`
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return nil, fmt.Errorf("%s: bad output line %q: %v", script, sc.Text(), err)
		}
		rows = append(rows, cnnResult{Op: "cnn-pytorch", Samples: n, Batch: batch, Threads: p.Threads, Level: p.Impl, CPU: kernels.CPUName(),
			SamplesPerS: p.SamplesPerS, ConvGFLOPS: p.ConvGFLOPS, ConvShare: p.ConvS / p.EpochS})
	}
	return rows, nil
}

func printCNN(w io.Writer, r cnnResult, header *bool) {
	if benchJSON {
		line, _ := json.Marshal(r)
		fmt.Fprintln(w, string(line))
		return
	}
	if !*header {
		fmt.Fprintf(w, "# %s, %d CPUs; CNN on %d MNIST-shaped samples, batch %d, best epoch\n", r.CPU, runtime.NumCPU(), r.Samples, r.Batch)
		fmt.Fprintf(w, "%-12s %-18s %7s %10s %10s %10s %7s %6s %6s\n",
			"op", "level", "threads", "samples/s", "conv GF/s", "peak GF/s", "%peak", "conv%", "pool%")
		*header = true
	}
	pool := "-"
	if r.PoolShare > 0 {
		pool = fmt.Sprintf("%.0f%%", 100*r.PoolShare)
	}
	fmt.Fprintf(w, "%-12s %-18s %7d %10.0f %10.1f %10.1f %6.1f%% %5.0f%% %6s\n",
		r.Op, r.Level, r.Threads, r.SamplesPerS, r.ConvGFLOPS, r.PeakGFLOPS, r.PctPeak, 100*r.ConvShare, pool)
}
