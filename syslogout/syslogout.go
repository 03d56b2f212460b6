// Package syslogout sends each alert to a syslog receiver (--syslog
// udp://HOST:PORT or tcp://HOST:PORT) as an RFC 5424 message whose
// structured data carries the alert's fields:
//
//	<PRI>1 TIMESTAMP HOSTNAME rebindwatch PROCID DETECTOR [rebindwatch@32473 detector=".." severity=".." ...] MESSAGE
//
// UDP sends one message per datagram (RFC 5426); TCP frames them by octet
// counting (RFC 6587 §3.4.1), which rsyslog's imtcp and syslog-ng read.
// The facility is local0; the severity follows the alert's (critical 2,
// high 3, medium 4, low 5). 32473 is the enterprise number RFC 5612
// reserves for examples: rebindwatch has none of its own, and the SD-ID
// only has to be unique to the sender.
//
// Like the webhook, it never slows detection: Alert formats the message
// and queues it without waiting; a full queue drops it and counts it. One
// worker (Run) sends, reconnecting TCP with a backoff, and drains the queue
// for a bounded time at exit.
package syslogout

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/sanitize"
	"github.com/rebindwatch/rebindwatch/schema"
)

// Defaults.
const (
	DefaultQueue = 1000
	DefaultDrain = 5 * time.Second
	// maxUDP keeps a datagram within what every receiver takes (RFC 5426
	// §3.2 asks receivers for 2048 octets at least).
	maxUDP   = 2048
	facility = 16 // local0
	sdID     = "rebindwatch@32473"
)

// Options configures a sender.
type Options struct {
	URL      string // udp://HOST:PORT or tcp://HOST:PORT
	Queue    int    // 0 = DefaultQueue
	Drain    time.Duration
	Hostname string // HOSTNAME; "" = os.Hostname()
}

// Stats counts deliveries.
type Stats struct {
	Sent, Dropped, Failed uint64
}

// Sender is a detect.AlertSink that sends alerts to a syslog receiver.
type Sender struct {
	network, addr string
	host          string
	pid           string
	drain         time.Duration
	queue         chan []byte

	sent, dropped, failed atomic.Uint64
	stopped               atomic.Bool
}

// New checks o and returns a sender; Run delivers.
func New(o Options) (*Sender, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "udp" && u.Scheme != "tcp") || u.Host == "" || u.Port() == "" || u.Path != "" {
		return nil, fmt.Errorf("want udp://HOST:PORT or tcp://HOST:PORT")
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Drain <= 0 {
		o.Drain = DefaultDrain
	}
	host := o.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	return &Sender{network: u.Scheme, addr: u.Host, host: headerField(host, 255), pid: strconv.Itoa(os.Getpid()),
		drain: o.Drain, queue: make(chan []byte, o.Queue)}, nil
}

// Alert formats the alert and queues it; a full queue drops it.
func (s *Sender) Alert(a *detect.Alert) error {
	msg := s.format(a)
	if s.stopped.Load() {
		s.dropped.Add(1)
		return nil
	}
	select {
	case s.queue <- msg:
	default:
		s.dropped.Add(1)
	}
	return nil
}

// Stats returns the counts so far; once Run has returned, what is left
// in the queue counts as dropped.
func (s *Sender) Stats() Stats {
	st := Stats{Sent: s.sent.Load(), Dropped: s.dropped.Load(), Failed: s.failed.Load()}
	if s.stopped.Load() {
		st.Dropped += uint64(len(s.queue))
	}
	return st
}

// severity maps an alert's severity to a syslog one.
func severity(s detect.Severity) int {
	switch s {
	case detect.SeverityCritical:
		return 2
	case detect.SeverityHigh:
		return 3
	case detect.SeverityMedium:
		return 4
	}
	return 5
}

// format writes an alert as an RFC 5424 message (no framing).
func (s *Sender) format(a *detect.Alert) []byte {
	b := make([]byte, 0, 512)
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(facility*8+severity(a.Severity)), 10)
	b = append(b, ">1 "...)
	b = a.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	b = append(b, ' ')
	b = append(b, s.host...)
	b = append(b, " rebindwatch "...)
	b = append(b, s.pid...)
	b = append(b, ' ')
	b = append(b, headerField(a.Detector, 32)...)
	b = append(b, " ["...)
	b = append(b, sdID...)
	param := func(name, v string) {
		if v == "" {
			return
		}
		b = append(b, ' ')
		b = append(b, name...)
		b = append(b, '=', '"')
		b = appendParam(b, v)
		b = append(b, '"')
	}
	param("id", schema.AlertID(a))
	param("detector", a.Detector)
	param("severity", a.Severity.String())
	param("subject", a.Subject)
	param("dimension", a.Dimension)
	param("key", a.Key)
	param("client", a.Client)
	param("host", a.Host)
	param("origin", a.Origin)
	param("target", a.Target)
	if a.Status != 0 {
		param("status", strconv.Itoa(a.Status))
	}
	param("outcome", a.Outcome)
	param("class", a.Class)
	param("incident", a.Incident)
	param("count", strconv.Itoa(a.Count))
	b = append(b, "] "...)
	b = append(b, sanitize.String(a.Message)...)
	return b
}

// appendParam appends a PARAM-VALUE: sanitised (no control characters,
// escape sequences or invisible runes reach a receiver's terminal), with
// '"', '\' and ']' escaped (RFC 5424 §6.3.3).
func appendParam(b []byte, v string) []byte {
	v = sanitize.String(v)
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"', '\\', ']':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return b
}

// headerField makes a header field of PRINTUSASCII (33-126) of at most n
// octets, "-" when empty (RFC 5424 §6.2).
func headerField(v string, n int) string {
	var sb strings.Builder
	for _, r := range v {
		if r > 32 && r < 127 && sb.Len() < n {
			sb.WriteRune(r)
		}
	}
	if sb.Len() == 0 {
		return "-"
	}
	return sb.String()
}

// Run sends queued messages until ctx ends, then for at most the drain
// time. It returns an error when messages were left unsent at the end.
func (s *Sender) Run(ctx context.Context) error {
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	var deadline time.Time // set once ctx ends
	backoff := 100 * time.Millisecond
	for {
		var msg []byte
		if deadline.IsZero() {
			select {
			case msg = <-s.queue:
			case <-ctx.Done():
				deadline = time.Now().Add(s.drain)
				continue
			}
		} else {
			select {
			case msg = <-s.queue:
			default:
				s.stopped.Store(true)
				return nil
			}
		}
		for !s.send(&conn, msg) {
			if !deadline.IsZero() && time.Now().After(deadline) {
				s.failed.Add(1)
				s.stopped.Store(true)
				return errors.New("syslog: the receiver could not be reached before the drain deadline")
			}
			if deadline.IsZero() {
				t := time.NewTimer(backoff)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					deadline = time.Now().Add(s.drain)
				}
			} else {
				time.Sleep(min(backoff, time.Until(deadline)))
			}
			backoff = min(2*backoff, 5*time.Second)
		}
		backoff = 100 * time.Millisecond
	}
}

// send sends one message, dialling first when needed. It reports false
// when it should be tried again (TCP: no connection); a UDP datagram that
// fails is counted and not sent twice.
func (s *Sender) send(conn *net.Conn, msg []byte) bool {
	if *conn == nil {
		c, err := net.DialTimeout(s.network, s.addr, 5*time.Second)
		if err != nil {
			return false
		}
		*conn = c
	}
	(*conn).SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := (*conn).Write(s.frame(msg)); err != nil {
		(*conn).Close()
		*conn = nil
		if s.network == "udp" {
			s.failed.Add(1)
			return true
		}
		return false
	}
	s.sent.Add(1)
	return true
}

// frame prepares a message for the transport: octet counting on TCP, one
// datagram (cut to maxUDP at a rune boundary) on UDP.
func (s *Sender) frame(msg []byte) []byte {
	if s.network == "udp" {
		if len(msg) > maxUDP {
			i := maxUDP
			for i > 0 && !utf8.RuneStart(msg[i]) {
				i--
			}
			msg = msg[:i]
		}
		return msg
	}
	return append(strconv.AppendInt(nil, int64(len(msg)), 10), append([]byte{' '}, msg...)...)
}
