//go:build !linux

package app

// terminal cannot tell elsewhere whether the dashboard's terminal went
// away: SIGHUP always reloads the config, and only a signal or q ends the
// dashboard.
type terminal struct{}

func openTerminal() terminal { return terminal{} }

func (terminal) gone() bool { return false }
