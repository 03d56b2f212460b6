//go:build !unix

package state

// lock does nothing where there is no flock(2): two runs must not share a
// state file.
func lock(string) (func(), error) { return func() {}, nil }
