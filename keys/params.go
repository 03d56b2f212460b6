package keys

import (
	"bytes"
	"strings"
)

// maxParamName is the longest decoded parameter name compared with the key
// parameter names; those are short words.
const maxParamName = 64

// paramNames are the key parameters' names, lower-cased, in priority order,
// with the first byte each can start with: most parameters of a query
// (page, sort, id) are told apart by their first byte alone.
type paramNames struct {
	names []string
	first [256]bool
}

func newParamNames(cfg []string) paramNames {
	var p paramNames
	for _, q := range cfg {
		q = strings.ToLower(q)
		p.names = append(p.names, q)
		if q != "" {
			p.first[q[0]] = true
		}
	}
	return p
}

// mayStart reports whether a name whose first byte as sent is c may be a
// key parameter's. A plain byte stays first once the name is decoded,
// folded and trimmed (the array suffix is cut from its end), so it must
// start one of the names; an escape or a byte trimmed away may hide anything.
func (p *paramNames) mayStart(c byte) bool {
	return c == '%' || nameJunk(c) || p.first[lower(c)]
}

// IsQueryParam reports whether a query parameter name, as it appears in a
// URL, names a key parameter (see paramIndex for the rule).
func (k *Extractor) IsQueryParam(name []byte) bool { return paramIndex(&k.query, name) >= 0 }

// FromTarget returns the fingerprint of the key in a request-target's
// query: the value of the key parameter named first in the config that is
// present with a value. The fragment is not part of a request.
func (k *Extractor) FromTarget(target []byte) (string, bool) {
	q := bytes.IndexByte(target, '?')
	if q < 0 || len(k.query.names) == 0 {
		return "", false
	}
	end := len(target)
	if i := bytes.IndexByte(target[q:], '#'); i >= 0 {
		end = q + i
	}
	best, bestVal := -1, []byte(nil)
	for i := q + 1; i < end; {
		j := bytes.IndexByte(target[i:end], '&')
		if j < 0 {
			j = end - i
		}
		pair := target[i : i+j]
		i += j + 1
		if len(pair) == 0 || !k.query.mayStart(pair[0]) {
			continue
		}
		if eq := bytes.IndexByte(pair, '='); eq > 0 && eq < len(pair)-1 {
			if n := paramIndex(&k.query, pair[:eq]); n >= 0 && (best < 0 || n < best) {
				best, bestVal = n, pair[eq+1:]
			}
		}
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
func paramIndex[T string | []byte](p *paramNames, raw T) int {
	if len(p.names) == 0 || len(raw) == 0 {
		return -1
	}
	if !p.mayStart(raw[0]) {
		return -1
	}
	if plainName(raw) {
		for i, want := range p.names {
			if string(raw) == want {
				return i
			}
		}
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
	for i, want := range p.names {
		if string(name) == want {
			return i
		}
	}
	return -1
}

// plainName reports whether a name as sent is the name as read: nothing
// to decode or fold, nothing to trim, no array suffix (most names are).
func plainName[T string | []byte](raw T) bool {
	if len(raw) > maxParamName || nameJunk(raw[0]) || nameJunk(raw[len(raw)-1]) || raw[len(raw)-1] == ']' {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c == '%' || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
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

// indexByte is bytes.IndexByte or strings.IndexByte, whichever s is: the
// scanners run on wire bytes and on kept strings alike.
func indexByte[T string | []byte](s T, c byte) int {
	switch v := any(s).(type) {
	case []byte:
		return bytes.IndexByte(v, c)
	case string:
		return strings.IndexByte(v, c)
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
