package capture

// fault names what was wrong with a message. Its text is shown as a Problem,
// so it never quotes wire bytes (they may hold an API key).
type fault uint8

const (
	faultNone         fault = iota
	faultRequestLine        // not METHOD SP request-target SP HTTP/1.x
	faultStatusLine         // not HTTP/1.x SP 3DIGIT [SP reason]
	faultFieldLine          // a field line without a colon, or with an invalid name
	faultHeadTooLarge       // header block beyond maxHeadBytes
	faultFraming            // Content-Length or Transfer-Encoding unusable
	faultChunk              // bad chunk-size line or missing CRLF after chunk data
	faultTrailer            // trailer section beyond maxHeadBytes
	faultBinary             // NUL in a header block (truncated packet padding or not HTTP)
	faultBufferCap          // an unfinished element outgrew the stream buffer
)

var faultText = [...]string{
	faultNone:         "no fault",
	faultRequestLine:  "request line is not METHOD SP request-target SP HTTP/1.x (RFC 9112 section 3)",
	faultStatusLine:   "status line is not HTTP/1.x SP status-code (RFC 9112 section 4)",
	faultFieldLine:    "malformed header field line ignored (RFC 9112 section 5)",
	faultHeadTooLarge: "header block exceeds 64 KiB; skipped to the next message",
	faultFraming:      "unusable Content-Length or Transfer-Encoding (RFC 9112 section 6.3); skipped to the next message",
	faultChunk:        "malformed chunked body (RFC 9112 section 7.1); skipped to the next message",
	faultTrailer:      "trailer section exceeds 64 KiB; skipped to the next message",
	faultBinary:       "NUL byte in a header block (truncated packet or not HTTP); skipped to the next message",
	faultBufferCap:    "unfinished message outgrew the stream buffer cap; skipped to the next message",
}

func (f fault) String() string {
	if int(f) < len(faultText) {
		return faultText[f]
	}
	return "unknown fault"
}
