package keys

// maxParamName is the longest decoded parameter name compared with the key
// parameter names; those are short words.
const maxParamName = 64

// IsQueryParam reports whether a query parameter name, as it appears in a
// URL, names a key parameter (see paramIndex for the rule).
func (k *Extractor) IsQueryParam(name []byte) bool { return paramIndex(k.query, name) >= 0 }

// FromTarget returns the fingerprint of the key in a request-target's
// query: the value of the key parameter named first in the config that is
// present with a value. The fragment is not part of a request.
func (k *Extractor) FromTarget(target []byte) (string, bool) {
	q := indexByte(target, '?')
	if q < 0 || len(k.query) == 0 {
		return "", false
	}
	end := len(target)
	if i := indexByte(target[q:], '#'); i >= 0 {
		end = q + i
	}
	best, bestVal := -1, []byte(nil)
	for i := q + 1; i < end; {
		j := indexByte(target[i:end], '&')
		if j < 0 {
			j = end - i
		}
		pair := target[i : i+j]
		if eq := indexByte(pair, '='); eq > 0 && eq < len(pair)-1 {
			if n := paramIndex(k.query, pair[:eq]); n >= 0 && (best < 0 || n < best) {
				best, bestVal = n, pair[eq+1:]
			}
		}
		i += j + 1
	}
	if best < 0 {
		return "", false
	}
	return k.FromParam(bestVal)
}

// paramIndex returns the position among names (lower-case) of a query
// parameter name as sent, or -1. A name is read the way servers read it,
// and a little more, since hiding too much is the safe mistake:
// percent-escapes decoded (api%5Fkey is api_key to Flask), ASCII case
// folded, spaces, '+' and NULs around it dropped ("api_key =",
// "api_key%00"), and a trailing array suffix cut ("key[]", "api_key[0]",
// which PHP, Rails and qs read as the same parameter).
func paramIndex[T string | []byte](names []string, raw T) int {
	if len(names) == 0 || len(raw) == 0 {
		return -1
	}
	var buf [maxParamName]byte
	n := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' && i+2 < len(raw) {
			if h, l := unhex(raw[i+1]), unhex(raw[i+2]); h >= 0 && l >= 0 {
				c = byte(h<<4 | l)
				i += 2
			}
		}
		if n == len(buf) {
			return -1
		}
		buf[n] = lower(c)
		n++
	}
	name := trimName(buf[:n])
	if len(name) > 0 && name[len(name)-1] == ']' {
		if i := indexByte(name, '['); i > 0 {
			name = trimName(name[:i])
		}
	}
	for i, want := range names {
		if string(name) == want {
			return i
		}
	}
	return -1
}

// trimName drops the bytes around a decoded name that servers or their
// clients strip or that only disguise it.
func trimName(b []byte) []byte {
	for len(b) > 0 && nameJunk(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && nameJunk(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func nameJunk(c byte) bool { return c == ' ' || c == '+' || c == 0 || c == '\t' }

func indexByte[T string | []byte](s T, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
