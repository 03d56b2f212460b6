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
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/schema"
	"github.com/rebindwatch/rebindwatch/source"
)

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
	// Lines is how raw lines are read: each stream (a producing host's
	// file) through a logsrc.Feeder of its own, with these options (the
	// format, "" = auto-detection per stream; the time zone; Keys are
	// Options.Keys); nil: raw lines are parse errors.
	Lines *logsrc.FeederOptions
	// Republish says the requests go on to a topic (--kafka-out): raw
	// lines read here are the parse stage's, not the last word on
	// detection.
	Republish bool
	Flushers  []Flusher     // commits wait for them
	Every     time.Duration // how often observed offsets are committed (0 = 1 s)
	MaxPoll   int           // records taken per poll (0 = 4096)
	Security  Security      // TLS and SASL
	Opts      []kgo.Opt     // more client options (timeouts, tests)
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
	maxFormatNote = 3
	// maxStreams bounds the raw-line streams (producing hosts' files) a
	// consumer keeps, as a syslog listener's: each has its own
	// auto-detecting parser, about 75 KB.
	maxStreams = logsrc.DefaultMaxStreams
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
// (detect.Batch.Commit) and the Flushers have settled what that
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
	parts   map[int32]*partition // poll goroutine only
	streams int                  // raw-line streams in every partition, at most maxStreams
	cur     detect.Request
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
	assign  string             // the assignment's note
	streams map[string]*stream // raw lines, per producing host and file
	formats []string           // formats decided for its streams
	more    int                // formats beyond the note's cap
	raw     bool               // raw lines were read here
	// The position a batch sent now records (source.Options.Checkpoint):
	// past the record being handed over, unless a stream's
	// auto-detection holds an earlier record's line.
	next, held int64
}

// stream is the line input of one producing host's file on a partition.
type stream struct {
	f     *logsrc.Feeder
	name  string // host and file, for the note
	noted bool   // its format is in the partition's note
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
	if o.Lines != nil {
		if _, err := logsrc.Compile(o.Lines.Format); err != nil {
			return nil, source.InputError("--kafka-in: " + err.Error())
		}
		lo := *o.Lines
		lo.Keys, lo.KeepGoing, lo.Shared = o.Keys, true, true
		o.Lines = &lo
	}
	c := &consumer{o: o, out: out, ctx: ctx, now: time.Now, intern: source.NewInterner(4096, 256),
		parts: map[int32]*partition{}, owned: map[int32]*ownership{}, barriers: make([]uint64, len(o.Flushers))}
	c.changed = sync.NewCond(&c.mu)
	sec, err := o.Security.Opts()
	if err != nil {
		return nil, source.InputError("--kafka-in: " + err.Error())
	}
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
	}, append(sec, o.Opts...)...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, source.InputError("--kafka-in: " + err.Error())
	}
	c.cl = cl
	c.errs = source.New(ctx, out, source.Options{Name: "kafka:" + o.Topic, Keys: o.Keys})
	return c, nil
}

func (c *consumer) run(ctx context.Context) error {
	if err := preflight(ctx, c.cl, c.o.Security); err != nil {
		c.cl.Close()
		return source.InputError("--kafka-in: " + err.Error())
	}
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
		for _, rec := range f.Records {
			pt.next = rec.Offset + 1
			c.record(pt, rec)
		}
		// Nothing stays held past the poll: its batch records the
		// position after its last record.
		c.decideAll(pt)
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
	pt := &partition{epoch: epoch, streams: map[string]*stream{}, held: -1, assign: "assigned " + own.at.UTC().Format("15:04:05") +
		": per-key windows of its keys start cold here"}
	pt.e = source.New(c.ctx, c.out, source.Options{Name: name, Keys: c.o.Keys, MaxProblems: 5,
		Checkpoint: func() func() {
			next := pt.next
			if pt.held >= 0 {
				next = pt.held
			}
			return func() { c.observedAt(p, epoch, next) }
		}})
	pt.e.SetState(detect.StateLive)
	if old := c.parts[p]; old != nil {
		c.streams -= len(old.streams)
	}
	c.parts[p] = pt
	return pt
}

func streamName(host, file string) string {
	if host == "" {
		host = "(no host)"
	}
	if file == "" {
		return host
	}
	return host + " " + file
}

// stream returns the line input of a producing host's file on pt, nil
// without Options.Lines. Its Feeder is named by the host, every request's
// Source.
func (c *consumer) stream(pt *partition, sh *shipped) *stream {
	if c.o.Lines == nil {
		return nil
	}
	k := sh.host + "\x00" + sh.file
	if st := pt.streams[k]; st != nil {
		return st
	}
	if c.streams >= maxStreams {
		c.resetStreams()
	}
	f, err := logsrc.NewFeeder(pt.e, sh.host, *c.o.Lines)
	if err != nil {
		panic("kafka: a log format compiled once does not compile again: " + err.Error()) // newConsumer checked it
	}
	// The host and file come from whoever writes the topic: key-shaped
	// text in them is hidden like any quoted input.
	st := &stream{f: f, name: c.o.Keys.RedactText(streamName(sh.host, sh.file))}
	pt.streams[k] = st
	c.streams++
	return st
}

// resetStreams starts the stream tables over (memory is bounded): a stream
// seen again decides its format again. What auto-detection holds is read
// first.
func (c *consumer) resetStreams() {
	for _, pt := range c.parts {
		c.decideAll(pt)
		clear(pt.streams)
	}
	c.streams = 0
	c.errs.Counter("kafka_streams_reset").Inc()
}

// decideAll makes the streams of pt whose auto-detection holds lines
// decide, so their lines are on the Emitter, and puts the formats decided
// since in its note, once each.
func (c *consumer) decideAll(pt *partition) {
	for _, st := range pt.streams {
		_ = st.f.Decide() // KeepGoing: never fails
		if n := st.f.Note(); n != "" && !st.noted {
			st.noted = true
			pt.addFormat(st.name + ": " + n)
		}
	}
	pt.held = -1
}

// record hands one record's request to its partition's emitter: a
// normalised request, or a raw line to its stream's Feeder.
func (c *consumer) record(pt *partition, rec *kgo.Record) {
	where := func() string {
		return "kafka:" + rec.Topic + "/" + strconv.Itoa(int(rec.Partition)) + "@" + strconv.FormatInt(rec.Offset, 10)
	}
	if headerValue(rec, schema.WireHeader) == schema.WireRequest {
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
	sh := unwrap(rec)
	sh.host = c.intern.String([]byte(sh.host))
	sh.file = c.intern.String([]byte(sh.file))
	st := c.stream(pt, &sh)
	if st == nil {
		c.bad(pt, where(), "a raw line, and this consumer reads only normalised requests")
		return
	}
	// A line without a clock of its own is dated by its record (the
	// shipper's time), not by when it is read here.
	_ = st.f.Line(sh.line, rec.Timestamp) // KeepGoing: never fails
	if pt.held < 0 && st.f.Holds() {
		pt.held = rec.Offset
	}
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
		c.streams -= len(pt.streams)
		delete(c.parts, n.p)
	}
}

// crashed reports whether a test killed this member.
func (c *consumer) crashed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crashHook
}
