// Package capture turns packets into rebindwatch requests: it reads pcap
// and pcapng files (ReadFile) or a network interface (Live: AF_PACKET on
// Linux, libpcap with the pcap build tag), decodes link layers and tunnels
// without allocating, reassembles TCP, parses HTTP/1.x (and h2c) in both
// directions, pairs responses with requests, and hands the engine batches
// of detect.Request in event time order, with the DNS answers and TLS
// ClientHellos it sees.
//
// The pipeline (pipeline.go) is three stages, each keeping its own state:
//
//	front.go                the first: frames decoded, fragments, ClientHellos;
//	                        which shard a flow belongs to
//	decode.go               frames → layers, without allocating (tunnels too:
//	                        encap.go; IP fragments: defrag.go)
//	worker.go               a shard: its connections and DNS datagrams
//	assembler.go            TCP reassembly and the connection LRU; hands each
//	                        connection's bytes to a stream (overlap.go: data
//	                        sent twice with different bytes; conntable.go:
//	                        connections by flow hash)
//	conn.go                 the HTTP/1 state machine, a stream (body.go: bodies)
//	head.go, framing.go     message heads; where bodies end (fault.go: what
//	                        was wrong with a message)
//	resync.go               finding the next message after garbage
//	authority.go            absolute-form authority and Host comparisons
//	exchange.go             heads → requests; responses paired with them
//	request.go              the kept Request: keys redacted and fingerprinted,
//	                        short values shared (strcache.go)
//	h2c.go                  HTTP/2 with prior knowledge, taken over from conn
//	dns.go, dnsmsg.go       DNS answers over UDP and TCP (a stream of its own)
//	tls.go, clienthello.go  server names of TLS ClientHellos on any port
//	merge.go                the last stage: what the others found, in order,
//	                        to the emitter (orderer.go: requests held by packet
//	                        time for their responses)
//	parallel.go             the stages on several cores, merged in the order
//	                        one goroutine would have made
//	counters.go             counters and Problems (the reporter)
//	capture.go, pcapfile.go files; live*.go, bpf.go: interfaces
//
// Everything runs on packet time: flushing of reassembly gaps, closing of
// idle connections and the short holds that keep requests ordered and let
// their responses arrive. A replay therefore behaves as the live run did.
//
// Bad input never stops a replay: truncated packets, gaps, malformed HTTP
// and a file cut mid-record are counted (Batch.Counters, ParseErrors) and
// sampled (Batch.Problems), and parsing resumes at the next message.
package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/source"
)

// Defaults for zero Options fields.
const (
	DefaultMaxStreams      = 100000
	DefaultMaxStreamBuffer = 1 << 20
	DefaultBatchSize       = 256
)

// sourceName is Batch.Source and Request.Source for capture files.
const sourceName = "pcap"

// ErrNotCapture is wrapped by the error ReadFile returns for a file that is
// neither pcap nor pcapng.
var ErrNotCapture = source.InputError("not a pcap or pcapng capture")

// Options configures a capture source.
type Options struct {
	Ports           []uint16        // server ports whose TCP connections are HTTP ([capture] ports)
	AnyPort         bool            // any connection whose client opens with an HTTP request line
	Keys            *keys.Extractor // not shared: the source uses it from one goroutine
	Pacer           *source.Pacer   // nil = unpaced
	MaxStreams      int             // cap on open TCP connections tracked (0 = default 100000)
	MaxStreamBuffer int             // cap on buffered bytes per connection direction (0 = default 1 MiB), in order or out of order
	BatchSize       int             // requests per batch (0 = default 256)
	// Workers is how many goroutines reassemble and parse, each the
	// connections of a shard of the flows (0 = one per core, GOMAXPROCS).
	// With one, or for a replay paced when it starts, a single goroutine
	// does everything; with more, decoding, the shards and the ordering
	// before the emitter run side by side, a few batches of packets ahead
	// of what was emitted (what a stop hands over, should the replay be
	// paused later). The events, their order, counters and Problems do
	// not depend on it, only which connections the MaxStreams cap evicts.
	Workers int
	// Filter is a tcpdump filter expression for live capture with
	// libpcap (-f; the pcap build tag). It replaces the kernel filter
	// built from the ports; requests are still taken from Ports (or any
	// port with AnyPort) only. Without libpcap, Live refuses a non-empty
	// Filter with ErrFilterNeedsPcap.
	Filter string

	batchRecs int // tests: records per batch of the parallel pipeline (0 = batchRecs)
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.MaxStreamBuffer <= 0 {
		o.MaxStreamBuffer = DefaultMaxStreamBuffer
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	return o
}

// progressEvery is how many packets pass between checks of the context and
// of the time since the last batch.
const progressEvery = 1024

// ReadFile replays a pcap or pcapng capture ("-" = stdin) and sends batches to out
// until the end of the file, or until ctx is done: then it stops reading and
// reports the requests of every packet it read (the source rule). It does not
// close out. A file that is not a capture returns an error wrapping
// ErrNotCapture whose text is one clear sentence naming the file.
//
// Batches carry Source "pcap", State StateReplaying and then a last one with
// StateDone, and Done/Total as bytes read and file size (Total 0 for stdin).
// A file that ends in the middle of a record is read up to the cut and
// reported in the "truncated_file" counter, not as an error.
func ReadFile(ctx context.Context, path string, opts Options, out chan<- detect.Batch) error {
	name := displayName(path)
	// A FIFO waits in open(2) for a writer, a pipe from a quiet tcpdump
	// waits in read(2): source.Open lets a stop end both waits.
	f, err := source.Open(ctx, path)
	if errors.Is(err, source.ErrStopped) {
		return stoppedBeforeStart(ctx, opts, out)
	}
	if err != nil {
		// The path comes from the user but may hold anything: name it
		// sanitised, keep the cause for errors.Is (fs.ErrNotExist).
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot open capture %s: %w", name, err)
	}
	defer f.Close()
	var total int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && path != "-" {
		total = st.Size()
	}
	return readCapture(ctx, f, name, total, opts, out)
}

// readCapture is ReadFile on an open reader; name is how messages call it.
func readCapture(ctx context.Context, r io.Reader, name string, total int64, opts Options, out chan<- detect.Batch) error {
	opts = opts.withDefaults()
	cr := &countingReader{r: r, file: total > 0}
	src, err := openCapture(cr, name, total)
	if cr.stopped {
		return stoppedBeforeStart(ctx, opts, out) // stopped before the header was whole
	}
	if cr.err != nil {
		return fmt.Errorf("reading %s: %w", name, cr.err)
	}
	if err != nil {
		return err // not a capture: the source never started
	}
	e := source.New(ctx, out, source.Options{Name: sourceName, Pacer: opts.Pacer, BatchSize: opts.BatchSize, Keys: opts.Keys})
	e.SetState(detect.StateReplaying)
	e.SetProgress(0, total)
	e.Flush() // the engine learns the file's size at once
	if src == nil {
		e.Counter(counterNames[cTruncatedFile]).Inc()
		e.Problem(name, "the file ends inside its header")
		return e.Close(nil)
	}
	err = run(src, newDriver(ctx, &opts, sourceName, e, total), cr)
	e.SetProgress(cr.n, total)
	return e.Close(err)
}

// stoppedBeforeStart reports a source stopped before it read a capture
// header (a FIFO nobody opened, a pipe still silent): one last batch says
// it stopped, so the summary names it and the run ends cleanly.
func stoppedBeforeStart(ctx context.Context, opts Options, out chan<- detect.Batch) error {
	e := source.New(ctx, out, source.Options{Name: sourceName, BatchSize: opts.BatchSize, Keys: opts.Keys})
	return e.Close(nil)
}

// run reads every packet of src into d, until the end of the file or the
// source is told to stop (from a pipe, once what it has already read, its
// read buffer, is done); then it flushes every connection, so requests
// already read are not lost.
func run(src packetReader, d driver, cr *countingReader) error {
	var rerr error
	for n := 1; ; n++ {
		var data []byte
		var ci gopacket.CaptureInfo
		var link layers.LinkType
		if data, ci, link, rerr = src.next(); rerr != nil {
			break
		}
		d.packet(data, ci, link)
		if d.stopped() {
			if cr.file {
				break // stopping: what was read is still reported; the rest is still in the file
			}
			cr.halt() // from a pipe: what is in the read buffer exists nowhere else
		}
		if n%progressEvery == 0 {
			d.progress(cr.n)
			d.flushDue(progressInterval)
		}
	}
	var err error
	d.finish(func(rep *reporter) {
		if rerr != nil {
			err = endOfFile(rerr, rep, cr)
		}
	})
	return err
}

// endOfFile classifies the error that ended reading: nil for the end of the
// file, a cut record or a damaged one (counted); an error for I/O failure.
func endOfFile(err error, rep *reporter, cr *countingReader) error {
	switch {
	case cr.stopped:
		return nil // told to stop while waiting for input: a clean end
	case cr.err != nil:
		return fmt.Errorf("reading the capture: %w", cr.err)
	case err == io.EOF:
		return nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		rep.inc(cTruncatedFile)
		rep.problemAfter("the file ends in the middle of a record; read up to the cut")
	default:
		rep.inc(cCorruptFile)
		rep.problemAfter("damaged record, reading stopped: " + err.Error())
	}
	return nil
}

// progressInterval is how often, in wall time, a long replay reports its
// progress even when no batch filled up.
const progressInterval = 250 * time.Millisecond
