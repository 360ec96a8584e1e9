//go:build !unix

package sweep

// cpuSeconds is not measured without getrusage.
func cpuSeconds() float64 { return 0 }
