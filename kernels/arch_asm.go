//go:build !purego && (amd64 || arm64)

package kernels

const hasAsm = true

// setArch installs the kernels of level l. The amd64 and arm64 files replace
// the generic entries they implement.
func setArch(l Level) {
	setGeneric()
	setSymvGeneric()
	setArchLevel(l)
}
