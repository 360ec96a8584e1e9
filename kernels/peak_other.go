//go:build purego || !(amd64 || arm64)

package kernels

func peakLoop(_ Level, iters int) (flopsPerTrip int) {
	peakGeneric(iters)
	return peakGenericFlops
}
