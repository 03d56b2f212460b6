package jsonl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/schema"
)

// hangLimit bounds how long a call that must not block may take before the
// test calls it blocked; it is an upper bound under load, not a timing.
const hangLimit = 20 * time.Second

func queuedRequest(i int) *detect.Request {
	return &detect.Request{
		Time: t0.Add(time.Duration(i) * time.Millisecond), Source: "pcap",
		Client: netip.MustParseAddrPort("10.0.0.7:51234"), Server: netip.MustParseAddrPort("10.0.0.1:80"),
		Method: "GET", Host: "api.example", HasHost: true, Target: fmt.Sprintf("/v1/%d", i), Proto: "HTTP/1.1",
	}
}

// gate is an io.Writer that blocks every write until it is opened.
type gate struct {
	open chan struct{}
	mu   sync.Mutex
	got  strings.Builder
}

func (g *gate) Write(b []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.got.Write(b)
}

// A reader that stops reading costs lines, counted, never the writer's
// caller its time; once the reader is back, what was kept arrives whole
// and in order, and kept plus dropped is every line.
func TestQueuedWriterNeverWaitsForAStuckReader(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	w := NewQueued(g, Emit{Request: true, Summary: true}, schema.NewEncoder(schema.FormatJSON, schema.EncoderOptions{}), 64<<10)
	const n = 20000
	wrote := make(chan error, 1)
	go func() {
		for i := range n {
			if err := w.Request(queuedRequest(i)); err != nil {
				wrote <- err
				return
			}
			if i%100 == 99 {
				if err := w.BatchEnd(); err != nil {
					wrote <- err
					return
				}
			}
		}
		wrote <- w.BatchEnd()
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(hangLimit):
		t.Fatal("the writer waited for a reader that does not read")
	}
	dropped := counted(w)
	if dropped == 0 {
		t.Fatal("20,000 lines into a 64 KiB queue nobody reads: none counted as dropped")
	}
	close(g.open)
	if err := w.Close(hangLimit); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(g.got.String()))
	kept, last := 0, -1
	for sc.Scan() {
		var i int
		if _, err := fmt.Sscanf(lineTarget(t, sc.Text()), "/v1/%d", &i); err != nil {
			t.Fatalf("line %d is not whole: %q", kept+1, sc.Text())
		}
		if i <= last {
			t.Fatalf("line for request %d after request %d", i, last)
		}
		last = i
		kept++
	}
	if got := uint64(kept) + counted(w); got != n {
		t.Errorf("kept %d + dropped %d = %d lines, want %d", kept, counted(w), got, n)
	}
}

// Under a reader that keeps up, the queue loses nothing and keeps order.
func TestQueuedWriterKeepsEveryLineForAReader(t *testing.T) {
	pr, pw := io.Pipe()
	var got []string
	read := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			got = append(got, sc.Text())
		}
		close(read)
	}()
	w := NewQueued(pw, Emit{Request: true}, schema.NewEncoder(schema.FormatJSON, schema.EncoderOptions{}), 4<<20)
	const n = 2000
	for i := range n {
		if err := w.Request(queuedRequest(i)); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			w.BatchEnd()
			// A reader that keeps up: the queue is empty again before
			// the next batch.
			for !w.queue.idle() {
				time.Sleep(time.Millisecond)
			}
		}
	}
	if err := w.Close(hangLimit); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	<-read
	if len(got) != n || counted(w) != 0 {
		t.Fatalf("%d lines arrived, %d dropped; want %d and 0", len(got), counted(w), n)
	}
	for i, l := range got {
		if want := fmt.Sprintf("/v1/%d", i); lineTarget(t, l) != want {
			t.Fatalf("line %d has target %s, want %s", i, lineTarget(t, l), want)
		}
	}
}

// A reader that went away (a closed pipe) ends the writer's calls with the
// error, as the synchronous writer does, so the run ends.
func TestQueuedWriterReportsAClosedOutput(t *testing.T) {
	pr, pw := io.Pipe()
	pr.CloseWithError(io.ErrClosedPipe)
	w := NewQueued(pw, Emit{Request: true}, schema.NewEncoder(schema.FormatJSON, schema.EncoderOptions{}), 1<<20)
	deadline := time.Now().Add(hangLimit)
	for i := 0; ; i++ {
		err := w.Request(queuedRequest(i))
		if err == nil {
			err = w.BatchEnd()
		}
		if errors.Is(err, io.ErrClosedPipe) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the closed output was never reported")
		}
		time.Sleep(time.Millisecond)
	}
}

// Close waits for a stuck reader at most as long as it is told, and counts
// what it could not write.
func TestQueuedWriterCloseGivesUpOnAStuckReader(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	defer close(g.open)
	w := NewQueued(g, Emit{Request: true}, schema.NewEncoder(schema.FormatJSON, schema.EncoderOptions{}), 1<<20)
	for i := range 10 {
		w.Request(queuedRequest(i))
	}
	w.BatchEnd()
	if err := w.Close(50 * time.Millisecond); !errors.Is(err, errStuck) {
		t.Fatalf("Close = %v, want %v", err, errStuck)
	}
	if counted(w) != 10 {
		t.Errorf("%d lines counted as dropped, want the 10 never written", counted(w))
	}
}

func counted(w *Writer) uint64 {
	var n uint64
	w.Counts(func(name string, v uint64) {
		if name == "output_dropped" {
			n += v
		}
	})
	return n
}

func lineTarget(t *testing.T, line string) string {
	t.Helper()
	_, rest, ok := strings.Cut(line, `"target":"`)
	if !ok {
		return ""
	}
	target, _, _ := strings.Cut(rest, `"`)
	return target
}
