//go:build !purego

package kernels

// ddotNEON (NEON) computes, for i < len(x) (y at least as long):
//
//	for i, xi := range x {
//		s += xi * y[i]
//	}
//	return s
//
//go:noescape
func ddotNEON(x, y []float64) float64

// daxpyNEON (NEON) computes, for i < len(x) (y at least as long):
//
//	for i, xi := range x {
//		y[i] += alpha * xi
//	}
//
//go:noescape
func daxpyNEON(alpha float64, x, y []float64)

// dscalNEON (NEON) computes, for i < len(x):
//
//	for i := range x {
//		x[i] *= alpha
//	}
//
//go:noescape
func dscalNEON(alpha float64, x []float64)

// drotNEON (NEON) computes, for i < len(x) (y at least as long):
//
//	for i, xi := range x {
//		yi := y[i]
//		x[i] = c*xi + s*yi
//		y[i] = c*yi - s*xi
//	}
//
//go:noescape
func drotNEON(x, y []float64, c, s float64)

// setLevel1Level installs the hand-written NEON kernels (level1_arm64.s).
func setLevel1Level(l Level) {
	if l == NEON {
		ddotImpl, daxpyImpl, dscalImpl, drotImpl = ddotNEON, daxpyNEON, dscalNEON, drotNEON
	}
}
