package source

import "strings"

// Arena makes kept strings of wire bytes that seldom repeat (request
// targets: a path with an id and a query string) by copying them into
// shared blocks: one allocation per block instead of one per string, and
// no hashing, which for such values costs more than it shares. Interner is
// for the values that do repeat.
//
// A string keeps its whole block alive. Blocks are small, and what is kept
// for long is few and detached: the engine clones the target of a request
// it keeps as an alert's evidence (detect.Engine.raise), and its recent
// ring holds requests in arrival order, so they share blocks.
//
// An Arena is for one goroutine; a copy shares its block, so each
// goroutine starts from the zero Arena.
type Arena struct {
	b *strings.Builder // the current block; a full one is left to its strings
}

// arenaBlock is a block's size; a value longer than arenaMax gets a string
// of its own rather than waste the rest of a block.
const (
	arenaBlock = 2048
	arenaMax   = arenaBlock / 4
)

// String returns a string with b's bytes.
func (a *Arena) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaMax {
		return string(b)
	}
	if a.b == nil || a.b.Cap()-a.b.Len() < len(b) {
		// A Builder never changes bytes it has written, so the strings
		// of the old block stay valid; a new Builder starts a new block.
		a.b = new(strings.Builder)
		a.b.Grow(arenaBlock)
	}
	start := a.b.Len()
	a.b.Write(b)
	return a.b.String()[start:]
}
