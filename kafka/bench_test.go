package kafka

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
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
		count := &countSink{want: benchRequests, done: make(chan struct{})}
		e, err := detect.NewEngine(cfg, count)
		if err != nil {
			b.Fatal(err)
		}
		e.SetReorder(2 * time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		batches := make(chan detect.Batch, 64)
		co, err := newConsumer(ctx, Options{Brokers: c.ListenAddrs(), Topic: "requests", Group: fmt.Sprintf("bench-%d", iter)}, batches)
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			co.run(ctx)
			close(batches)
		}()
		done := make(chan struct{})
		go func() {
			e.Run(batches)
			close(done)
		}()
		<-count.done
		cancel()
		<-done
	}
	b.ReportMetric(float64(benchRequests)*float64(b.N)/b.Elapsed().Seconds(), "requests/s")
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
