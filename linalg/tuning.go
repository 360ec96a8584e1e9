package linalg

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/awd-toolkit/awd/internal/atomicfile"
	"github.com/awd-toolkit/awd/kernels"
)

// Tuning is what the speed of the products and eigensolvers depends on,
// each value derived from this CPU: the cache sizes cpuid reports, the core
// count, the kernel level, and the one crossover no formula predicts well,
// measured here once and cached (see TwoStageMin).
type Tuning struct {
	CPU     string // cpuid brand string
	Level   string // kernel level in use
	Cores   int    // logical CPUs (runtime.NumCPU)
	Threads int    // goroutines of the large products and eigensolvers (Threads)
	// L1D, L2 and L3 are the cache sizes in bytes as cpuid reports them (0:
	// not reported, as on some virtual machines; the block sizes then
	// assume 32 KiB, 512 KiB and 8 MiB).
	L1D, L2, L3 int
	Dgemm       Blocks // Gemm's and Syrk's blocking (float64)
	Sgemm       Blocks // Gemm32's blocking (float32)
	// TwoStageMin is the order from which eigenvalues without vectors come
	// from the two-stage reduction; TwoStageFrom says where it came from.
	TwoStageMin  int
	TwoStageFrom string
}

// Blocks are a GEMM's register block (MR x NR, the micro-kernel's tile)
// and cache blocks: KC (the depth of a packed panel pair), MC (rows of the
// packed A block) and NC (columns of the packed B block).
type Blocks struct{ MR, NR, KC, MC, NC int }

// CurrentTuning returns the tuning in force for the current kernel level
// and thread count. It never calibrates: a crossover not measured yet is
// reported as such (it is measured on the first eigenvalue-only solve of
// order >= calibrateMin, or by CalibrateTwoStage).
func CurrentTuning() Tuning {
	l1, l2, l3 := kernels.CacheSizes()
	t := Tuning{
		CPU: kernels.CPUName(), Level: kernels.Current().String(), Cores: runtime.NumCPU(),
		Threads: Threads(), L1D: l1, L2: l2, L3: l3,
	}
	mr, nr := kernels.DgemmShape()
	kc, mc, nc := blockSizes(mr, nr, 8)
	t.Dgemm = Blocks{mr, nr, kc, mc, nc}
	mr, nr = kernels.SgemmShape()
	kc, mc, nc = blockSizes(mr, nr, 4)
	t.Sgemm = Blocks{mr, nr, kc, mc, nc}
	if e, ok := lookupTwoStage(tuneKey()); ok {
		where := tuningPath()
		if e.Disturbed {
			where = "disturbed by other jobs: used by this process only, not cached"
		}
		t.TwoStageMin, t.TwoStageFrom = e.TwoStageMin, fmt.Sprintf("measured %s (ratios two-stage/one-stage %.2f at n=%d, %.2f at n=%d; %s)",
			e.Measured, e.Ratio[0], e.N[0], e.Ratio[1], e.N[1], where)
	} else {
		t.TwoStageMin, t.TwoStageFrom = twoStageFallback(), "not measured yet: the first eigenvalue-only solve of n >= 1024 measures it (AWD_CALIBRATE=0: this cache-size estimate)"
	}
	return t
}

// The two-stage crossover. The one-stage reduction (dsytrd) does half its
// flops in symmetric matrix-vector products that read the packed trailing
// matrix (4 n^2 bytes) once each: fast while it fits the last-level cache,
// memory-bound after. The two-stage one does all of them in GEMM and adds
// 6 b n^2 flops of bulge chasing. Where they cross depends on the cache,
// the memory bandwidth per core, the GEMM rate of the kernel level and the
// thread count (measured on Zen 5: 2049 at AVX-512, one and two threads;
// two-stage still 0-7% slower at n = 2500 at AVX2), so it is measured on
// each machine: both reductions at two orders, timed in one process, and
// the crossover interpolated in log-log. The result is cached per CPU
// model, kernel level and thread count in tuningPath().

// calibrateMin is the smallest order whose eigenvalue-only solve may use
// (and so first measure) the two-stage reduction: below it the bulge
// chasing's 6 b n^2 flops always cost more than the one-stage reduction
// saves (b = 64).
const calibrateMin = 1024

// calibrationOrders are the two orders the crossover is interpolated
// between: about 3 s of reductions (two runs of each) on a 2-core Zen 5.
var calibrationOrders = [2]int{1536, 2304}

// tuningVersion is the schema of the cache file; another version is ignored.
const tuningVersion = 1

type twoStageEntry struct {
	TwoStageMin int        `json:"two_stage_min"`
	N           [2]int     `json:"n"`
	Ratio       [2]float64 `json:"ratio"` // two-stage time / one-stage time
	Measured    string     `json:"measured"`
	Disturbed   bool       `json:"-"` // runs disagreed: not cached
}

type tuningFile struct {
	Version int                      `json:"version"`
	Entries map[string]twoStageEntry `json:"entries"`
	SHA256  string                   `json:"sha256"` // of the JSON of Entries
}

var tuning struct {
	mu      sync.Mutex
	loaded  bool
	entries map[string]twoStageEntry
}

// tuneKey names what the crossover depends on: the CPU, the kernel level,
// the thread count and the revision of the reductions timed.
func tuneKey() string {
	return fmt.Sprintf("%s|%s|threads=%d|rev=%d", kernels.CPUName(), kernels.Current(), Threads(), reductionRev)
}

// reductionRev numbers the versions of the two reductions whose times the
// crossover compares; a change that moves either one's speed increments it,
// so that a crossover measured with the old code is measured again.
// 2: dsy2sb's look-ahead.
const reductionRev = 2

// tuningPath is the cache file: os.UserCacheDir()/awd/tuning.json, or
// under AWD_CACHE_DIR when set.
func tuningPath() string {
	dir := os.Getenv("AWD_CACHE_DIR")
	if dir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(d, "awd")
	}
	return filepath.Join(dir, "tuning.json")
}

func entriesSum(e map[string]twoStageEntry) string {
	b, _ := json.Marshal(e) // map keys are sorted: a stable encoding
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// loadTuning reads the cache file once; a missing, damaged or other-version
// file counts as empty.
func loadTuning() {
	if tuning.loaded {
		return
	}
	tuning.loaded = true
	tuning.entries = map[string]twoStageEntry{}
	p := tuningPath()
	if p == "" {
		return
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return
	}
	var f tuningFile
	if json.Unmarshal(b, &f) != nil || f.Version != tuningVersion || f.Entries == nil || f.SHA256 != entriesSum(f.Entries) {
		return
	}
	for k, e := range f.Entries {
		if e.TwoStageMin > 0 {
			tuning.entries[k] = e
		}
	}
}

func lookupTwoStage(key string) (twoStageEntry, bool) {
	tuning.mu.Lock()
	defer tuning.mu.Unlock()
	loadTuning()
	e, ok := tuning.entries[key]
	return e, ok
}

// saveTuning merges e into the cache file (re-read first, so that other
// processes' entries survive) and writes it atomically; failures only cost
// a later re-measurement.
func saveTuning(key string, e twoStageEntry) {
	p := tuningPath()
	if p == "" || os.MkdirAll(filepath.Dir(p), 0o755) != nil {
		return
	}
	entries := map[string]twoStageEntry{}
	var f tuningFile
	if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &f) == nil && f.Version == tuningVersion && f.Entries != nil && f.SHA256 == entriesSum(f.Entries) {
		entries = f.Entries
	}
	entries[key] = e
	out := tuningFile{Version: tuningVersion, Entries: entries, SHA256: entriesSum(entries)}
	_ = atomicfile.Write(p, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	})
}

// twoStageFallback is the crossover when measuring is switched off: the
// order whose packed matrix (4 n^2 bytes) fills half the reported L3 (the
// measured crossover on Zen 5, n = 2049, is that point for its 32 MiB L3),
// or 2049 where cpuid reports no L3.
func twoStageFallback() int {
	_, _, l3 := kernels.CacheSizes()
	if l3 <= 0 {
		return 2049
	}
	return max(int(math.Sqrt(float64(l3)/8)), calibrateMin)
}

// twoStageOrder returns the crossover for the current CPU, level and thread
// count, measuring and caching it first if needed (unless AWD_CALIBRATE=0).
func twoStageOrder() int {
	key := tuneKey()
	tuning.mu.Lock()
	defer tuning.mu.Unlock()
	loadTuning()
	if e, ok := tuning.entries[key]; ok {
		return e.TwoStageMin
	}
	if os.Getenv("AWD_CALIBRATE") == "0" {
		return twoStageFallback()
	}
	e := measureTwoStage()
	tuning.entries[key] = e
	if !e.Disturbed {
		saveTuning(key, e)
	}
	return e.TwoStageMin
}

// CalibrateTwoStage measures the two-stage crossover for the current CPU,
// kernel level and thread count now (about 3 s), caches it (unless the
// measurement was disturbed) and returns the
// tuning. It is for `awd version --verbose --calibrate` and for machines
// whose first measurement ran while other jobs loaded them.
func CalibrateTwoStage() Tuning {
	key := tuneKey()
	tuning.mu.Lock()
	loadTuning()
	e := measureTwoStage()
	tuning.entries[key] = e
	if !e.Disturbed {
		saveTuning(key, e)
	}
	tuning.mu.Unlock()
	return CurrentTuning()
}

// measureTwoStage times both reductions at the two calibration orders,
// twice each, interleaved, and interpolates the order where their ratio
// r(n) = two-stage / one-stage (best times) crosses 1, assuming log r
// linear in log n. When the two runs of a case differ by more than 25%, or
// the process got less than half the processors its threads could use
// (other jobs took them meanwhile), the entry is marked disturbed: used by
// this process, never cached.
func measureTwoStage() twoStageEntry {
	e := twoStageEntry{N: calibrationOrders, Measured: time.Now().UTC().Format(time.RFC3339)}
	var mats [2]Dense
	for i, n := range calibrationOrders {
		a := NewDense(n, n)
		rng := rand.New(rand.NewPCG(uint64(n), 17))
		for r := 0; r < n; r++ {
			for c := 0; c <= r; c++ {
				v := rng.NormFloat64()
				a.Data[r*n+c], a.Data[c*n+r] = v, v
			}
		}
		mats[i] = a
	}
	var lo, hi [2][2]time.Duration
	cpu0, cpuOK := processCPU()
	wall0 := time.Now()
	for rep := 0; rep < 2; rep++ {
		for i, a := range mats {
			for s, reduce := range []func(Dense) (tridiag, error){tridiagonalize, tridiagonalize2} {
				t0 := time.Now()
				t, err := reduce(a)
				el := time.Since(t0)
				if err == nil {
					t.release()
				}
				if lo[i][s] == 0 || el < lo[i][s] {
					lo[i][s] = el
				}
				hi[i][s] = max(hi[i][s], el)
			}
		}
	}
	// A process that got much less of the processors than it had threads
	// for (other jobs running) measured the machine's load, not its speed.
	// The reductions keep every thread busy (their teams spin between
	// steps), so on an idle machine the share is near 1.
	if cpu1, ok := processCPU(); cpuOK && ok {
		share := (cpu1 - cpu0) / time.Since(wall0).Seconds() / float64(min(Threads(), runtime.NumCPU()))
		e.Disturbed = share < 0.5
	}
	for i := range mats {
		e.Ratio[i] = float64(lo[i][1]) / float64(lo[i][0])
		for s := range 2 {
			if float64(hi[i][s]) > 1.25*float64(lo[i][s]) {
				e.Disturbed = true
			}
		}
	}
	e.TwoStageMin = crossing(e.N, e.Ratio)
	return e
}

// crossing interpolates where r(n) = 1 from r at two orders in log-log,
// within [calibrateMin, 8 n[1]]; math.MaxInt when the two-stage reduction
// does not gain on the one-stage one with n and is slower at n[1].
func crossing(n [2]int, r [2]float64) int {
	l0, l1 := math.Log(r[0]), math.Log(r[1])
	if l1 >= l0 { // not gaining with n: decide by the larger order alone
		if l1 < 0 {
			return calibrateMin
		}
		return math.MaxInt
	}
	slope := (l1 - l0) / (math.Log(float64(n[1])) - math.Log(float64(n[0])))
	x := math.Exp(math.Log(float64(n[0])) - l0/slope)
	switch {
	case x < calibrateMin:
		return calibrateMin
	case x > 8*float64(n[1]):
		return math.MaxInt
	}
	return int(math.Ceil(x))
}
