package logsrc

import (
	"fmt"
	"syscall"
)

// inotifyUsable checks that an inotify instance can be created. nxadm/tail
// calls os.Exit when its shared watcher cannot be made (the per-user
// instance limit is reached), so Run probes first and polls instead.
func inotifyUsable() error {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("inotify_init1: %w", err)
	}
	return syscall.Close(fd)
}
