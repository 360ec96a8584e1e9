//go:build !purego && (amd64 || arm64)

package kernels

// hasAsm: this build has assembly kernels (see Supported).
const hasAsm = true
