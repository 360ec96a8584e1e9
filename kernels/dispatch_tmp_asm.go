//go:build !purego && (amd64 || arm64)

package kernels

// setArchLevel is replaced by the per-architecture dispatch once the
// assembly kernels land.
func setArchLevel(Level) {}
