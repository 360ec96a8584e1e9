package linalg

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/awd-toolkit/awd/kernels"
)

// TestCrossing checks the log-log interpolation against ratios drawn from
// r(n) = (n/n*)^s, for which it is exact, and its clamps.
func TestCrossing(t *testing.T) {
	n := [2]int{1536, 2304}
	for _, c := range []struct {
		name  string
		cross float64
		s     float64
		want  int
	}{
		{"inside", 2049, -0.8, 2049},
		{"below-both", 1100, -0.5, 1100},
		{"clamped-low", 300, -0.5, calibrateMin},
		{"above-both", 4000, -1, 4000},
		{"too-far", 1e6, -0.2, math.MaxInt},
	} {
		r := [2]float64{math.Pow(float64(n[0])/c.cross, c.s), math.Pow(float64(n[1])/c.cross, c.s)}
		if got := crossing(n, r); got != c.want && math.Abs(float64(got-c.want)) > 1 {
			t.Errorf("%s: crossing(%v, %v) = %d, want %d", c.name, n, r, got, c.want)
		}
	}
	// Not gaining with n: the larger order decides.
	if got := crossing(n, [2]float64{0.9, 0.95}); got != calibrateMin {
		t.Errorf("faster at both, not gaining: %d, want %d", got, calibrateMin)
	}
	if got := crossing(n, [2]float64{1.1, 1.2}); got != math.MaxInt {
		t.Errorf("slower at both, losing: %d, want never", got)
	}
}

// TestTuningCache checks the cache file: an entry saved is found again by a
// fresh reader, and a damaged file, a wrong checksum or another schema
// version are ignored (and repaired by the next save).
func TestTuningCache(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWD_CACHE_DIR", dir)
	reset := func() {
		tuning.mu.Lock()
		tuning.loaded, tuning.entries = false, nil
		tuning.mu.Unlock()
	}
	reset()
	defer reset()
	e := twoStageEntry{TwoStageMin: 1777, N: [2]int{1536, 2304}, Ratio: [2]float64{1.1, 0.9}, Measured: "test"}
	saveTuning("k1", e)
	saveTuning("k2", twoStageEntry{TwoStageMin: 3000, N: e.N, Ratio: e.Ratio})
	reset()
	if got, ok := lookupTwoStage("k1"); !ok || got != e {
		t.Fatalf("k1 after save: %+v, %v", got, ok)
	}
	if got, ok := lookupTwoStage("k2"); !ok || got.TwoStageMin != 3000 {
		t.Fatalf("k2 after save: %+v, %v (the second save must keep the first entry)", got, ok)
	}
	p := filepath.Join(dir, "tuning.json")
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"truncated": good[:len(good)/2],
		"checksum":  bytes.Replace(good, []byte(`"two_stage_min": 1777`), []byte(`"two_stage_min": 1778`), 1),
		"version":   []byte(`{"version": 99, "entries": {"k1": {"two_stage_min": 5}}, "sha256": ""}`),
		"empty":     nil,
	} {
		if bytes.Equal(bad, good) {
			t.Fatalf("%s: the damaged file equals the good one", name)
		}
		if err := os.WriteFile(p, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		reset()
		if got, ok := lookupTwoStage("k1"); ok {
			t.Errorf("%s file: found %+v, want it ignored", name, got)
		}
		saveTuning("k1", e)
		reset()
		if _, ok := lookupTwoStage("k1"); !ok {
			t.Errorf("%s file: not repaired by a save", name)
		}
	}
}

// TestCurrentTuning checks that the reported blocks are the ones the
// products use.
func TestCurrentTuning(t *testing.T) {
	t.Setenv("AWD_CACHE_DIR", t.TempDir())
	tu := CurrentTuning()
	mr, nr := kernels.DgemmShape()
	if tu.Dgemm.MR != mr || tu.Dgemm.NR != nr || tu.Dgemm.KC <= 0 || tu.Dgemm.MC%mr != 0 || tu.Dgemm.NC%nr != 0 {
		t.Errorf("Dgemm blocks %+v for a %d x %d kernel", tu.Dgemm, mr, nr)
	}
	if tu.Cores <= 0 || tu.Threads <= 0 || tu.TwoStageMin < calibrateMin || tu.TwoStageFrom == "" {
		t.Errorf("tuning %+v", tu)
	}
}

// TestBlockSizesFromCaches: the block sizes of the kernels' shapes for the
// caches of this project's machine are the ones bench/README.md reports,
// and for every cache configuration the kc x nr micro-panel of B fits 4/3
// of L1, the mc x kc block of A fits half of L2 and holds at least
// minMCPanels micro-panels where kc may shrink for it: on a 256 KiB L2 the
// 6 x 8 AVX2 kernel gets kc 256 and mc 60 (BLIS: 256 and 72), not mc 12.
func TestBlockSizesFromCaches(t *testing.T) {
	const kib = 1 << 10
	for _, tc := range []struct {
		l1, l2, l3, mr, nr, elem int
		kc, mc, nc               int // 0: not pinned
	}{
		{48 * kib, 1024 * kib, 0, 6, 8, 8, 512, 60, 1024},       // this machine, AVX2
		{48 * kib, 1024 * kib, 0, 14, 16, 8, 512, 56, 1024},     // this machine, AVX-512
		{48 * kib, 1024 * kib, 0, 14, 32, 4, 512, 126, 2048},    // this machine, AVX-512 float32
		{32 * kib, 256 * kib, 20 << 20, 6, 8, 8, 256, 60, 0},    // Haswell/Broadwell Xeon
		{32 * kib, 256 * kib, 8 << 20, 6, 16, 4, 512, 30, 0},    // float32 keeps kc: 5 panels
		{32 * kib, 512 * kib, 16 << 20, 6, 8, 8, 512, 30, 0},    // Zen 2/3
		{32 * kib, 1024 * kib, 32 << 20, 14, 16, 8, 336, 84, 0}, // Skylake-SP, Zen 4
		{32 * kib, 2048 * kib, 0, 14, 16, 8, 336, 182, 0},
		{0, 0, 0, 6, 8, 8, 0, 0, 0},
		{16 * kib, 128 * kib, 0, 14, 16, 8, 0, 0, 0},
	} {
		kc, mc, nc := blockSizesFor(tc.l1, tc.l2, tc.l3, tc.mr, tc.nr, tc.elem)
		name := fmt.Sprintf("L1 %d KiB, L2 %d KiB, %dx%d, %d bytes", tc.l1/kib, tc.l2/kib, tc.mr, tc.nr, tc.elem)
		if tc.kc != 0 && (kc != tc.kc || mc != tc.mc) || tc.nc != 0 && nc != tc.nc {
			t.Errorf("%s: kc %d, mc %d, nc %d; want %d, %d, %d", name, kc, mc, nc, tc.kc, tc.mc, tc.nc)
		}
		l1, l2 := cmp.Or(max(tc.l1, 0), defaultL1), cmp.Or(max(tc.l2, 0), defaultL2)
		switch {
		case kc*tc.nr*tc.elem > l1*4/3 || kc < 64 || kc > maxKC:
			t.Errorf("%s: kc %d: B micro-panel of %d bytes", name, kc, kc*tc.nr*tc.elem)
		case mc%tc.mr != 0 || mc < tc.mr || mc > tc.mr && mc*kc*tc.elem > l2/2:
			t.Errorf("%s: mc %d (kc %d): A block of %d bytes", name, mc, kc, mc*kc*tc.elem)
		case mc < minMCPanels*tc.mr && kc > 128:
			t.Errorf("%s: mc %d holds %d micro-panels with kc %d still above 128", name, mc, mc/tc.mr, kc)
		case nc%tc.nr != 0 || nc < tc.nr || nc > maxNC:
			t.Errorf("%s: nc %d", name, nc)
		}
	}
}
