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

// setLevel1Level installs the hand-written NEON kernels (level1_arm64.s);
// scal and rot stay generic on arm64.
func setLevel1Level(l Level) {
	if l == NEON {
		ddotImpl, daxpyImpl = ddotNEON, daxpyNEON
	}
}
