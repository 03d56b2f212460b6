//go:build linux

package app

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminalGone reports whether the dashboard's terminal has gone away (an
// SSH hang-up, tmux kill-session): its line no longer answers the ioctl
// every terminal answers.
func terminalGone() bool {
	for _, f := range []*os.File{os.Stdin, os.Stdout} {
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			return false
		}
	}
	return true
}
