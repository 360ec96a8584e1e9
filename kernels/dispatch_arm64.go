//go:build !purego

package kernels

// setArchLevel installs the NEON kernels over the generic ones.
func setArchLevel(l Level) {
	setGemmLevel(l)
	setLevel1Level(l)
}
