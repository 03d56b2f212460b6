package capture

// Live capture, for real: a capture on the loopback interface while a
// net/http client talks to a net/http server on 127.0.0.1. These need root
// or CAP_NET_RAW and say loudly when they skip. The privilege tests run a
// copy of this test binary as the user nobody (setpriv), once plain and
// once with file capabilities (setcap), as an operator would.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// loopbackName is the loopback interface's name on this system.
func loopbackName(t testing.TB) string {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 {
			return i.Name
		}
	}
	t.Skip("SKIPPING LIVE CAPTURE TEST: no loopback interface")
	return ""
}

// liveServer is a loopback HTTP server that answers 200, or 401 without a key.
func liveServer(t testing.TB) (port uint16, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "ok "+r.URL.Path)
	})}
	go srv.Serve(ln)
	return uint16(ln.Addr().(*net.TCPAddr).Port), func() { srv.Close() }
}

// liveSession is a running Live capture and what it sent.
type liveSession struct {
	cancel  context.CancelFunc
	errc    chan error
	mu      sync.Mutex
	batches []detect.Batch
	got     chan struct{}
}

// startLive starts Live and waits for its first batch: from then on the
// socket is open with its filter. It returns nil and the error when Live
// failed at once.
func startLive(t testing.TB, iface string, opts Options) (*liveSession, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &liveSession{cancel: cancel, errc: make(chan error, 1), got: make(chan struct{}, 1)}
	out := make(chan detect.Batch, 64)
	go func() { s.errc <- Live(ctx, iface, opts, out); close(out) }()
	first := make(chan struct{})
	go func() {
		n := 0
		for b := range out {
			s.mu.Lock()
			s.batches = append(s.batches, b)
			s.mu.Unlock()
			if n++; n == 1 {
				close(first)
			}
			select {
			case s.got <- struct{}{}:
			default:
			}
		}
	}()
	select {
	case <-first:
		return s, nil
	case err := <-s.errc:
		cancel()
		return nil, err
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("Live sent no first batch in 10 s")
	}
	return nil, nil
}

// requests returns every request received so far.
func (s *liveSession) requests() []detect.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rs []detect.Request
	for _, b := range s.batches {
		rs = append(rs, b.Requests...)
	}
	return rs
}

// waitFor waits until n requests arrived or the deadline passed.
func (s *liveSession) waitFor(n int, d time.Duration) []detect.Request {
	deadline := time.After(d)
	for {
		if rs := s.requests(); len(rs) >= n {
			return rs
		}
		select {
		case <-s.got:
		case <-deadline:
			return s.requests()
		}
	}
}

// stop cancels the capture and returns the last batch and Live's error.
func (s *liveSession) stop(t testing.TB) (detect.Batch, error) {
	s.cancel()
	select {
	case err := <-s.errc:
		time.Sleep(50 * time.Millisecond) // let the collector take the last batch
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.batches[len(s.batches)-1], err
	case <-time.After(10 * time.Second):
		t.Fatal("Live did not return within 10 s of cancel")
	}
	return detect.Batch{}, nil
}

// skipUnlessCapturing skips loudly when Live cannot capture here.
func skipUnlessCapturing(t testing.TB, err error) {
	t.Helper()
	switch {
	case errors.Is(err, ErrPrivilege):
		t.Skipf("SKIPPING LIVE CAPTURE TEST: not permitted (%v); run the tests as root", err)
	case err != nil && runtime.GOOS != "linux" && !strings.Contains(err.Error(), "libpcap"):
		t.Skipf("SKIPPING LIVE CAPTURE TEST: %v", err)
	case err != nil:
		t.Fatalf("Live: %v", err)
	}
}

// sendRequests makes keepAlive requests on one connection and fresh ones
// on new connections, to 127.0.0.1:port, with Host live.test.
func sendRequests(t testing.TB, port uint16, keepAlive, fresh int) {
	t.Helper()
	do := func(c *http.Client, path string) {
		req, _ := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(int(port))+path, nil)
		req.Host = "live.test"
		req.Header.Set("X-API-Key", "livekey")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ka := &http.Client{Timeout: 5 * time.Second}
	for i := range keepAlive {
		do(ka, fmt.Sprintf("/ka/%d", i))
	}
	ka.CloseIdleConnections()
	for i := range fresh {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		do(c, fmt.Sprintf("/new/%d", i))
	}
}

func TestLiveLoopback(t *testing.T) {
	lo := loopbackName(t)
	ifaces := []string{lo}
	if runtime.GOOS == "linux" {
		ifaces = append(ifaces, "any")
	}
	for _, iface := range ifaces {
		t.Run(iface, func(t *testing.T) {
			port, stopSrv := liveServer(t)
			defer stopSrv()
			kx := keys.NewExtractor(keys.DefaultConfig())
			s, err := startLive(t, iface, Options{Ports: []uint16{port}, Keys: kx})
			skipUnlessCapturing(t, err)
			const ka, fresh = 20, 5
			sendRequests(t, port, ka, fresh)
			s.waitFor(ka+fresh, 10*time.Second)
			last, err := s.stop(t)
			if err != nil {
				t.Fatalf("Live returned %v after cancel", err)
			}
			if last.State != detect.StateStopped {
				t.Errorf("last batch state %v, want stopped", last.State)
			}
			rs := s.requests() // with what the final flush added
			var got []string
			for _, r := range rs {
				checkRequest(t, r)
				if r.Source != "live" || r.Host != "live.test" || r.Key != keys.Fingerprint("", "livekey") || r.Status != 200 ||
					r.Server.Port() != port || !r.Client.Addr().IsLoopback() {
					t.Errorf("request %+v", r)
				}
				if time.Since(r.Time) > time.Minute || time.Until(r.Time) > time.Second {
					t.Errorf("request time %v is not now", r.Time)
				}
				got = append(got, r.Target)
			}
			slices.Sort(got)
			var want []string
			for i := range ka {
				want = append(want, fmt.Sprintf("/ka/%d", i))
			}
			for i := range fresh {
				want = append(want, fmt.Sprintf("/new/%d", i))
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("captured %d requests %q, want %q", len(got), got, want)
			}
			for _, b := range s.batches {
				if b.Source != "live" || (b.State != detect.StateLive && b.State != detect.StateStopped) {
					t.Errorf("batch source %q state %v", b.Source, b.State)
				}
			}
		})
	}
}

// The kernel filter keeps traffic on other ports out of the ring: a burst
// of requests to an unwatched port must not reach the pipeline.
func TestLiveKernelFilter(t *testing.T) {
	ifaces := []string{loopbackName(t)}
	if runtime.GOOS == "linux" {
		ifaces = append(ifaces, "any")
	}
	for _, iface := range ifaces {
		t.Run(iface, func(t *testing.T) { liveKernelFilter(t, iface) })
	}
}

func liveKernelFilter(t *testing.T, iface string) {
	watched, stopA := liveServer(t)
	defer stopA()
	other, stopB := liveServer(t)
	defer stopB()
	opts := Options{Ports: []uint16{watched}}.withDefaults()
	src, err := openLive(iface, &opts)
	skipUnlessCapturing(t, err)
	defer src.close()
	sendRequests(t, other, 30, 0)
	sendRequests(t, watched, 3, 0)
	d := newDecoder()
	var seen, foreign, dups int
	type segKey struct {
		sp, dp   uint16
		seq, ack uint32
		n        int
		flags    uint8
	}
	segs := map[segKey]bool{}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		data, _, link, err := src.next()
		if errors.Is(err, errIdle) {
			if seen > 0 {
				break
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if d.decode(data, link) != decodedTCP {
			continue
		}
		sp, dp := uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
		if sp != watched && dp != watched && sp != other && dp != other {
			// Other tests' loopback traffic, caught in the ring before
			// the filter went on (the pipeline drops it): not this test's.
			continue
		}
		seen++
		k := segKey{sp, dp, d.tcp.Seq, d.tcp.Ack, len(d.tcp.Payload), d.tcp.Contents[13]}
		if segs[k] {
			dups++ // loopback shows a packet twice, sent and received, unless filtered
		}
		segs[k] = true
		if sp == other || dp == other {
			foreign++
		}
	}
	if seen == 0 || foreign > 0 || dups > 0 {
		t.Fatalf("%d TCP packets, %d of them on unwatched ports, %d seen twice", seen, foreign, dups)
	}
	t.Logf("%d packets on the watched port, none of the unwatched port's", seen)
}

// liveHelperEnv makes this test binary a capture helper (see
// TestLiveHelperProcess).
const liveHelperEnv = "REBINDWATCH_LIVE_HELPER"

// TestLiveHelperProcess is not a test: run with $REBINDWATCH_LIVE_HELPER
// set, it captures on loopback while sending itself three requests and
// prints PRIVILEGE, CAPTURED n or ERROR.
func TestLiveHelperProcess(t *testing.T) {
	iface := os.Getenv(liveHelperEnv)
	if iface == "" {
		t.Skip("helper process for the privilege tests")
	}
	port, stopSrv := liveServer(t)
	defer stopSrv()
	s, err := startLive(t, iface, Options{Ports: []uint16{port}})
	switch {
	case errors.Is(err, ErrPrivilege):
		fmt.Printf("PRIVILEGE %s\n", err)
		return
	case err != nil:
		fmt.Printf("ERROR %v\n", err)
		return
	}
	sendRequests(t, port, 3, 0)
	n := len(s.waitFor(3, 5*time.Second))
	s.stop(t)
	fmt.Printf("CAPTURED %d\n", n)
}

// runAsNobody runs a copy of this test binary as nobody, with capabilities
// when caps is not empty, and returns its output.
func runAsNobody(t *testing.T, iface, caps string) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("SKIPPING: switching to the user nobody needs root")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("SKIPPING: setpriv is not installed (Debian: util-linux)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for d := dir; d != filepath.Dir(os.TempDir()) && d != "/"; d = filepath.Dir(d) {
		if strings.HasPrefix(d, os.TempDir()) && d != os.TempDir() {
			os.Chmod(d, 0o755) // nobody must reach the copy
		}
	}
	bin := filepath.Join(dir, "capture.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if caps != "" {
		setcap, err := exec.LookPath("setcap")
		if err != nil {
			t.Skip("SKIPPING: setcap is not installed (Debian: apt-get install libcap2-bin)")
		}
		if out, err := exec.Command(setcap, caps, bin).CombinedOutput(); err != nil {
			t.Skipf("SKIPPING: setcap %s failed (file system without capability xattrs?): %v %s", caps, err, out)
		}
	}
	cmd := exec.Command(setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
		bin, "-test.run=^TestLiveHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), liveHelperEnv+"="+iface, "HOME=/")
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// Without the capability, Live fails with ErrPrivilege and says what to do.
func TestLiveUnprivileged(t *testing.T) {
	lo := loopbackName(t)
	if os.Getuid() != 0 {
		// Already unprivileged (unless the binary has capabilities).
		_, err := startLive(t, lo, Options{Ports: []uint16{80}})
		if err == nil {
			t.Skip("SKIPPING: this unprivileged user may capture (file capabilities?)")
		}
		if !errors.Is(err, ErrPrivilege) {
			t.Fatalf("err %v, want ErrPrivilege", err)
		}
		return
	}
	out := runAsNobody(t, lo, "")
	if !strings.Contains(out, "PRIVILEGE ") {
		t.Fatalf("as nobody: %s", out)
	}
	msg := out[strings.Index(out, "PRIVILEGE ")+len("PRIVILEGE "):]
	msg, _, _ = strings.Cut(msg, "\n")
	t.Logf("as nobody: %s", msg)
	if !strings.Contains(msg, "setcap cap_net_raw,cap_net_admin+ep /") || !strings.Contains(msg, "root") || strings.Count(msg, ". ") > 0 {
		t.Errorf("message is not one sentence saying what to do: %q", msg)
	}
}

// With the capabilities set on the binary, nobody captures.
func TestLiveSetcap(t *testing.T) {
	lo := loopbackName(t)
	if runtime.GOOS != "linux" {
		t.Skip("file capabilities are Linux")
	}
	out := runAsNobody(t, lo, "cap_net_raw,cap_net_admin+ep")
	if !strings.Contains(out, "CAPTURED 3") {
		t.Fatalf("as nobody with cap_net_raw,cap_net_admin+ep: %s", out)
	}
}

// -f: libpcap compiles the expression; a bad one is ErrBadFilter; a build
// without libpcap refuses any with ErrFilterNeedsPcap.
func TestLiveFilterExpression(t *testing.T) {
	lo := loopbackName(t)
	port, stopSrv := liveServer(t)
	defer stopSrv()
	if !pcapBackend {
		_, err := startLive(t, lo, Options{Ports: []uint16{port}, Filter: "tcp port 80"})
		if !errors.Is(err, ErrFilterNeedsPcap) {
			t.Fatalf("err %v, want ErrFilterNeedsPcap", err)
		}
		return
	}
	_, err := startLive(t, lo, Options{Ports: []uint16{port}, Filter: "tcp port nonsense ((("})
	if errors.Is(err, ErrPrivilege) {
		skipUnlessCapturing(t, err)
	}
	if !errors.Is(err, ErrBadFilter) {
		t.Fatalf("bad filter: err %v, want ErrBadFilter", err)
	}
	s, err := startLive(t, lo, Options{Ports: []uint16{port}, Filter: fmt.Sprintf("tcp port %d and host 127.0.0.1", port)})
	skipUnlessCapturing(t, err)
	sendRequests(t, port, 3, 0)
	rs := s.waitFor(3, 5*time.Second)
	if _, err := s.stop(t); err != nil || len(rs) != 3 {
		t.Fatalf("err %v, %d requests", err, len(rs))
	}
}

// fakeLive replays frames as a live source, then idles; drops counts up.
type fakeLive struct {
	mu     sync.Mutex
	frames [][]byte
	cis    []gopacket.CaptureInfo
	i      int
	drop   uint64
	closed bool
}

func (f *fakeLive) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.i < len(f.frames) {
		f.i++
		f.drop += 3
		return f.frames[f.i-1], f.cis[f.i-1], layers.LinkTypeEthernet, nil
	}
	f.mu.Unlock()
	time.Sleep(5 * time.Millisecond)
	f.mu.Lock()
	return nil, gopacket.CaptureInfo{}, 0, errIdle
}

func (f *fakeLive) drops() (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.drop, nil
}

func (f *fakeLive) close() { f.closed = true }

// The live loop: requests flow while the source idles, kernel drops become
// Batch.Dropped and "kernel_drops", cancel ends with a StateDone batch and
// requests on connections still open.
func TestRunLive(t *testing.T) {
	now := time.Now().Add(-time.Second)
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", now).handshake().
		req("GET /answered HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200).
		req("GET /open HTTP/1.1\r\nHost: a\r\n\r\n")
	f := &fakeLive{}
	for _, p := range c.pkts {
		data := frame(t, p, linkSpec{link: layers.LinkTypeEthernet})
		f.frames = append(f.frames, data)
		f.cis = append(f.cis, gopacketCI(p.ts, len(data)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan detect.Batch, 64)
	errc := make(chan error, 1)
	go func() { errc <- runLive(ctx, f, Options{Ports: []uint16{80}}.withDefaults(), out); close(out) }()
	var reqs []string
	var dropped, kd uint64
	var last detect.Batch
	deadline := time.After(10 * time.Second)
	for b := range out {
		if b.State != detect.StateLive && b.State != detect.StateStopped || b.Source != "live" {
			t.Errorf("batch state %v source %q", b.State, b.Source)
		}
		for _, r := range b.Requests {
			reqs = append(reqs, fmt.Sprintf("%s %d", r.Target, r.Status))
		}
		dropped += b.Dropped
		kd += b.Counters["kernel_drops"]
		last = b
		if len(reqs) == 1 {
			// The answered request came out while the source idled (after
			// reorderHold of wall time moved packet time on): stop now.
			cancel()
		}
		select {
		case <-deadline:
			t.Fatal("no end")
		default:
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("runLive: %v", err)
	}
	if want := []string{"/answered 200", "/open 0"}; !slices.Equal(reqs, want) {
		t.Errorf("requests %q, want %q", reqs, want)
	}
	if last.State != detect.StateStopped {
		t.Errorf("last state %v", last.State)
	}
	if want := uint64(3 * len(f.frames)); dropped != want || kd != want {
		t.Errorf("dropped %d, kernel_drops %d, want %d", dropped, kd, want)
	}
}

// The kernel's drop count is real: a burst into a ring nobody reads
// overflows it, and drops reports the loss.
func TestLiveKernelDrops(t *testing.T) {
	lo := loopbackName(t)
	opts := Options{Ports: []uint16{9}}.withDefaults()
	src, err := openLive(lo, &opts)
	skipUnlessCapturing(t, err)
	defer src.close()
	// UDP to port 53 passes the filter; nothing listens, nothing reads.
	conn, err := net.Dial("udp", "127.0.0.1:53")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 60000)
	for range 2000 { // ~120 MB, far beyond the ring
		conn.Write(buf)
	}
	var d uint64
	for deadline := time.Now().Add(2 * time.Second); d == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		if d, err = src.drops(); err != nil {
			t.Fatal(err)
		}
	}
	if d == 0 {
		t.Fatal("no drops reported after overflowing the ring")
	}
	t.Logf("%d packets dropped by the kernel", d)
}

// An interface that does not exist is named, with those that do.
func TestLiveNoInterface(t *testing.T) {
	_, err := startLive(t, "rw-no-such0", Options{Ports: []uint16{80}})
	if runtime.GOOS != "linux" && !pcapBackend {
		t.Skip("no live capture backend on this system")
	}
	if !errors.Is(err, ErrNoInterface) || !strings.Contains(err.Error(), "rw-no-such0") || !strings.Contains(err.Error(), "any") {
		t.Fatalf("err %v", err)
	}
	t.Log(err)
}
