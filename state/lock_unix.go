//go:build unix

package state

import (
	"errors"
	"os"
	"syscall"
)

// lock takes an exclusive advisory lock on path (created if need be).
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.New("in use by another rebindwatch (" + path + " is locked)")
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
