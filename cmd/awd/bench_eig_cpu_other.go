//go:build !unix

package main

// cpuSeconds is not measured on this system (bench eig reports 0).
func cpuSeconds() float64 { return 0 }
