//go:build purego || !(amd64 || arm64)

package kernels

// hasAsm: this build has no assembly kernels; every level is Generic.
const hasAsm = false
