//go:build linux

package app

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminal is the dashboard's terminal: the standard files that were
// terminals when it started. The zero value is no terminal (headless).
type terminal struct{ fds []int }

// openTerminal notes which of stdin and stdout are terminals now.
func openTerminal() terminal {
	var t terminal
	for _, f := range []*os.File{os.Stdin, os.Stdout} {
		if answers(int(f.Fd())) {
			t.fds = append(t.fds, int(f.Fd()))
		}
	}
	return t
}

// gone reports whether the terminal has gone away (an SSH hang-up, tmux
// kill-session): none of its files answers the ioctl every terminal
// answers any more (a hung-up line fails it with EIO). A run that had no
// terminal never loses one.
func (t terminal) gone() bool {
	for _, fd := range t.fds {
		if answers(fd) {
			return false
		}
	}
	return len(t.fds) > 0
}

func answers(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}
