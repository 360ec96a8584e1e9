//go:build purego || !(amd64 || arm64)

package kernels

const hasAsm = false

func setArch(Level) {
	setGeneric()
	setSymvGeneric()
}
