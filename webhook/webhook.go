// Package webhook posts each alert to an HTTP receiver (--webhook URL) as
// the JSON alert line of --no-tui output, one alert per POST.
//
// Delivery never slows detection: Alert encodes the alert and puts it on a
// bounded queue without waiting; a full queue drops the alert and counts it.
// One worker (Run) posts in order, retrying network errors, 429 and 5xx with
// exponential backoff and jitter (honouring Retry-After), and giving up on
// other answers. At exit it keeps delivering for a bounded drain time.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/sanitize"
	"github.com/rebindwatch/rebindwatch/schema"
)

// Defaults for the zero values of Options.
const (
	DefaultQueueSize  = 1000
	DefaultTimeout    = 5 * time.Second
	DefaultMaxRetries = 5
	DefaultDrain      = 5 * time.Second
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	DefaultUserAgent  = "rebindwatch"
)

// Options configures the poster. Zero values take the defaults above.
type Options struct {
	URL        string
	QueueSize  int               // 0 = 1000 alerts; beyond it new alerts are dropped and counted
	Timeout    time.Duration     // per attempt, 0 = 5s
	MaxRetries int               // 0 = 5, negative = no retries; retry on network errors, 429 and 5xx, not on other answers
	Headers    map[string]string // sent with every POST (e.g. Authorization); "Host" sets the Host header
	Client     *http.Client      // nil = a client that does not follow redirects

	// Drain is how long Run keeps delivering once its context ends; 0 = 5s.
	Drain time.Duration
	// MinBackoff and MaxBackoff bound the wait before a retry: MinBackoff
	// doubled per attempt, with jitter, capped at MaxBackoff (0 = 500ms and
	// 30s). A Retry-After on 429 or 503 replaces it, also capped.
	MinBackoff, MaxBackoff time.Duration
	// UserAgent is sent as User-Agent; "" = "rebindwatch".
	UserAgent string
	// OnGiveUp, when set, is called on the worker goroutine for each alert
	// given up, with a one-line reason that names neither the URL nor the
	// headers (they may hold credentials).
	OnGiveUp func(error)
}

// Stats counts deliveries. Every accepted alert ends up Sent or Failed;
// Queued counts those still waiting, including the one being posted.
type Stats struct {
	Sent    uint64 // accepted by the receiver (2xx)
	Failed  uint64 // given up: retries exhausted, a non-retryable answer, or the drain deadline
	Dropped uint64 // not accepted: the queue was full, or Run had returned
	Retries uint64 // attempts that were retried
	Queued  int
}

// item is one alert waiting for delivery: its body is encoded when it is
// queued, because the engine keeps changing the alert (its count) later.
type item struct {
	id       uint64
	detector string
	body     []byte
}

// Poster is a detect.Sink that posts alerts to a webhook. Request and Alert
// are called on the engine goroutine; Run is the delivery worker; Stats may
// be called from anywhere.
type Poster struct {
	opts   Options
	url    string
	host   string // Host header override, from Headers
	header http.Header
	client *http.Client
	queue  chan item
	// The body is the alert line --no-tui writes (package schema), as that
	// format grows.
	started atomic.Bool
	stopped atomic.Bool

	sent, failed, dropped, retries atomic.Uint64
	pending                        atomic.Int64
}

// New validates opts and returns a poster; call Run to start delivering.
// Errors are one sentence naming the value at fault, with any credentials in
// the URL left out.
func New(opts Options) (*Poster, error) {
	u, err := checkURL(opts.URL)
	if err != nil {
		return nil, err
	}
	if opts.QueueSize < 0 {
		return nil, fmt.Errorf("webhook queue size %d must not be negative", opts.QueueSize)
	}
	if opts.QueueSize == 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = DefaultMaxRetries
	} else if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	if opts.Drain <= 0 {
		opts.Drain = DefaultDrain
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = opts.MinBackoff
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	p := &Poster{opts: opts, url: u.String(), queue: make(chan item, opts.QueueSize)}
	p.header = http.Header{}
	p.header.Set("Content-Type", "application/json")
	p.header.Set("User-Agent", opts.UserAgent)
	for k, v := range opts.Headers {
		// Never echo a header value: it is usually a credential.
		if !validHeaderName(k) {
			return nil, fmt.Errorf("webhook header name %q is not a valid HTTP header name", sanitize.String(k))
		}
		if !validHeaderValue(v) {
			return nil, fmt.Errorf("webhook header %q has a value that is not valid in HTTP (value not shown)", k)
		}
		if http.CanonicalHeaderKey(k) == "Host" {
			p.host = v
			continue
		}
		p.header.Set(k, v)
	}
	p.client = opts.Client
	if p.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 2
		p.client = &http.Client{
			Transport: t,
			// A redirect would re-send the alert (and the Authorization
			// header) somewhere the operator did not name: report it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return p, nil
}

// validHeaderName reports whether k is an RFC 9110 token (section 5.1).
// (x/net's httpguts would do, but pulls x/text in through idna.)
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v can be sent as a field value (RFC 9110
// section 5.5): no control characters other than tab, so no CR or LF that
// would split the request.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// checkURL accepts absolute http and https URLs with a host.
func checkURL(raw string) (*url.URL, error) {
	shown := redactURL(raw)
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("webhook URL is empty (want http:// or https:// and a host)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("webhook URL %q is not a valid URL", shown)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("webhook URL %q must start with http:// or https://", shown)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, fmt.Errorf("webhook URL %q has no host", shown)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("webhook URL %q has an invalid port", shown)
		}
	}
	return u, nil
}

// redactURL shows a URL without what may be a secret in it: user
// information, the query and the fragment. It works on the raw text so it
// also serves URLs that do not parse.
func redactURL(raw string) string {
	s := raw
	hidden := false
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s, hidden = s[:i], true
	}
	rest, scheme := s, ""
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, rest = s[:i+3], s[i+3:]
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = "…@" + authority[i+1:]
	}
	s = scheme + authority + path
	if hidden {
		s += "?…"
	}
	return sanitize.String(s)
}

// Request does nothing: only alerts are posted.
func (p *Poster) Request(*detect.Request) error { return nil }

// Alert queues a copy of a (as its JSON line, without evidence) and returns
// at once. A full queue, or a worker that has stopped, drops the alert and
// counts it; detection never waits for the receiver.
func (p *Poster) Alert(a *detect.Alert) error {
	// Only the engine goroutine sends, so a full queue stays full until
	// the worker takes one: skip encoding what would be dropped.
	if p.stopped.Load() || len(p.queue) == cap(p.queue) {
		p.dropped.Add(1)
		return nil
	}
	body := schema.AppendAlert(nil, a)
	it := item{id: a.ID, detector: a.Detector, body: body}
	p.pending.Add(1)
	select {
	case p.queue <- it:
	default:
		p.pending.Add(-1)
		p.dropped.Add(1)
	}
	return nil
}

// Stats returns the delivery counts so far.
func (p *Poster) Stats() Stats {
	return Stats{
		Sent:    p.sent.Load(),
		Failed:  p.failed.Load(),
		Dropped: p.dropped.Load(),
		Retries: p.retries.Load(),
		Queued:  int(max(p.pending.Load(), 0)),
	}
}

// Run delivers queued alerts in order until ctx ends, then keeps delivering
// what is queued for at most Options.Drain. Alerts still undelivered at that
// deadline are counted Failed and reported in the error; otherwise it
// returns nil. Run may be called once.
func (p *Poster) Run(ctx context.Context) error {
	if !p.started.CompareAndSwap(false, true) {
		return errors.New("webhook: Run called twice")
	}
	defer p.stopped.Store(true)
	// dctx outlives ctx by the drain time, so an attempt in flight when
	// ctx ends finishes instead of being cut off.
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(p.opts.Drain, cancel)
		context.AfterFunc(dctx, func() { t.Stop() })
	})
	defer stop()

	var lost uint64 // given up because the drain deadline passed
	handle := func(it item) {
		if dctx.Err() != nil {
			// Counted, not reported one by one: Run's error says
			// how many.
			p.failed.Add(1)
			p.pending.Add(-1)
			lost++
			return
		}
		if !p.deliver(dctx, it) && dctx.Err() != nil {
			lost++
		}
	}
	for ctx.Err() == nil {
		select {
		case it := <-p.queue:
			handle(it)
		case <-ctx.Done():
		}
	}
	// Draining: deliver what is queued until the queue is empty or the
	// drain deadline passes.
	for {
		select {
		case it := <-p.queue:
			handle(it)
			continue
		default:
		}
		break
	}
	if lost > 0 {
		return fmt.Errorf("webhook: %d alerts not delivered within the %s exit deadline", lost, p.opts.Drain)
	}
	return nil
}

// deliver posts one alert, retrying as Options say. It reports whether the
// receiver accepted it.
func (p *Poster) deliver(ctx context.Context, it item) bool {
	for attempt := 1; ; attempt++ {
		wait, err := p.post(ctx, it.body)
		if err == nil {
			p.sent.Add(1)
			p.pending.Add(-1)
			return true
		}
		if ctx.Err() != nil {
			p.giveUp(it, attempt, errors.New("not sent before the exit deadline"))
			return false
		}
		if !retryable(err) || attempt > p.opts.MaxRetries {
			p.giveUp(it, attempt, err)
			return false
		}
		p.retries.Add(1)
		if wait <= 0 {
			wait = p.backoff(attempt)
		}
		t := time.NewTimer(min(wait, p.opts.MaxBackoff))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			p.giveUp(it, attempt, errors.New("not sent before the exit deadline"))
			return false
		}
	}
}

func (p *Poster) giveUp(it item, attempts int, err error) {
	p.failed.Add(1)
	p.pending.Add(-1)
	if p.opts.OnGiveUp == nil {
		return
	}
	p.opts.OnGiveUp(&GiveUpError{ID: it.id, Detector: it.detector, Attempts: attempts, Err: err})
}

// GiveUpError says why an alert was given up; OnGiveUp receives it.
type GiveUpError struct {
	ID       uint64 // the alert's engine ID
	Detector string
	Attempts int
	Err      error // the last attempt's failure
}

// Error is one line, sanitised: a receiver's bytes may appear in net/http's
// errors (a malformed response), and the line may reach a terminal.
func (e *GiveUpError) Error() string {
	return sanitize.String(fmt.Sprintf("webhook: alert %d (%s) given up after %d attempt%s: %v",
		e.ID, e.Detector, e.Attempts, plural(e.Attempts), e.Err))
}

func (e *GiveUpError) Unwrap() error { return e.Err }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// backoff is the wait after the attempt-th failure: MinBackoff doubled per
// attempt, capped, with "equal jitter" (half fixed, half random) so that
// several instances do not retry in step.
func (p *Poster) backoff(attempt int) time.Duration {
	d := p.opts.MinBackoff
	for i := 1; i < attempt && d < p.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.opts.MaxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// statusError is a receiver's answer other than 2xx.
type statusError struct {
	code int
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("receiver answered HTTP %d %s", e.code, http.StatusText(e.code))
	if e.code >= 300 && e.code < 400 {
		msg += " (redirects are not followed)"
	}
	return msg
}

// netError is a failure to get an answer at all (refused, reset, timeout).
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.code == http.StatusTooManyRequests || se.code >= 500
	}
	var ne *netError
	return errors.As(err, &ne)
}

// post makes one attempt. On 429 or 503 it returns the Retry-After wait.
func (p *Poster) post(ctx context.Context, body []byte) (retryAfter time.Duration, err error) {
	actx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("making the request: %w", err)
	}
	req.Header = p.header.Clone() // the transport must not share our map
	if p.host != "" {
		req.Host = p.host
	}
	resp, err := p.client.Do(req)
	if err != nil {
		// url.Error repeats the URL, which may carry a token in its query.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("no answer within %s", p.opts.Timeout)
		}
		return 0, &netError{err}
	}
	// Read a little of the body so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return retryAfter, &statusError{code: resp.StatusCode}
}

// parseRetryAfter reads delta-seconds or an HTTP-date (RFC 9110 section
// 10.2.3); 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
