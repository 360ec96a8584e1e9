package sweep

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill a job's process when the sweep that
// started it dies (kill -9 included), so that no job runs on unseen; its
// files stay resumable.
func setDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
