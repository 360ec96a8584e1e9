package linalg

import (
	"bytes"
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
