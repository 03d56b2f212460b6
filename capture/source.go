package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/rebindwatch/rebindwatch/detect"
)

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

// readBufSize is the read-ahead of a capture file.
const readBufSize = 64 << 10

// notCaptureError is returned for a file that is neither pcap nor pcapng.
type notCaptureError struct{ name string }

func (e *notCaptureError) Error() string {
	return e.name + " is not a pcap or pcapng capture"
}

func (e *notCaptureError) Unwrap() error { return ErrNotCapture }

// countingReader counts the bytes read from a file, for progress, and
// remembers an I/O error so it is not mistaken for a damaged capture.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// packetReader yields a capture's frames. The data is only valid until the
// next call.
type packetReader interface {
	next() (data []byte, ci gopacket.CaptureInfo, link layers.LinkType, err error)
}

type pcapReader struct {
	r    *pcapgo.Reader
	link layers.LinkType
}

func (r *pcapReader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	data, ci, err := r.r.ZeroCopyReadPacketData()
	if err == io.EOF && ci.CaptureLength > 0 {
		err = io.ErrUnexpectedEOF // a record header with no data after it
	}
	return data, ci, r.link, err
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
// A truncated header is reported as such with a nil reader.
func openCapture(r io.Reader, name string) (packetReader, error) {
	br := bufio.NewReaderSize(r, readBufSize)
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
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, nil
			}
			return nil, fmt.Errorf("%s: bad pcap file header: %w", name, err)
		}
		return &pcapReader{r: pr, link: pr.LinkType()}, nil
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
	return detect.Sanitize(path)
}
