//go:build !unix

package awd

import "math"

// cpuSeconds is not measured here (no getrusage).
func cpuSeconds() float64 { return math.NaN() }

// sysFaults is not measured here.
func sysFaults() (float64, float64) { return math.NaN(), math.NaN() }
