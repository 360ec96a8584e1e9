//go:build !purego

package kernels

// setLevel1Level installs the generated level-1 kernels (zlevel1_amd64.s).
func setLevel1Level(l Level) {}
