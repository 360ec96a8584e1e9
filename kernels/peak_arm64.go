//go:build !purego

package kernels

// peakFMANEON runs iters trips of 96 independent float64x2 VFMLAs (384 flops).
func peakFMANEON(iters int)

const peakFMANEONFlops = 2 * 2 * 24 * 4

func peakLoop(l Level, iters int) (flopsPerTrip int) {
	if l == NEON {
		peakFMANEON(iters)
		return peakFMANEONFlops
	}
	peakGeneric(iters)
	return peakGenericFlops
}
