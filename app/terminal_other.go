//go:build !linux

package app

// terminalGone cannot tell elsewhere: SIGHUP always reloads the config.
func terminalGone() bool { return false }
