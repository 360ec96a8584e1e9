package awd

import (
	"context"
	"math"
	"runtime"
	"testing"
)

// TestThreadCountGuarantee checks what the README promises about thread
// counts: an analysis is bit-for-bit the same when repeated with the same
// thread count, and across thread counts (GOMAXPROCS 1 and 3 here) its
// eigenvalues, projections and exponents agree to 1e-12 relative, its
// eigenvalue-alignment correlations to 1e-9 absolute (reductions are split
// differently between goroutines, so the last bits differ).
func TestThreadCountGuarantee(t *testing.T) {
	model, sub := trained(t, "ce", 3, 60, 10, 2, 11)
	cfg := smallConfig("ce", 30, 10)
	cfg.Interventions = []string{InterventionRank1}
	run := func(p int) *Result {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(p))
		r, err := Analyze(context.Background(), model, sub, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := run(1), run(1), run(3)
	for name, x := range a.Arrays.C {
		for i := range x {
			if x[i] != b.Arrays.C[name][i] {
				t.Fatalf("c_%s[%d] differs between two runs on one thread", name, i)
			}
		}
		if !relClose(c.Arrays.C[name], x, 1e-12) {
			t.Errorf("c_%s differs across thread counts beyond 1e-12", name)
		}
		if g, h := a.Fits[name].Gamma, c.Fits[name].Gamma; math.Abs(g-h) > 1e-12*math.Abs(g) {
			t.Errorf("gamma of %s: %v on 1 thread, %v on 3", name, g, h)
		}
	}
	if !relClose(c.Arrays.Lambda, a.Arrays.Lambda, 1e-12) {
		t.Error("eigenvalues differ across thread counts beyond 1e-12")
	}
	for i, v := range a.Arrays.Corr {
		if math.Abs(v-c.Arrays.Corr[i]) > 1e-9 {
			t.Errorf("correlation %d: %v vs %v", i, v, c.Arrays.Corr[i])
		}
	}
}
