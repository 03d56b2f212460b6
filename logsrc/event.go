package logsrc

import (
	"errors"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// Other sensors' logs (Zeek, Suricata) hold more than requests: the DNS
// answers and TLS ClientHellos they saw, which dns_rebind, dns_private_answer
// and unexpected_sni need. A sensor format fills the Parser's event scratch
// for such lines and says which kind the line gave.

// eventKind is what one line gave.
type eventKind uint8

const (
	kindRequest eventKind = iota // the Request passed in
	kindDNS                      // Parser.ev.dns
	kindTLS                      // Parser.ev.tls
)

// sensorKind names a format that reads its lines itself rather than by
// literals or a JSON mapping.
type sensorKind uint8

const (
	sensorNone     sensorKind = iota
	sensorZeek                // Zeek's logs: TSV with their header, or JSON lines
	sensorSuricata            // Suricata's EVE JSON
	sensorW3C                 // W3C extended (CloudFront standard logs): TSV with #Fields
)

// events is the scratch a sensor format fills for a line that is not a
// request. Its slices are made anew for each answer: the engine keeps them.
type events struct {
	dns detect.DNSAnswer
	tls detect.TLSHello
}

// sink is where an input's events go: its Emitter, or the merge of a Zeek
// directory's logs.
type sink interface {
	Request(r *detect.Request)
	DNS(a detect.DNSAnswer)
	TLS(h detect.TLSHello)
}

// errOtherEvent is what Parse says of a line that gave a DNS answer or a
// ClientHello: not a request, and read (it counts for auto-detection).
var errOtherEvent = &parseError{reason: "not a request (a DNS answer or a TLS ClientHello)", skip: true, notHTTP: true}

// errNotRequestEvent is a sensor's line of a kind rebindwatch does not read
// (a Suricata flow or alert event, a Zeek conn.log line): recognised, skipped.
var errNotRequestEvent = &parseError{reason: "an event that is not a request, a DNS answer or a ClientHello", skip: true, notHTTP: true}

// errDirective is a header line (Zeek's #fields, W3C's #Version): it
// configures the reader and is not counted anywhere.
var errDirective = &parseError{reason: "a header line", skip: true, notHTTP: true, quiet: true}

// parseEvent is Parse for any line: a request into r, or a DNS answer or a
// ClientHello into p.ev.
func (p *Parser) parseEvent(line []byte, keys *keys.Extractor, r *detect.Request) (eventKind, error) {
	if p.auto {
		if p.chosen == nil {
			if err := p.parseAuto(line, keys, r); p.chosen == nil || !errors.Is(err, errOtherEvent) {
				return kindRequest, err
			}
		}
		return p.chosen.parseEvent(line, keys, r)
	}
	switch p.sensor {
	case sensorZeek, sensorSuricata, sensorW3C:
		*r = detect.Request{Source: r.Source}
		if isBlank(line) {
			return kindRequest, errEmpty
		}
		if keys != p.keys || p.keyRole == nil {
			p.resolveKeys(keys)
		}
		if cap(p.buf) > 64<<10 {
			p.buf = nil
		}
		p.buf = p.buf[:0]
		switch p.sensor {
		case sensorZeek:
			return p.parseZeek(line, keys, r)
		case sensorSuricata:
			return p.parseSuricata(line, keys, r)
		default:
			return p.parseW3C(line, keys, r)
		}
	}
	return kindRequest, p.Parse(line, keys, r)
}

// quietSkip reports whether err is a line to skip without counting it.
func quietSkip(err error) bool {
	var pe *parseError
	return errors.As(err, &pe) && pe.quiet
}

// evParser is the parser whose event scratch holds the last line's event:
// for auto, the one it chose.
func (p *Parser) evParser() *Parser {
	if p.auto && p.chosen != nil {
		return p.chosen
	}
	return p
}
