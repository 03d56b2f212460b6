package logsrc

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rebindwatch/rebindwatch/source"
)

// ErrBinaryFile is wrapped by the error for a file that is not a text log
// (compressed without a .gz name, an archive, a capture, an executable), so
// that a file given by mistake is refused instead of read as garbage lines.
var ErrBinaryFile = source.InputError("not a text log")

// errDirectory is a log path that names a directory.
var errDirectory = source.InputError("is a directory, not a log (give its files, or a glob like dir/*.log)")

// sniffBytes is how much of a file's start decides whether it is text.
const sniffBytes = 4096

// magics are the file signatures a log given by mistake most likely has.
var magics = []struct{ magic, what string }{
	{"\x1f\x8b", "gzip-compressed data (a .gz name is read decompressed; or pipe it through zcat)"},
	{"PK\x03\x04", "a zip archive"},
	{"BZh", "bzip2-compressed data (pipe it through bzcat)"},
	{"\xfd7zXZ\x00", "xz-compressed data (pipe it through xzcat)"},
	{"\x28\xb5\x2f\xfd", "zstd-compressed data (pipe it through zstdcat)"},
	{"\x7fELF", "an executable"},
	{"\x89PNG", "a PNG image"},
	{"\xd4\xc3\xb2\xa1", "a pcap capture (read it with -r)"},
	{"\xa1\xb2\xc3\xd4", "a pcap capture (read it with -r)"},
	{"\x4d\x3c\xb2\xa1", "a pcap capture (read it with -r)"},
	{"\x0a\x0d\x0d\x0a", "a pcapng capture (read it with -r)"},
}

// sniff returns an ErrBinaryFile error when head (a file's first bytes) is
// not text: a known signature, a NUL byte, or more than a few control bytes
// other than white space and the ESC of terminal colours.
func sniff(name string, head []byte) error {
	if len(head) > sniffBytes {
		head = head[:sniffBytes]
	}
	for _, m := range magics {
		if len(head) >= len(m.magic) && string(head[:len(m.magic)]) == m.magic {
			return binaryErr(name, m.what)
		}
	}
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return binaryErr(name, fmt.Sprintf("it has a NUL byte at offset %d", i))
	}
	ctl := 0
	for _, c := range head {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b || c == 0x7f {
			ctl++
		}
	}
	if ctl > 4 && ctl*100 > len(head) {
		return binaryErr(name, fmt.Sprintf("%d of its first %d bytes are control characters", ctl, len(head)))
	}
	return nil
}

func binaryErr(name, what string) error {
	return fmt.Errorf("%s: %w: %s", name, ErrBinaryFile, what)
}

// isGzipName reports whether a file is a compressed rotated log by its name.
func isGzipName(path string) bool { return strings.HasSuffix(path, ".gz") }

// counter counts the bytes read through it (a compressed file's progress).
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

type gzipReader struct {
	*bufio.Reader
	z *gzip.Reader
}

func (g gzipReader) Close() error { return g.z.Close() }

type nopCloser struct{ io.Reader }

func (nopCloser) Close() error { return nil }

// openLog checks that f is a text log and returns the reader of its lines:
// f itself, or the decompressed content of a ".gz" file (whose compressed
// progress counter is returned too).
func openLog(path string, f *os.File) (io.ReadCloser, *counter, error) {
	head := make([]byte, sniffBytes)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, nil, logErr(path, err)
	}
	head = head[:n]
	if n >= 2 && head[0] == 0x1f && head[1] == 0x8b && isGzipName(path) {
		c := &counter{r: f}
		z, err := gzip.NewReader(c)
		if err != nil {
			return nil, nil, logErr(path, err)
		}
		br := bufio.NewReaderSize(z, sniffBytes)
		inner, _ := br.Peek(sniffBytes)
		if err := sniffLog(path+" (decompressed)", inner); err != nil {
			z.Close()
			return nil, nil, err
		}
		return gzipReader{br, z}, c, nil
	}
	if err := sniffLog(path, head); err != nil {
		return nil, nil, err
	}
	return nopCloser{f}, nil, nil
}

// sniffLog is sniff for a log: the error says "log <path>: ...".
func sniffLog(path string, head []byte) error {
	if err := sniff(path, head); err != nil {
		return fmt.Errorf("log %w", err)
	}
	return nil
}
