//go:build !purego

package kernels

// setArchLevel installs the amd64 kernels of level l over the generic ones.
func setArchLevel(l Level) {
	setGemmLevel(l)
	setLevel1Level(l)
	setPeakLevel(l)
	setSymvLevel(l)
}
