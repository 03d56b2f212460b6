// Package schema holds the JSON shapes of rebindwatch's lines (request,
// alert, dns, summary): one object per event, "type" first, as the README's
// field table documents. Sinks (JSON lines, webhooks) share it, so a line
// reads the same wherever it goes. Every string is escaped so that a line
// shown in a terminal cannot carry control characters or invisible runes.
package schema

import (
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// AppendRequest appends a request line's object (no newline).
func AppendRequest(b []byte, r *detect.Request) []byte {
	b = append(b, `{"type":"request","time":`...)
	b = appendTime(b, r.Time)
	b = field(b, "source", r.Source)
	b = addrField(b, "client", r.Client)
	b = addrField(b, "server", r.Server)
	b = field(b, "method", r.Method)
	b = field(b, "host", r.Host)
	b = field(b, "target", r.Target)
	b = field(b, "proto", r.Proto)
	if r.Malformed != "" {
		b = field(b, "malformed", r.Malformed)
	}
	b = field(b, "origin", r.Origin)
	b = field(b, "referer", r.Referer)
	b = field(b, "user_agent", r.UserAgent)
	b = field(b, "key", r.Key)
	if r.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(r.Status), 10)
	}
	b = append(b, '}')
	return b
}

// AppendAlert appends an alert line's object (no newline).
func AppendAlert(b []byte, a *detect.Alert) []byte {
	b = append(b, `{"type":"alert","time":`...)
	b = appendTime(b, a.Time)
	b = field(b, "detector", a.Detector)
	b = field(b, "severity", a.Severity.String())
	b = field(b, "subject", a.Subject)
	if a.Dimension != "" {
		b = field(b, "dimension", a.Dimension)
	}
	b = field(b, "key", a.Key)
	b = field(b, "client", a.Client)
	b = field(b, "host", a.Host)
	b = field(b, "origin", a.Origin)
	b = field(b, "target", a.Target)
	if a.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(a.Status), 10)
	}
	if a.Outcome != "" {
		b = field(b, "outcome", a.Outcome)
	}
	if a.Class != "" {
		b = field(b, "class", a.Class)
	}
	if a.Tool != "" {
		b = field(b, "tool", string(a.Tool))
		b = appendAddrs(b, "addrs", a.Addrs)
	}
	if a.Detector == detect.DetKeyStuffing {
		b = intField(b, "keys", a.Keys)
		b = intField(b, "rejected", a.Rejected)
	}
	b = field(b, "message", a.Message)
	b = intField(b, "count", a.Count)
	if a.Incident != "" {
		b = field(b, "incident", a.Incident)
	}
	b = append(b, '}')
	return b
}

// AppendIncident appends an incident line's object (no newline): written
// when an incident opens and when its severity rises.
func AppendIncident(b []byte, i *detect.Incident) []byte {
	b = append(b, `{"type":"incident","time":`...)
	b = appendTime(b, i.Last)
	b = field(b, "incident", i.ID)
	b = field(b, "change", i.Change)
	b = field(b, "severity", i.Severity.String())
	b = field(b, "subject", i.Subject)
	b = appendStrings(b, "detectors", i.Detectors)
	b = field(b, "outcome", i.Outcome)
	if i.Class != "" {
		b = field(b, "class", i.Class)
	}
	b = append(b, `,"first":`...)
	b = appendTime(b, i.Opened)
	b = append(b, `,"last":`...)
	b = appendTime(b, i.Last)
	b = appendStrings(b, "names", i.Names)
	b = appendStrings(b, "keys", i.Keys)
	b = appendStrings(b, "clients", i.Clients)
	b = intField(b, "alerts", len(i.Alerts))
	b = intField(b, "count", i.Count)
	return append(b, '}')
}

// AppendDNS appends a dns line's object (no newline).
func AppendDNS(b []byte, a *detect.DNSAnswer) []byte {
	b = append(b, `{"type":"dns","time":`...)
	b = appendTime(b, a.Time)
	b = field(b, "source", a.Source)
	b = addrField(b, "client", a.Client)
	b = addrField(b, "server", a.Server)
	b = field(b, "name", a.Name)
	b = appendStrings(b, "cname", a.CNAMEs)
	b = appendAddrs(b, "addrs", a.Addrs)
	b = append(b, `,"ttl":`...)
	b = strconv.AppendUint(b, uint64(a.TTL), 10)
	b = append(b, `,"rcode":`...)
	b = strconv.AppendInt(b, int64(a.Rcode), 10)
	b = append(b, `,"private":`...)
	b = strconv.AppendBool(b, a.Private)
	b = append(b, `,"flipped":`...)
	b = strconv.AppendBool(b, a.Flipped)
	b = append(b, '}')
	return b
}

// AppendSummary appends the summary line's object (no newline).
func AppendSummary(b []byte, s *detect.Summary) []byte {
	b = append(b, `{"type":"summary","config":`...)
	b = AppendString(b, s.Config)
	b = append(b, `,"requests":`...)
	b = strconv.AppendUint(b, s.Requests, 10)
	b = append(b, `,"alerts":{`...)
	for i, d := range detect.Detectors {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, d)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(s.Alerts[d]), 10)
	}
	b = append(b, `},"incidents":`...)
	b = strconv.AppendInt(b, int64(s.Incidents), 10)
	b = append(b, `,"parse_errors":`...)
	b = strconv.AppendUint(b, s.ParseErrors, 10)
	b = append(b, `,"dropped":`...)
	b = strconv.AppendUint(b, s.Dropped, 10)
	b = append(b, `,"evicted":`...)
	b = appendCounts(b, s.Evicted)
	b = append(b, `,"counters":`...)
	b = appendCounts(b, s.Counters)
	if s.HostCheck != "" {
		b = field(b, "host_check", s.HostCheck)
	}
	if s.OriginCheck != "" {
		b = field(b, "origin_check", s.OriginCheck)
	}
	b = append(b, `,"sources":[`...)
	for i, src := range s.Sources {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = AppendString(b, src.Name)
		b = field(b, "state", src.State.String())
		b = append(b, `,"requests":`...)
		b = strconv.AppendUint(b, src.Requests, 10)
		b = append(b, `,"parse_errors":`...)
		b = strconv.AppendUint(b, src.ParseErrors, 10)
		if src.HasLag {
			b = append(b, `,"lag":`...)
			b = strconv.AppendInt(b, src.Lag, 10)
		}
		if src.Note != "" {
			b = field(b, "note", src.Note)
		}
		if len(src.Off) > 0 {
			b = append(b, `,"off":[`...)
			for j, o := range src.Off {
				if j > 0 {
					b = append(b, ',')
				}
				b = AppendString(b, o)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	return b
}

// appendU appends \uXXXX for one UTF-16 unit.
func appendU(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
}

func appendCounts(b []byte, m map[string]uint64) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, k)
		b = append(b, ':')
		b = strconv.AppendUint(b, m[k], 10)
	}
	return append(b, '}')
}

func intField(b []byte, name string, v int) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, int64(v), 10)
}

func appendStrings(b []byte, name string, vs []string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, `":[`...)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, v)
	}
	return append(b, ']')
}

func appendAddrs(b []byte, name string, addrs []netip.Addr) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, `":[`...)
	for i, ip := range addrs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = ip.AppendTo(b)
		b = append(b, '"')
	}
	return append(b, ']')
}

func field(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return AppendString(b, v)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	return append(b, '"')
}

// addrField writes "ip:port", or just the IP when the port is unknown (logs).
func addrField(b []byte, name string, a netip.AddrPort) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':', '"')
	switch {
	case !a.IsValid():
	case a.Port() == 0:
		b = a.Addr().Unmap().AppendTo(b)
	default:
		b = netip.AddrPortFrom(a.Addr().Unmap(), a.Port()).AppendTo(b)
	}
	return append(b, '"')
}

// AppendString appends s as a JSON string. Control characters are escaped,
// invalid UTF-8 becomes U+FFFD, and every invisible rune (C1, bidi controls,
// zero-width characters, U+2028/2029) is \u-escaped, so a line shown by
// jq or tail in a terminal cannot reorder or hide text, and JavaScript
// consumers are safe too.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || sanitize.Invisible(r) {
			b = append(b, s[start:i]...)
			switch {
			case r == utf8.RuneError:
				b = append(b, `\ufffd`...)
			case r > 0xffff:
				// JSON's \u takes UTF-16 units: a surrogate pair.
				hi, lo := utf16.EncodeRune(r)
				b = appendU(b, hi)
				b = appendU(b, lo)
			default:
				b = appendU(b, r)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
