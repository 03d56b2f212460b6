//go:build unix

package bench

import (
	"syscall"
	"time"
)

// cpu returns the process's user and system CPU time, all threads.
func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
