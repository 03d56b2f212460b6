package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/schema"
)

// DefaultQueue is how many records a publisher holds for the broker before
// it drops (and counts) the next.
const DefaultQueue = 20000

// PublisherOptions configures a publisher.
type PublisherOptions struct {
	Brokers []string
	Topic   string
	// Node is the producing host stamped on requests whose Source is a
	// local file or capture (a local rebindwatch publishing its own
	// requests); "" when requests come from a fleet's topic, whose Source
	// is already the producing host.
	Node string
	// Alert encodes an alert (schema.AppendAlert when nil), chosen once
	// with the output format.
	Alert    func(b []byte, a *detect.Alert) []byte
	Queue    int       // records held for the broker (0 = DefaultQueue)
	Security Security  // TLS and SASL
	Opts     []kgo.Opt // more client options (timeouts, tests)
}

// Publisher writes to a topic: normalised requests (RequestPublisher) or
// alerts (AlertPublisher). It never blocks the engine: records wait in the
// client's bounded buffer, and one that does not fit is dropped and
// counted. Barrier and WaitBarrier let a consumer commit its input only
// once what it caused to be published is acknowledged by the broker.
// Request and Alert are called from one goroutine, the engine's; the rest
// from any.
type Publisher struct {
	cl    *kgo.Client
	topic string
	queue int
	node  string
	alert func([]byte, *detect.Alert) []byte
	buf   []byte

	sent, dropped, failed atomic.Uint64
	failure               atomic.Pointer[string] // the latest delivery error, for the summary

	mu      sync.Mutex
	epoch   uint64
	pending map[uint64]int // epoch -> records not yet acknowledged
	settled *sync.Cond
}

// RequestPublisher publishes every request the engine observes, in the
// wire form (schema.AppendWireRequest), keyed by key fingerprint (by Host
// for requests without a key), so every request of one key lands in one
// partition of the topic.
type RequestPublisher struct{ *Publisher }

// AlertPublisher publishes every alert, keyed by detector, subject and
// dimension: the alert's identity, what a consumer de-duplicates on.
type AlertPublisher struct{ *Publisher }

// NewRequestPublisher returns a sink publishing requests to o.Topic.
func NewRequestPublisher(o PublisherOptions) (*RequestPublisher, error) {
	p, err := newPublisher(o)
	return &RequestPublisher{p}, err
}

// NewAlertPublisher returns a sink publishing alerts to o.Topic.
func NewAlertPublisher(o PublisherOptions) (*AlertPublisher, error) {
	p, err := newPublisher(o)
	return &AlertPublisher{p}, err
}

func newPublisher(o PublisherOptions) (*Publisher, error) {
	if o.Topic == "" {
		return nil, errors.New("no topic")
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Alert == nil {
		o.Alert = schema.AppendAlert
	}
	sec, err := o.Security.Opts()
	if err != nil {
		return nil, err
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(o.Brokers...),
		kgo.ClientID("rebindwatch"),
		kgo.DefaultProduceTopic(o.Topic),
		kgo.MaxBufferedRecords(o.Queue),
		// Kafka's own murmur2 on the key, as Java clients hash: a key's
		// requests go to one partition whoever publishes them.
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.ProducerLinger(5 * time.Millisecond),
		kgo.RecordDeliveryTimeout(30 * time.Second),
	}, append(sec, o.Opts...)...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	if err := preflight(context.Background(), cl, o.Security); err != nil {
		cl.Close()
		return nil, err
	}
	p := &Publisher{cl: cl, topic: o.Topic, queue: o.Queue, node: o.Node, alert: o.Alert, pending: map[uint64]int{}}
	p.settled = sync.NewCond(&p.mu)
	return p, nil
}

// Request publishes one request.
func (p *RequestPublisher) Request(r *detect.Request) error {
	node := p.node
	if node == "" {
		node = r.Source
	}
	p.buf = schema.AppendWireRequest(p.buf[:0], r, node)
	p.publish(requestKey(r), p.buf, []kgo.RecordHeader{{Key: schema.WireHeader, Value: []byte(schema.WireRequest)}})
	return nil
}

// requestKey is what partitions a request: its key fingerprint, else its
// Host as the engine checks it.
func requestKey(r *detect.Request) []byte {
	if r.Key != "" {
		return append([]byte("k:"), r.Key...)
	}
	h := r.Host
	if r.URIHost != "" {
		h = r.URIHost
	}
	return append([]byte("h:"), detect.NormalizeHost(h)...)
}

// Alert publishes one alert.
func (p *AlertPublisher) Alert(a *detect.Alert) error {
	p.buf = p.alert(p.buf[:0], a)
	p.publish([]byte(a.Detector+"|"+a.Subject+"|"+a.Dimension), p.buf, nil)
	return nil
}

// publish hands one record to the client without waiting: a full buffer
// drops it, counted.
func (p *Publisher) publish(key, value []byte, headers []kgo.RecordHeader) {
	p.mu.Lock()
	epoch := p.epoch
	p.pending[epoch]++
	p.mu.Unlock()
	rec := &kgo.Record{Key: key, Value: append([]byte(nil), value...), Headers: headers}
	p.cl.TryProduce(context.Background(), rec, func(_ *kgo.Record, err error) {
		switch {
		case errors.Is(err, kgo.ErrMaxBuffered):
			p.dropped.Add(1)
		case err != nil:
			p.failed.Add(1)
			msg := err.Error()
			p.failure.Store(&msg)
		default:
			p.sent.Add(1)
		}
		p.mu.Lock()
		if p.pending[epoch]--; p.pending[epoch] == 0 {
			delete(p.pending, epoch)
			p.settled.Broadcast()
		}
		p.mu.Unlock()
	})
}

// Barrier returns a token for everything handed to the publisher so far.
// It is cheap and never blocks (the engine's goroutine calls it).
func (p *Publisher) Barrier() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.epoch
	p.epoch++
	return b
}

// WaitBarrier waits until every record handed over before the Barrier that
// returned b is settled (acknowledged by the broker, dropped or failed, all
// counted), or ctx ends.
func (p *Publisher) WaitBarrier(ctx context.Context, b uint64) error {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.settled.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		open := false
		for e := range p.pending {
			if e <= b {
				open = true
				break
			}
		}
		if !open {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		p.settled.Wait()
	}
}

// Room is how many more records the publisher can hold for the broker
// before it drops: a consumer whose records it publishes fetches no more
// than that, so a parse stage catching up waits for the broker instead of
// losing requests.
func (p *Publisher) Room() int { return p.queue - int(p.cl.BufferedProduceRecords()) }

// Stats are a publisher's counts.
type Stats struct {
	Topic                 string
	Sent, Dropped, Failed uint64
	LastError             string
}

// Stats returns the counts so far.
func (p *Publisher) Stats() Stats {
	s := Stats{Topic: p.topic, Sent: p.sent.Load(), Dropped: p.dropped.Load(), Failed: p.failed.Load()}
	if e := p.failure.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// Close delivers what is buffered, waiting until ctx ends at most, then
// closes the client.
func (p *Publisher) Close(ctx context.Context) error {
	err := p.cl.Flush(ctx)
	left := p.cl.BufferedProduceRecords()
	p.cl.Close()
	if err != nil {
		return fmt.Errorf("kafka %s: %d records not delivered at exit: %w", p.topic, left, err)
	}
	return nil
}
