package kernels

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
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

// TestInitAWDKernels runs this test binary again with AWD_KERNELS set to a
// bad name and to each level; the child checks what init made of it: a bad
// or unsupported value must not crash (InitError reports it and Detected is
// used), a supported one is used. (The child checks itself because under
// qemu-x86_64 it runs natively, on another CPU than its parent.)
func TestInitAWDKernels(t *testing.T) {
	if os.Getenv("AWD_KERNELS_CHILD") != "" {
		s := os.Getenv("AWD_KERNELS")
		want, perr := ParseLevel(s)
		err := InitError()
		switch {
		case perr != nil || !Supported(want):
			if err == nil || Current() != Detected() {
				t.Fatalf("AWD_KERNELS=%s: current %v, InitError %v; want %v and an error", s, Current(), err, Detected())
			}
		case err != nil || Current() != want:
			t.Fatalf("AWD_KERNELS=%s: current %v, InitError %v; want %v and no error", s, Current(), err, want)
		}
		fmt.Printf("child ok: AWD_KERNELS=%s current=%v err=%v\n", s, Current(), err)
		return
	}
	for _, env := range []string{"bogus", "generic", "avx2", "avx512", "neon", "AVX2"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestInitAWDKernels$", "-test.v")
		cmd.Env = append(os.Environ(), "AWD_KERNELS_CHILD=1", "AWD_KERNELS="+env)
		out, err := cmd.Output()
		if err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				// Under qemu-user without binfmt the binary cannot exec itself.
				t.Skipf("cannot re-run the test binary: %v", err)
			}
			t.Fatalf("AWD_KERNELS=%s: child failed: %v\n%s", env, err, out)
		}
		if !strings.Contains(string(out), "child ok") {
			t.Fatalf("AWD_KERNELS=%s: child printed %q", env, out)
		}
	}
}
