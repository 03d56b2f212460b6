package capture

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// liveSourceName is Batch.Source and Request.Source for live captures.
const liveSourceName = "live"

// ErrPrivilege is wrapped by the error Live returns when the system refuses
// to open a capture socket. The error's text says what to do.
var ErrPrivilege = source.InputError("live capture needs root or the CAP_NET_RAW and CAP_NET_ADMIN capabilities")

// ErrFilterNeedsPcap is returned by Live for a non-empty Options.Filter in a
// build without libpcap, which alone can compile a tcpdump expression.
var ErrFilterNeedsPcap = source.InputError("a capture filter expression (-f) needs a build with libpcap: go build -tags pcap (cgo, libpcap-dev)")

// ErrBadFilter is wrapped by the error Live returns when libpcap cannot
// compile Options.Filter.
var ErrBadFilter = source.InputError("bad capture filter expression")

// ErrNoInterface is wrapped by the error Live returns for an interface that
// does not exist; the error names the ones that do.
var ErrNoInterface = source.InputError("no such network interface")

// noInterface is the error for an interface that does not exist.
func noInterface(iface string) error {
	names := []string{"any"}
	if ifs, err := net.Interfaces(); err == nil {
		for _, i := range ifs {
			names = append(names, i.Name)
		}
	}
	return &ifaceError{iface: iface, have: strings.Join(names, ", ")}
}

type ifaceError struct{ iface, have string }

func (e *ifaceError) Error() string {
	return "there is no network interface named " + displayIface(e.iface) + " (there are: " + e.have + ")"
}

func (e *ifaceError) Unwrap() error { return ErrNoInterface }

// displayIface is how messages name an interface.
func displayIface(iface string) string {
	if iface == "" {
		return "any"
	}
	return iface
}

// privilegeError is ErrPrivilege with the command that fixes it.
type privilegeError struct {
	iface string
	cause error
}

func (e *privilegeError) Error() string {
	exe, err := os.Executable()
	if err != nil {
		exe = "/path/to/rebindwatch"
	}
	return "capturing on " + displayIface(e.iface) + " is not permitted; run as root, or give the binary the capabilities once with: sudo setcap cap_net_raw,cap_net_admin+ep " + exe
}

func (e *privilegeError) Unwrap() []error { return []error{ErrPrivilege, e.cause} }

// liveReader is a live packet source: packetReader whose next returns
// errIdle when no packet came for a while, so the loop can tick.
type liveReader interface {
	packetReader
	// drops returns the packets the kernel dropped since the capture
	// started (ring or buffer full).
	drops() (uint64, error)
	close()
}

// errIdle is what a liveReader's next returns after its poll timeout.
var errIdle = errors.New("no packet before the poll timeout")

// Live timing, in wall time.
const (
	// livePoll is how long a read waits for a packet before the loop ticks.
	livePoll = 100 * time.Millisecond
	// liveTick is how often, at most, a busy loop looks at the clock.
	liveTick = 20 * time.Millisecond
	// liveFlush is how often pending requests and counters are sent: a
	// pipeline following the JSON lines sees an alert within about this
	// (plus a poll) of its packet.
	liveFlush = 100 * time.Millisecond
	// statsEvery is how often the kernel's drop count is read.
	statsEvery = time.Second
	// finalDrain is how long a stopping capture reads on at most, when
	// packets keep coming, before it flushes.
	finalDrain = time.Second
)

// Live captures on the network interface iface ("any" = every interface)
// and sends batches to out until ctx is done. It does not close out. On
// Linux it uses an AF_PACKET socket with a TPACKET_V3 ring and a kernel
// filter built from Options.Ports (every TCP port with AnyPort), DNS, TLS
// ClientHellos and the tunnels the decoder follows (bpf.go); with the pcap
// build tag it uses libpcap,
// whose filter may be replaced by a tcpdump expression in Options.Filter.
//
// Batches carry Source "live" and State StateLive; packets the kernel
// dropped are reported in Batch.Dropped and the "kernel_drops" counter.
// When ctx is done it reads what the ring already holds (a second at most
// on a busy link), flushes the connections still open, sends a last batch
// with StateDone and returns nil. Without the privilege to capture it returns an error
// wrapping ErrPrivilege that says how to grant it; an interface that does
// not exist gives ErrNoInterface, a Filter libpcap cannot compile
// ErrBadFilter, and any Filter without libpcap ErrFilterNeedsPcap.
// Options.Pacer is ignored.
func Live(ctx context.Context, iface string, opts Options, out chan<- detect.Batch) error {
	opts = opts.withDefaults()
	opts.Pacer = nil // packets come at their own pace
	src, err := openLive(iface, &opts)
	if err != nil {
		return err
	}
	defer src.close()
	return runLive(ctx, src, opts, out)
}

// liveRun is one live capture's loop state.
type liveRun struct {
	src   liveReader
	p     driver
	e     *source.Emitter
	drops uint64 // kernel drops counted so far
}

// runLive drives the pipeline from a live reader until ctx is done; then it
// reads what the ring already holds (the source rule) and flushes every
// connection.
func runLive(ctx context.Context, src liveReader, opts Options, out chan<- detect.Batch) error {
	e := source.New(ctx, out, source.Options{Name: liveSourceName, BatchSize: opts.BatchSize, Keys: opts.Keys})
	e.SetState(detect.StateLive)
	e.Flush() // the engine learns at once that we are live
	p := newDriver(ctx, &opts, liveSourceName, e, 0)
	r := &liveRun{src: src, p: p, e: e}
	now := time.Now()
	lastStats, lastLook := now, now.UnixNano()
	var stopAt time.Time // when ctx ended; zero while running
	for n := 0; ; n++ {
		data, ci, link, err := src.next()
		switch {
		case err == nil:
			p.packet(data, ci, link)
			// Look at the clock and ctx every 64 packets, or when the
			// packets' own (wall clock) time says a tick has passed.
			ts := ci.Timestamp.UnixNano()
			if n%64 != 0 && ts-lastLook < int64(liveTick) {
				continue
			}
			lastLook = ts
		case errors.Is(err, errIdle):
			if !stopAt.IsZero() {
				return r.finish(nil) // the ring is drained
			}
			// Packet time stands still while nothing arrives: move it on,
			// so held requests and idle connections are released.
			p.advance(time.Now())
		default:
			return r.finish(fmt.Errorf("capturing: %w", err))
		}
		now := time.Now()
		switch {
		case stopAt.IsZero() && ctx.Err() != nil:
			// Stop: read on until the ring has nothing more (the next
			// idle poll), then flush; a busy link is cut after a moment.
			stopAt = now
		case !stopAt.IsZero() && now.Sub(stopAt) >= finalDrain:
			return r.finish(nil)
		}
		if now.Sub(lastStats) >= statsEvery {
			lastStats = now
			r.countDrops()
		}
		p.flushDue(liveFlush)
	}
}

// countDrops adds the kernel drops since the last look to the tally.
func (r *liveRun) countDrops() {
	d, err := r.src.drops()
	if err != nil || d <= r.drops {
		return
	}
	r.p.dropped(d - r.drops)
	r.drops = d
}

// finish ends a live capture: every connection is flushed and the last
// batch is sent. Stopping is the normal way to end and gives nil.
func (r *liveRun) finish(err error) error {
	r.countDrops()
	r.p.finish(nil)
	return r.e.Close(err)
}
