package kafka

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/schema"
)

// benchRequests is the topic's size: a detect process reads it all per
// iteration.
const benchRequests = 200_000

// benchTraffic is an API's traffic: 5,000 keys, each from a few clients,
// under the service's names, with a foreign Host now and then.
func benchTraffic(n int) []detect.Request {
	out := make([]detect.Request, n)
	for i := range out {
		k := i % 5000
		host := "api.test"
		if i%997 == 0 {
			host = "evil-" + strconv.Itoa(k%50) + ".rebind.test"
		}
		out[i] = detect.Request{
			Time: t0.Add(time.Duration(i) * 50 * time.Microsecond), Source: "web-" + strconv.Itoa(i%8),
			Client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(k >> 8), byte(k), byte(i % 3)}), 0),
			Method: "GET", Host: host, HasHost: true, Target: "/v1/items/" + strconv.Itoa(i%100), Proto: "HTTP/1.1",
			UserAgent: "python-requests/2.31", Key: keys.Fingerprint("", "key-"+strconv.Itoa(k)), Status: 200,
		}
	}
	return out
}

// BenchmarkDetectStage measures one detect process: a consumer-group
// member reading normalised requests from a 6-partition topic, decoding
// them, and an engine with the reorder window running every detector on
// them, offsets committed as it goes. The broker is kfake in the same
// process, so it takes a share of the same cores.
//
//	go test -run '^$' -bench DetectStage -benchtime 3x ./kafka
func BenchmarkDetectStage(b *testing.B) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "requests"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	pub, err := NewRequestPublisher(PublisherOptions{Brokers: c.ListenAddrs(), Topic: "requests", Queue: benchRequests})
	if err != nil {
		b.Fatal(err)
	}
	reqs := benchTraffic(benchRequests)
	for i := range reqs {
		pub.Request(&reqs[i])
	}
	if err := pub.WaitBarrier(context.Background(), pub.Barrier()); err != nil || pub.Stats().Sent != benchRequests {
		b.Fatalf("publishing: %v %+v", err, pub.Stats())
	}
	pub.Close(context.Background())
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts = []string{"api.test"}
	b.ResetTimer()
	iter := 0
	for b.Loop() {
		iter++
		runStage(b, cfg, Options{Brokers: c.ListenAddrs(), Topic: "requests", Group: fmt.Sprintf("bench-%d", iter)})
	}
	b.ReportMetric(float64(benchRequests)*float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

// runStage runs a consumer and an engine (with the reorder window) until
// the engine has observed benchRequests requests, then stops them.
func runStage(b *testing.B, cfg detect.Config, o Options, sinks ...detect.Sink) {
	count := &countSink{want: benchRequests, done: make(chan struct{})}
	_, _, cancel, done := startStage(b, o, cfg, append([]detect.Sink{count}, sinks...)...)
	<-count.done
	cancel()
	<-done
}

// countSink tells when the engine has observed want requests.
type countSink struct {
	n, want int
	done    chan struct{}
}

func (c *countSink) Request(*detect.Request) error {
	if c.n++; c.n == c.want {
		close(c.done)
	}
	return nil
}

// BenchmarkWireDecode is the wire form's share: one request decoded.
func BenchmarkWireDecode(b *testing.B) {
	r := benchTraffic(1)[0]
	line := schema.AppendWireRequest(nil, &r, "web-1")
	var out detect.Request
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schema.ParseWireRequest(line, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseStage measures one parse process: raw nginx lines in
// Vector's JSON envelope from 8 hosts over 6 partitions, unwrapped, parsed
// (the recorded extended format, given), run through the engine and
// republished keyed by key fingerprint, offsets committed once the broker
// acknowledged what they published.
//
//	go test -run '^$' -bench ParseStage -benchtime 5x ./kafka
func BenchmarkParseStage(b *testing.B) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "access-logs", "requests"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ship, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("access-logs"),
		kgo.MaxBufferedRecords(benchRequests))
	if err != nil {
		b.Fatal(err)
	}
	at := t0
	for i := range benchRequests {
		node := "web-" + strconv.Itoa(i%8)
		line := fmt.Sprintf(`10.%d.%d.%d - - [%s] "GET /v1/items/%d HTTP/1.1" 200 118 "-" "python-requests/2.31" host="api.test" origin="-" key="k%07d" rt=0.002`,
			i%7, (i/7)%250, i%250, at.Add(time.Duration(i)*50*time.Microsecond).Format(time.RFC3339), i%100, i%5000)
		v := fmt.Sprintf(`{"file":"/var/log/nginx/api.log","host":%q,"message":%q,"source_type":"file","timestamp":"2026-11-26T21:00:00Z"}`, node, line)
		ship.Produce(context.Background(), &kgo.Record{Key: []byte(node), Value: []byte(v)}, nil)
	}
	if err := ship.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	ship.Close()
	format := "nginx:" + `$remote_addr - $remote_user [$time_iso8601] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" host="$host" origin="$http_origin" key="$api_key_suffix" rt=$request_time`
	lines := &logsrc.FeederOptions{Format: format, Location: time.UTC}
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts = []string{"api.test"}
	b.ResetTimer()
	iter := 0
	for b.Loop() {
		iter++
		pub, err := NewRequestPublisher(PublisherOptions{Brokers: c.ListenAddrs(), Topic: "requests"})
		if err != nil {
			b.Fatal(err)
		}
		runStage(b, cfg, Options{Brokers: c.ListenAddrs(), Topic: "access-logs", Group: fmt.Sprintf("parse-%d", iter),
			Lines: lines, Republish: true, Flushers: []Flusher{pub}}, pub)
		if err := pub.Close(context.Background()); err != nil || pub.Stats().Sent < benchRequests {
			b.Fatalf("published %+v: %v", pub.Stats(), err)
		}
	}
	b.ReportMetric(float64(benchRequests)*float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
