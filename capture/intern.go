package capture

// Bounds of the interner.
const (
	// internMax bounds the table of repeated strings.
	internMax = 4096
	// maxIntern is the longest value worth interning.
	maxIntern = 256
)

// interner makes kept strings of wire bytes, as sent, shared with earlier
// events when short and seen before: hosts, user agents, origins and DNS
// names repeat, so an event allocates only for values that are new. It is
// not safe for concurrent use.
type interner struct {
	m map[string]string
}

func newInterner() *interner { return &interner{m: make(map[string]string)} }

// str returns b as a string, shared with an earlier one when it can be.
func (in *interner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxIntern {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.m) >= internMax {
		clear(in.m)
	}
	in.m[s] = s
	return s
}
