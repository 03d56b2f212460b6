// Package syslogsrc is the syslog listener source: rebindwatch --listen
// syslog://HOST:PORT receives the access-log lines that web servers send
// over syslog (nginx's access_log syslog:server=..., HAProxy, gunicorn's
// --log-syslog-to, Apache through logger, rsyslog and syslog-ng forwarding
// from many servers), on UDP and TCP on the same port, or over TLS
// (syslog+tls://, RFC 5425).
//
// Messages are RFC 3164 or RFC 5424 (parseMessage); TCP streams are framed
// by newlines or by octet counting (RFC 6587), decided per message. Each
// sender's host (from the header, else its address) and tag make a source
// of its own, "syslog:HOST/TAG", with its own log-format auto-detection
// (logsrc.Streams), so one listener reads nginx from one server and
// gunicorn from another. Bounded: connections (MaxConns, excess refused and
// counted), message length (MaxMessage, longer ones skipped and counted),
// sources (logsrc.Streams' cap), and the queue between the network and
// the parser (UDP datagrams that find it full are dropped and counted; TCP
// senders wait).
//
// A stop closes the sockets, reads for a moment what the kernel already
// holds for each (drainGrace), hands everything over and sends every
// source's last batch.
package syslogsrc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/source"
	"github.com/rebindwatch/rebindwatch/state"
)

// Defaults for zero Options fields.
const (
	DefaultMaxConns   = 256
	DefaultMaxMessage = 32 << 10
)

const (
	// queueLen is how many received messages wait for the parser; with
	// MaxMessage it bounds that memory.
	queueLen = 512
	// drainGrace is how long a stop keeps reading what the kernel holds.
	drainGrace = 100 * time.Millisecond
	// handshakeTimeout bounds a TLS handshake, so a silent client does not
	// hold a connection slot.
	handshakeTimeout = 10 * time.Second
	tickEvery        = 100 * time.Millisecond
	acceptPause      = 50 * time.Millisecond // after an Accept error other than the stop's
	maxUDP           = 64 << 10
)

// Options configures a listener.
type Options struct {
	Format     string          // a logsrc.Compile spec; "" = auto, per source
	Keys       *keys.Extractor // owned by the listener's goroutine; nil: no keys
	Location   *time.Location  // zone of RFC 3164 times and of log times without one; nil = time.Local
	CertFile   string          // syslog+tls: the certificate (PEM, chain first)
	KeyFile    string          // syslog+tls: its private key (PEM)
	MaxConns   int             // TCP connections at once (0 = DefaultMaxConns)
	MaxMessage int             // bytes in a message (0 = DefaultMaxMessage)
	MaxSources int             // sender/tag sources (0 = logsrc.DefaultMaxStreams)
	BatchSize  int             // 0 = source.DefaultBatchSize
	// State (--state) keeps when the listener stopped, so that the next
	// run says for how long it was away: what was sent over UDP then is
	// lost.
	State *state.Store
}

// listenRecord is what --state keeps for a listener.
type listenRecord struct {
	Stopped time.Time `json:"stopped"` // the listener closed its ports
}

// ErrSpec is wrapped by the errors for a --listen value that is not a
// syslog address.
var ErrSpec = source.InputError("not a syslog listen address")

// Listener is a bound syslog listener; Run serves it.
type Listener struct {
	spec string
	opts Options
	udp  net.PacketConn // nil: TCP only
	tcp  net.Listener   // nil: UDP only
	tls  bool
	addr string // host:port bound

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	down  bool // stopping: no new connections

	tooLong, dropped, refused, accepted, partial atomic.Uint64
}

// Listen binds spec: syslog://HOST:PORT (UDP and TCP on the same port),
// syslog+udp://, syslog+tcp://, or syslog+tls://HOST:PORT (TCP with TLS;
// o.CertFile and o.KeyFile required). Port 0 picks a free port (both
// protocols on the same one). Its errors name spec.
func Listen(spec string, o Options) (*Listener, error) {
	scheme, hostport, ok := strings.Cut(spec, "://")
	if !ok || strings.ContainsAny(hostport, "/?#") {
		return nil, fmt.Errorf("--listen %s: %w (want syslog://HOST:PORT, syslog+tls://HOST:PORT, syslog+udp:// or syslog+tcp://)", spec, ErrSpec)
	}
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		return nil, fmt.Errorf("--listen %s: %w: %v", spec, ErrSpec, err)
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxMessage <= 0 {
		o.MaxMessage = DefaultMaxMessage
	}
	l := &Listener{spec: spec, opts: o, conns: map[net.Conn]struct{}{}}
	var err error
	switch scheme {
	case "syslog":
		err = l.bindBoth(hostport)
	case "syslog+udp":
		l.udp, err = net.ListenPacket("udp", hostport)
	case "syslog+tcp":
		l.tcp, err = net.Listen("tcp", hostport)
	case "syslog+tls":
		l.tls = true
		err = l.bindTLS(hostport)
	default:
		return nil, fmt.Errorf("--listen %s: %w: unknown scheme %q", spec, ErrSpec, scheme)
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("--listen %s: %w", spec, err)
	}
	if !l.tls && (o.CertFile != "" || o.KeyFile != "") {
		l.Close()
		return nil, fmt.Errorf("--listen %s: %w: --listen-cert and --listen-key go with syslog+tls://", spec, ErrSpec)
	}
	if l.tcp != nil {
		l.addr = l.tcp.Addr().String()
	} else {
		l.addr = l.udp.LocalAddr().String()
	}
	return l, nil
}

// bindBoth binds TCP and UDP on the same port; with port 0, the port TCP
// got (tried a few times, in case UDP's is taken).
func (l *Listener) bindBoth(hostport string) error {
	host, port, _ := net.SplitHostPort(hostport)
	for range 5 {
		t, err := net.Listen("tcp", hostport)
		if err != nil {
			return err
		}
		_, got, _ := net.SplitHostPort(t.Addr().String())
		u, err := net.ListenPacket("udp", net.JoinHostPort(host, got))
		if err == nil {
			l.tcp, l.udp = t, u
			return nil
		}
		t.Close()
		if port != "0" {
			return err
		}
	}
	return errors.New("no port free for both UDP and TCP")
}

func (l *Listener) bindTLS(hostport string) error {
	if l.opts.CertFile == "" || l.opts.KeyFile == "" {
		return fmt.Errorf("%w: syslog+tls:// needs --listen-cert FILE and --listen-key FILE", ErrSpec)
	}
	cert, err := tls.LoadX509KeyPair(l.opts.CertFile, l.opts.KeyFile)
	if err != nil {
		return fmt.Errorf("%w: --listen-cert/--listen-key: %v", ErrSpec, err)
	}
	t, err := net.Listen("tcp", hostport)
	if err != nil {
		return err
	}
	l.tcp = tls.NewListener(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	return nil
}

// Addr is the address bound, HOST:PORT.
func (l *Listener) Addr() string { return l.addr }

// Close closes the sockets (Run does it on a stop; this is for a listener
// that is never run).
func (l *Listener) Close() {
	if l.udp != nil {
		l.udp.Close()
	}
	if l.tcp != nil {
		l.tcp.Close()
	}
}

// received is one message as it came, with its sender.
type received struct {
	data []byte
	from netip.AddrPort
}

// Run serves the listener until ctx ends, then drains by the stop rule:
// what the kernel holds is read for drainGrace, every message received is
// parsed and handed over, and every source sends its last batch. Its own
// batches (source name: the --listen value) carry the listener's counts
// and state; each sender/tag's carry its requests.
func (l *Listener) Run(ctx context.Context, out chan<- detect.Batch) error {
	streams, err := logsrc.NewStreams(ctx, out, logsrc.StreamsOptions{
		Feeder:    logsrc.FeederOptions{Format: l.opts.Format, Keys: l.opts.Keys, Location: l.opts.Location},
		BatchSize: l.opts.BatchSize, Max: l.opts.MaxSources, Overflow: "syslog:(other senders)", State: detect.StateLive,
	})
	if err != nil {
		l.Close()
		return fmt.Errorf("--listen %s: %w", l.spec, err)
	}
	self := source.New(ctx, out, source.Options{Name: l.spec, Keys: l.opts.Keys})
	self.SetState(detect.StateLive)
	note := l.listening()
	if away := l.away(time.Now()); away != "" {
		note += "; " + away
	}
	self.SetNote(note)
	self.Flush()

	msgs := make(chan received, queueLen)
	var readers sync.WaitGroup
	if l.udp != nil {
		readers.Go(func() { l.readUDP(msgs) })
	}
	if l.tcp != nil {
		readers.Go(func() { l.accept(msgs, &readers) })
	}
	go func() {
		readers.Wait()
		close(msgs)
	}()

	p := &parser{streams: streams, self: self, loc: l.opts.Location, messages: self.Counter("syslog_messages")}
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	stop := ctx.Done()
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				l.account(self)
				self.SetNote(l.listening() + "; stopped")
				if l.opts.State != nil {
					l.opts.State.Put(l.stateKey(), listenRecord{Stopped: time.Now()})
				}
				streams.Close(nil)
				return self.Close(nil)
			}
			p.handle(m)
		case <-tick.C:
			l.account(self)
			streams.Tick(tickEvery)
			self.FlushDue(tickEvery)
		case <-stop:
			stop = nil
			l.shutdown()
		}
	}
}

// stateKey is the store's key for the listener.
func (l *Listener) stateKey() string { return "listen:" + l.spec }

// away says, from --state, how long the listener was not listening before
// now; "" on a first run or without a store.
func (l *Listener) away(now time.Time) string {
	if l.opts.State == nil {
		return ""
	}
	var rec listenRecord
	if found, err := l.opts.State.Get(l.stateKey(), &rec); !found || err != nil || rec.Stopped.IsZero() {
		return ""
	}
	return "not listening from " + rec.Stopped.UTC().Format(time.RFC3339) + " for " +
		now.Sub(rec.Stopped).Round(time.Second).String() + ": what was sent over UDP then is lost, TCP senders with a queue send it now"
}

// listening is the listener's note.
func (l *Listener) listening() string {
	var protos []string
	if l.udp != nil {
		protos = append(protos, "udp")
	}
	if l.tcp != nil && l.tls {
		protos = append(protos, "tls")
	} else if l.tcp != nil {
		protos = append(protos, "tcp")
	}
	return "listening on " + strings.Join(protos, "+") + " " + l.addr
}

// account hands the readers' counts to the listener's Emitter.
func (l *Listener) account(self *source.Emitter) {
	set := func(name string, v uint64) {
		c := self.Counter(name)
		c.Add(v - c.Value())
	}
	set("syslog_too_long", l.tooLong.Load())
	set("syslog_connections", l.accepted.Load())
	set("syslog_connections_refused", l.refused.Load())
	set("syslog_partial_messages", l.partial.Load())
	d := self.Counter("syslog_udp_dropped")
	if n := l.dropped.Load(); n > d.Value() {
		self.Dropped(n - d.Value())
		d.Add(n - d.Value())
	}
}

// shutdown closes the sockets for new input and lets the readers take what
// the kernel already holds for drainGrace.
func (l *Listener) shutdown() {
	deadline := time.Now().Add(drainGrace)
	l.mu.Lock()
	l.down = true
	for c := range l.conns {
		c.SetReadDeadline(deadline)
	}
	l.mu.Unlock()
	if l.tcp != nil {
		l.tcp.Close()
	}
	if l.udp != nil {
		l.udp.SetReadDeadline(deadline)
	}
}

// readUDP reads datagrams, one message each, until the stop's deadline.
func (l *Listener) readUDP(msgs chan<- received) {
	defer l.udp.Close()
	buf := make([]byte, maxUDP)
	for {
		n, addr, err := l.udp.ReadFrom(buf)
		if err != nil {
			if l.stopping() || errors.Is(err, net.ErrClosed) {
				return // the stop's deadline passed: what the kernel held is read
			}
			continue // a transient error does not end the listener
		}
		if n > l.opts.MaxMessage {
			l.tooLong.Add(1)
			continue
		}
		m := received{data: trimEnd(buf[:n])}
		if ua, ok := addr.(*net.UDPAddr); ok {
			m.from = ua.AddrPort()
		}
		m.data = append([]byte(nil), m.data...)
		select {
		case msgs <- m:
		default:
			l.dropped.Add(1) // the parser is behind: drop rather than let the kernel drop unseen
		}
	}
}

// accept takes connections until the listener closes, at most MaxConns at
// once; each is read by a goroutine in readers.
func (l *Listener) accept(msgs chan<- received, readers *sync.WaitGroup) {
	for {
		c, err := l.tcp.Accept()
		if err != nil {
			if l.stopping() || errors.Is(err, net.ErrClosed) {
				return // closed by the stop
			}
			time.Sleep(acceptPause) // out of descriptors, say: try again rather than stop listening
			continue
		}
		l.mu.Lock()
		if l.down || len(l.conns) >= l.opts.MaxConns {
			l.mu.Unlock()
			l.refused.Add(1)
			c.Close()
			continue
		}
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		l.accepted.Add(1)
		readers.Go(func() { l.readConn(c, msgs) })
	}
}

// stopping reports whether the stop began.
func (l *Listener) stopping() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.down
}

// readConn reads one connection's messages until it ends or the stop's
// deadline passes.
func (l *Listener) readConn(c net.Conn, msgs chan<- received) {
	defer func() {
		l.mu.Lock()
		delete(l.conns, c)
		l.mu.Unlock()
		c.Close()
	}()
	var from netip.AddrPort
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		from = ta.AddrPort()
	}
	if tc, ok := c.(*tls.Conn); ok {
		l.mu.Lock()
		down := l.down
		if !down {
			c.SetDeadline(time.Now().Add(handshakeTimeout))
		}
		l.mu.Unlock()
		if down || tc.Handshake() != nil {
			return
		}
		l.mu.Lock()
		if !l.down {
			c.SetDeadline(time.Time{})
		}
		l.mu.Unlock()
	}
	f := newFramer(c, l.opts.MaxMessage)
	for {
		msg, tooLong, err := f.next()
		switch {
		case tooLong:
			l.tooLong.Add(1)
		case len(msg) > 0 && (err == nil || err == io.ErrUnexpectedEOF):
			msgs <- received{data: append([]byte(nil), msg...), from: from}
		case len(msg) > 0:
			l.partial.Add(1) // cut by the stop or the connection's end
		}
		if err != nil {
			return
		}
	}
}

// parser turns received messages into lines of their sources; it runs on
// Run's goroutine.
type parser struct {
	streams  *logsrc.Streams
	self     *source.Emitter
	loc      *time.Location
	messages *source.Counter
	name     []byte
}

// handle parses one message and feeds its payload to its source.
func (p *parser) handle(m received) {
	p.messages.Inc()
	loc := p.loc
	if loc == nil {
		loc = time.Local
	}
	msg, err := parseMessage(m.data, loc, time.Now())
	if err != nil {
		p.self.ParseError()
		if p.self.WantsProblems() {
			p.self.Problem("from "+m.from.String(), err.Error()+" ("+strconv.Itoa(len(m.data))+" bytes)")
		}
		return
	}
	p.streams.Stream(p.sourceName(msg, m.from)).Line(msg.Msg, msg.Time)
}

// sourceName is "syslog:HOST/TAG": the header's host, else the sender's
// address; "/TAG" only when there is one.
func (p *parser) sourceName(msg message, from netip.AddrPort) string {
	b := append(p.name[:0], "syslog:"...)
	if len(msg.Host) > 0 {
		b = append(b, msg.Host...)
	} else {
		b = from.Addr().Unmap().AppendTo(b)
	}
	if len(msg.Tag) > 0 {
		b = append(b, '/')
		b = append(b, msg.Tag...)
	}
	p.name = b
	return string(b)
}
