package kafka

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Each shipper's default JSON envelope, as its documentation shows it,
// gives the line and the producing host; anything else is the line itself.
func TestUnwrapShippersEnvelopes(t *testing.T) {
	const line = `192.0.2.1 - - [26/Nov/2026:21:00:00 +0000] "GET /v1/items?api_key=sk_live_x HTTP/1.1" 200 12 "-" "curl/8.0"`
	for _, tc := range []struct {
		name                string
		rec                 kgo.Record
		shipper, host, file string
		wantLine            string
	}{
		{name: "vector_json_codec",
			rec: kgo.Record{Value: []byte(`{"file":"/var/log/nginx/api.log","host":"web-03","message":"` + jsonEscape(line) +
				`","source_type":"file","timestamp":"2026-11-26T21:00:00.123Z"}`)},
			shipper: "vector", host: "web-03", file: "/var/log/nginx/api.log", wantLine: line},
		{name: "fluent_bit_json_format",
			rec:     kgo.Record{Key: []byte("web-04"), Value: []byte(`{"@timestamp":1764190800.123456,"log":"` + jsonEscape(line) + `"}`)},
			shipper: "fluent-bit", host: "web-04", wantLine: line},
		{name: "fluent_bit_record_modifier_hostname",
			rec:     kgo.Record{Value: []byte(`{"@timestamp":1764190800.1,"log":"` + jsonEscape(line) + `","hostname":"web-05"}`)},
			shipper: "fluent-bit", host: "web-05", wantLine: line},
		{name: "filebeat_codec_json",
			rec: kgo.Record{Value: []byte(`{"@timestamp":"2026-11-26T21:00:00.123Z","@metadata":{"beat":"filebeat","type":"_doc","version":"8.15.0"},` +
				`"log":{"offset":1234,"file":{"path":"/var/log/nginx/api.log"}},"message":"` + jsonEscape(line) + `",` +
				`"input":{"type":"filestream"},"host":{"name":"web-06"},"agent":{"name":"web-06","type":"filebeat"},"ecs":{"version":"8.0.0"}}`)},
			shipper: "filebeat", host: "web-06", file: "/var/log/nginx/api.log", wantLine: line},
		{name: "filebeat_7_agent_hostname",
			rec: kgo.Record{Value: []byte(`{"@metadata":{"beat":"filebeat"},"message":"` + jsonEscape(line) +
				`","agent":{"hostname":"web-07"}}`)},
			shipper: "filebeat", host: "web-07", wantLine: line},
		{name: "bare_line_keyed_by_host",
			rec:  kgo.Record{Key: []byte("web-08"), Value: []byte(line)},
			host: "web-08", wantLine: line},
		{name: "host_header_wins",
			rec: kgo.Record{Key: []byte("ignored"), Headers: []kgo.RecordHeader{{Key: "host", Value: []byte("web-09")}},
				Value: []byte(`{"file":"f","host":"from-envelope","message":"x","source_type":"file"}`)},
			shipper: "vector", host: "web-09", file: "f", wantLine: "x"},
		{name: "caddy_json_log_is_a_line",
			rec:      kgo.Record{Key: []byte("web-10"), Value: []byte(`{"level":"info","ts":1764190800.1,"logger":"http.log.access","msg":"handled request","request":{"host":"api.test"}}`)},
			host:     "web-10",
			wantLine: `{"level":"info","ts":1764190800.1,"logger":"http.log.access","msg":"handled request","request":{"host":"api.test"}}`},
	} {
		got := unwrap(&tc.rec)
		if got.shipper != tc.shipper || got.host != tc.host || got.file != tc.file || string(got.line) != tc.wantLine {
			t.Errorf("%s: shipper %q host %q file %q line %q", tc.name, got.shipper, got.host, got.file, got.line)
		}
	}
}

func jsonEscape(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
