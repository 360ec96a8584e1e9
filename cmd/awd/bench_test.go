package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/awd-toolkit/awd/kernels"
)

// runBench runs `awd bench args...` with every scalar bench flag back at
// its default and every list flag empty (pflag appends to a list flag set
// in an earlier Execute, so each case passes all the lists it needs), and
// returns what it printed.
func runBench(t *testing.T, args ...string) (string, error) {
	t.Helper()
	reset := func(fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				sv.Replace(nil)
			} else {
				f.Value.Set(f.DefValue)
			}
			f.Changed = false
		})
	}
	reset(benchCmd.PersistentFlags())
	for _, c := range append([]*cobra.Command{benchCmd}, benchCmd.Commands()...) {
		reset(c.Flags())
	}
	// --level switches the kernels for the whole process: restore them.
	defer kernels.SetLevel(kernels.Current())
	var out bytes.Buffer
	rootCmd.SetArgs(append([]string{"bench"}, args...))
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	err := rootCmd.Execute()
	return out.String(), err
}

func TestBenchJSON(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		lines int
		op    string
	}{
		{"gemm", []string{"gemm", "--n", "5,40", "--threads", "1,2"}, 4, "gemm"},
		{"sgemm", []string{"sgemm", "--n", "33", "--threads", "1,2"}, 2, "sgemm"},
		{"syrk", []string{"syrk", "--n", "30,7", "--N", "20", "--threads", "2"}, 2, "syrk"},
		{"no-gonum", []string{"gemm", "--n", "16", "--threads", "1", "--no-gonum"}, 1, "gemm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--json", "--time", "1ms", "--level", "generic")
			out, err := runBench(t, args...)
			if err != nil {
				t.Fatalf("awd bench %v: %v\n%s", args, err, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != tc.lines {
				t.Fatalf("got %d lines, want %d:\n%s", len(lines), tc.lines, out)
			}
			for _, l := range lines {
				var r benchResult
				if err := json.Unmarshal([]byte(l), &r); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
				if r.Op != tc.op || r.N == 0 || r.Threads == 0 || r.Level != "generic" ||
					!(r.OursGFLOPS > 0) || !(r.PeakGFLOPS > 0) {
					t.Errorf("incomplete result %+v", r)
				}
				if (r.GonumGFLOPS > 0) == (tc.name == "no-gonum") {
					t.Errorf("gonum_gflops = %v with args %v", r.GonumGFLOPS, args)
				}
				if (r.Samples > 0) != (tc.op == "syrk") {
					t.Errorf("N = %d for op %s", r.Samples, r.Op)
				}
			}
		})
	}
}

func TestBenchErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gemm", "--n", "4", "--threads", "1", "--level", "sse9"}, `--level: unknown kernel level "sse9" (want generic, avx2, avx512 or neon)`},
		{[]string{"gemm", "--n", "4", "--threads", "1", "--level", unsupportedLevel()}, "--level " + unsupportedLevel() + ": kernel level " + unsupportedLevel() + " is not supported"},
		{[]string{"gemm", "--n", "4", "--threads", "0"}, "--threads"},
		{[]string{"frobnicate"}, "frobnicate"},
		{[]string{"gemm", "--n", "-5"}, "--n -5"},
		{[]string{"sgemm", "--n", "0"}, "--n 0"},
		{[]string{"syrk", "--N", "0"}, "--N 0"},
		{[]string{"gemm", "--n", "4", "--time", "-1s"}, "--time"},
		{[]string{"eig", "--n", "-3"}, "--n -3"},
		{[]string{"eig", "--n", "10", "--k", "11"}, "--k 11"},
		{[]string{"scaling", "--n", "0"}, "--n 0"},
		// Sizes beyond the memory budget are refused before allocating
		// (the runtime's out-of-memory crash was the answer before).
		{[]string{"gemm", "--n", "1000000", "--threads", "1"}, "gemm --n 1000000 needs about 32.0 TiB, more than the memory budget"},
		{[]string{"sgemm", "--n", "2000000", "--threads", "1"}, "sgemm --n 2000000 needs about"},
		{[]string{"syrk", "--N", "100000000", "--n", "100000", "--threads", "1"}, "syrk --N 100000000 --n 100000 needs about"},
		{[]string{"eig", "--n", "300000", "--threads", "1"}, "eig --n 300000 needs about"},
		{[]string{"scaling", "--n", "1000000", "--k", "10"}, "scaling --n 1000000 needs about"},
		{[]string{"cnn", "--n", "1000000000", "--threads", "1"}, "cnn --n 1000000000 --batch 128 needs about"},
	} {
		out, err := runBench(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("awd bench %v: err %v, want one mentioning %q (output %q)", tc.args, err, tc.want, out)
		}
	}
}

// TestBenchScalingJSON runs the scaling table on tiny sizes and checks that
// every case reports times, a serial fraction in [0, 1] and predictions
// that agree with it.
func TestBenchScalingJSON(t *testing.T) {
	out, err := runBench(t, "scaling", "--n", "40", "--gemm-n", "24", "--k", "5", "--threads", "1,2", "--json", "--time", "1ms", "--level", "generic")
	if err != nil {
		t.Fatalf("awd bench scaling: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want 5:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var r scalingResult
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if r.P != 2 || !(r.T1 > 0) || !(r.TP > 0) || r.Serial < 0 || r.Serial > 1 || len(r.Bandwidth) != 2 || !(r.Bandwidth[0] > 0) {
			t.Errorf("incomplete result %+v", r)
		}
		if want := 1 / (r.Serial + (1-r.Serial)/32); math.Abs(r.Predict["32"]-want) > 1e-9*want {
			t.Errorf("%s: predicted S32 %v, want %v for s = %v", r.Case, r.Predict["32"], want, r.Serial)
		}
	}
}

// TestBenchCNN runs `awd bench cnn` on a tiny epoch, with a stand-in for
// bench/torch_cnn.py (a shell script printing one JSON line), and checks
// both rows; a failing reference is an error naming the script.
func TestBenchCNN(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "torch.sh")
	line := `{"impl": "pytorch 0", "threads": 1, "samples_per_s": 10.0, "conv_gflops": 5.0, "conv_s_per_epoch": 0.5, "epoch_s": 1.0}`
	if err := os.WriteFile(fake, []byte("echo '"+line+"'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runBench(t, "cnn", "--n", "6", "--batch", "4", "--threads", "1", "--time", "1ms", "--json", "--torch", fake, "--python", "/bin/sh")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), out)
	}
	for i, l := range lines {
		var r cnnResult
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		op := []string{"cnn", "cnn-pytorch"}[i]
		if r.Op != op || r.Threads != 1 || r.Samples != 6 || r.Batch != 4 || !(r.SamplesPerS > 0) || !(r.ConvGFLOPS > 0) ||
			!(r.PeakGFLOPS > 0) || !(r.PctPeak > 0) || !(r.ConvShare > 0 && r.ConvShare <= 1) {
			t.Errorf("incomplete %s row %+v", op, r)
		}
	}
	bad := filepath.Join(dir, "bad.sh")
	if err := os.WriteFile(bad, []byte("echo boom >&2; exit 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runBench(t, "cnn", "--n", "6", "--batch", "4", "--threads", "1", "--time", "1ms", "--torch", bad, "--python", "/bin/sh"); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failing reference: err %v, want its stderr", err)
	}
}

// unsupportedLevel is a kernel level this CPU or build lacks: neon on
// amd64, avx512 elsewhere.
func unsupportedLevel() string {
	for _, l := range []string{"neon", "avx512"} {
		if lv, err := kernels.ParseLevel(l); err == nil && !kernels.Supported(lv) {
			return l
		}
	}
	return "neon"
}

// TestBenchHelpStatesRanges: every numeric flag of awd bench and its
// subcommands says in its help line the range its check enforces.
func TestBenchHelpStatesRanges(t *testing.T) {
	bench, _, err := rootCmd.Find([]string{"bench"})
	if err != nil {
		t.Fatal(err)
	}
	check := func(path string, f *pflag.Flag) {
		switch f.Value.Type() {
		case "int", "intSlice", "duration":
		default:
			return
		}
		if !strings.Contains(f.Usage, "at least") && !strings.Contains(f.Usage, "positive") && !strings.Contains(f.Usage, " to ") {
			t.Errorf("%s --%s: the help line %q does not state the allowed range", path, f.Name, f.Usage)
		}
	}
	bench.PersistentFlags().VisitAll(func(f *pflag.Flag) { check("awd bench", f) })
	for _, c := range bench.Commands() {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { check(c.CommandPath(), f) })
	}
}
