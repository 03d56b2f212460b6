package capture

// This file is the part of the HTTP/1 state machine (conn.go) that walks
// through bodies: Content-Length bytes and the chunks, chunk-size lines
// and trailer fields of a chunked body (RFC 9112 §6.3, §7.1). Bodies are
// skipped, not kept: only their framing matters.

// skipBody skips the body or chunk bytes of h at w[pos:] and returns where
// the rest starts.
func (h *half) skipBody(w []byte, pos int) int {
	n := int(min(int64(len(w)-pos), h.remain))
	pos += n
	h.remain -= int64(n)
	if h.remain == 0 {
		h.endBody()
	}
	return pos
}

// endBody moves h past a body (to the next message) or chunk data (to its
// CRLF) whose last byte was read or lost.
func (h *half) endBody() {
	if h.st == stBody {
		h.st = stStart
	} else {
		h.st = stChunkEnd
	}
}

// chunkEnd takes the CRLF after chunk data (RFC 9112 §7.1); a bare LF is
// accepted.
func (c *conn) chunkEnd(i int, w []byte, pos int) (int, bool) {
	h := &c.h[i]
	switch {
	case w[pos] == '\n':
		pos++
		h.st = stChunkSize
	case w[pos] == '\r' && pos+1 == len(w):
		return pos, false
	case w[pos] == '\r' && w[pos+1] == '\n':
		pos += 2
		h.st = stChunkSize
	default:
		c.fault(i, faultChunk, false)
	}
	return pos, true
}

// chunkSize takes a chunk-size line (RFC 9112 §7.1); size 0 ends the
// chunks and starts the trailer section.
func (c *conn) chunkSize(i int, w []byte, pos int) (int, bool) {
	h := &c.h[i]
	line, next, ok := lineAt(w, pos)
	if !ok {
		if len(w)-pos > maxLineBytes {
			c.fault(i, faultChunk, false)
			return pos, true
		}
		return pos, false
	}
	n, ok := parseChunkSize(line)
	if !ok {
		c.fault(i, faultChunk, false)
		return pos, true
	}
	if n == 0 {
		h.st, h.trailer = stTrailer, 0
	} else {
		h.st, h.remain = stChunkData, n
	}
	return next, true
}

// trailer skips trailer fields up to the empty line (RFC 9112 §7.1.2),
// within maxHeadBytes.
func (c *conn) trailer(i int, w []byte, pos int) (int, bool) {
	h := &c.h[i]
	line, next, ok := lineAt(w, pos)
	if !ok {
		if h.trailer+len(w)-pos > maxHeadBytes {
			c.fault(i, faultTrailer, false)
			return pos, true
		}
		return pos, false
	}
	h.trailer += next - pos
	if len(line) == 0 {
		h.st = stStart
	} else if h.trailer > maxHeadBytes {
		c.fault(i, faultTrailer, true)
	}
	return next, true
}
