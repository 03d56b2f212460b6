package capture

import (
	"encoding/binary"
	"errors"
)

// This file parses TLS ClientHellos (RFC 8446 §4.1.2) for their server
// name (SNI, RFC 6066 §3) and offered ALPN protocols (RFC 7301). It
// allocates nothing: what it finds aliases its input.

// Parsing bounds.
const (
	// maxHelloBytes caps the records gathered for one ClientHello.
	maxHelloBytes = 32 << 10
	// maxALPN caps the ALPN protocols kept.
	maxALPN = 8
	// maxTLSRecord is the largest record accepted: 2^14 plus the
	// expansion a protected record may carry (RFC 8446 §5.2).
	maxTLSRecord = 1<<14 + 256
)

// TLS constants (RFC 8446 §5.1, §4).
const (
	tlsRecordHandshake = 0x16
	tlsClientHello     = 1
	tlsExtServerName   = 0
	tlsExtALPN         = 16
	tlsSNIHostName     = 0
)

var (
	errHelloMore = errors.New("ClientHello continues in a later segment")
	errHelloBad  = errors.New("malformed TLS ClientHello")
	errHelloNot  = errors.New("not a ClientHello")
	errHelloBig  = errors.New("TLS ClientHello larger than 32 KiB")
)

// clientHello is what parseClientHello found; slices alias its input.
type clientHello struct {
	sni    []byte
	hasSNI bool
	alpn   [maxALPN][]byte
	nalpn  int
}

// looksLikeHello says whether b may start a TLS record with a ClientHello:
// a handshake record of version 3.x (SSL 3.0 to TLS 1.3 all say 3.x) whose
// handshake message is a ClientHello.
func looksLikeHello(b []byte) bool {
	return len(b) >= 6 && b[0] == tlsRecordHandshake && b[1] == 3 && b[2] <= 4 && b[5] == tlsClientHello
}

// parseClientHello reads the ClientHello at the start of b, a client's
// first bytes: handshake records (RFC 8446 §5.1) whose fragments make up
// the handshake message (it may span records). scratch holds a message
// spread over records. It returns errHelloMore when b ends before the
// message does, errHelloNot when b is not a ClientHello at all.
func parseClientHello(b []byte, scratch *[]byte, ch *clientHello) error {
	*ch = clientHello{}
	var msg []byte // the handshake message: type, length, body
	need := -1     // its full length, once known
	joined := false
	for off := 0; need < 0 || len(msg) < need; {
		if off+5 > len(b) {
			return errHelloMore
		}
		if b[off] != tlsRecordHandshake || b[off+1] != 3 {
			if off == 0 {
				return errHelloNot
			}
			return errHelloBad // another record before the hello was complete
		}
		n := int(binary.BigEndian.Uint16(b[off+3:]))
		if n == 0 || n > maxTLSRecord {
			return errHelloBad
		}
		if off+5+n > len(b) {
			if need < 0 && len(msg)+len(b)-off-5 >= 4 {
				// Check the handshake header early, so a huge claimed
				// length is rejected before waiting for it.
				at := func(j int) int {
					if j < len(msg) {
						return int(msg[j])
					}
					return int(b[off+5+j-len(msg)])
				}
				if at(0) != tlsClientHello {
					return errHelloNot
				}
				if 4+(at(1)<<16|at(2)<<8|at(3)) > maxHelloBytes {
					return errHelloBig
				}
			}
			return errHelloMore
		}
		frag := b[off+5 : off+5+n]
		off += 5 + n
		if msg == nil && need < 0 {
			msg = frag
		} else {
			if !joined {
				*scratch = append((*scratch)[:0], msg...)
				joined = true
			}
			*scratch = append(*scratch, frag...)
			msg = *scratch
		}
		if need < 0 && len(msg) >= 4 {
			if msg[0] != tlsClientHello {
				return errHelloNot
			}
			need = 4 + (int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3]))
			if need > maxHelloBytes {
				return errHelloBig
			}
		}
	}
	return parseHelloBody(msg[4:need], ch)
}

// parseHelloBody reads a ClientHello body (RFC 8446 §4.1.2, RFC 5246
// §7.4.1.2): version, random, session id, cipher suites, compression
// methods, then the extensions, which may be absent in old hellos.
func parseHelloBody(b []byte, ch *clientHello) error {
	r := reader{b: b}
	r.skip(2 + 32)  // legacy_version, random
	r.vec8()        // legacy_session_id
	cs := r.vec16() // cipher_suites
	cm := r.vec8()  // legacy_compression_methods
	if r.bad || len(cs)%2 != 0 || len(cs) == 0 || len(cm) == 0 {
		return errHelloBad
	}
	if r.empty() {
		return nil // no extensions: no SNI (SSL 3.0-era hello)
	}
	exts := r.vec16()
	if r.bad || !r.empty() {
		return errHelloBad
	}
	var sawSNI, sawALPN bool
	e := reader{b: exts}
	for !e.empty() {
		typ := e.u16()
		data := e.vec16()
		if e.bad {
			return errHelloBad
		}
		switch {
		case typ == tlsExtServerName && !sawSNI:
			sawSNI = true
			if err := parseSNI(data, ch); err != nil {
				return err
			}
		case typ == tlsExtALPN && !sawALPN:
			sawALPN = true
			if err := parseALPN(data, ch); err != nil {
				return err
			}
		}
		// Others, GREASE (RFC 8701) included, are skipped.
	}
	return nil
}

// parseSNI reads a server_name extension (RFC 6066 §3): the first
// host_name entry is the server name.
func parseSNI(b []byte, ch *clientHello) error {
	if len(b) == 0 {
		return nil // a server's empty echo; a client never sends it, but it is harmless
	}
	l, ok := listOf(b)
	if !ok {
		return errHelloBad
	}
	for !l.empty() {
		typ := l.u8()
		name := l.vec16()
		if l.bad {
			return errHelloBad
		}
		if typ == tlsSNIHostName && !ch.hasSNI {
			ch.sni, ch.hasSNI = name, true
		}
	}
	return nil
}

// parseALPN reads an application_layer_protocol_negotiation extension
// (RFC 7301 §3.1), keeping up to maxALPN protocols and leaving out GREASE
// values (RFC 8701 §2).
func parseALPN(b []byte, ch *clientHello) error {
	l, ok := listOf(b)
	if !ok {
		return errHelloBad
	}
	for !l.empty() {
		name := l.vec8()
		if l.bad || len(name) == 0 {
			return errHelloBad
		}
		if len(name) == 2 && name[0] == name[1] && name[0]&0x0f == 0x0a {
			continue
		}
		if ch.nalpn < maxALPN {
			ch.alpn[ch.nalpn] = name
			ch.nalpn++
		}
	}
	return nil
}

// listOf reads an extension's data that is one list with a 16-bit length
// and nothing after it, as server_name and ALPN are; ok is false when b is
// anything else.
func listOf(b []byte) (l reader, ok bool) {
	r := reader{b: b}
	list := r.vec16()
	return reader{b: list}, !r.bad && r.empty()
}

// reader reads TLS presentation-language fields (RFC 8446 §3); after an
// overrun every read returns zero and bad is set.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) empty() bool { return len(r.b) == 0 }

func (r *reader) take(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad, r.b = true, nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) skip(n int) { r.take(n) }

func (r *reader) u8() int {
	if v := r.take(1); v != nil {
		return int(v[0])
	}
	return 0
}

func (r *reader) u16() int {
	if v := r.take(2); v != nil {
		return int(binary.BigEndian.Uint16(v))
	}
	return 0
}

func (r *reader) vec8() []byte  { return r.take(r.u8()) }
func (r *reader) vec16() []byte { return r.take(r.u16()) }
