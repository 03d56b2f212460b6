package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/schema"
	"github.com/rebindwatch/rebindwatch/source"
)

// LineReader reads one stream's raw access-log lines: a producing host's
// log as its shipper wrote it (logsrc.Lines; app wires it, so this package
// depends on no other source).
type LineReader interface {
	Decided() bool              // the format is known
	Decide(first [][]byte) bool // auto-detection on the stream's first lines
	Note() string               // the format chosen, and what it leaves out
	Parse(line []byte, r *detect.Request) (bool, error)
}

// Flusher is a sink whose deliveries a commit waits for (a Publisher): a
// record's offset is committed only once what it caused to be published
// has settled. Room is how many more records it can take: the consumer
// fetches no more than that, less what the engine has not observed yet.
type Flusher interface {
	Barrier() uint64
	WaitBarrier(ctx context.Context, b uint64) error
	Room() int
}

// Options configures a consumer.
type Options struct {
	Brokers []string
	Topic   string
	Group   string
	Keys    *keys.Extractor // hides keys in problem texts and (again) in wire requests' targets; nil: the defaults
	// Lines returns a reader for a new stream of raw lines (one per
	// producing host and file); nil: raw lines are parse errors.
	Lines func() LineReader
	// Quote returns a raw line's shape for a problem report (never its
	// text, which may hold keys); nil: lines are not quoted.
	Quote func(line []byte) string
	// Republish says the requests go on to a topic (--kafka-out): raw
	// lines read here are the parse stage's, not the last word on
	// detection.
	Republish bool
	Flushers  []Flusher     // commits wait for them
	Every     time.Duration // how often observed offsets are committed (0 = 1 s)
	MaxPoll   int           // records taken per poll (0 = 4096)
	Opts      []kgo.Opt     // more client options (TLS, SASL, timeouts)
}

// Waits of the stop rule and of a revocation: how long the engine is given
// to observe what was handed over before the commit, how long a commit may
// wait for the publishers, and how long the last commit at a stop may take
// (the stop rule and the commit fit in the run's 5-second drain).
const (
	defaultEvery  = time.Second
	observeWait   = 3 * time.Second
	publishWait   = 10 * time.Second
	stopCommit    = 1500 * time.Millisecond
	maxPoll       = 4096
	maxStreams    = 10000
	maxFormatNote = 3
)

// Run consumes o.Topic as a member of o.Group and sends the engine a batch
// source per partition it is assigned ("kafka:TOPIC/P"), each request
// carrying its producing host as Source. A record is either a normalised
// request (schema.WireRequest in its schema.WireHeader header) or a raw
// access-log line from a shipper (a Vector, Fluent Bit or Filebeat
// envelope, or the bare line), read with auto-detection per producing host
// and file.
//
// Offsets are committed only once the engine has observed the records
// (detect.Batch.Observed) and the Flushers have settled what that
// published: at least once. When a rebalance takes partitions away, what
// the engine observed of them is committed before they go; what it had not
// observed yet is read again by their next owner (duplicates, bounded by
// what was in flight). A partition this member is assigned starts with
// cold per-key windows, and its note says so.
//
// On stop (ctx ends) it stops fetching, hands over what was fetched, gives
// the engine up to 3 seconds to observe it, commits what it observed,
// closes its batches and leaves the group.
func Run(ctx context.Context, o Options, out chan<- detect.Batch) error {
	c, err := newConsumer(ctx, o, out)
	if err != nil {
		return err
	}
	return c.run(ctx)
}

// consumer is one Run.
type consumer struct {
	o       Options
	out     chan<- detect.Batch
	ctx     context.Context
	cl      *kgo.Client
	now     func() time.Time
	intern  *source.Interner
	parts   map[int32]*partition  // poll goroutine only
	streams map[string]LineReader // poll goroutine only
	noted   map[string]bool       // streams whose format a partition note gave
	cur     detect.Request
	scratch []shipped
	pending map[string][][]byte
	errs    *source.Emitter // problems that belong to no partition (fetch errors)

	commitMu sync.Mutex // one commit at a time: the periodic one or a revocation's

	mu        sync.Mutex // the fields below: engine acknowledgements, rebalance callbacks, poll goroutine
	changed   *sync.Cond // observed advanced
	owned     map[int32]*ownership
	barriers  []uint64
	news      []news // rebalance news for the poll goroutine
	assigns   uint64
	crashHook bool // tests: the member dies without a word
}

// ownership is this member's hold on a partition, one per assignment.
type ownership struct {
	epoch     uint64 // which assignment: acknowledgements of an earlier one are ignored
	at        time.Time
	first     int64 // first offset handed to the engine in this assignment (-1: none yet)
	handed    int64 // next offset handed to the engine (-1: none yet)
	observed  int64 // next offset the engine observed (-1: none yet)
	committed int64 // last committed (-1: none by us)
}

type news struct {
	p    int32
	what string
	at   time.Time
}

// partition is a partition's source (poll goroutine only).
type partition struct {
	e       *source.Emitter
	epoch   uint64
	assign  string   // the assignment's note
	formats []string // formats decided for streams first seen here
	more    int      // formats beyond the note's cap
	raw     bool     // raw lines were read here
}

func newConsumer(ctx context.Context, o Options, out chan<- detect.Batch) (*consumer, error) {
	if o.Every <= 0 {
		o.Every = defaultEvery
	}
	if o.MaxPoll <= 0 {
		o.MaxPoll = maxPoll
	}
	if o.Keys == nil {
		o.Keys = keys.NewExtractor(keys.DefaultConfig())
	}
	c := &consumer{o: o, out: out, ctx: ctx, now: time.Now, intern: source.NewInterner(4096, 256),
		parts: map[int32]*partition{}, streams: map[string]LineReader{}, noted: map[string]bool{}, pending: map[string][][]byte{},
		owned: map[int32]*ownership{}, barriers: make([]uint64, len(o.Flushers))}
	c.changed = sync.NewCond(&c.mu)
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(o.Brokers...),
		kgo.ClientID("rebindwatch"),
		kgo.ConsumerGroup(o.Group),
		kgo.ConsumeTopics(o.Topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(c.assigned),
		kgo.OnPartitionsRevoked(c.revoked),
		kgo.OnPartitionsLost(c.lost),
		kgo.FetchMaxWait(500 * time.Millisecond),
	}, o.Opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, source.InputError("--kafka-in: " + err.Error())
	}
	c.cl = cl
	c.errs = source.New(ctx, out, source.Options{Name: "kafka:" + o.Topic, Keys: o.Keys})
	return c, nil
}

func (c *consumer) run(ctx context.Context) error {
	c.errs.SetState(detect.StateLive)
	c.errs.SetNote("group " + c.o.Group + ", waiting for an assignment")
	c.errs.Flush()
	last := c.now()
	for {
		n := c.room(ctx)
		pctx, cancel := context.WithTimeout(ctx, c.o.Every)
		fetches := c.cl.PollRecords(pctx, n)
		cancel()
		c.takeNews()
		c.process(fetches)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			break
		}
		if c.now().Sub(last) >= c.o.Every {
			last = c.now()
			if err := c.commit(ctx, nil); err != nil && ctx.Err() == nil {
				c.problem("commit", err.Error())
			}
		}
		c.cl.AllowRebalance()
	}
	return c.stop()
}

// room waits until the publishers can take a poll's records on top of
// what the engine has not observed yet (backpressure: a parse stage
// catching up waits for the broker rather than dropping), and returns how
// many records the next poll may take.
func (c *consumer) room(ctx context.Context) int {
	for {
		n := c.o.MaxPoll
		inflight := c.inflight()
		for _, f := range c.o.Flushers {
			n = min(n, f.Room()-inflight)
		}
		if n >= min(c.o.MaxPoll, 256) || ctx.Err() != nil {
			return max(n, 1)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// inflight counts the records handed to the engine and not yet observed.
func (c *consumer) inflight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := int64(0)
	for _, own := range c.owned {
		if own.handed > own.first {
			n += own.handed - max(own.observed, own.first)
		}
	}
	return int(n)
}

// stop ends a Run by the stop rule.
func (c *consumer) stop() error {
	if c.crashed() {
		c.cl.AllowRebalance()
		c.cl.Close()
		return c.closeAll()
	}
	c.mu.Lock()
	var all []int32
	for p := range c.owned {
		all = append(all, p)
	}
	c.mu.Unlock()
	c.waitObserved(all, observeWait)
	ctx, cancel := context.WithTimeout(context.Background(), stopCommit)
	defer cancel()
	err := c.commit(ctx, nil)
	if err != nil {
		c.problem("commit at stop", err.Error())
	}
	c.cl.AllowRebalance()
	c.cl.Close() // leaves the group: the others take the partitions at once
	return c.closeAll()
}

// closeAll sends every partition's last batch.
func (c *consumer) closeAll() error {
	for _, pt := range c.parts {
		pt.e.Close(nil)
	}
	return c.errs.Close(nil)
}

// process hands a poll's records to the engine, a batch per partition.
func (c *consumer) process(fetches kgo.Fetches) {
	fetches.EachError(func(topic string, p int32, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrClientClosed) {
			return
		}
		c.problem("kafka:"+topic+"/"+strconv.Itoa(int(p)), err.Error())
	})
	fetches.EachPartition(func(f kgo.FetchTopicPartition) {
		if len(f.Records) == 0 {
			return
		}
		pt := c.partition(f.Partition)
		if pt == nil {
			return // revoked while the poll was under way
		}
		c.decide(pt, f.Records)
		for i, rec := range f.Records {
			pt.e.SetMark(rec.Offset + 1)
			c.record(pt, rec, &c.scratch[i])
		}
		next := f.Records[len(f.Records)-1].Offset + 1
		pt.e.SetLag(max(0, f.HighWatermark-next))
		pt.e.SetNote(pt.note(c.o.Republish))
		c.mu.Lock()
		if own := c.owned[f.Partition]; own != nil && own.epoch == pt.epoch {
			if own.first < 0 {
				own.first = f.Records[0].Offset
			}
			own.handed = next
		}
		c.mu.Unlock()
		pt.e.Flush()
	})
	c.errs.FlushDue(time.Second)
}

// partition returns the source of a partition this member owns, made on
// its first records of an assignment.
func (c *consumer) partition(p int32) *partition {
	c.mu.Lock()
	own := c.owned[p]
	c.mu.Unlock()
	if own == nil {
		return nil
	}
	if pt := c.parts[p]; pt != nil && pt.epoch == own.epoch {
		return pt
	}
	name := "kafka:" + c.o.Topic + "/" + strconv.Itoa(int(p))
	epoch := own.epoch
	e := source.New(c.ctx, c.out, source.Options{Name: name, Keys: c.o.Keys, MaxProblems: 5,
		Observed: func(next int64) { c.observedAt(p, epoch, next) }})
	e.SetState(detect.StateLive)
	pt := &partition{e: e, epoch: epoch, assign: "assigned " + own.at.UTC().Format("15:04:05") +
		": per-key windows of its keys start cold here"}
	c.parts[p] = pt
	return pt
}

// decide lets the raw-line streams of these records that have no format
// yet choose one from their lines among them, before any is read; and
// takes every record out of its envelope once (c.scratch).
func (c *consumer) decide(pt *partition, recs []*kgo.Record) {
	c.scratch = slices.Grow(c.scratch[:0], len(recs))[:len(recs)]
	clear(c.pending)
	for i, rec := range recs {
		if headerValue(rec, schema.WireHeader) == schema.WireRequest {
			c.scratch[i] = shipped{wire: true}
			continue
		}
		s := unwrap(rec)
		s.host = c.intern.String([]byte(s.host))
		s.file = c.intern.String([]byte(s.file))
		c.scratch[i] = s
		k := streamKey(s)
		if lr := c.stream(k); lr != nil && !lr.Decided() && len(c.pending[k]) < 10 {
			c.pending[k] = append(c.pending[k], s.line)
		}
	}
	for k, lines := range c.pending {
		if lr := c.streams[k]; lr != nil { // nil: the table started over meanwhile
			lr.Decide(lines)
		}
	}
	// Say once which format reads each stream, on the partition where it
	// was first read.
	for i := range c.scratch {
		if c.scratch[i].wire {
			continue
		}
		k := streamKey(c.scratch[i])
		if lr := c.streams[k]; lr != nil && lr.Decided() && !c.noted[k] {
			c.noted[k] = true
			// The host and file come from whoever writes the topic:
			// key-shaped text in them is hidden like any quoted input.
			pt.addFormat(c.o.Keys.RedactText(streamName(c.scratch[i].host, c.scratch[i].file)) + ": " + lr.Note())
		}
	}
}

func streamKey(s shipped) string { return s.host + "\x00" + s.file }

func streamName(host, file string) string {
	if host == "" {
		host = "(no host)"
	}
	if file == "" {
		return host
	}
	return host + " " + file
}

// stream returns the line reader of a stream, nil without Options.Lines.
func (c *consumer) stream(k string) LineReader {
	if c.o.Lines == nil {
		return nil
	}
	lr := c.streams[k]
	if lr == nil {
		if len(c.streams) >= maxStreams {
			clear(c.streams) // bounded: a stream seen again decides again
			clear(c.noted)
			c.errs.Counter("kafka_streams_reset").Inc()
		}
		lr = c.o.Lines()
		c.streams[k] = lr
	}
	return lr
}

// record hands one record's request to its partition's emitter.
func (c *consumer) record(pt *partition, rec *kgo.Record, s *shipped) {
	where := func() string {
		return "kafka:" + rec.Topic + "/" + strconv.Itoa(int(rec.Partition)) + "@" + strconv.FormatInt(rec.Offset, 10)
	}
	if s.wire {
		node, err := schema.ParseWireRequest(rec.Value, &c.cur)
		if err != nil {
			c.bad(pt, where(), err.Error())
			return
		}
		if node != "" {
			c.cur.Source = c.intern.String([]byte(node))
		}
		// Published by us, yet a topic can be written by anyone: a key
		// query value goes no further than here.
		c.cur.Target = c.o.Keys.Redact(c.cur.Target)
		c.cur.Referer = c.o.Keys.Redact(c.cur.Referer)
		pt.e.Request(&c.cur)
		return
	}
	pt.raw = true
	lr := c.stream(streamKey(*s))
	if lr == nil {
		c.bad(pt, where(), "a raw line, and this consumer reads only normalised requests")
		return
	}
	name := streamName(s.host, s.file)
	if !lr.Decided() {
		c.bad(pt, where(), name+": no known log format reads its first lines ("+c.quote(s.line)+"); a shipper's envelope this consumer does not know, or a format to give with --log-format")
		return
	}
	c.cur = detect.Request{Source: s.host}
	ok, err := lr.Parse(s.line, &c.cur)
	switch {
	case err != nil:
		c.bad(pt, where(), name+": "+err.Error()+": "+c.quote(s.line))
	case ok:
		pt.e.Request(&c.cur)
	default:
		pt.e.Counter("skipped_lines").Inc()
	}
}

func (c *consumer) quote(line []byte) string {
	if c.o.Quote == nil {
		return "line not quoted"
	}
	return c.o.Quote(line)
}

// bad counts a record that gave no request and keeps the first few.
func (c *consumer) bad(pt *partition, where, text string) {
	pt.e.ParseError()
	if pt.e.WantsProblems() {
		pt.e.Problem(where, text)
	}
}

// problem reports what belongs to no record (a fetch or commit error).
func (c *consumer) problem(where, text string) {
	c.errs.Problem(where, text)
	c.errs.Flush()
}

func (pt *partition) addFormat(f string) {
	if len(pt.formats) < maxFormatNote {
		pt.formats = append(pt.formats, f)
	} else {
		pt.more++
	}
}

// note is the partition's status note: its assignment (cold windows), the
// formats of the raw streams first seen here, and what raw lines mean.
func (pt *partition) note(republish bool) string {
	n := pt.assign
	if len(pt.formats) > 0 {
		n += "; " + strings.Join(pt.formats, "; ")
		if pt.more > 0 {
			n += fmt.Sprintf("; %d more streams", pt.more)
		}
	}
	if pt.raw && !republish {
		n += "; raw lines detected on directly: right for one process; with several, a key's requests are split " +
			"between them (run the parse stage with --kafka-out and detect on its topic)"
	}
	return n
}

// observedAt records, from the engine's goroutine, that the engine observed
// a partition's records before next.
func (c *consumer) observedAt(p int32, epoch uint64, next int64) {
	var bars [4]uint64
	fl := c.o.Flushers
	for i := range min(len(fl), len(bars)) {
		bars[i] = fl[i].Barrier()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if own := c.owned[p]; own != nil && own.epoch == epoch && next > own.observed {
		own.observed = next
	}
	for i := range min(len(fl), len(bars)) {
		c.barriers[i] = max(c.barriers[i], bars[i])
	}
	c.changed.Broadcast()
}

// waitObserved waits until the engine has observed what was handed over
// of parts, or until wait has passed.
func (c *consumer) waitObserved(parts []int32, wait time.Duration) {
	t := time.AfterFunc(wait, func() {
		c.mu.Lock()
		c.changed.Broadcast()
		c.mu.Unlock()
	})
	defer t.Stop()
	deadline := time.Now().Add(wait)
	c.mu.Lock()
	defer c.mu.Unlock()
	for time.Now().Before(deadline) {
		done := true
		for _, p := range parts {
			if own := c.owned[p]; own != nil && own.observed < own.handed {
				done = false
			}
		}
		if done {
			return
		}
		c.changed.Wait()
	}
}

// commit commits what the engine observed of parts (nil: every partition
// owned), once the publishers have settled it.
func (c *consumer) commit(ctx context.Context, parts []int32) error {
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	c.mu.Lock()
	offs := map[int32]kgo.EpochOffset{}
	for p, own := range c.owned {
		if own.observed > own.committed && (parts == nil || slices.Contains(parts, p)) {
			offs[p] = kgo.EpochOffset{Epoch: -1, Offset: own.observed}
		}
	}
	bars := slices.Clone(c.barriers)
	c.mu.Unlock()
	if len(offs) == 0 {
		return nil
	}
	for i, f := range c.o.Flushers {
		wctx, cancel := context.WithTimeout(ctx, publishWait)
		err := f.WaitBarrier(wctx, bars[i])
		cancel()
		if err != nil {
			return fmt.Errorf("not committed: the output topic has not acknowledged what these records published (%v)", err)
		}
	}
	var cerr error
	c.cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{c.o.Topic: offs},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			cerr = err
			if err != nil || resp == nil {
				return
			}
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if p.ErrorCode != 0 {
						delete(offs, p.Partition)
						if cerr == nil {
							cerr = fmt.Errorf("partition %d: error code %d", p.Partition, p.ErrorCode)
						}
					}
				}
			}
		})
	c.mu.Lock()
	for p, eo := range offs {
		if own := c.owned[p]; own != nil && cerr == nil {
			own.committed = max(own.committed, eo.Offset)
		}
	}
	c.mu.Unlock()
	return cerr
}

// assigned is kgo's callback: new partitions are this member's.
func (c *consumer) assigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range m[c.o.Topic] {
		c.assigns++
		c.owned[p] = &ownership{epoch: c.assigns, at: c.now(), first: -1, handed: -1, observed: -1, committed: -1}
		c.news = append(c.news, news{p: p, what: "assigned", at: c.now()})
	}
}

// revoked is kgo's callback: partitions go to another member. What the
// engine observed of them is committed first, so their next owner starts
// there.
func (c *consumer) revoked(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
	parts := m[c.o.Topic]
	if c.crashed() {
		return
	}
	c.waitObserved(parts, observeWait)
	if err := c.commit(ctx, parts); err != nil {
		c.mu.Lock()
		c.news = append(c.news, news{p: -1, what: "commit before revocation: " + err.Error()})
		c.mu.Unlock()
	}
	c.drop(parts, "revoked: another member of the group reads it now, from the offset committed here")
}

// lost is kgo's callback: the session ended; nothing may be committed.
func (c *consumer) lost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	c.drop(m[c.o.Topic], "lost (the group session ended): its next owner reads it again from the last commit")
}

func (c *consumer) drop(parts []int32, why string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range parts {
		delete(c.owned, p)
		c.news = append(c.news, news{p: p, what: why, at: c.now()})
	}
}

// takeNews closes the sources of partitions that left this member, on the
// poll goroutine.
func (c *consumer) takeNews() {
	c.mu.Lock()
	ns := c.news
	c.news = nil
	c.mu.Unlock()
	for _, n := range ns {
		if n.p < 0 {
			c.problem("kafka:"+c.o.Topic, n.what)
			continue
		}
		if n.what == "assigned" {
			c.errs.SetNote("group " + c.o.Group)
			continue
		}
		pt := c.parts[n.p]
		if pt == nil {
			continue
		}
		pt.e.SetNote(n.what + " (" + n.at.UTC().Format("15:04:05") + ")")
		pt.e.SetState(detect.StateStopped)
		pt.e.Flush()
		delete(c.parts, n.p)
	}
}

// crashed reports whether a test killed this member.
func (c *consumer) crashed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crashHook
}
