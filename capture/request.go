package capture

import (
	"net/netip"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/cachegate"
	"github.com/rebindwatch/rebindwatch/keys"
)

// This file makes the kept detect.Request of a parsed request, HTTP/1 or
// h2c. Values are kept as sent (the edges sanitise), short ones interned;
// the values of key query parameters are redacted from the target and the
// Referer, so no raw key leaves the source; the key is fingerprinted.

// reqBuilder makes kept requests. It is not safe for concurrent use.
type reqBuilder struct {
	source    string          // Request.Source
	keys      *keys.Extractor // nil: no key is looked for
	in        *strCache
	hosts     cachegate.Gate // the Hosts' own: a flood's are all new
	rep       *reporter
	redactOut []byte // a target with its key values redacted
}

// begin fills what every request has: its time, source, endpoints and
// method.
func (b *reqBuilder) begin(r *detect.Request, at int64, client, server netip.AddrPort, method []byte) {
	r.Time = time.Unix(0, at).UTC()
	r.Source = b.source
	r.Client, r.Server = client, server
	r.Method = detect.KnownMethod(method)
	if r.Method == "" {
		r.Method = b.str(method)
	}
}

// fromHead fills r from an HTTP/1 request head that client sent server at
// packet time at.
func (b *reqBuilder) fromHead(r *detect.Request, rh *reqHead, at int64, client, server netip.AddrPort) {
	b.begin(r, at, client, server, rh.method)
	r.Host, r.HasHost, r.DupHost = b.in.gated(&b.hosts, rh.host), rh.hasHost, rh.dupHost
	if auth, mismatch, ok := absoluteForm(rh.target, rh.host, rh.hasHost); ok {
		r.URIHost = b.str(auth)
		b.rep.inc(cAbsoluteForm)
		if mismatch {
			b.rep.inc(cAbsoluteFormHostMismatch)
		}
	}
	r.Target = b.redacted(rh.target, false)
	r.Proto = internProto(rh.proto)
	r.Origin, r.HasOrigin = b.str(rh.origin), rh.hasOrigin
	r.Referer = b.redacted(rh.referer, true)
	r.UserAgent = b.str(rh.userAgent)
	r.PNARequest = rh.pna
	if rh.malformed != "" {
		r.Malformed = rh.malformed
		b.rep.inc(cMalformedRequests)
	}
	r.Key = b.key(rh.keyMask, func(rank int) ([]byte, []byte) { return rh.keyName[rank], rh.keyVal[rank] }, rh.target)
}

// str returns a value as a kept string, shared when it repeats (strCache).
func (b *reqBuilder) str(v []byte) string { return b.in.String(v) }

// redacted returns a target or URL as a kept string with the values of
// key query parameters replaced (keys.Redacted), so no raw key reaches an
// output. intern says the value repeats (a Referer) and is worth sharing.
func (b *reqBuilder) redacted(v []byte, intern bool) string {
	if b.keys != nil {
		var ok bool
		if b.redactOut, ok = b.keys.AppendRedacted(b.redactOut[:0], v); ok {
			return string(b.redactOut)
		}
	}
	if intern {
		return b.str(v)
	}
	return string(v)
}

// key returns a request's key fingerprint: from the key header of lowest
// rank that yields one (mask says which ranks the request has; header
// gives one), else from the target's query.
func (b *reqBuilder) key(mask uint32, header func(rank int) (name, value []byte), target []byte) string {
	if b.keys == nil {
		return ""
	}
	for r := 0; r < maxKeyRanks && mask>>r != 0; r++ {
		if mask&(1<<r) != 0 {
			if fp, ok := b.keys.FromHeader(header(r)); ok {
				return fp
			}
		}
	}
	if fp, ok := b.keys.FromTarget(target); ok {
		return fp
	}
	return ""
}

// internProto returns an HTTP/1 version as a kept string.
func internProto(b []byte) string {
	switch string(b) {
	case "HTTP/1.1":
		return "HTTP/1.1"
	case "HTTP/1.0":
		return "HTTP/1.0"
	case "HTTP/0.9":
		return "HTTP/0.9"
	}
	return string(b) // HTTP/1.x, or a malformed version (lenient.go), printable
}
