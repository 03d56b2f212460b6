package kafka

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/schema"
	"github.com/rebindwatch/rebindwatch/source"
)

// FuzzRecord hands arbitrary records to a consumer's partition, as a
// poll does: whatever anyone writes to the topic (an envelope, a bare
// line, a record claiming to be a normalised request) is read, counted or
// reported, never a crash; a raw line's requests name its producing host.
func FuzzRecord(f *testing.F) {
	const line = `192.0.2.1 - - [26/Nov/2026:21:00:00 +0000] "GET /v1/items?api_key=sk_live_x HTTP/1.1" 200 12 "-" "curl/8.0"`
	f.Add([]byte(`{"file":"/var/log/nginx/api.log","host":"web-03","message":"`+jsonEscape(line)+`","source_type":"file"}`), []byte("k"), "", false)
	f.Add([]byte(`{"@timestamp":1764190800.1,"log":"`+jsonEscape(line)+`","hostname":"web-05"}`), []byte{}, "", false)
	f.Add([]byte(`{"@metadata":{"beat":"filebeat"},"message":"x","host":{"name":"h"},"log":{"file":{"path":"p"}}}`), []byte{}, "", false)
	f.Add([]byte(line), []byte("web-08"), "web-09", false)
	f.Add([]byte(`{"time":"2026-11-26T21:00:00Z","method":"GET","target":"/","client":"192.0.2.1:5","node":"n"}`), []byte{}, "", true)
	f.Fuzz(func(t *testing.T, value, key []byte, hostHeader string, wire bool) {
		out := make(chan detect.Batch, 16)
		done := make(chan struct{})
		var reqs []detect.Request
		go func() {
			defer close(done)
			for b := range out {
				reqs = append(reqs, b.Requests...)
			}
		}()
		k := keys.NewExtractor(keys.DefaultConfig())
		c := &consumer{o: Options{Topic: "t", Keys: k, Lines: &logsrc.FeederOptions{Keys: k, KeepGoing: true, Shared: true}},
			intern: source.NewInterner(64, 64), parts: map[int32]*partition{}}
		pt := &partition{streams: map[string]*stream{}, held: -1,
			e: source.New(context.Background(), out, source.Options{Name: "kafka:t/0", Keys: k})}
		rec := &kgo.Record{Topic: "t", Value: value, Key: key, Timestamp: time.Unix(1764190800, 0)}
		if hostHeader != "" {
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: "host", Value: []byte(hostHeader)})
		}
		if wire {
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: schema.WireHeader, Value: []byte(schema.WireRequest)})
		}
		sh := unwrap(rec)
		if sh.shipper == "" && !bytes.Equal(sh.line, rec.Value) {
			t.Fatalf("no envelope, yet the line is %q, not the record", sh.line)
		}
		c.record(pt, rec)
		c.decideAll(pt)
		_ = pt.note(false) // built from what the streams said
		pt.e.Close(nil)
		close(out)
		<-done
		for _, r := range reqs {
			if !wire && r.Source != sh.host {
				t.Errorf("a raw line's request names %q, its record %q", r.Source, sh.host)
			}
		}
	})
}
