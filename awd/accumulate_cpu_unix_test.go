//go:build unix

package awd

import (
	"math"
	"syscall"
)

// cpuSeconds is the process's user + system CPU time: on a shared machine
// it says what the work costs when wall time is stretched by other loads.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// sysFaults is the process's system CPU time in seconds and its minor page
// faults so far: the kernel's share of the work, mostly zeroing fresh
// memory on first touch.
func sysFaults() (float64, float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return math.NaN(), math.NaN()
	}
	return float64(ru.Stime.Nano()) / 1e9, float64(ru.Minflt)
}
