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
