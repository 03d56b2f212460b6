package logsrc

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/detect"
)

// A line that did not parse is shown to the operator (stderr, the
// dashboard) so they can fix the format; but its columns were not
// identified, and any of them may hold a key of any length (a custom
// "$http_x_api_key" column, a cookie, a JSON field). So it is quoted by its
// shape: the boundaries (spaces, quotes, brackets, '=', ':' and ','), the
// pieces that cannot be keys shown as they are, and every other value
// replaced by its kind and length. What stays readable: IP addresses,
// short numbers, "-", times in brackets, the request line's method and
// protocol with its path (query values and key-shaped runs hidden), the
// names in name=value and JSON "name": pairs, and any piece of 5
// characters or fewer (no key is that short).

// maxShown is the longest piece shown as it is when nothing says what it is.
const maxShown = 5

// shapeOf quotes line by its shape, at most about n bytes.
func shapeOf(line []byte, n int) string {
	if len(line) > 4096 {
		line = line[:4096] // what is cut off is not shown at all
	}
	var b strings.Builder
	s := string(line)
	for i := 0; i < len(s) && b.Len() < n; {
		c := s[i]
		if isBoundary(c) {
			b.WriteByte(c)
			i++
			continue
		}
		j := i
		for j < len(s) && !isBoundary(s[j]) {
			j++
		}
		tok := s[i:j]
		// A request line inside quotes: METHOD TARGET PROTO.
		if i > 0 && s[i-1] == '"' && detect.KnownMethod([]byte(tok)) != "" {
			if end := strings.IndexByte(s[i:], '"'); end > 0 {
				if rl, ok := requestLineShape(s[i : i+end]); ok {
					b.WriteString(rl)
					i += end
					continue
				}
			}
		}
		b.WriteString(pieceShape(tok, s, i, j))
		i = j
	}
	out := b.String()
	if len(out) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "..."
	}
	return out
}

// isBoundary ends a piece: what separates columns in the log formats.
func isBoundary(c byte) bool {
	switch c {
	case ' ', '\t', '"', '\'', '[', ']', '{', '}', '(', ')', '=', ',', ';':
		return true
	}
	return false
}

// pieceShape shows a piece or its kind; it is s[start:next].
func pieceShape(tok, s string, start, next int) string {
	switch {
	case tok == "-":
		return tok
	case isName(tok, s, start, next):
		return tok // a name=value or JSON "name": pair's name
	case shortNumber(tok):
		return tok
	case isAddr(tok):
		return tok
	case isLogTime(tok):
		return tok
	case utf8.RuneCountInString(tok) <= maxShown && !strings.ContainsFunc(tok, func(r rune) bool { return r < 0x20 }):
		return tok
	}
	return "<" + kind(tok) + ":" + strconv.Itoa(utf8.RuneCountInString(tok)) + ">"
}

// shortNumber: a status, a size, a port, a duration (0.004) or a time in
// seconds (1764191295.123); whole numbers of six digits or more are masked
// (a key can be all digits).
func shortNumber(tok string) bool {
	if tok == "" || strings.Trim(tok, "0123456789.") != "" || strings.Count(tok, ".") > 1 || len(tok) > 20 {
		return false
	}
	return len(tok) <= maxShown || strings.Contains(tok, ".")
}

// isName reports whether tok names a value: it starts a column (after a
// space, a brace, a comma or a quote) and is followed by '=' and a value,
// or, quoted, by ':' (a JSON key); and it is shaped like an identifier,
// with few digits. A base64 key's "==" padding is not a name's '='.
func isName(tok, s string, start, next int) bool {
	if len(tok) > 32 {
		return false
	}
	digits := 0
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '.' || c == '-' || c == '$':
		case '0' <= c && c <= '9' && i > 0:
			digits++
		default:
			return false
		}
	}
	if digits > 2 {
		return false
	}
	if start > 0 && strings.IndexByte(" \t{,\"", s[start-1]) < 0 {
		return false
	}
	rest := s[next:]
	switch {
	case strings.HasPrefix(rest, "=="):
		return false
	case strings.HasPrefix(rest, "="):
		return start == 0 || s[start-1] != '"'
	}
	return start > 0 && s[start-1] == '"' && (strings.HasPrefix(rest, `":`) || strings.HasPrefix(rest, `": `))
}

func isAddr(tok string) bool {
	tok = strings.TrimSuffix(strings.TrimPrefix(tok, "["), "]")
	if _, err := netip.ParseAddr(tok); err == nil {
		return true
	}
	_, err := netip.ParseAddrPort(tok)
	return err == nil
}

// isLogTime recognises the common log time pieces: 26/Nov/2026:21:01:10,
// 21:01:10, 2026-11-26T21:01:10.123Z and a zone offset (+0000): digits and
// time separators, at most one month name, and a time's or a date's shape.
func isLogTime(tok string) bool {
	if len(tok) == 5 && (tok[0] == '+' || tok[0] == '-') {
		return strings.Trim(tok[1:], "0123456789") == ""
	}
	if len(tok) < 8 || len(tok) > 40 {
		return false
	}
	rest := tok
	for _, m := range months {
		if i := strings.Index(rest, m); i >= 0 {
			rest = rest[:i] + rest[i+len(m):]
			break
		}
	}
	if strings.Trim(rest, "0123456789:/-.+TZ") != "" {
		return false
	}
	// A time has colons, a date slashes: neither can be in a key.
	return strings.Count(tok, ":") >= 2 || strings.Count(tok, "/") == 2
}

var months = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// kind names what a masked piece looks like.
func kind(tok string) string {
	if strings.Trim(tok, "0123456789") == "" {
		return "number"
	}
	return "text"
}

// requestLineShape shows METHOD TARGET PROTO: the target's short path
// segments and its parameter names, nothing of its values.
func requestLineShape(rl string) (string, bool) {
	method, rest, ok := strings.Cut(rl, " ")
	if !ok {
		return "", false
	}
	target, proto, _ := strings.Cut(rest, " ")
	if !strings.HasPrefix(proto, "HTTP/") && proto != "" {
		return "", false
	}
	path, query, hasQuery := strings.Cut(target, "?")
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		// Short segments (v1, api, users) are shown; a longer one may be
		// a key put in the path.
		if utf8.RuneCountInString(seg) > maxShown {
			segs[i] = "<" + kind(seg) + ":" + strconv.Itoa(utf8.RuneCountInString(seg)) + ">"
		}
	}
	path = strings.Join(segs, "/")
	if hasQuery {
		// Only the parameter names: their values may be anything. A
		// piece without '=' is a value, not a name ("/feed?KEY"), and a
		// name not shaped like one may be a key sent as a name.
		var names []string
		for p := range strings.SplitSeq(query, "&") {
			name, _, isPair := strings.Cut(p, "=")
			switch {
			case !isPair:
				names = append(names, pieceShape(p, p, 0, len(p)))
			case paramNameShaped(name):
				names = append(names, name+"=…")
			default:
				names = append(names, "<"+kind(name)+":"+strconv.Itoa(utf8.RuneCountInString(name))+">=…")
			}
		}
		path += "?" + strings.Join(names, "&")
	}
	out := method + " " + path
	if proto != "" {
		out += " " + proto
	}
	return out, true
}

// paramNameShaped reports whether a query parameter name reads as one: at
// most 32 bytes of letters, '_', '-', '.', brackets and '%' (key[],
// api%5Fkey), with two digits at most.
func paramNameShaped(name string) bool {
	if len(name) > 32 {
		return false
	}
	digits := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-' || c == '.' || c == '[' || c == ']' || c == '%':
		case '0' <= c && c <= '9':
			digits++
		default:
			return false
		}
	}
	return digits <= 2
}
