package capture

import "bytes"

// This file compares the names a request gives its host: the authority of
// an absolute-form target, the Host header, an h2c request's :authority.
// A server uses the authority (RFC 9112 §3.2.2, RFC 9113 §8.3.1); a Host
// header that names another host is a signal.

// absoluteForm returns the authority of an absolute-form target, and
// whether a Host header (host, when hasHost) names another host than it.
func absoluteForm(target, host []byte, hasHost bool) (auth []byte, mismatch, ok bool) {
	auth, scheme, ok := absoluteAuthority(target)
	if !ok {
		return nil, false, false
	}
	return auth, hasHost && !sameAuthority(auth, host, scheme), true
}

// h2HostDiffers says whether an h2c request's Host header differs from its
// :authority: a client that sends both should send the same (RFC 9113
// §8.3.1), and one that does not is probing.
func h2HostDiffers(authority, host string) bool {
	return host != authority
}

// absoluteAuthority returns the authority of an absolute-form
// request-target ("http://user@api.example.com:8080/x" gives
// "api.example.com:8080", RFC 9112 §3.2.2, RFC 3986 §3.2) and its scheme.
// The userinfo is dropped: it is not part of the host a server checks.
func absoluteAuthority(target []byte) (auth, scheme []byte, ok bool) {
	// A scheme starts with a letter; nearly every target is origin-form
	// ("/..."), which this tells without looking for "://".
	if len(target) == 0 || !('a' <= target[0]|0x20 && target[0]|0x20 <= 'z') {
		return nil, nil, false
	}
	i := bytes.Index(target, []byte("://"))
	if i <= 0 || !validScheme(target[:i]) {
		return nil, nil, false
	}
	scheme, rest := target[:i], target[i+3:]
	if end := bytes.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	if at := bytes.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	return rest, scheme, true
}

// validScheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1).
func validScheme(b []byte) bool {
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return len(b) > 0
}

// sameAuthority says whether a URI authority and a Host header name the
// same host and port: case-insensitive, a trailing dot ignored, the
// scheme's default port (http 80, https 443) the same as none.
func sameAuthority(auth, host, scheme []byte) bool {
	a, ap := splitAuthority(auth)
	h, hp := splitAuthority(host)
	def := ""
	switch {
	case eqFold(scheme, "http"), eqFold(scheme, "ws"):
		def = "80"
	case eqFold(scheme, "https"), eqFold(scheme, "wss"):
		def = "443"
	}
	if string(ap) == def {
		ap = nil
	}
	if string(hp) == def {
		hp = nil
	}
	return bytes.EqualFold(a, h) && bytes.Equal(ap, hp)
}

// splitAuthority splits host[:port] (IPv6 literals in brackets) and drops
// a trailing dot from the host.
func splitAuthority(b []byte) (host, port []byte) {
	host = b
	if i := bytes.LastIndexByte(b, ':'); i >= 0 && bytes.IndexByte(b[i:], ']') < 0 {
		host, port = b[:i], b[i+1:]
	}
	if n := len(host); n > 1 && host[n-1] == '.' {
		host = host[:n-1]
	}
	return host, port
}
