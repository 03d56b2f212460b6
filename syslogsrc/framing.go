package syslogsrc

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// framer cuts a TCP (or TLS) syslog stream into messages, by either
// framing of RFC 6587, decided per message as rsyslog does: a message that
// starts with a digit is octet-counted ("LEN SP MSG", §3.4.1); any other
// runs to a newline (non-transparent framing, §3.4.2; also what RFC 5425's
// senders that ignore it write). A message longer than max is skipped and
// reported as too long, so memory stays bounded whatever a sender claims.
type framer struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// errTruncated is the end of a connection inside an octet-counted
// message (or its count): what it held is not a message.
var errTruncated = errors.New("connection ended inside an octet-counted message")

// maxLenDigits is the most digits an octet count may have (RFC 6587
// MSG-LEN is NONZERO-DIGIT *DIGIT; nine digits are more than any max).
const maxLenDigits = 9

func newFramer(r io.Reader, max int) *framer {
	return &framer{r: bufio.NewReaderSize(r, 16<<10), max: max}
}

// next returns the next message (valid until the next call; empty lines
// are skipped), or tooLong with a nil message when one was over max and
// skipped. err is io.EOF at a clean end between messages; io.ErrUnexpectedEOF
// comes with a last newline-framed message that its sender ended without
// a newline (a message all the same); errTruncated or a read's error
// (a deadline) with the piece of a message that did not arrive whole.
func (f *framer) next() (msg []byte, tooLong bool, err error) {
	for {
		head, err := f.r.Peek(1) // never wait for more than a byte: a short message may be the last for a while
		if err != nil {
			return nil, false, err
		}
		f.buf = f.buf[:0]
		if c := head[0]; c >= '1' && c <= '9' {
			if n, ok, err := f.count(); err != nil || ok {
				if err != nil {
					return f.buf, false, err
				}
				return f.counted(n)
			}
		}
		msg, tooLong, err := f.line()
		if err == nil && !tooLong && len(msg) == 0 {
			continue // an empty line between messages
		}
		return msg, tooLong, err
	}
}

// count reads "LEN SP" byte by byte. When what comes is not a count, the
// bytes read stay in f.buf as the start of a newline-framed message.
func (f *framer) count() (n int, ok bool, err error) {
	for i := 0; ; i++ {
		c, err := f.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = errTruncated
			}
			return 0, false, err
		}
		switch {
		case c == ' ' && i > 0:
			return n, true, nil
		case c >= '0' && c <= '9' && i < maxLenDigits:
			n = n*10 + int(c-'0')
			f.buf = append(f.buf, c)
		default:
			f.r.UnreadByte()
			return 0, false, nil
		}
	}
}

// counted reads an octet-counted message of n bytes.
func (f *framer) counted(n int) ([]byte, bool, error) {
	if n > f.max {
		if k, err := f.r.Discard(n); k < n {
			return nil, true, truncated(err)
		}
		return nil, true, nil
	}
	if cap(f.buf) < n {
		f.buf = make([]byte, n, max(n, 2048))
	}
	f.buf = f.buf[:n]
	if k, err := io.ReadFull(f.r, f.buf); err != nil {
		return f.buf[:k], false, truncated(err)
	}
	return f.buf, false, nil
}

// truncated is the error for a short read inside a counted message: the
// read's own (a deadline), or errTruncated at the end of the stream.
func truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errTruncated
	}
	return err
}

// line reads a message (after what f.buf holds) up to its newline (dropped, with a CR before it;
// a NUL ends it too, as some senders frame with one).
func (f *framer) line() ([]byte, bool, error) {
	tooLong := false
	for {
		chunk, err := f.r.ReadSlice('\n')
		if !tooLong {
			if len(f.buf)+len(chunk) > f.max+2 { // +2: the CR LF
				tooLong, f.buf = true, f.buf[:0]
			} else {
				f.buf = append(f.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			if tooLong {
				return nil, true, nil
			}
			return trimEnd(f.buf), false, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(f.buf) == 0 && !tooLong:
			return nil, false, io.EOF
		case err == io.EOF:
			if tooLong {
				return nil, true, io.ErrUnexpectedEOF
			}
			return trimEnd(f.buf), false, io.ErrUnexpectedEOF
		default:
			return trimEnd(f.buf), tooLong, err
		}
	}
}

// trimEnd drops a message's line end: LF, CR LF, trailing NULs.
func trimEnd(b []byte) []byte {
	return bytes.TrimRight(b, "\n\r\x00")
}
