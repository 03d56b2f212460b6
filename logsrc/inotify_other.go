//go:build !linux

package logsrc

// inotifyUsable: elsewhere nxadm/tail's watcher is kqueue or
// ReadDirectoryChanges, which have no comparable per-user limit to probe.
func inotifyUsable() error { return nil }
