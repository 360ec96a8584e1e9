package awd

import (
	"bufio"
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
// for the garbage collector's slack under the soft limit that holdMemory
// sets.
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
// when smaller; no limit where neither is available).
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
	if MatrixFreeReason(model, cfg, n, dim) != "" {
		return matFreeFits(model, []string{cfg.Layer}, n, cfg)
	}
	m, in, _ := model.LayerShape(cfg.Layer)
	if est, budget := MemoryEstimate(m, in, model.Arch.Outputs, n, dim, cfg), MemoryBudget(cfg.Memory); est > budget {
		return memoryError(model, cfg, est, budget, n, dim)
	}
	return nil
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

// The soft memory limit of the running analyses. Go's GC lets dead d x d
// matrices linger until the heap doubles; a soft limit sized from the
// problem keeps the peak near what the analysis really needs. It is set only
// when nothing else set one (no GOMEMLIMIT, no debug.SetMemoryLimit), is the
// sum of the estimates of the analyses running at once (each holds its own
// matrices: a limit below their sum would keep the collector running
// without end), and is lifted when the last one ends.
var memLimit struct {
	sync.Mutex
	active []int64
	prev   int64
	set    bool
}

// holdMemory applies the soft limit for an analysis estimated at est bytes
// and returns the function that releases it.
func holdMemory(est int64) func() {
	memLimit.Lock()
	defer memLimit.Unlock()
	if len(memLimit.active) == 0 {
		memLimit.prev = debug.SetMemoryLimit(-1)
		memLimit.set = memLimit.prev == math.MaxInt64 && os.Getenv("GOMEMLIMIT") == ""
	}
	memLimit.active = append(memLimit.active, est)
	applyMemLimit()
	var once sync.Once
	return func() {
		once.Do(func() {
			memLimit.Lock()
			defer memLimit.Unlock()
			for i, v := range memLimit.active {
				if v == est {
					memLimit.active = append(memLimit.active[:i], memLimit.active[i+1:]...)
					break
				}
			}
			if len(memLimit.active) == 0 {
				if memLimit.set {
					debug.SetMemoryLimit(memLimit.prev)
				}
				return
			}
			applyMemLimit()
		})
	}
}

func applyMemLimit() {
	if !memLimit.set {
		return
	}
	var sum int64
	for _, v := range memLimit.active {
		sum += min(v, math.MaxInt64-sum) // saturating: huge estimates do not wrap
	}
	debug.SetMemoryLimit(max(sum, 256<<20))
}
