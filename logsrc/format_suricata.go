package logsrc

import (
	"bytes"
	"net/netip"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// Suricata's EVE JSON (eve.json): one event a line, its kind in
// event_type. An "http" event is a request (hostname, url, http_method,
// protocol, status, http_user_agent, http_refer with extended logging; the
// Origin and key headers only with custom fields or dump-all-headers), a
// "dns" event with an answer is a DNS answer (the three layouts Suricata
// has written: one event per answer, version 2 with "answers" or "grouped",
// version 3 with "queries"), a "tls" event is a ClientHello's SNI. Every
// other event (alert, flow, fileinfo, anomaly, stats, ...) is skipped,
// even when it repeats an http object. The field names are Suricata's
// documentation: doc/userguide/output/eve/eve-json-format.rst.

const nameSuricata = "suricata"

func newSuricataParser() *Parser {
	p := &Parser{name: nameSuricata, escape: escJSON, sensor: sensorSuricata, headerMap: true}
	p.has = 1<<kHTTPHost | 1<<kRequestURI | 1<<kOrigin | 1<<kReferer
	p.setBlind()
	return p
}

var (
	errEVE     = &parseError{reason: "an EVE line without event_type or timestamp"}
	errEVETime = &parseError{reason: "the timestamp value is not an RFC 3339 time"}
	errEVEType = &parseError{reason: "an http, dns or tls event without its object"}
)

// parseSuricata reads one EVE line.
func (p *Parser) parseSuricata(line []byte, keys *keys.Extractor, r *detect.Request) (eventKind, error) {
	var typ, ts, srcIP, srcPort, dstIP, dstPort []byte
	it := flatIter{line: line}
	for {
		key, raw, ok := it.next()
		if !ok {
			break
		}
		switch string(key) {
		case "event_type":
			typ = bytes.Trim(raw, `"`)
		case "timestamp":
			ts = bytes.Trim(raw, `"`)
		case "src_ip":
			srcIP = bytes.Trim(raw, `"`)
		case "src_port":
			srcPort = raw
		case "dest_ip":
			dstIP = bytes.Trim(raw, `"`)
		case "dest_port":
			dstPort = raw
		}
	}
	if it.err != nil {
		return kindRequest, it.err
	}
	if typ == nil || ts == nil {
		return kindRequest, errEVE
	}
	t, ok := parseTimeAny(ts, p.location())
	if !ok {
		return kindRequest, errEVETime
	}
	switch string(typ) {
	case "http", "dns", "tls":
	default:
		return kindRequest, errNotRequestEvent
	}
	// The event's own object: an alert or fileinfo event carries an http
	// object too, and is not the request.
	obj := eveObject(line, typ)
	if obj == nil {
		return kindRequest, errEVEType
	}
	src := p.eveAddr(srcIP, srcPort)
	dst := p.eveAddr(dstIP, dstPort)
	switch string(typ) {
	case "http":
		return kindRequest, p.eveHTTP(obj, t, src, dst, keys, r)
	case "dns":
		// Suricata has logged answers in either direction: the DNS
		// server is the side on port 53.
		client, server := src, dst
		if src.Port() == 53 && dst.Port() != 53 {
			client, server = dst, src
		}
		return p.eveDNS(obj, t, client, server)
	default:
		h := &p.ev.tls
		*h = detect.TLSHello{Time: t, Client: src, Server: dst}
		oi := flatIter{line: obj}
		for {
			key, raw, ok := oi.next()
			if !ok {
				break
			}
			if string(key) == "sni" {
				if v, null, _, err := jsonValue(raw, 0); err == nil && !null {
					h.SNI = p.str(p.unescapeZeek(v, false))
				}
			}
		}
		if oi.err != nil {
			return kindRequest, oi.err
		}
		return kindTLS, nil
	}
}

// eveObject returns the raw object under key typ at the top of line.
func eveObject(line, typ []byte) []byte {
	it := flatIter{line: line}
	for {
		key, raw, ok := it.next()
		if !ok {
			return nil
		}
		if bytes.Equal(key, typ) && len(raw) > 0 && raw[0] == '{' {
			return raw
		}
	}
}

func (p *Parser) eveAddr(ip, port []byte) netip.AddrPort {
	a, ok := p.addr(ip)
	if !ok {
		return netip.AddrPort{}
	}
	n, _ := parsePort(port)
	return netip.AddrPortFrom(a, uint16(n))
}

// eveHTTP reads an http event's object.
func (p *Parser) eveHTTP(obj []byte, t time.Time, src, dst netip.AddrPort, keys *keys.Extractor, r *detect.Request) error {
	var x lineVals
	x.bestRank = -1
	var httpPort []byte
	headers, extended := false, false
	it := flatIter{line: obj}
	for {
		key, raw, ok := it.next()
		if !ok {
			break
		}
		v, null, _, err := jsonValue(raw, 0)
		if err != nil || null && raw[0] != '[' {
			continue
		}
		k := kOpaque
		switch string(key) {
		case "hostname":
			k = kHTTPHost
		case "http_port":
			httpPort = v
		case "url":
			k = kRequestURI
		case "http_method":
			k, extended = kMethod, true
		case "protocol":
			k = kProto
		case "status":
			k = kStatus
		case "http_user_agent":
			k = kUserAgent
		case "http_refer":
			k = kReferer
		case "request_headers":
			headers = true
			p.eveHeaders(raw, &x)
		default:
			// custom: [origin, authorization, ...] log a header under its
			// name, lower-cased, '-' as '_'.
			if foldEq(key, "origin") {
				headers = true
			}
			p.takeHeader(p.customHeader(key), v, &x)
		}
		if k != kOpaque && !x.seen.has(k) {
			x.vals[k], x.seen = v, x.seen|1<<k
		}
	}
	if it.err != nil {
		return it.err
	}
	if len(httpPort) > 0 && x.seen.has(kHTTPHost) {
		// "Host: www.test.org:1337" is logged as hostname and http_port.
		start := len(p.buf)
		p.buf = append(append(append(p.buf, x.vals[kHTTPHost]...), ':'), httpPort...)
		x.vals[kHTTPHost] = p.buf[start:]
	}
	if !x.seen.has(kRequestURI) {
		return errNoRequest // without extended logging there is no method, but always a url
	}
	if err := p.build(&x, keys, r); err != nil {
		return err
	}
	r.Time, r.Client, r.Server = t, src, dst
	r.Blind = p.blind & detect.BlindKey
	if !headers {
		r.Blind |= detect.BlindOrigin // not logged unless custom or dump-all-headers says so
	}
	if !extended && !headers {
		r.Blind |= detect.BlindReferer
	}
	if !x.seen.has(kHTTPHost) {
		r.Blind |= detect.BlindHost
	}
	return nil
}

// customHeader turns a custom field's name back into its header's
// ("x_forwarded_proto" -> "x-forwarded-proto"), in the line's scratch.
func (p *Parser) customHeader(key []byte) []byte {
	if bytes.IndexByte(key, '_') < 0 {
		return key
	}
	start := len(p.buf)
	p.buf = append(p.buf, key...)
	name := p.buf[start:]
	for i, c := range name {
		if c == '_' {
			name[i] = '-'
		}
	}
	return name
}

// eveHeaders reads dump-all-headers' [{"name":..,"value":..}, ...].
func (p *Parser) eveHeaders(raw []byte, x *lineVals) {
	i := skipWS(raw, 1)
	for i < len(raw) && raw[i] == '{' {
		end, err := skipValue(raw, i)
		if err != nil {
			return
		}
		var name, value []byte
		it := flatIter{line: raw[i:end]}
		for {
			k, v, ok := it.next()
			if !ok {
				break
			}
			s, null, _, err := jsonValue(v, 0)
			if err != nil || null {
				continue
			}
			switch string(k) {
			case "name":
				name = s
			case "value":
				value = s
			}
		}
		if name != nil && value != nil {
			p.takeHeader(name, value, x)
		}
		i = skipWS(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipWS(raw, i+1)
		}
	}
}

// eveDNS reads a dns event's object: an answer in any of Suricata's
// layouts. A query, and an answer without name, is skipped.
func (p *Parser) eveDNS(obj []byte, t time.Time, client, server netip.AddrPort) (eventKind, error) {
	a := &p.ev.dns
	*a = detect.DNSAnswer{Time: t, Client: client, Server: server}
	var typ, rrtype, rdata, ttl, answers, grouped, queries []byte
	var name []byte
	it := flatIter{line: obj}
	for {
		key, raw, ok := it.next()
		if !ok {
			break
		}
		switch string(key) {
		case "type":
			typ = bytes.Trim(raw, `"`)
		case "rrname":
			name = bytes.Trim(raw, `"`)
		case "rrtype":
			rrtype = bytes.Trim(raw, `"`)
		case "rdata":
			rdata = raw
		case "ttl":
			ttl = raw
		case "rcode":
			a.Rcode = rcodeNum(bytes.Trim(raw, `"`))
		case "answers":
			answers = raw
		case "grouped":
			grouped = raw
		case "queries":
			queries = raw
		}
	}
	if it.err != nil {
		return kindRequest, it.err
	}
	if string(typ) != "answer" && string(typ) != "response" {
		return kindRequest, errNotRequestEvent
	}
	if name == nil && len(queries) > 0 {
		name = firstField(queries, "rrname")
	}
	first := true
	add := func(rrtype, rdata, ttl []byte) {
		if len(rdata) == 0 {
			return // an answer without rdata
		}
		v, null, _, err := jsonValue(rdata, 0)
		if err != nil || null {
			return
		}
		switch string(rrtype) {
		case "A", "AAAA":
			if ip, ok := p.addr(v); ok {
				a.Addrs = append(a.Addrs, ip)
				if s, ok := zeekSeconds(ttl); ok && (first || s < a.TTL) {
					a.TTL, first = s, false
				}
			}
		case "CNAME":
			a.CNAMEs = append(a.CNAMEs, strings.TrimSuffix(string(p.unescapeZeek(v, false)), "."))
		}
	}
	if rdata != nil { // one event per answer (before version 2)
		add(rrtype, rdata, ttl)
	}
	if len(answers) > 0 && answers[0] == '[' {
		i := skipWS(answers, 1)
		for i < len(answers) && answers[i] == '{' {
			end, err := skipValue(answers, i)
			if err != nil {
				break
			}
			var owner, rt, rd, tl []byte
			ai := flatIter{line: answers[i:end]}
			for {
				k, v, ok := ai.next()
				if !ok {
					break
				}
				switch string(k) {
				case "rrname":
					owner = bytes.Trim(v, `"`)
				case "rrtype":
					rt = bytes.Trim(v, `"`)
				case "rdata":
					rd = v
				case "ttl":
					tl = v
				}
			}
			if name == nil {
				name = owner
			}
			add(rt, rd, tl)
			i = skipWS(answers, end)
			if i < len(answers) && answers[i] == ',' {
				i = skipWS(answers, i+1)
			}
		}
	}
	if len(grouped) > 0 { // "grouped": {"A": [..], "CNAME": [..]}: no TTLs
		gi := flatIter{line: grouped}
		for {
			k, list, ok := gi.next()
			if !ok {
				break
			}
			for rest := list; ; {
				item := p.nextItem(&rest, true)
				if item == nil {
					break
				}
				q := append([]byte{'"'}, append(item, '"')...)
				add(k, q, nil)
			}
		}
	}
	if name == nil {
		return kindRequest, errNotRequestEvent
	}
	a.Name = p.str(p.unescapeZeek(name, false))
	return kindDNS, nil
}

// firstField returns the string value of key in the first object of an
// array.
func firstField(arr []byte, key string) []byte {
	i := skipWS(arr, 1)
	if i >= len(arr) || arr[i] != '{' {
		return nil
	}
	end, err := skipValue(arr, i)
	if err != nil {
		return nil
	}
	it := flatIter{line: arr[i:end]}
	for {
		k, v, ok := it.next()
		if !ok {
			return nil
		}
		if string(k) == key {
			return bytes.Trim(v, `"`)
		}
	}
}

// rcodeNum turns a response code's name into its number (RFC 1035 §4.1.1).
func rcodeNum(name []byte) int {
	switch string(name) {
	case "NOERROR":
		return 0
	case "FORMERR":
		return 1
	case "SERVFAIL":
		return 2
	case "NXDOMAIN":
		return 3
	case "NOTIMP":
		return 4
	case "REFUSED":
		return 5
	}
	n, _ := num(name)
	return n
}
