package awd

import (
	"context"
	"errors"
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
// their own matrices, so the soft memory limit that reserveMemory sets is
// the sum of their plans, not the largest one (under which the collector
// would run without end); a plan held for later does not count in it, and
// it is lifted when the last one ends.
func TestSoftLimitCoversConcurrentAnalyses(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	prev := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(prev)
	const a, b, later = 3 << 30, 2 << 30, 5 << 30
	hold := func(need int64, running bool) func() {
		t.Helper()
		_, release, err := reserveMemory(context.Background(), need, math.MaxInt64, running)
		if err != nil {
			t.Fatal(err)
		}
		return release
	}
	releaseA := hold(a, true)
	if got := debug.SetMemoryLimit(-1); got != a {
		t.Errorf("one analysis of %d bytes: soft limit %d", int64(a), got)
	}
	releaseB := hold(b, true)
	if got := debug.SetMemoryLimit(-1); got != a+b {
		t.Errorf("two analyses of %d and %d bytes at once: soft limit %d, want their sum %d", int64(a), int64(b), got, int64(a+b))
	}
	releaseLater := hold(later, false)
	if got := debug.SetMemoryLimit(-1); got != a+b {
		t.Errorf("a plan held for later beside them: soft limit %d, want still %d", got, int64(a+b))
	}
	releaseLater()
	releaseA()
	if got := debug.SetMemoryLimit(-1); got != b {
		t.Errorf("after the first ended: soft limit %d, want %d", got, int64(b))
	}
	releaseB()
	releaseB() // idempotent
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("after the last ended: soft limit %d, want none", got)
	}
}

// blockingProgress holds the analysis that reports to it at the start of
// its first stage until release is closed (or panics there).
type blockingProgress struct {
	started, release chan struct{}
	panics           bool
}

func newBlockingProgress() *blockingProgress {
	return &blockingProgress{started: make(chan struct{}), release: make(chan struct{})}
}

func (p *blockingProgress) Start(string, int) {
	select {
	case <-p.started:
		return // a later stage
	default:
	}
	close(p.started)
	if p.panics {
		panic("progress")
	}
	<-p.release
}
func (p *blockingProgress) Add(int) {}
func (p *blockingProgress) Finish() {}

// ledgerBytes returns the bytes the ledger holds for every analysis.
func ledgerBytes() int64 {
	held, _ := heldByOthers(nil)
	return held
}

// TestConcurrentAnalysesShareTheBudget: analyses run in goroutines of one
// process are each checked against the memory budget minus what the others
// hold. Each was checked against the whole budget, so two that fit alone
// but not together were both started and could exhaust the memory. The
// second is refused with what the first holds and what to do, runs once the
// first has finished, and the first's hold is given back on an error, a
// cancel or a panic of its Progress too.
func TestConcurrentAnalysesShareTheBudget(t *testing.T) {
	model, sub := trained(t, "ce", 3, 40, 6, 1, 5)
	cfg := smallConfig("ce", 10, 10)
	cfg, err := cfg.ForModel(model)
	if err != nil {
		t.Fatal(err)
	}
	m, in, _ := model.LayerShape(cfg.Layer)
	est := MemoryEstimate(m, in, model.Arch.Outputs, sub.N, sub.Dim(), cfg)
	cfg.Memory = est + est/2 // one fits, two do not
	if ledgerBytes() != 0 {
		t.Fatalf("the ledger holds %d bytes before the test", ledgerBytes())
	}

	// first starts the dense analysis of cfg in a goroutine and returns when
	// it holds its plan and waits on prog.
	type outcome struct {
		r   *Result
		err error
		pan any
	}
	first := func(ctx context.Context, prog *blockingProgress) chan outcome {
		done := make(chan outcome, 1)
		go func() {
			var o outcome
			defer func() { o.pan = recover(); done <- o }()
			o.r, o.err = Analyze(ctx, model, sub, cfg, prog)
		}()
		<-prog.started
		return done
	}
	refused := func(what string, err error) {
		t.Helper()
		var held *HeldMemoryError
		if !errors.As(err, &held) || held.Held != est || held.Analyses != 1 ||
			!strings.Contains(err.Error(), "1 other analysis running in this process holds "+FormatBytes(est)) ||
			!strings.Contains(err.Error(), "wait for them to finish") {
			t.Errorf("%s beside a running analysis of %s under a budget of %s: %v; want a refusal that says what the other holds and to wait", what, FormatBytes(est), FormatBytes(cfg.Memory), err)
		}
	}

	prog := newBlockingProgress()
	done := first(context.Background(), prog)
	if got := ledgerBytes(); got != est {
		t.Errorf("the running analysis holds %d bytes, want its plan %d", got, est)
	}
	_, err = Analyze(context.Background(), model, sub, cfg, nil)
	refused("Analyze", err)
	_, err = Accumulate(context.Background(), model, sub, cfg, AccumulateOptions{})
	refused("Accumulate", err)
	close(prog.release)
	if o := <-done; o.err != nil || o.pan != nil {
		t.Fatalf("the first analysis: %v %v", o.err, o.pan)
	}
	if got := ledgerBytes(); got != 0 {
		t.Errorf("after the first analysis ended the ledger holds %d bytes, want 0", got)
	}
	acc, err := Accumulate(context.Background(), model, sub, cfg, AccumulateOptions{})
	if err != nil {
		t.Fatalf("Accumulate once the first has finished: %v", err)
	}
	// Finalize is checked as well: another analysis between Accumulate and
	// Finalize takes the room.
	prog = newBlockingProgress()
	done = first(context.Background(), prog)
	_, err = Finalize(context.Background(), acc, nil)
	refused("Finalize", err)
	close(prog.release)
	<-done
	if _, err := Finalize(context.Background(), acc, nil); err != nil {
		t.Fatalf("Finalize once the other has finished: %v", err)
	}

	// A cancelled analysis and one whose Progress panics (which ends it
	// with an error) give their hold back.
	ctx, cancel := context.WithCancel(context.Background())
	prog = newBlockingProgress()
	done = first(ctx, prog)
	cancel()
	close(prog.release)
	if o := <-done; o.err == nil {
		t.Error("the cancelled analysis did not fail")
	}
	if got := ledgerBytes(); got != 0 {
		t.Errorf("after a cancelled analysis the ledger holds %d bytes, want 0", got)
	}
	prog = newBlockingProgress()
	prog.panics = true
	if o := <-first(context.Background(), prog); o.pan != nil || o.err == nil || !strings.Contains(o.err.Error(), "Progress's Start panicked") {
		t.Errorf("an analysis whose Progress panicked: panic %v, error %v; want an error saying so", o.pan, o.err)
	}
	if got := ledgerBytes(); got != 0 {
		t.Errorf("after a panic the ledger holds %d bytes, want 0", got)
	}
}

// TestConcurrentRunsShareTheBudget: a Run holds its analyses' plan from its
// start, so a run that does not fit beside the analyses already running is
// refused before it trains or claims its folder, and starts once they end.
func TestConcurrentRunsShareTheBudget(t *testing.T) {
	an := DefaultConfig("ce")
	an.K, an.Memory = 4, 1<<40
	run := RunConfig{
		Data:      nn.DataSpec{Name: "mnist", Classes: []int{0, 1}, PerClass: 20, Seed: 1},
		Model:     nn.ModelSpec{Kind: "mlp", Widths: []int{4}},
		Seed:      1,
		Train:     nn.TrainConfig{Loss: nn.CE, Epochs: 1, Batch: 10, LR: 0.1, TMax: 500, ClipNorm: 5},
		AnalyzeAt: []int{1},
		Analysis:  &an,
	}
	// Another analysis holds all of the run's budget but 1 MiB, less than
	// any plan (MemoryEstimate counts 64 MiB beside the matrices).
	_, release, err := reserveMemory(context.Background(), an.Memory-1<<20, math.MaxInt64, true)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	dir := filepath.Join(t.TempDir(), "run")
	_, err = Run(context.Background(), run, dir, RunOptions{})
	var held *HeldMemoryError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "wait for them to finish") {
		t.Errorf("a run beside an analysis holding its budget: %v; want a refusal that says to wait", err)
	}
	if _, serr := os.Stat(dir); serr == nil {
		t.Errorf("the refused run left %s", dir)
	}
	release()
	if _, err := Run(context.Background(), run, dir, RunOptions{}); err != nil {
		t.Fatalf("the run once the other analysis ended: %v", err)
	}
	if got := ledgerBytes(); got != 0 {
		t.Errorf("after the run the ledger holds %d bytes, want 0", got)
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
