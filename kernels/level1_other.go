//go:build purego || !(amd64 || arm64)

package kernels

// Without assembly every level call is the generic kernel's.

func ddot(_ Level, x, y []float64) float64         { return ddotGeneric(x, y) }
func daxpy(_ Level, alpha float64, x, y []float64) { daxpyGeneric(alpha, x, y) }
func dscal(_ Level, alpha float64, x []float64)    { dscalGeneric(alpha, x) }
func drot(_ Level, x, y []float64, c, s float64)   { drotGeneric(x, y, c, s) }
