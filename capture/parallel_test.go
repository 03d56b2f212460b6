package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// emitted is everything a replay handed the engine, batches joined.
type emitted struct {
	reqs        []detect.Request
	dns         []detect.DNSAnswer
	tls         []detect.TLSHello
	problems    []detect.Problem
	counters    map[string]uint64
	parseErrors uint64
	state       detect.SourceState
	err         string
}

// replay reads data as a capture with opts and returns what it emitted.
func replay(t testing.TB, data []byte, opts Options) emitted {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := make(chan detect.Batch, 16)
	got := make(chan emitted)
	go func() {
		e := emitted{counters: map[string]uint64{}}
		for b := range out {
			e.reqs = append(e.reqs, b.Requests...)
			e.dns = append(e.dns, b.DNS...)
			e.tls = append(e.tls, b.TLS...)
			e.problems = append(e.problems, b.Problems...)
			for k, v := range b.Counters {
				e.counters[k] += v
			}
			e.parseErrors += b.ParseErrors
			e.state = b.State
		}
		got <- e
	}()
	err := readCapture(ctx, bytes.NewReader(data), "test", int64(len(data)), opts, out)
	close(out)
	e := <-got
	if err != nil {
		e.err = err.Error()
	}
	if ctx.Err() != nil {
		t.Fatalf("replay did not finish: %v", err)
	}
	return e
}

// differ says how b differs from a ("" when it does not).
func (a *emitted) differ(b *emitted) string {
	for i := range max(len(a.reqs), len(b.reqs)) {
		if i >= len(a.reqs) || i >= len(b.reqs) || !reflect.DeepEqual(a.reqs[i], b.reqs[i]) {
			return fmt.Sprintf("request %d of %d/%d:\n  %+v\n  %+v", i, len(a.reqs), len(b.reqs), at(a.reqs, i), at(b.reqs, i))
		}
	}
	switch {
	case !reflect.DeepEqual(a.dns, b.dns):
		return fmt.Sprintf("DNS answers:\n  %+v\n  %+v", a.dns, b.dns)
	case !reflect.DeepEqual(a.tls, b.tls):
		return fmt.Sprintf("ClientHellos:\n  %+v\n  %+v", a.tls, b.tls)
	case !reflect.DeepEqual(a.problems, b.problems):
		return fmt.Sprintf("problems:\n  %q\n  %q", a.problems, b.problems)
	case !reflect.DeepEqual(a.counters, b.counters):
		return fmt.Sprintf("counters:\n  %v\n  %v", a.counters, b.counters)
	case a.parseErrors != b.parseErrors || a.state != b.state || a.err != b.err:
		return fmt.Sprintf("parse errors %d/%d, state %v/%v, error %q/%q", a.parseErrors, b.parseErrors, a.state, b.state, a.err, b.err)
	}
	return ""
}

func at[T any](s []T, i int) any {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

// everyCapture lists every capture the repository records: the shared
// recordings, the hard cases and tunnels, the trust, wire, hostile and
// rebinding recordings, and the dashboard's demo.
func everyCapture(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{recDir, hardDir, "../testdata/trust", "../testdata/wire", "../testdata/hostile", "../testdata/rebind"} {
		for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz", "*.pcapng.gz"} {
			m, _ := filepath.Glob(filepath.Join(dir, pat))
			files = append(files, m...)
		}
	}
	files = append(files, "../app/demo/demo.pcapng")
	if len(files) < 40 {
		t.Fatalf("only %d captures found", len(files))
	}
	return files
}

// Parsing on several workers gives exactly what one gives, on every
// recorded capture: the same requests in the same order (every field,
// statuses included, so responses were paired and the reorder holds
// released alike), the same DNS answers and ClientHellos, the same
// Problems in the same order, and the same counts. Batches of a few
// records make every batch boundary fall somewhere new.
func TestParallelIsSequential(t *testing.T) {
	kx := keys.NewExtractor(keys.DefaultConfig())
	configs := []struct {
		name string
		opts Options
	}{
		{"ports", Options{Ports: append(slices.Clone(recPorts), 18680, 8443, 9000), Keys: kx}},
		{"any_port", Options{AnyPort: true, Keys: kx}},
	}
	runs := []struct{ workers, recs int }{{2, 0}, {3, 1}, {5, 7}}
	files := everyCapture(t)
	var reqs int
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		for _, cfg := range configs {
			t.Run(name+"/"+cfg.name, func(t *testing.T) {
				opts := cfg.opts
				opts.Workers = 1
				one := replay(t, data, opts)
				reqs += len(one.reqs)
				for _, r := range runs {
					opts.Workers, opts.batchRecs = r.workers, r.recs
					many := replay(t, data, opts)
					if d := one.differ(&many); d != "" {
						t.Fatalf("%d workers (batches of %d records) differ from one: %s", r.workers, r.recs, d)
					}
				}
			})
		}
	}
	t.Logf("%d captures, %d requests compared", len(files), reqs)
	if reqs < 4000 {
		t.Errorf("only %d requests: the recordings are missing", reqs)
	}
}

// The same holds for what the recordings do not have: DNS answers over
// UDP and TCP, malformed ones beyond the sample kept (a cut TCP message
// counting towards it), ClientHellos over several segments, a gap skipped
// by a flush, a connection closed idle, requests on many interleaved
// connections, and a capture cut mid-record.
func TestParallelIsSequentialSynthetic(t *testing.T) {
	t0 := synthEpoch
	var frames []timedFrame
	for i := range 40 {
		c := newConvo(fmt.Sprintf("10.0.%d.%d:%d", i%3, i+1, 40000+i), "10.0.0.1:80", t0.Add(time.Duration(i)*7*time.Millisecond)).handshake()
		for j := range 5 {
			c.req(fmt.Sprintf("GET /c%d/r%d?api_key=k%d HTTP/1.1\r\nHost: h%d\r\nOrigin: https://o%d.test\r\n\r\n", i, j, i%4, j%2, i%5))
			c.t = c.t.Add(time.Duration(i%4) * time.Millisecond)
			c.resp(resp200)
		}
		if i%3 != 0 {
			c.close()
		}
		frames = append(frames, tcpFrames(t, c)...)
	}
	// A request whose head comes in two segments far apart: parsed after
	// later requests went, it goes after them (a drain between packets).
	slow := newConvo("10.8.0.1:6000", "10.0.0.1:80", t0).handshake().req("GET /slow HTTP/1.1\r\nHo")
	slow.t = t0.Add(900 * time.Millisecond)
	frames = append(frames, tcpFrames(t, slow.req("st: a\r\n\r\n").resp(resp200))...)
	// A response after responseWait: its request went without a status
	// at the drain of a packet in between.
	lateResp := newConvo("10.8.0.2:6001", "10.0.0.1:80", t0.Add(20*time.Millisecond)).handshake().req("GET /waits HTTP/1.1\r\nHost: a\r\n\r\n")
	lateResp.t = t0.Add(6 * time.Second)
	frames = append(frames, tcpFrames(t, lateResp.resp(resp200))...)
	between := newConvo("10.8.0.3:6002", "10.0.0.1:80", t0.Add(5500*time.Millisecond)).handshake().req("GET /between HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200)
	frames = append(frames, tcpFrames(t, between)...)
	// Connections on several shards whose gap a flush skips (gapTimeout
	// later), all of them at the same packet time: the requests after the
	// gaps tie in time and each has a bad header line (a Problem), so the
	// order in which the shards' flushes are replayed shows. Then they are
	// closed idle; more of them are still waiting at the end.
	gaps := func(net string, start, then time.Time) {
		for i := range 5 {
			c := newConvo(fmt.Sprintf("%s.%d:%d", net, i+1, 7000+i), "10.0.0.1:80", start.Add(time.Duration(i)*time.Millisecond)).handshake().
				req("GET /a HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200).
				req("GET /lost HTTP/1.1\r\nHost: a\r\n\r\n").
				req(fmt.Sprintf("GET /g%d HTTP/1.1\r\nHost: a\r\nno colon\r\n\r\n", i))
			lost := findPkt(t, c.pkts, "GET /lost")
			c.pkts = slices.Delete(c.pkts, lost, lost+1)
			c.pkts[len(c.pkts)-1].ts = then
			frames = append(frames, tcpFrames(t, c)...)
		}
	}
	gaps("10.9.1", t0.Add(30*time.Millisecond), t0.Add(time.Second))
	late := newConvo("10.9.0.2:5001", "10.0.0.1:80", t0.Add(3*time.Minute)).handshake().
		req("GET /late HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200)
	frames = append(frames, tcpFrames(t, late)...)
	gaps("10.9.2", t0.Add(3*time.Minute+10*time.Millisecond), t0.Add(3*time.Minute+time.Second))
	// DNS over UDP, good and malformed (more than the sample), and over
	// TCP with a message cut by the close.
	srv := netip.MustParseAddrPort("10.0.0.53:53")
	for i := range 6 {
		cli := netip.MustParseAddrPort(fmt.Sprintf("10.0.1.%d:4000%d", i+1, i))
		at := t0.Add(time.Duration(100+i*50) * time.Millisecond)
		frames = append(frames, timedFrame{at, udpFrame(t, srv, cli, newDNSMsg(respFlags, 1, 1).question(fmt.Sprintf("n%d.test", i), 1).a("10.1.1.1", 30).b)},
			timedFrame{at.Add(time.Millisecond), udpFrame(t, srv, cli, []byte{byte(i), 2, 3})})
	}
	m := newDNSMsg(respFlags, 1, 1).question("tcp.test", 1).a("127.0.0.1", 1).b
	dnsTCP := newConvo("10.0.1.9:40100", "10.0.0.53:53", t0.Add(50*time.Millisecond)).handshake().
		resp(string(binary.BigEndian.AppendUint16(nil, uint16(len(m)))) + string(m) + "\x00\x30abc").close()
	frames = append(frames, tcpFrames(t, dnsTCP)...)
	// ClientHellos in several segments, on several connections.
	curl := recordedHellos(t)["127.0.0.66"]
	for i := range 4 {
		c := newConvo(fmt.Sprintf("10.0.2.%d:5100%d", i+1, i), "10.0.0.1:443", t0.Add(time.Duration(i*30)*time.Millisecond)).handshake().req(string(curl), 200+i*50)
		frames = append(frames, tcpFrames(t, c)...)
	}
	slices.SortStableFunc(frames, func(a, b timedFrame) int { return a.ts.Compare(b.ts) })
	data := writeFrames(t, frames)
	for _, cut := range []int{len(data), len(data) - 7} {
		opts := Options{Ports: []uint16{80}, Keys: keys.NewExtractor(keys.DefaultConfig())}
		opts.Workers = 1
		one := replay(t, data[:cut], opts)
		if len(one.reqs) < 200 || len(one.dns) < 6 || len(one.tls) < 4 || one.counters["gaps"] < 9 || one.counters["dns_malformed"] <= maxSampled ||
			len(one.problems) < 12 || !slices.ContainsFunc(one.reqs, func(r detect.Request) bool { return r.Target == "/waits" && r.Status == 0 }) {
			t.Fatalf("the synthetic capture lacks what it is for: %d requests, %d DNS, %d TLS, counters %v, problems %q", len(one.reqs), len(one.dns), len(one.tls), one.counters, one.problems)
		}
		for _, r := range []struct{ workers, recs int }{{2, 0}, {3, 1}, {4, 5}, {7, 3}} {
			opts.Workers, opts.batchRecs = r.workers, r.recs
			many := replay(t, data[:cut], opts)
			if d := one.differ(&many); d != "" {
				t.Fatalf("cut %d: %d workers (batches of %d) differ from one: %s", cut, r.workers, r.recs, d)
			}
		}
	}
}

// FuzzParallelIsSequential: on any capture, several workers in batches of
// a few records give exactly what one gives (the caps that the workers
// split are far from reached by an input this small).
func FuzzParallelIsSequential(f *testing.F) {
	for _, p := range everyCapture(f) {
		if strings.HasSuffix(p, ".gz") {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b[:min(len(b), maxFuzzSeed)], uint8(1), uint8(2))
		}
	}
	opts := Options{Ports: recPorts, Keys: keys.NewExtractor(keys.DefaultConfig())}
	f.Fuzz(func(t *testing.T, data []byte, workers, recs uint8) {
		o := opts
		o.Workers = 1
		one := replay(t, data, o)
		o.Workers, o.batchRecs = 2+int(workers%4), 1+int(recs%16)
		many := replay(t, data, o)
		if d := one.differ(&many); d != "" {
			t.Fatalf("%d workers (batches of %d records) differ from one: %s", o.Workers, o.batchRecs, d)
		}
	})
}
