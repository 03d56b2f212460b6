package logsrc

import (
	"bytes"
	"net/netip"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// unescapeDefault appends v with nginx's \xHH and Apache's \" \\ \n \r \t
// undone. Anything else after a backslash is kept as it is: Apache's rare
// \b and \v stay visible, and gunicorn's raw backslashes ("\back") read
// right when its lines go through this decoder (auto-detection).
func unescapeDefault(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' || i+1 >= len(v) {
			dst = append(dst, c)
			continue
		}
		switch v[i+1] {
		case 'x', 'X':
			if i+3 < len(v) {
				h, ok1 := unhex(v[i+2])
				l, ok2 := unhex(v[i+3])
				if ok1 && ok2 {
					dst = append(dst, h<<4|l)
					i += 3
					continue
				}
			}
			dst = append(dst, c)
		case '"', '\\':
			dst = append(dst, v[i+1])
			i++
		case 'n':
			dst = append(dst, '\n')
			i++
		case 'r':
			dst = append(dst, '\r')
			i++
		case 't':
			dst = append(dst, '\t')
			i++
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// unescapeQuote appends v with gunicorn's one escape, \" for '"', undone.
func unescapeQuote(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && v[i+1] == '"' {
			i++
		}
		dst = append(dst, v[i])
	}
	return dst
}

// unescapeJSON appends v with JSON string escapes undone (RFC 8259 §7).
// nginx's escape=json writes bytes >= 0x80 raw; they are kept as they are.
func unescapeJSON(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' || i+1 >= len(v) {
			dst = append(dst, c)
			continue
		}
		i++
		switch e := v[i]; e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(v[i+1:])
			if !ok {
				dst = append(dst, '\\', 'u')
				continue
			}
			i += 4
			if utf16IsHigh(r) {
				if i+6 < len(v) && v[i+1] == '\\' && v[i+2] == 'u' {
					if lo, ok := hex4(v[i+3:]); ok && utf16IsLow(lo) {
						r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
						i += 6
					}
				}
			}
			if r >= 0xd800 && r <= 0xdfff {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst = append(dst, '\\', e)
		}
	}
	return dst
}

func utf16IsHigh(r rune) bool { return r >= 0xd800 && r < 0xdc00 }
func utf16IsLow(r rune) bool  { return r >= 0xdc00 && r < 0xe000 }

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// splitRequest splits a request line (RFC 9112 §3: method SP request-target
// SP HTTP-version) at its first and last space, so a target with spaces in
// it (which nginx logs as received) stays whole. A line of two parts is
// HTTP/0.9. A method that is not a token means the line is not HTTP (TLS
// handshakes, scanners' binary probes).
func splitRequest(v []byte) (method, target, proto []byte, http09, ok bool) {
	sp := bytes.IndexByte(v, ' ')
	if sp <= 0 || sp > 32 {
		return nil, nil, nil, false, false
	}
	method = v[:sp]
	for _, c := range method {
		if !isTchar(c) {
			return nil, nil, nil, false, false
		}
	}
	rest := bytes.TrimLeft(v[sp+1:], " ")
	if last := bytes.LastIndexByte(rest, ' '); last >= 0 {
		if pr := rest[last+1:]; bytes.HasPrefix(pr, []byte("HTTP/")) {
			target, proto = bytes.TrimRight(rest[:last], " "), pr
		} else {
			target = rest
		}
	} else {
		target, http09 = rest, true
	}
	if len(target) == 0 {
		return nil, nil, nil, false, false
	}
	return method, target, proto, http09, true
}

// isTchar reports whether c may appear in a token (RFC 9110 §5.6.2).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// method returns a constant string for the registered methods and a kept
// copy of any other token.
func (p *Parser) method(b []byte) string {
	if m := detect.KnownMethod(b); m != "" {
		return m
	}
	return p.str(b)
}

// proto returns a constant string for the common versions.
func (p *Parser) proto(b []byte) string {
	switch string(b) {
	case "HTTP/1.1":
		return "HTTP/1.1"
	case "HTTP/1.0":
		return "HTTP/1.0"
	case "HTTP/2.0":
		return "HTTP/2.0"
	case "HTTP/0.9":
		return "HTTP/0.9"
	case "HTTP/3.0":
		return "HTTP/3.0"
	}
	return p.str(b)
}

// str returns b as a kept string, interned: a value seen recently costs no
// allocation, and repeated values share memory in the engine.
func (p *Parser) str(b []byte) string {
	if p.intern == nil {
		p.intern = source.NewInterner(internCap, maxIntern)
	}
	return p.intern.String(b)
}

// addr parses a client or server address: IPv4 by hand (no allocation),
// IPv6 through a small cache. "unix:" sockets and host names give false.
func (p *Parser) addr(v []byte) (netip.Addr, bool) {
	if a, ok := parseIPv4(v); ok {
		return a, true
	}
	if len(v) > 2 && v[0] == '[' && v[len(v)-1] == ']' {
		v = v[1 : len(v)-1]
	}
	if bytes.IndexByte(v, ':') < 0 || len(v) > 64 {
		return netip.Addr{}, false
	}
	if a, ok := p.addrs[string(v)]; ok {
		return a, a.IsValid()
	}
	a, err := netip.ParseAddr(string(v))
	if err != nil {
		a = netip.Addr{}
	}
	switch {
	case p.addrs == nil:
		p.addrs = make(map[string]netip.Addr)
	case len(p.addrs) >= addrCap:
		clear(p.addrs)
	}
	p.addrs[string(v)] = a
	return a, a.IsValid()
}

// parseIPv4 parses dotted-quad IPv4 without allocating.
func parseIPv4(v []byte) (netip.Addr, bool) {
	var ip [4]byte
	part, n, digits := 0, 0, 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == '.' {
			if digits == 0 || part > 3 {
				return netip.Addr{}, false
			}
			ip[part] = byte(n)
			part++
			n, digits = 0, 0
			continue
		}
		c := v[i]
		if c < '0' || c > '9' || (digits > 0 && n == 0) { // no leading zeros
			return netip.Addr{}, false
		}
		n = n*10 + int(c-'0')
		digits++
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if part != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// parseStatus reads a 3-digit status; "-" (Apache, no response) is 0.
func parseStatus(v []byte) (int, bool) {
	if len(v) == 1 && v[0] == '-' {
		return 0, true
	}
	if len(v) == 0 || len(v) > 3 {
		return 0, false
	}
	return num(v)
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// addrPort parses "ip:port" or "[ipv6]:port" (a client address as Traefik
// and older Caddy log it); a bare IP gives port 0.
func (p *Parser) addrPort(v []byte) (netip.AddrPort, bool) {
	host, port := v, []byte(nil)
	if len(v) > 0 && v[0] == '[' {
		end := bytes.IndexByte(v, ']')
		if end < 0 {
			return netip.AddrPort{}, false
		}
		host = v[1:end]
		if rest := v[end+1:]; len(rest) > 1 && rest[0] == ':' {
			port = rest[1:]
		}
	} else if i := bytes.LastIndexByte(v, ':'); i >= 0 && bytes.IndexByte(v[:i], ':') < 0 {
		host, port = v[:i], v[i+1:]
	}
	a, ok := p.addr(host)
	if !ok {
		return netip.AddrPort{}, false
	}
	n := 0
	if port != nil {
		if n, ok = parsePort(port); !ok {
			n = 0
		}
	}
	return netip.AddrPortFrom(a, uint16(n)), true
}

// httpVersion makes Zeek's "1.1" the protocol "HTTP/1.1".
func (p *Parser) httpVersion(v []byte) string {
	switch string(v) {
	case "1.1":
		return "HTTP/1.1"
	case "1.0":
		return "HTTP/1.0"
	case "2", "2.0":
		return "HTTP/2.0"
	case "0.9":
		return "HTTP/0.9"
	}
	start := len(p.buf)
	p.buf = append(append(p.buf, "HTTP/"...), v...)
	return p.str(p.buf[start:])
}

// splitURL splits an absolute URL into its authority (without the scheme's
// default port, which proxies add whether or not the client sent it) and
// its target (the path and query; "/" when it has none). The target lives
// in p.buf when it had to be made.
func (p *Parser) splitURL(u []byte) (host, target []byte, ok bool) {
	i := bytes.Index(u, []byte("://"))
	if i <= 0 || i > 10 {
		return nil, nil, false
	}
	scheme, rest := u[:i], u[i+3:]
	end := bytes.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host, target = rest[:end], rest[end:]
	if len(host) == 0 {
		return nil, nil, false
	}
	switch {
	case foldEq(scheme, "http") && bytes.HasSuffix(host, []byte(":80")):
		host = host[:len(host)-3]
	case foldEq(scheme, "https") && bytes.HasSuffix(host, []byte(":443")):
		host = host[:len(host)-4]
	}
	if len(target) == 0 || target[0] != '/' {
		start := len(p.buf)
		p.buf = append(append(p.buf, '/'), target...)
		target = p.buf[start:]
	}
	return host, target, true
}
