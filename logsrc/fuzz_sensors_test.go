package logsrc

import (
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
)

// sensorSpecs are the formats FuzzParseSensors reads a line with.
var sensorSpecs = []string{"zeek", "suricata", "cloudfront", "alb", "gcp", "cloudflare", "azure-frontdoor", "auto"}

// FuzzParseSensors reads header lines, then a line, with each sensor and
// cloud format (and auto-detection): nothing panics, a request's target
// and Referer keep no key value, an event's slices are its own.
func FuzzParseSensors(f *testing.F) {
	for _, file := range []string{"zeek/http.log", "zeek/dns.log", "zeek/ssl.log", "zeek-json/http.log", "zeek-json/dns.log",
		"suricata/verify-eve.json", "suricata/doc-eve.json", "cloud/alb.log", "cloud/cloudfront.log", "cloud/gcp.json",
		"cloud/cloudflare.json", "cloud/azure-frontdoor.json", "zeek-rebind/http.log", "zeek-rebind/dns.log"} {
		lines := readLines(f, sensorsDir+file)
		var header []string
		for _, l := range lines {
			if strings.HasPrefix(l, "#") {
				header = append(header, l)
			}
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, "#") {
				f.Add(strings.Join(header, "\n"), l)
			}
		}
	}
	for _, hl := range [][2]string{
		{`#separator \x2c` + "\n#fields,ts,method,uri,host", "1,GET,/x?api_key=k1,h"},
		{"#separator \\xZZ\n#fields\tts", "1"},
		{"#set_separator\t\n#fields\tts\tanswers\tquery", "1\t1.2.3.4\tq"},
		{"#Fields: date time cs-uri-stem cs-uri-query cs-method", "2026-01-01 00:00:00 / api_key=k2 GET"},
		{"", `{"timestamp":"2026-01-01T00:00:00Z","event_type":"dns","dns":{"type":"answer","grouped":{"A":[1,{"x":[]}]}}}`},
		{"", `{"timestamp":"2026-01-01T00:00:00Z","event_type":"http","http":{"url":"/?api_key=k3","request_headers":[{"name":1},{]}}`},
		{"", `{"ts":1,"uid":"C","answers":"not an array","query":"q","TTLs":[[1]]}`},
		{"", `{"httpRequest":{"requestMethod":"GET","requestUrl":"://"}}`},
		{"", `{"properties":{"httpMethod":"GET","requestUri":"http://[::1"}}`},
	} {
		f.Add(hl[0], hl[1])
	}
	kx := testKeys()
	f.Fuzz(func(t *testing.T, header, line string) {
		for _, spec := range sensorSpecs {
			p := mustCompile(t, spec)
			var r detect.Request
			for _, h := range strings.Split(header, "\n") {
				p.parseEvent([]byte(h), kx, &r)
			}
			kind, err := p.parseEvent([]byte(line), kx, &r)
			if err != nil {
				if err.Error() == "" {
					t.Fatalf("%s: empty error", spec)
				}
				continue
			}
			switch kind {
			case kindRequest:
				if kx.Redact(r.Target) != r.Target || kx.Redact(r.Referer) != r.Referer {
					t.Fatalf("%s: a key value kept: target %q referer %q", spec, r.Target, r.Referer)
				}
			case kindDNS:
				a := p.evParser().ev.dns
				if len(a.Addrs) > 0 && &a.Addrs[0] == nil || len(a.Name) > len(line) {
					t.Fatalf("%s: answer %+v", spec, a)
				}
			}
		}
	})
}
