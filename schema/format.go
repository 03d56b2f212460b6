package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Format is a shape for request and alert lines: rebindwatch's own JSON
// (the default), the Elastic Common Schema, or OCSF Detection Findings.
type Format int

// Formats, as --output-format names them.
const (
	FormatJSON Format = iota // rebindwatch's lines (AppendRequest, AppendAlert)
	FormatECS                // Elastic Common Schema 8.x
	FormatOCSF               // OCSF 1.x Detection Finding (class 2004) for alerts; requests have no OCSF line here
)

// ParseFormat reads a --output-format value: json, ecs or ocsf.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "json":
		return FormatJSON, nil
	case "ecs":
		return FormatECS, nil
	case "ocsf":
		return FormatOCSF, nil
	}
	return 0, fmt.Errorf("unknown output format %q (use json, ecs or ocsf)", s)
}

// Encoder writes request and alert lines in one format, chosen once.
// Incident, dns and summary lines keep rebindwatch's own shape in every
// format (they carry "type").
type Encoder struct {
	Format Format
	// Request appends a request's object; nil when the format has no
	// request line (OCSF).
	Request func(b []byte, r *detect.Request) []byte
	// Alert appends an alert's object.
	Alert func(b []byte, a *detect.Alert) []byte
}

// EncoderOptions is what the ECS and OCSF shapes say about where events
// come from.
type EncoderOptions struct {
	// Node names the machine whose traffic a local source read (its host
	// name): host.name in ECS. Ignored with SourceIsHost.
	Node string
	// SourceIsHost says that a request's Source is the producing host (a
	// fleet's requests, from Kafka) rather than a file or a capture.
	SourceIsHost bool
	// Version is rebindwatch's version, for OCSF's metadata.product.
	Version string
}

// NewEncoder returns the encoder of format f.
func NewEncoder(f Format, o EncoderOptions) Encoder {
	switch f {
	case FormatECS:
		e := ecs{o}
		return Encoder{Format: f, Request: e.appendRequest, Alert: e.appendAlert}
	case FormatOCSF:
		e := ocsf{o}
		return Encoder{Format: f, Alert: e.appendAlert}
	}
	return Encoder{Format: FormatJSON, Request: AppendRequest, Alert: AppendAlert}
}

// AlertID identifies an alert as raised: its detector, subject, dimension
// and event time. Two processes that raise the same alert from the same
// request (a partition read again after a rebalance) give it the same ID,
// so a consumer de-duplicates on it: ECS event.id, OCSF finding_info.uid.
func AlertID(a *detect.Alert) string {
	h := sha256.New()
	h.Write([]byte(a.Detector))
	h.Write([]byte{0})
	h.Write([]byte(a.Subject))
	h.Write([]byte{0})
	h.Write([]byte(a.Dimension))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, a.Time.UnixNano(), 10))
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// trigger is the request that raised an alert (its newest evidence), or nil.
func trigger(a *detect.Alert) *detect.Request {
	if len(a.Evidence) == 0 {
		return nil
	}
	return &a.Evidence[len(a.Evidence)-1]
}

// obj writes JSON objects with a first-member comma rule, for the nested
// shapes of ECS and OCSF.
type obj struct {
	b     []byte
	first []bool // per open object: nothing written yet
}

func (o *obj) key(name string) {
	n := len(o.first) - 1
	if !o.first[n] {
		o.b = append(o.b, ',')
	}
	o.first[n] = false
	o.b = append(o.b, '"')
	o.b = append(o.b, name...)
	o.b = append(o.b, '"', ':')
}

func (o *obj) open(name string) {
	if name != "" {
		o.key(name)
	}
	o.b = append(o.b, '{')
	o.first = append(o.first, true)
}

func (o *obj) close() {
	o.b = append(o.b, '}')
	o.first = o.first[:len(o.first)-1]
}

// str writes a string member, none when v is empty.
func (o *obj) str(name, v string) {
	if v == "" {
		return
	}
	o.key(name)
	o.b = AppendString(o.b, v)
}

func (o *obj) num(name string, v int64) {
	o.key(name)
	o.b = strconv.AppendInt(o.b, v, 10)
}

func (o *obj) boolean(name string, v bool) {
	o.key(name)
	o.b = strconv.AppendBool(o.b, v)
}

func (o *obj) strs(name string, vs ...string) {
	o.key(name)
	o.b = append(o.b, '[')
	for i, v := range vs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = AppendString(o.b, v)
	}
	o.b = append(o.b, ']')
}

func (o *obj) time(name string, t time.Time) {
	if t.IsZero() {
		return
	}
	o.key(name)
	o.b = appendTime(o.b, t)
}

// ip writes an address's IP, none when unknown.
func (o *obj) ip(name string, a netip.Addr) {
	if !a.IsValid() {
		return
	}
	o.key(name)
	o.b = append(o.b, '"')
	o.b = a.Unmap().AppendTo(o.b)
	o.b = append(o.b, '"')
}

// ourAlert writes an alert's own fields, which neither ECS nor OCSF
// models (ECS rebindwatch.*, OCSF unmapped.rebindwatch).
func ourAlert(o *obj, a *detect.Alert) {
	o.str("detector", a.Detector)
	o.str("severity", a.Severity.String())
	o.str("subject", a.Subject)
	o.str("dimension", a.Dimension)
	o.str("key", a.Key)
	o.str("host", a.Host)
	o.str("origin", a.Origin)
	o.str("outcome", a.Outcome)
	o.str("class", a.Class)
	o.str("incident", a.Incident)
	o.num("count", int64(a.Count))
	if a.Tool != "" {
		o.str("tool", string(a.Tool))
		addrs := make([]string, len(a.Addrs))
		for i, ip := range a.Addrs {
			addrs[i] = ip.String()
		}
		o.strs("addrs", addrs...)
	}
	if a.Detector == detect.DetKeyStuffing {
		o.num("keys", int64(a.Keys))
		o.num("rejected", int64(a.Rejected))
	}
	if r := trigger(a); r != nil {
		o.str("source", r.Source)
	}
}

// endpoint opens an object for one end of a connection with its IP and
// port (none when unknown), left open for more members.
func (o *obj) endpoint(name string, ip netip.Addr, port uint16) {
	o.open(name)
	o.ip("ip", ip)
	if port != 0 {
		o.num("port", int64(port))
	}
}

// hostName is a Host header's name without its port, as the engine reads
// it ("" when the request had none).
func hostName(r *detect.Request) string {
	h := r.Host
	if r.URIHost != "" {
		h = r.URIHost
	} else if !r.HasHost {
		return ""
	}
	name, _ := detect.SplitHostPort(detect.NormalizeHost(h))
	return strings.Trim(name, "[]")
}

// httpVersion is "1.1" for "HTTP/1.1".
func httpVersion(proto string) string { return strings.TrimPrefix(proto, "HTTP/") }
