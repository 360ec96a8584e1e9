//go:build !purego

package kernels

// The hand-written NEON level-1 kernels (level1_arm64.s), called by level.

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

func ddot(l Level, x, y []float64) float64 {
	if l == NEON {
		return ddotNEON(x, y)
	}
	return ddotGeneric(x, y)
}

func daxpy(l Level, alpha float64, x, y []float64) {
	if l == NEON {
		daxpyNEON(alpha, x, y)
		return
	}
	daxpyGeneric(alpha, x, y)
}

func dscal(l Level, alpha float64, x []float64) {
	if l == NEON {
		dscalNEON(alpha, x)
		return
	}
	dscalGeneric(alpha, x)
}

func drot(l Level, x, y []float64, c, s float64) {
	if l == NEON {
		drotNEON(x, y, c, s)
		return
	}
	drotGeneric(x, y, c, s)
}
