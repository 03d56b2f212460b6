package source

// Interner makes kept strings of wire bytes and shares the ones that repeat
// (hosts, user agents, origins, targets), so a steady stream of requests
// allocates only for values it has not seen lately. The table is bounded:
// when full it starts over, keeping its memory.
type Interner struct {
	m      map[string]string
	max    int // entries before the table starts over
	maxLen int // longer values are not worth keeping
}

// NewInterner returns an interner of at most max entries of at most maxLen
// bytes each.
func NewInterner(max, maxLen int) *Interner {
	return &Interner{m: make(map[string]string), max: max, maxLen: maxLen}
}

// String returns b as a string, shared with earlier calls when seen lately.
func (in *Interner) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > in.maxLen {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if len(in.m) >= in.max {
		clear(in.m)
	}
	s := string(b)
	in.m[s] = s
	return s
}
