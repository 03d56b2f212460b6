package capture

import "bytes"

// This file decides where a message's body ends (RFC 9112 §6, §7): what
// Content-Length and Transfer-Encoding say, which of them wins, and the
// chunk-size lines of a chunked body. Framing that two parties could read
// differently is how request smuggling starts, so it is checked strictly
// and counted.

// framing is what Content-Length and Transfer-Encoding say about a body.
type framing struct {
	http10  bool
	clSeen  bool
	clBad   bool  // invalid or conflicting Content-Length values
	length  int64 // valid when clSeen && !clBad
	teSeen  bool
	chunked bool // chunked is the final transfer coding
	teBad   bool // chunked applied other than last, or more than once
}

var (
	comma = []byte(",")
	semi  = []byte(";")
)

// parseDigits parses 1*DIGIT without overflow.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// contentLength records one Content-Length field. A list of identical
// values ("5, 5") is one value (RFC 9110 §8.6); anything else that is not
// 1*DIGIT, or differs from an earlier value, makes the framing unusable:
// that is how request smuggling starts (RFC 9112 §6.3 item 5).
func (f *framing) contentLength(v []byte) {
	for len(v) > 0 || !f.clSeen {
		var part []byte
		part, v, _ = bytes.Cut(v, comma)
		n, ok := parseDigits(trimOWS(part))
		switch {
		case !ok:
			f.clBad = true
		case f.clSeen && n != f.length:
			f.clBad = true
		}
		f.clSeen, f.length = true, n
		if f.clBad {
			return
		}
	}
}

// transferEncoding records one Transfer-Encoding field. chunked must be the
// final coding and appear once (RFC 9112 §6.1); codings of later fields
// follow those of earlier ones.
func (f *framing) transferEncoding(v []byte) {
	f.teSeen = true
	for len(v) > 0 {
		var c []byte
		c, v, _ = bytes.Cut(v, comma)
		c = trimOWS(c)
		if len(c) == 0 {
			continue // empty list elements are allowed (RFC 9110 §5.6.1)
		}
		if f.chunked {
			f.teBad = true // a coding after chunked
		}
		f.chunked = eqFold(c, "chunked")
	}
}

// bodyKind is how a message's body is delimited.
type bodyKind uint8

const (
	bodyNone   bodyKind = iota // no body: the next message follows the head
	bodyLength                 // Content-Length bytes
	bodyChunked
	bodyClose  // until the connection closes (responses only)
	bodyBroken // framing unusable: find the next message by scanning
)

// requestBody decides a request's body (RFC 9112 §6.3 items 3-6): chunked
// wins over Content-Length; any other transfer coding, or one sent by an
// HTTP/1.0 client (§6.1), makes the framing unusable; no framing fields
// means no body.
func (h *reqHead) requestBody() (bodyKind, int64) {
	f := &h.framing
	if f.teSeen {
		h.ambiguous = f.clSeen
		if f.http10 || !f.chunked || f.teBad {
			return bodyBroken, 0
		}
		return bodyChunked, 0
	}
	if f.clSeen {
		if f.clBad {
			return bodyBroken, 0
		}
		if f.length > 0 {
			return bodyLength, f.length
		}
	}
	return bodyNone, 0
}

// responseBody decides a response's body (RFC 9112 §6.3): none for HEAD,
// 1xx, 204 and 304; chunked when it is the final coding, else until close;
// Content-Length; else until close.
func (h *respHead) responseBody(head bool) (bodyKind, int64) {
	f := &h.framing
	switch {
	case head, h.code < 200, h.code == 204, h.code == 304:
		return bodyNone, 0
	case f.teSeen:
		if f.chunked && !f.teBad && !f.http10 {
			return bodyChunked, 0
		}
		return bodyClose, 0
	case f.clSeen:
		if f.clBad {
			return bodyBroken, 0
		}
		if f.length > 0 {
			return bodyLength, f.length
		}
		return bodyNone, 0
	}
	return bodyClose, 0
}

// parseChunkSize parses a chunk-size line: 1*HEXDIG, then chunk extensions
// which are ignored (RFC 9112 §7.1, §7.1.1, BWS before ';' allowed).
func parseChunkSize(line []byte) (int64, bool) {
	size, _, _ := bytes.Cut(line, semi)
	size = trimOWS(size)
	if len(size) == 0 || len(size) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range size {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | int64(c)
	}
	return n, true
}
