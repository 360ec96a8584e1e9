package kernels

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAsmLint checks the generated amd64 assembly: functions meant for AVX2
// machines (names ending in AVX2, and peakFMA256) must not touch registers
// that need AVX-512 (X16-X31, Y16-Y31, any Z, the K masks): avo picks them
// silently when more than 16 vector values are live. Every function that
// uses vector registers must VZEROUPPER before each RET.
func TestAsmLint(t *testing.T) {
	if _, err := os.Stat("gemm.go"); err != nil {
		// go test always runs in the package directory; a test binary run
		// by hand (as under qemu) from elsewhere has no sources to read.
		t.Skip("not run from the kernels source directory, no .s files to lint")
	}
	files, err := filepath.Glob("z*_amd64.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated assembly found: %v", err)
	}
	avx512Only := regexp.MustCompile(`\b([XY](1[6-9]|2[0-9]|3[01])|Z[0-9]+|K[0-7])\b`)
	vector := regexp.MustCompile(`\b[XYZ][0-9]+\b`)
	text := regexp.MustCompile(`^TEXT ·(\w+)\(SB\)`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var fn string
		var usesVec, zeroed bool
		for n, line := range strings.Split(string(src), "\n") {
			if m := text.FindStringSubmatch(line); m != nil {
				fn, usesVec, zeroed = m[1], false, false
				continue
			}
			code, _, _ := strings.Cut(strings.TrimSpace(line), "//")
			if fn == "" || code == "" {
				continue
			}
			avx2 := strings.HasSuffix(fn, "AVX2") || fn == "peakFMA256"
			if avx2 && avx512Only.MatchString(code) {
				t.Errorf("%s:%d: %s is AVX2 code but uses an AVX-512 register: %s", f, n+1, fn, code)
			}
			op := strings.Fields(code)[0]
			switch {
			case vector.MatchString(code):
				usesVec, zeroed = true, false
			case op == "VZEROUPPER":
				zeroed = true
			case op == "RET" && usesVec && !zeroed:
				t.Errorf("%s:%d: %s returns without VZEROUPPER", f, n+1, fn)
			}
		}
	}
}
