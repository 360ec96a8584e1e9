package awd

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/awd-toolkit/awd/nn"
)

// TestCgroupMemory reads the tightest limit of the process's control groups
// from fake hierarchies: a v2 group under a parent with a smaller
// memory.max, a v1 memory group, "max" and v1's "unlimited" value ignored,
// and nothing set.
func TestCgroupMemory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v2, v1 := filepath.Join(dir, "v2"), filepath.Join(dir, "v1")
	write("v2/slurm/job_7/memory.max", "max\n")
	write("v2/slurm/memory.max", "3221225472\n")
	write("v2/memory.max", "max\n")
	write("v1/process_api/abc/memory.limit_in_bytes", "2147483648\n")
	write("v1/memory.limit_in_bytes", "9223372036854771712\n")
	write("v1/free/memory.limit_in_bytes", "9223372036854771712\n")
	for _, c := range []struct {
		name, self string
		want       int64
	}{
		{"v2 parent's limit", "0::/slurm/job_7\n", 3 << 30},
		{"v1 memory controller", "9:name=systemd:/\n4:memory:/process_api/abc\n0::/\n", 2 << 30},
		{"both: the smaller", "4:memory:/process_api/abc\n0::/slurm/job_7\n", 2 << 30},
		{"unlimited", "4:cpu,memory:/free\n0::/\n", 0},
		{"group without files", "0::/elsewhere\n", 0},
	} {
		write(c.name+".cgroup", c.self)
		if got := cgroupMemoryAt(filepath.Join(dir, c.name+".cgroup"), v2, v1); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if got := cgroupMemoryAt(filepath.Join(dir, "missing"), v2, v1); got != 0 {
		t.Errorf("no cgroup file: %d, want 0", got)
	}
}

// TestJacobianCache checks the room given to a formed Jacobian's chunks:
// all of J when it fits, 90% of what is left beyond the analysis's need in
// the budget and in the memory available now, and nothing for a stored
// Jacobian, an unknown budget or no room.
func TestJacobianCache(t *testing.T) {
	model, err := nn.NewCNN(1, 28, 28, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	cfg := DefaultConfig("ce")
	cfg.K = 200
	formed := newMFPlan(model, "features.3", n, cfg)
	if formed.jacobian != "formed" {
		t.Fatalf("features.3: Jacobian %q, want formed", formed.jacobian)
	}
	full := int64(8 * n * 10 * 18432)
	const gib = int64(1) << 30
	for _, c := range []struct {
		name                string
		need, budget, avail int64
		want                int64
	}{
		{"all of J fits", 4 * gib, 64 * gib, 0, full},
		{"the budget's room", 4 * gib, 5 * gib, 0, gib / 10 * 9},
		{"less available now", 4 * gib, 64 * gib, 6 * gib, 2 * gib / 10 * 9},
		{"no room", 4 * gib, 4 * gib, 0, 0},
		{"unknown budget", 4 * gib, math.MaxInt64, 0, 0},
	} {
		if got := formed.jacobianCache(c.need, c.budget, c.avail); got != c.want {
			t.Errorf("%s: %d bytes, want %d", c.name, got, c.want)
		}
	}
	stored := newMFPlan(model, "features.0", n, cfg)
	if got := stored.jacobianCache(gib, 64*gib, 0); stored.jacobian == "formed" || got != 0 {
		t.Errorf("features.0 (%s Jacobian): cache %d, want none", stored.jacobian, got)
	}
}

// TestSoftLimitCoversConcurrentAnalyses: analyses running at once each hold
// their own matrices, so the soft memory limit that holdMemory sets is the
// sum of their estimates, not the largest one (under which the collector
// would run without end), and it is lifted when the last one ends.
func TestSoftLimitCoversConcurrentAnalyses(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	prev := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(prev)
	const a, b = 3 << 30, 2 << 30
	releaseA := holdMemory(a)
	if got := debug.SetMemoryLimit(-1); got != a {
		t.Errorf("one analysis of %d bytes: soft limit %d", int64(a), got)
	}
	releaseB := holdMemory(b)
	if got := debug.SetMemoryLimit(-1); got != a+b {
		t.Errorf("two analyses of %d and %d bytes at once: soft limit %d, want their sum %d", int64(a), int64(b), got, int64(a+b))
	}
	huge := holdMemory(math.MaxInt64 - 1)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("estimates summing past MaxInt64: soft limit %d, want MaxInt64", got)
	}
	huge()
	releaseA()
	if got := debug.SetMemoryLimit(-1); got != b {
		t.Errorf("after the first ended: soft limit %d, want %d", got, int64(b))
	}
	releaseB()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("after the last ended: soft limit %d, want none", got)
	}
}

// TestParseBytesBelowOneByte: a size that rounds to 0 bytes is refused;
// it was returned as 0 with no error, which Config.Memory (and --mem)
// takes for no budget at all.
func TestParseBytesBelowOneByte(t *testing.T) {
	for _, s := range []string{"0.5", "0.4B", "1e-4KiB"} {
		if v, err := ParseBytes(s); err == nil || !strings.Contains(err.Error(), "less than one byte") {
			t.Errorf("ParseBytes(%q) = %d, %v; want an error saying it is less than one byte", s, v, err)
		}
	}
	for s, want := range map[string]int64{"1": 1, "1.5": 1, "0.5KiB": 512, "2G": 2 << 30} {
		if v, err := ParseBytes(s); err != nil || v != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", s, v, err, want)
		}
	}
}

// TestBudgetHintGoUnits: the refusals' hint on GOMEMLIMIT is true of the Go
// runtime (a process starts with GOMEMLIMIT=8GiB and stops at start-up
// with 8G, which --mem takes), and a refusal over the budget gives it.
func TestBudgetHintGoUnits(t *testing.T) {
	if os.Getenv("AWD_TEST_GOMEMLIMIT_CHILD") != "" {
		return
	}
	for v, starts := range map[string]bool{"8GiB": true, "8G": false} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestBudgetHintGoUnits$")
		cmd.Env = append(os.Environ(), "GOMEMLIMIT="+v, "AWD_TEST_GOMEMLIMIT_CHILD=1")
		out, err := cmd.CombinedOutput()
		if (err == nil) != starts || !starts && !strings.Contains(string(out), "malformed GOMEMLIMIT") {
			t.Errorf("GOMEMLIMIT=%s: err %v, output %.200s; want started %v", v, err, out, starts)
		}
	}
	if !strings.Contains(budgetHint, "GOMEMLIMIT=8GiB") || !strings.Contains(budgetHint, "8G") {
		t.Errorf("hint %q does not give both forms", budgetHint)
	}
	model, sub := trained(t, "ce", 3, 40, 6, 1, 5)
	cfg := smallConfig("ce", 10, 10)
	cfg.Memory = 1 << 10
	for _, mf := range []bool{false, true} {
		cfg.MatrixFree = mf
		if _, err := Analyze(context.Background(), model, sub, cfg, nil); err == nil || !strings.Contains(err.Error(), budgetHint) {
			t.Errorf("matrix-free %v: %v, want the hint", mf, err)
		}
	}
}
