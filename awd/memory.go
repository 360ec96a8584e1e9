package awd

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/awd-toolkit/awd/nn"
)

// MemoryEstimate returns the bytes the dense analysis of a layer with m
// outputs and in inputs needs at its peak, for N samples of dimension dim
// and L logits: the d x d matrices alive at once (the packed sums of the
// State, about d^2 numbers, plus d^2 each for C_pair2 and C_mb, then C, H,
// M2 and C_pair while the sums are turned into them, and one more for the
// eigensolver's work), the eigenvectors (d x k) and the Haar frame, the
// per-sample spectra (N (in + 2 + L + V m): V = L eigenvectors per sample
// for the interventions, 1 for the correlations alone), the float64 copy
// of the inputs for the matching (N dim) and the chunk buffers; plus 25%
// for the garbage collector's slack under the soft limit that
// reserveMemory sets.
func MemoryEstimate(m, in, L, N, dim int, cfg Config) int64 {
	d := float64(m) * float64(in)
	squares := 1.0 + 4 + 1 // packed sums, C H M2 C_pair, eigensolver work
	if cfg.Pair2 {
		squares++
	}
	if cfg.MiniBatch {
		squares++
	}
	k := float64(min(cfg.K, m*in))
	words := squares*d*d + 3*d*k + float64(N)*float64(dim) + parityWords(m, in, N, cfg)
	if cfg.Correlation || len(cfg.Interventions) > 0 {
		v := 1 // gamma_1 alone
		if len(cfg.Interventions) > 0 {
			v = L
		}
		words += float64(N) * float64(in+2+L+v*m)
	}
	chunk := float64(min(cfg.Chunk, N))
	tm, tn := float64(m)*float64(m+1)/2, float64(in)*float64(in+1)/2
	words += chunk * (3*tm + tn + float64(L)*float64(L+m) + 2*float64(in))
	if cfg.Pair2 {
		words += chunk * d
	}
	b := 8 * words * 1.25
	if b > math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return int64(b) + 64<<20
}

// budgetHint says how to set the memory budget. GOMEMLIMIT takes Go's
// units only (8GiB, not 8G, which --mem takes): the Go runtime refuses any
// other form at start-up, before awd can say anything.
const budgetHint = "set it with --mem, Config.Memory in the library, or GOMEMLIMIT in Go's units (GOMEMLIMIT=8GiB; Go stops at start-up on 8G)"

// MemoryBudget returns the bytes an analysis may use: limit when it is
// positive, else the soft limit of GOMEMLIMIT when set, else 90% of the
// physical memory (MemTotal of /proc/meminfo, or the control group's limit
// when smaller; no limit where neither is available). Analyses running at
// once in the process share it: each is refused (HeldMemoryError) when its
// estimate exceeds the budget minus what the others hold.
func MemoryBudget(limit int64) int64 {
	if limit > 0 {
		return limit
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		if l := debug.SetMemoryLimit(-1); l > 0 && l < math.MaxInt64 {
			return l
		}
	}
	if t := physicalMemory(); t > 0 {
		if c := cgroupMemory(); c > 0 && c < t {
			t = c
		}
		return t / 10 * 9
	}
	return math.MaxInt64
}

// cgroupMemory returns the tightest memory limit of the control groups the
// process is in (cgroup v2 memory.max, v1 memory.limit_in_bytes, the own
// group's and its parents'), or 0 when none is set or readable. A job that
// Slurm or a container confines to a few GiB of a large node must budget
// for those, not for the node's MemTotal.
func cgroupMemory() int64 {
	return cgroupMemoryAt("/proc/self/cgroup", "/sys/fs/cgroup", "/sys/fs/cgroup/memory")
}

// cgroupMemoryAt is cgroupMemory with the process's cgroup file and the
// mount points of the v2 hierarchy and of v1's memory controller.
func cgroupMemoryAt(self, v2, v1 string) int64 {
	b, err := os.ReadFile(self)
	if err != nil {
		return 0
	}
	var limit int64
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		root, file := "", ""
		switch {
		case f[0] == "0" && f[1] == "":
			root, file = v2, "memory.max"
		case slices.Contains(strings.Split(f[1], ","), "memory"):
			root, file = v1, "memory.limit_in_bytes"
		default:
			continue
		}
		for dir := path.Clean(f[2]); ; dir = path.Dir(dir) {
			v, err := os.ReadFile(path.Join(root, dir, file))
			if n, perr := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64); err == nil && perr == nil && n > 0 && n < 1<<62 {
				if limit == 0 || n < limit {
					limit = n
				}
			}
			if dir == "/" || dir == "." {
				break
			}
		}
	}
	return limit
}

func physicalMemory() int64 { return meminfo("MemTotal:") }

// availableMemory returns what the kernel estimates can be allocated now
// without swapping (MemAvailable), or 0 where that is not available.
func availableMemory() int64 { return meminfo("MemAvailable:") }

// meminfo returns the field key of /proc/meminfo in bytes, or 0.
func meminfo(key string) int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// analysisFits checks, before any work, that the analysis Analyze would run
// for cfg (from ForModel) on n samples of dimension dim fits the memory
// budget: the dense one, or the matrix-free one when MatrixFreeReason says
// so.
func analysisFits(model *nn.Model, cfg Config, n, dim int) error {
	_, err := analysisNeed(model, cfg, n, dim)
	return err
}

// analysisNeed is analysisFits that also returns the bytes the analysis
// needs at its peak.
func analysisNeed(model *nn.Model, cfg Config, n, dim int) (int64, error) {
	if MatrixFreeReason(model, cfg, n, dim) != "" {
		if err := noBootstrap(cfg, "it is matrix-free"); err != nil {
			return 0, err
		}
		return matFreeNeed(model, []string{cfg.Layer}, n, cfg)
	}
	m, in, _ := model.LayerShape(cfg.Layer)
	est, budget := MemoryEstimate(m, in, model.Arch.Outputs, n, dim, cfg), MemoryBudget(cfg.Memory)
	if est > budget {
		return est, memoryError(model, cfg, est, budget, n, dim)
	}
	return est, nil
}

// memoryError says how much the analysis would need and what fits: the
// largest k for this layer, or else the largest fully connected layer of the
// model that fits with this k.
func memoryError(model *nn.Model, cfg Config, need, budget int64, N, dim int) error {
	m, in, _ := model.LayerShape(cfg.Layer)
	L := model.Arch.Outputs
	msg := fmt.Sprintf("layer %s (%dx%d, d=%d) with k=%d on the N=%d samples given needs about %s, more than the memory budget of %s (%s; or take the matrix-free path, --matrix-free or AnalyzeMatrixFree, which needs no d x d matrix)",
		cfg.Layer, m, in, m*in, cfg.K, N, FormatBytes(need), FormatBytes(budget), budgetHint)
	lo, hi := 1, cfg.K
	for lo < hi { // the largest k that fits
		mid := (lo + hi + 1) / 2
		c := cfg
		c.K = mid
		if MemoryEstimate(m, in, L, N, dim, c) <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	c := cfg
	c.K = lo
	if lo >= 2 && MemoryEstimate(m, in, L, N, dim, c) <= budget {
		return fmt.Errorf("%s; the largest k that fits is %d", msg, lo)
	}
	best, bestD := "", 0
	for _, name := range model.Layers() {
		lm, ln, _ := model.LayerShape(name)
		c := cfg
		c.K = min(cfg.K, lm*ln)
		if lm*ln > bestD && MemoryEstimate(lm, ln, L, N, dim, c) <= budget {
			best, bestD = name, lm*ln
		}
	}
	if best != "" {
		return fmt.Errorf("%s; the largest layer that fits is %s (d=%d); fewer samples (--per-class, or a smaller data set) also need less", msg, best, bestD)
	}
	return fmt.Errorf("%s; no layer of this model fits: use fewer samples (--per-class, or a smaller data set)", msg)
}

// FormatBytes writes n bytes with a binary unit (KiB, MiB, GiB, TiB).
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGT"[i])
}

// ParseBytes reads a size such as "8GiB", "512MiB", "2G" or "1e9": KiB,
// MiB, GiB, TiB and, as in Slurm's --mem, K, M, G, T are powers of 1024;
// KB, MB, GB, TB powers of 1000; no suffix (or B) is bytes.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := 1.0
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
		{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) || v*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a positive size (e.g. 8GiB, 512MiB)", s)
	}
	// Below one byte the size would be 0, which Config.Memory takes for
	// "no budget given".
	if v*mult < 1 {
		return 0, fmt.Errorf("%q is less than one byte: give a size of at least 1 (e.g. 8GiB, 512MiB)", s)
	}
	return int64(v * mult), nil
}

// The ledger of the analyses running in this process. Each holds the bytes
// its plan needs at its peak, from its start to its end (on error, cancel
// or panic too); a new analysis is checked against its memory budget minus
// what the others hold. Checked against the whole budget, analyses run in
// goroutines that each fit alone but not together were all started, and
// the process ran out of memory.
//
// The ledger also sets the soft memory limit. Go's GC lets dead d x d
// matrices linger until the heap doubles; a soft limit sized from the
// problem keeps the peak near what the analysis really needs. It is set
// only when nothing else set one (no GOMEMLIMIT, no debug.SetMemoryLimit),
// is the sum of the plans of the analyses computing at once (each holds
// its own matrices: a limit below their sum would keep the collector
// running without end), and is lifted when the last one ends. A plan held
// for later (a Run's while it trains, Analyze's between Accumulate and
// Finalize) counts in the ledger but not in the soft limit.
var memLimit struct {
	sync.Mutex
	holds []*memHold
	prev  int64
	set   bool
}

// memHold is one entry of the ledger.
type memHold struct {
	bytes   int64 // the plan's peak
	running int   // analyses computing under it; while > 0 it counts in the soft limit
}

// memHoldKey is the context key of the ledger entry an analysis runs
// under (reserveMemory).
type memHoldKey struct{}

// reserveMemory enters an analysis whose plan needs need bytes in the
// ledger when need fits budget minus what the other analyses of the process
// hold, and returns a context that carries the entry and the function that
// releases it (idempotent: callers defer it). Under an entry of ctx (a
// Run's, or Analyze's for its Accumulate and Finalize) the analysis counts
// in that entry, which grows to need until it is released, instead of
// holding a second one. running says the analysis computes now (its plan
// counts in the soft limit); false holds the bytes for later.
func reserveMemory(ctx context.Context, need, budget int64, running bool) (context.Context, func(), error) {
	memLimit.Lock()
	defer memLimit.Unlock()
	h, _ := ctx.Value(memHoldKey{}).(*memHold)
	others, n := heldByOthers(h)
	if need > budget-others {
		return ctx, func() {}, &HeldMemoryError{Need: need, Held: others, Analyses: n, Budget: budget}
	}
	if len(memLimit.holds) == 0 {
		memLimit.prev = debug.SetMemoryLimit(-1)
		memLimit.set = memLimit.prev == math.MaxInt64 && os.Getenv("GOMEMLIMIT") == ""
	}
	own := h == nil
	if own {
		h = &memHold{}
		memLimit.holds = append(memLimit.holds, h)
		ctx = context.WithValue(ctx, memHoldKey{}, h)
	}
	before := h.bytes
	h.bytes = max(h.bytes, need)
	if running {
		h.running++
	}
	applyMemLimit()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			memLimit.Lock()
			defer memLimit.Unlock()
			if running {
				h.running--
			}
			h.bytes = before
			if own {
				memLimit.holds = slices.DeleteFunc(memLimit.holds, func(o *memHold) bool { return o == h })
			}
			if len(memLimit.holds) == 0 {
				if memLimit.set {
					debug.SetMemoryLimit(memLimit.prev)
				}
				return
			}
			applyMemLimit()
		})
	}, nil
}

// memoryHeldByOthers returns the bytes the analyses of the process other
// than ctx's own (its ledger entry, if any) hold.
func memoryHeldByOthers(ctx context.Context) int64 {
	memLimit.Lock()
	defer memLimit.Unlock()
	h, _ := ctx.Value(memHoldKey{}).(*memHold)
	held, _ := heldByOthers(h)
	return held
}

// heldByOthers sums the ledger but for h and counts the analyses holding
// those bytes; memLimit must be locked.
func heldByOthers(h *memHold) (int64, int) {
	var held int64
	n := 0
	for _, o := range memLimit.holds {
		if o != h {
			held += min(o.bytes, math.MaxInt64-held) // saturating: huge plans do not wrap
			n++
		}
	}
	return held, n
}

// HeldMemoryError refuses an analysis that fits the memory budget alone
// but not beside the analyses already running in the process.
type HeldMemoryError struct {
	Need     int64 // bytes the refused analysis needs
	Held     int64 // bytes the running analyses hold
	Analyses int   // how many analyses hold them
	Budget   int64 // the refused analysis's memory budget
}

func (e *HeldMemoryError) Error() string {
	if e.Analyses == 0 {
		return fmt.Sprintf("the analysis needs about %s, more than the memory budget of %s (%s)", FormatBytes(e.Need), FormatBytes(e.Budget), budgetHint)
	}
	others := "1 other analysis running in this process holds"
	if e.Analyses > 1 {
		others = fmt.Sprintf("%d other analyses running in this process hold", e.Analyses)
	}
	return fmt.Sprintf("the analysis needs about %s, but %s %s of the memory budget of %s, leaving %s: wait for them to finish (run the analyses one after another), or make this one smaller (a smaller k, fewer samples, or the matrix-free path)",
		FormatBytes(e.Need), others, FormatBytes(e.Held), FormatBytes(e.Budget), FormatBytes(max(e.Budget-e.Held, 0)))
}

func applyMemLimit() {
	if !memLimit.set {
		return
	}
	var sum int64
	for _, h := range memLimit.holds {
		if h.running > 0 {
			sum += min(h.bytes, math.MaxInt64-sum) // saturating: huge estimates do not wrap
		}
	}
	if sum == 0 {
		debug.SetMemoryLimit(memLimit.prev)
		return
	}
	debug.SetMemoryLimit(max(sum, 256<<20))
}
