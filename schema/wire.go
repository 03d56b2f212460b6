package schema

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// WireRequest names the normalised request's wire form (AppendWireRequest),
// as Kafka records carry it in their WireHeader header: a consumer tells it
// from a shipper's raw line by the header, never by guessing.
const (
	WireHeader  = "rebindwatch-schema"
	WireRequest = "request.v1"
)

// AppendWireRequest appends a request's wire form, the normalised request
// the parse stage publishes and the detect stage reads (no newline): the
// request line's object (AppendRequest), then what the engine needs that
// the line leaves out:
//
//	node          the machine whose log or capture it came from (the fleet's producing host)
//	has_host      false when the request had no Host header at all
//	has_origin    true when it had an Origin header (even an empty one)
//	uri_host      an absolute-form target's authority, when there was one
//	dup_host      true when it had two or more Host headers
//	pna_request   true for a Private Network Access preflight; pna_granted when the server granted it
//	blind         the fields its source cannot see: any of host, origin, referer, key
//
// Like every line, it carries a key only as its fingerprint, and targets
// and Referers as the source redacted them: never a key.
func AppendWireRequest(b []byte, r *detect.Request, node string) []byte {
	b = AppendRequest(b, r)
	b = b[:len(b)-1] // reopen the object
	b = field(b, "node", node)
	b = boolField(b, "has_host", r.HasHost)
	b = boolField(b, "has_origin", r.HasOrigin)
	if r.URIHost != "" {
		b = field(b, "uri_host", r.URIHost)
	}
	if r.DupHost {
		b = boolField(b, "dup_host", true)
	}
	if r.PNARequest {
		b = boolField(b, "pna_request", true)
		b = boolField(b, "pna_granted", r.PNAGranted)
	}
	if r.Blind != 0 {
		b = append(b, `,"blind":[`...)
		first := true
		for _, f := range blindNames {
			if r.Blind.Has(f.bit) {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = AppendString(b, f.name)
			}
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

var blindNames = [...]struct {
	bit  detect.Blindness
	name string
}{{detect.BlindHost, "host"}, {detect.BlindOrigin, "origin"}, {detect.BlindReferer, "referer"}, {detect.BlindKey, "key"}}

func boolField(b []byte, name string, v bool) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendBool(b, v)
}

// ErrWire is wrapped by every error ParseWireRequest returns.
var ErrWire = errors.New("not a request in the wire form")

// ParseWireRequest fills r from a wire form object (AppendWireRequest) and
// returns its node. Members may come in any order and unknown ones are
// skipped; a missing has_host or has_origin is read from whether the value
// is empty. Its errors never quote the input. It is a small JSON reader of
// its own: encoding/json took most of a detect process's time.
func ParseWireRequest(data []byte, r *detect.Request) (node string, err error) {
	*r = detect.Request{}
	d := wireDecoder{s: jsonScanner{b: data}}
	if err := d.decode(r); err != nil {
		return "", fmt.Errorf("%w: %s", ErrWire, err)
	}
	if d.typ != "request" {
		return "", fmt.Errorf("%w: type is not \"request\"", ErrWire)
	}
	if r.Time, err = time.Parse(time.RFC3339Nano, d.time); err != nil {
		return "", fmt.Errorf("%w: time is not an RFC 3339 time", ErrWire)
	}
	if !d.hasHostSet {
		r.HasHost = r.Host != ""
	}
	if !d.hasOriginSet {
		r.HasOrigin = r.Origin != ""
	}
	if r.Client, err = parseAddr(d.client); err != nil {
		return "", fmt.Errorf("%w: client is not an address", ErrWire)
	}
	if r.Server, err = parseAddr(d.server); err != nil {
		return "", fmt.Errorf("%w: server is not an address", ErrWire)
	}
	if !validFingerprint(r.Key) {
		// Whatever a producer put there, a key goes no further than a
		// fingerprint's shape: a raw key must not reach an output.
		return "", fmt.Errorf("%w: key is not a fingerprint", ErrWire)
	}
	return d.node, nil
}

// wireDecoder reads one wire object's members.
type wireDecoder struct {
	s                        jsonScanner
	typ, time, node          string
	client, server           string
	hasHostSet, hasOriginSet bool
}

func (d *wireDecoder) decode(r *detect.Request) error {
	s := &d.s
	if !s.consume('{') {
		return errors.New("not a JSON object")
	}
	if s.consume('}') {
		return s.end()
	}
	for {
		name, ok := s.str()
		if !ok || !s.consume(':') {
			return s.syntax()
		}
		var err error
		switch string(name) {
		case "type":
			d.typ, err = s.stringValue("type")
		case "time":
			d.time, err = s.stringValue("time")
		case "source":
			r.Source, err = s.stringValue("source")
		case "node":
			d.node, err = s.stringValue("node")
		case "client":
			d.client, err = s.stringValue("client")
		case "server":
			d.server, err = s.stringValue("server")
		case "method":
			r.Method, err = s.stringValue("method")
		case "host":
			r.Host, err = s.stringValue("host")
		case "target":
			r.Target, err = s.stringValue("target")
		case "uri_host":
			r.URIHost, err = s.stringValue("uri_host")
		case "proto":
			r.Proto, err = s.stringValue("proto")
		case "origin":
			r.Origin, err = s.stringValue("origin")
		case "referer":
			r.Referer, err = s.stringValue("referer")
		case "user_agent":
			r.UserAgent, err = s.stringValue("user_agent")
		case "key":
			r.Key, err = s.stringValue("key")
		case "status":
			var n int64
			n, err = s.intValue("status")
			r.Status = int(n)
		case "has_host":
			r.HasHost, err = s.boolValue("has_host")
			d.hasHostSet = true
		case "has_origin":
			r.HasOrigin, err = s.boolValue("has_origin")
			d.hasOriginSet = true
		case "dup_host":
			r.DupHost, err = s.boolValue("dup_host")
		case "pna_request":
			r.PNARequest, err = s.boolValue("pna_request")
		case "pna_granted":
			r.PNAGranted, err = s.boolValue("pna_granted")
		case "blind":
			err = d.blind(r)
		default:
			if !s.skip(0) {
				return s.syntax()
			}
		}
		if err != nil {
			return err
		}
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return s.end()
		}
		return s.syntax()
	}
}

// blind reads the blind array.
func (d *wireDecoder) blind(r *detect.Request) error {
	s := &d.s
	if !s.consume('[') {
		return errors.New("field blind has the wrong type")
	}
	if s.consume(']') {
		return nil
	}
	for {
		v, err := s.stringValue("blind")
		if err != nil {
			return err
		}
		for _, f := range blindNames {
			if f.name == v {
				r.Blind |= f.bit
			}
		}
		if s.consume(',') {
			continue
		}
		if s.consume(']') {
			return nil
		}
		return s.syntax()
	}
}

// parseAddr reads "ip:port", "[v6]:port" or a bare IP (port 0); "" is the
// invalid (unknown) address.
func parseAddr(s string) (netip.AddrPort, error) {
	if s == "" {
		return netip.AddrPort{}, nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a, 0), nil
}

// validFingerprint reports whether s is empty or a key fingerprint: 12
// lower-case hex digits.
func validFingerprint(s string) bool {
	if s == "" {
		return true
	}
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
