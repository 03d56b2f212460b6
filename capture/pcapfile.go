package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/rebindwatch/rebindwatch/source"
)

// This file reads capture files, recognised by their magic number: classic
// pcap straight out of the read buffer, pcapng through gopacket's pcapgo,
// either one gzipped.

// File magics, read as little-endian uint32 of the first four bytes.
const (
	magicPcapMicroLE = 0xa1b2c3d4
	magicPcapMicroBE = 0xd4c3b2a1
	magicPcapNanoLE  = 0xa1b23c4d
	magicPcapNanoBE  = 0x4d3cb2a1
	magicPcapNG      = 0x0a0d0d0a
	magicModifiedLE  = 0xa1b2cd34 // Alexey Kuznetzov's modified pcap
	magicModifiedBE  = 0x34cdb2a1
)

// readBufSize is the read-ahead of a capture file. A pcap record that fits
// in it is parsed where it lies, without a copy.
const readBufSize = 1 << 20

// maxRecord is the longest pcap record taken, whatever the file's snap
// length says: libpcap's and Wireshark's maximum snap length.
const maxRecord = 262144

// notCaptureError is returned for a file that is neither pcap nor pcapng.
type notCaptureError struct{ name string }

func (e *notCaptureError) Error() string {
	return e.name + " is not a pcap or pcapng capture"
}

func (e *notCaptureError) Unwrap() error { return ErrNotCapture }

// countingReader counts the bytes read from a file, for progress, and
// remembers an I/O error so it is not mistaken for a damaged capture, and
// a stop that ended a wait for input so it is not mistaken for either.
type countingReader struct {
	r       io.Reader
	n       int64
	err     error
	stopped bool
	file    bool // a regular file (its size is known): what is not read yet is still there
	halted  bool // told to stop: what is buffered is still read, nothing more
}

// halt makes every further Read end with source.ErrStopped, so the records
// already in the read buffer are still taken and the next refill ends the
// replay: bytes read from a pipe are not in the pipe any more.
func (c *countingReader) halt() { c.halted = true }

func (c *countingReader) Read(b []byte) (int, error) {
	if c.halted {
		c.stopped = true
		return 0, source.ErrStopped
	}
	n, err := c.r.Read(b)
	c.n += int64(n)
	switch {
	case err == nil || err == io.EOF:
	case errors.Is(err, source.ErrStopped):
		c.stopped = true
	default:
		c.err = err
	}
	return n, err
}

// packetReader yields a capture's frames. The data is only valid until the
// next call.
type packetReader interface {
	next() (data []byte, ci gopacket.CaptureInfo, link layers.LinkType, err error)
}

// pcapReader reads classic pcap records straight out of the read buffer.
type pcapReader struct {
	br     *bufio.Reader
	bo     binary.ByteOrder
	factor int64 // nanoseconds per unit of the fraction field
	snap   int
	link   layers.LinkType
	big    []byte // a record larger than the read buffer
}

// newPcapReader reads the file header (24 bytes, libpcap's savefile
// format). A file cut inside it gives io.ErrUnexpectedEOF.
func newPcapReader(br *bufio.Reader) (*pcapReader, error) {
	h, err := br.Peek(24)
	if len(h) < 24 {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	r := &pcapReader{br: br, bo: binary.LittleEndian, factor: 1000}
	switch binary.LittleEndian.Uint32(h) {
	case magicPcapMicroBE:
		r.bo = binary.BigEndian
	case magicPcapNanoLE:
		r.factor = 1
	case magicPcapNanoBE:
		r.bo, r.factor = binary.BigEndian, 1
	}
	if v := r.bo.Uint16(h[4:]); v != 2 {
		return nil, fmt.Errorf("%w: unknown pcap major version %d", ErrNotCapture, v)
	}
	// The declared snap length is not trusted: a damaged header could
	// announce gigabyte records. tcpdump and Wireshark take 256 KiB at most.
	r.snap = maxRecord
	r.link = layers.LinkType(r.bo.Uint32(h[20:]))
	br.Discard(24)
	return r, nil
}

func (r *pcapReader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	var ci gopacket.CaptureInfo
	h, err := r.br.Peek(16)
	if len(h) < 16 {
		if len(h) == 0 && err == io.EOF {
			return nil, ci, 0, io.EOF
		}
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF // a record header cut short
		}
		return nil, ci, 0, err
	}
	ci.Timestamp = time.Unix(int64(r.bo.Uint32(h)), int64(r.bo.Uint32(h[4:]))*r.factor)
	ci.CaptureLength = int(r.bo.Uint32(h[8:]))
	ci.Length = int(r.bo.Uint32(h[12:]))
	switch {
	case ci.CaptureLength > r.snap:
		return nil, ci, 0, fmt.Errorf("capture length exceeds snap length: %d > %d", ci.CaptureLength, r.snap)
	case ci.CaptureLength > ci.Length:
		return nil, ci, 0, fmt.Errorf("capture length exceeds original packet length: %d > %d", ci.CaptureLength, ci.Length)
	}
	n := 16 + ci.CaptureLength
	if n <= r.br.Size() {
		b, err := r.br.Peek(n)
		if len(b) < n {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF // a record with its data cut
			}
			return nil, ci, 0, err
		}
		r.br.Discard(n) // b stays valid until the next read
		return b[16:], ci, r.link, nil
	}
	r.br.Discard(16)
	if cap(r.big) < ci.CaptureLength {
		r.big = make([]byte, ci.CaptureLength)
	}
	data := r.big[:ci.CaptureLength]
	if _, err := io.ReadFull(r.br, data); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, ci, 0, err
	}
	return data, ci, r.link, nil
}

// ngReader reads pcapng with every interface's own link type.
type ngReader struct{ r *pcapgo.NgReader }

func (r *ngReader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	data, ci, err := r.r.ZeroCopyReadPacketData()
	if err != nil {
		return nil, ci, 0, err
	}
	iface, err := r.r.Interface(ci.InterfaceIndex)
	if err != nil {
		return nil, ci, 0, err
	}
	return data, ci, iface.LinkType, nil
}

// openCapture recognises a capture by its magic number, not its name: pcap
// (micro- or nanosecond, either byte order), pcapng, either one gzipped.
// A truncated header is reported as such with a nil reader. size is the
// file's size (0 = unknown): a small file gets a small read buffer.
func openCapture(r io.Reader, name string, size int64) (packetReader, error) {
	bufSize := readBufSize
	if size > 0 && size < int64(bufSize) {
		bufSize = max(int(size), 64<<10) // a larger record is copied out
	}
	br := bufio.NewReaderSize(r, bufSize)
	if b, _ := br.Peek(2); len(b) == 2 && b[0] == 0x1f && b[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: reading gzip header: %w", name, err)
		}
		br = bufio.NewReaderSize(gz, readBufSize)
	}
	b, _ := br.Peek(4)
	if len(b) < 4 {
		return nil, &notCaptureError{name}
	}
	switch binary.LittleEndian.Uint32(b) {
	case magicPcapMicroLE, magicPcapMicroBE, magicPcapNanoLE, magicPcapNanoBE:
		pr, err := newPcapReader(br)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, nil
			}
			return nil, fmt.Errorf("%s: bad pcap file header: %w", name, err)
		}
		return pr, nil
	case magicPcapNG:
		nr, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, nil
			}
			return nil, fmt.Errorf("%s: bad pcapng section header: %w", name, err)
		}
		return &ngReader{r: nr}, nil
	case magicModifiedLE, magicModifiedBE:
		return nil, fmt.Errorf("%s is a modified (Kuznetzov) pcap, which is not supported; convert it with editcap -F pcap", name)
	}
	return nil, &notCaptureError{name}
}

// displayName is how messages name a path.
func displayName(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}
