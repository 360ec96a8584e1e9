package kernels

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// testLevels are the levels the tests run at: every level this CPU and build
// support, or, when AWD_KERNELS names one (CI runs the tests once per level),
// only Generic and that one.
func testLevels() []Level {
	if s := os.Getenv("AWD_KERNELS"); s != "" && InitError() == nil {
		if Current() == Generic {
			return []Level{Generic}
		}
		return []Level{Generic, Current()}
	}
	return Available()
}

// forEachLevel runs f as a subtest once per test level, with every kernel
// switched to that level, and restores the level after.
func forEachLevel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := Current()
	defer func() {
		if err := SetLevel(saved); err != nil {
			t.Fatal(err)
		}
	}()
	for _, l := range testLevels() {
		if err := SetLevel(l); err != nil {
			t.Fatal(err)
		}
		t.Run("level="+l.String(), f)
	}
}

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 2*rng.Float64() - 1
	}
	return s
}

func randSlice32(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(2*rng.Float64() - 1)
	}
	return s
}

const (
	eps64 = 0x1p-52
	eps32 = 0x1p-23
)

// sameFloat reports whether got is within tol of want, treating NaNs as
// equal to NaNs and infinities as equal to themselves.
func sameFloat(got, want, tol float64) bool {
	switch {
	case math.IsNaN(want):
		return math.IsNaN(got)
	case math.IsInf(want, 0):
		return got == want
	}
	return math.Abs(got-want) <= tol
}

func TestAvailableAndLevels(t *testing.T) {
	ls := Available()
	if len(ls) == 0 || ls[0] != Generic {
		t.Fatalf("Available() = %v, want Generic first", ls)
	}
	if !Supported(Detected()) {
		t.Fatalf("Detected() = %v is not Supported", Detected())
	}
	if !hasAsm && Detected() != Generic {
		t.Fatalf("pure-Go build detected %v, want generic", Detected())
	}
	for _, l := range ls {
		p, err := ParseLevel(l.String())
		if err != nil || p != l {
			t.Fatalf("ParseLevel(%q) = %v, %v", l.String(), p, err)
		}
	}
	if _, err := ParseLevel("sse9"); err == nil {
		t.Fatal("ParseLevel accepted an unknown level")
	}
	if err := InitError(); err != nil {
		// A CI run that asks for a level must get it.
		t.Fatalf("AWD_KERNELS not honoured: %v", err)
	}
	t.Logf("cpu %q, detected %v, current %v, available %v", CPUName(), Detected(), Current(), ls)
}
