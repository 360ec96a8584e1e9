//go:build !linux

package sweep

import "os/exec"

// setDeathSignal does nothing: only Linux can tie a child's life to its parent.
func setDeathSignal(*exec.Cmd) {}
