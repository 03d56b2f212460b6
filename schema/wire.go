package schema

import (
	"encoding/json"
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

// wireRequest is the wire form as decoded.
type wireRequest struct {
	Type       string   `json:"type"`
	Time       string   `json:"time"`
	Source     string   `json:"source"`
	Node       string   `json:"node"`
	Client     string   `json:"client"`
	Server     string   `json:"server"`
	Method     string   `json:"method"`
	Host       string   `json:"host"`
	HasHost    *bool    `json:"has_host"`
	HasOrigin  *bool    `json:"has_origin"`
	URIHost    string   `json:"uri_host"`
	Target     string   `json:"target"`
	Proto      string   `json:"proto"`
	Origin     string   `json:"origin"`
	Referer    string   `json:"referer"`
	UserAgent  string   `json:"user_agent"`
	Key        string   `json:"key"`
	Status     int      `json:"status"`
	DupHost    bool     `json:"dup_host"`
	PNARequest bool     `json:"pna_request"`
	PNAGranted bool     `json:"pna_granted"`
	Blind      []string `json:"blind"`
}

// ErrWire is wrapped by every error ParseWireRequest returns.
var ErrWire = errors.New("not a request in the wire form")

// ParseWireRequest fills r from a wire form object (AppendWireRequest) and
// returns its node. A missing has_host or has_origin is read from whether
// the value is empty. Its errors never quote the input.
func ParseWireRequest(data []byte, r *detect.Request) (node string, err error) {
	var w wireRequest
	if err := json.Unmarshal(data, &w); err != nil {
		return "", fmt.Errorf("%w: %s", ErrWire, jsonProblem(err))
	}
	if w.Type != "request" {
		return "", fmt.Errorf("%w: type is not \"request\"", ErrWire)
	}
	t, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil {
		return "", fmt.Errorf("%w: time is not an RFC 3339 time", ErrWire)
	}
	*r = detect.Request{Time: t, Source: w.Source, Method: w.Method, Host: w.Host, Target: w.Target, URIHost: w.URIHost,
		Proto: w.Proto, Origin: w.Origin, Referer: w.Referer, UserAgent: w.UserAgent, Key: w.Key, Status: w.Status,
		DupHost: w.DupHost, PNARequest: w.PNARequest, PNAGranted: w.PNAGranted}
	r.HasHost = w.Host != ""
	if w.HasHost != nil {
		r.HasHost = *w.HasHost
	}
	r.HasOrigin = w.Origin != ""
	if w.HasOrigin != nil {
		r.HasOrigin = *w.HasOrigin
	}
	if r.Client, err = parseAddr(w.Client); err != nil {
		return "", fmt.Errorf("%w: client is not an address", ErrWire)
	}
	if r.Server, err = parseAddr(w.Server); err != nil {
		return "", fmt.Errorf("%w: server is not an address", ErrWire)
	}
	if !validFingerprint(r.Key) {
		// Whatever a producer put there, a key goes no further than a
		// fingerprint's shape: a raw key must not reach an output.
		return "", fmt.Errorf("%w: key is not a fingerprint", ErrWire)
	}
	for _, name := range w.Blind {
		for _, f := range blindNames {
			if f.name == name {
				r.Blind |= f.bit
			}
		}
	}
	return w.Node, nil
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

// jsonProblem names what is wrong with a JSON value without quoting it.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "invalid JSON at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		return "field " + te.Field + " has the wrong type"
	}
	return "invalid JSON"
}
