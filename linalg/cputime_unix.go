//go:build unix

package linalg

import "syscall"

// processCPU returns the CPU seconds (user + system) this process has used,
// and whether the system reports them.
func processCPU() (float64, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9, true
}
