package capture

import "bytes"

// This file finds HTTP/1.x start lines in bytes that are not known to be
// at a message boundary: after a gap, a parse error, or in a connection
// joined in the middle; and it says whether a direction's first bytes
// look like HTTP at all.

// maxMethodLen bounds a method token when sniffing a stream's first bytes.
const maxMethodLen = 32

// sniff is what the first bytes of a stream direction look like.
type sniff uint8

const (
	sniffNeedMore sniff = iota
	sniffYes
	sniffNo
)

// looksLikeRequest says whether b can start a request line: a method token
// then SP then a target. It decides as soon as it can, so a TLS ClientHello
// or an SSH banner is rejected on its first bytes.
func looksLikeRequest(b []byte) sniff {
	for i, c := range b {
		switch {
		case c == ' ' || c == '\t':
			if i == 0 {
				return sniffNo
			}
			// Whitespace, then the target (or the version, when the
			// target is missing: lenient.go).
			for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
				i++
			}
			if i == len(b) {
				return sniffNeedMore
			}
			if b[i] < ' ' || b[i] == 0x7f {
				return sniffNo
			}
			return sniffYes
		case !tokenChars[c], i >= maxMethodLen:
			return sniffNo
		}
	}
	return sniffNeedMore
}

// looksLikeResponse says whether b can start a status line.
func looksLikeResponse(b []byte) sniff {
	const p = "HTTP/1."
	n := min(len(b), len(p))
	if string(b[:n]) != p[:n] {
		return sniffNo
	}
	if n < len(p) {
		return sniffNeedMore
	}
	return sniffYes
}

// startKind is the kind of start line a scan looks for.
type startKind uint8

const (
	wantRequest  startKind = 1 << iota // request line: client side
	wantResponse                       // status line: server side
)

// findStart looks for the first line of b that is a complete start line of
// a wanted kind, for resynchronising after a gap or an error. A line may
// begin at b[0] only when lineStart says so; after that, after each LF, and
// after a run of NULs (the padding that stands for bytes a truncated packet
// lost). It returns the line's offset and kind, or -1 and the offset from
// which b must be kept because an unfinished start line may begin there
// (len(b) when nothing needs keeping).
func findStart(b []byte, lineStart bool, want startKind) (at int, kind startKind, keep int) {
	p := 0
	if !lineStart {
		// The first candidate is after the first LF, or after the last NUL
		// before it.
		end := bytes.IndexByte(b, '\n')
		lim := end
		if end < 0 {
			lim = len(b)
		}
		switch z := bytes.LastIndexByte(b[:lim], 0); {
		case z >= 0:
			p = z + 1
		case end < 0:
			return -1, 0, len(b)
		default:
			p = end + 1
		}
	}
	for p <= len(b) {
		i := bytes.IndexByte(b[p:], '\n')
		if i < 0 {
			// Unfinished last line: keep it if a start line could begin
			// there (after any NUL padding).
			tail := b[p:]
			if z := bytes.LastIndexByte(tail, 0); z >= 0 {
				p += z + 1
				tail = b[p:]
			}
			if len(tail) <= maxLineBytes && couldStart(tail, want) {
				return -1, 0, p
			}
			return -1, 0, len(b)
		}
		line := b[p : p+i]
		start := p
		if z := bytes.LastIndexByte(line, 0); z >= 0 {
			start += z + 1
			line = line[z+1:]
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if k := startLineKind(line, want); k != 0 {
			return start, k, 0
		}
		p += i + 1
	}
	return -1, 0, len(b)
}

// startLineKind says which wanted kind of start line line is, or 0. The
// cheap fixed-position checks come first so scanning a body costs little.
func startLineKind(line []byte, want startKind) startKind {
	if want&wantRequest != 0 && len(line) > 10 && bytes.HasPrefix(line[len(line)-9:], []byte(" HTTP/1.")) {
		if _, _, _, ok := parseRequestLine(line); ok {
			return wantRequest
		}
	}
	if want&wantResponse != 0 && bytes.HasPrefix(line, []byte("HTTP/1.")) {
		if _, _, ok := parseStatusLine(line); ok {
			return wantResponse
		}
	}
	return 0
}

// couldStart says whether an unfinished line may become a wanted start line.
func couldStart(b []byte, want startKind) bool {
	if len(b) == 0 {
		return true
	}
	return (want&wantRequest != 0 && looksLikeRequest(b) != sniffNo) ||
		(want&wantResponse != 0 && looksLikeResponse(b) != sniffNo)
}
