package kernels

import (
	"fmt"
	"os"
	"strings"

	"github.com/klauspost/cpuid/v2"
)

// Level is an instruction-set level a kernel is written for.
type Level uint8

const (
	Generic Level = iota // pure Go, every platform
	AVX2                 // amd64: AVX2 + FMA3
	AVX512               // amd64: AVX-512 F + DQ + VL
	NEON                 // arm64: ASIMD
)

var levelNames = [...]string{Generic: "generic", AVX2: "avx2", AVX512: "avx512", NEON: "neon"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", l)
}

// ParseLevel reads a level name as AWD_KERNELS spells it.
func ParseLevel(s string) (Level, error) {
	for l, name := range levelNames {
		if strings.EqualFold(s, name) {
			return Level(l), nil
		}
	}
	return Generic, fmt.Errorf("unknown kernel level %q (want generic, avx2, avx512 or neon)", s)
}

// Supported reports whether this CPU and build can run kernels of level l.
func Supported(l Level) bool {
	switch l {
	case Generic:
		return true
	case AVX2:
		return hasAsm && cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3)
	case AVX512:
		return hasAsm && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512VL)
	case NEON:
		return hasAsm && cpuid.CPU.Supports(cpuid.ASIMD)
	}
	return false
}

// Detected is the best level this CPU and build support.
func Detected() Level {
	for _, l := range []Level{AVX512, AVX2, NEON} {
		if Supported(l) {
			return l
		}
	}
	return Generic
}

// Available lists every level this CPU and build support, Generic first.
func Available() []Level {
	var ls []Level
	for _, l := range []Level{Generic, AVX2, AVX512, NEON} {
		if Supported(l) {
			ls = append(ls, l)
		}
	}
	return ls
}

// current is the level every kernel call dispatches on: each family's
// <family>_amd64.go, _arm64.go and _other.go switch on it and call the
// level's kernel directly.
var current Level

// Current is the level in use.
func Current() Level { return current }

// SetLevel switches every kernel to level l. It is meant for start-up, tests
// and benchmarks, not for concurrent use with running kernels.
func SetLevel(l Level) error {
	if !Supported(l) {
		return fmt.Errorf("kernel level %s is not supported by this CPU (%s) or build", l, cpuid.CPU.BrandName)
	}
	current = l
	return nil
}

// CPUName is the CPU's brand string, for reports.
func CPUName() string { return cpuid.CPU.BrandName }

// CacheSizes returns the L1 data, L2 and L3 cache sizes in bytes as cpuid
// reports them (0 where unknown).
func CacheSizes() (l1d, l2, l3 int) {
	return cpuid.CPU.Cache.L1D, cpuid.CPU.Cache.L2, cpuid.CPU.Cache.L3
}

// initErr records a bad AWD_KERNELS value; the CLI reports it.
var initErr error

// InitError reports why AWD_KERNELS could not be honoured, or nil.
func InitError() error { return initErr }

func init() {
	l := Detected()
	if s := os.Getenv("AWD_KERNELS"); s != "" {
		want, err := ParseLevel(s)
		switch {
		case err != nil:
			initErr = fmt.Errorf("AWD_KERNELS: %w", err)
		case !Supported(want):
			initErr = fmt.Errorf("AWD_KERNELS=%s: this CPU (%s) or build does not support it", s, cpuid.CPU.BrandName)
		default:
			l = want
		}
	}
	current = l
}
