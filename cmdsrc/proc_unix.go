//go:build unix

package cmdsrc

import (
	"os/exec"
	"syscall"
)

// sysProcAttr starts the command in a process group of its own: a Ctrl-C
// at the terminal reaches rebindwatch, which ends the command by the stop
// rule, and the command's own children (a shell's tail) end with it.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// signalGroup sends sig to the command's process group.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process == nil {
		return
	}
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
		cmd.Process.Signal(sig)
	}
}
