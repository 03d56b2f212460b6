package kafka

import (
	"bytes"
	"encoding/json"

	"github.com/twmb/franz-go/pkg/kgo"
)

// shipped is one raw access-log line as a fleet's shipper wrote it to a
// topic, taken out of its envelope.
type shipped struct {
	line    []byte
	host    string // the producing host: a "host" header, the envelope's host, or the record's key
	file    string // the log it came from, when the envelope says
	shipper string // "vector", "fluent-bit", "filebeat", or "" for a bare line
}

// Shippers' default JSON envelopes, from their documentation:
//
//	Vector (kafka sink, encoding.codec = "json"; file source):
//	  {"file":"/var/log/nginx/access.log","host":"web-03","message":"<line>","source_type":"file","timestamp":"..."}
//	Fluent Bit (kafka output, Format json, the default; tail input):
//	  {"@timestamp":1764190870.123456,"log":"<line>"}  (a record_modifier filter adds "hostname")
//	Filebeat (output.kafka, codec.json, the default):
//	  {"@timestamp":"...","@metadata":{"beat":"filebeat",...},"message":"<line>",
//	   "host":{"name":"web-03"},"agent":{"name":"web-03",...},"log":{"file":{"path":"..."},...}}
//
// A record that is none of them is the line itself (Vector's "text" codec,
// Filebeat's codec.format, Fluent Bit's "raw" format). A JSON access log
// (Caddy, Traefik) has none of the envelopes' marks, so it stays a line.
type envelope struct {
	Message    *string         `json:"message"`     // Vector, Filebeat
	Log        json.RawMessage `json:"log"`         // Fluent Bit: the line; Filebeat: {"file":{"path":...}}
	Host       json.RawMessage `json:"host"`        // Vector: a name; Filebeat: {"name":...}
	Hostname   string          `json:"hostname"`    // Fluent Bit with record_modifier
	File       string          `json:"file"`        // Vector's file source
	SourceType string          `json:"source_type"` // Vector marks every event with it
	Metadata   *struct {
		Beat string `json:"beat"`
	} `json:"@metadata"` // Beats mark every event with it
	Agent struct {
		Hostname string `json:"hostname"` // Filebeat 7
		Name     string `json:"name"`
	} `json:"agent"`
	Timestamp json.RawMessage `json:"@timestamp"` // Fluent Bit's default timestamp_key
}

// unwrap takes the line out of a record, with its producing host.
func unwrap(rec *kgo.Record) shipped {
	s := shipped{line: rec.Value}
	v := bytes.TrimSpace(rec.Value)
	if len(v) > 0 && v[0] == '{' {
		var env envelope
		if json.Unmarshal(v, &env) == nil {
			env.open(&s)
		}
	}
	if h := headerValue(rec, "host"); h != "" {
		s.host = h // an explicit header wins over the envelope
	} else if s.host == "" {
		s.host = string(rec.Key) // Vector's key_field, Fluent Bit's message_key_field
	}
	return s
}

// open fills s from a shipper's envelope, when env is one.
func (env *envelope) open(s *shipped) {
	switch {
	case env.Metadata != nil && env.Metadata.Beat != "" && env.Message != nil:
		s.shipper, s.line = "filebeat", []byte(*env.Message)
		var h struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(env.Host, &h) == nil && h.Name != "" {
			s.host = h.Name
		} else if env.Agent.Hostname != "" {
			s.host = env.Agent.Hostname
		} else {
			s.host = env.Agent.Name
		}
		var l struct {
			File struct {
				Path string `json:"path"`
			} `json:"file"`
		}
		if json.Unmarshal(env.Log, &l) == nil {
			s.file = l.File.Path
		}
	case env.SourceType != "" && env.Message != nil:
		s.shipper, s.line, s.file = "vector", []byte(*env.Message), env.File
		var h string
		if json.Unmarshal(env.Host, &h) == nil {
			s.host = h
		}
	case len(env.Log) > 0 && env.Log[0] == '"' && env.Message == nil:
		var line string
		if json.Unmarshal(env.Log, &line) != nil {
			return
		}
		s.shipper, s.line = "fluent-bit", []byte(line)
		s.host = env.Hostname
		var h string
		if s.host == "" && json.Unmarshal(env.Host, &h) == nil {
			s.host = h
		}
	}
}

// headerValue returns the value of the record's first header named name.
func headerValue(rec *kgo.Record, name string) string {
	for _, h := range rec.Headers {
		if h.Key == name {
			return string(h.Value)
		}
	}
	return ""
}
