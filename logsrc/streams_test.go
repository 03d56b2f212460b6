package logsrc

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
)

// Streams: each stream decides its own format; a stream no format reads
// lives on, noted and counted; names over the cap share the overflow
// stream; Close hands everything over.
func TestStreams(t *testing.T) {
	const (
		nginxLine = `127.0.0.1 - - [26/Nov/2026:23:58:29 +0100] "GET /v1/items?page=1 HTTP/1.1" 200 3 "-" "python-requests/2.31.0" host="api.example.test" origin="-" key="pha-0001"`
		werkLine  = `127.0.0.1 - - [26/Nov/2026 23:58:29] "GET /v1/items HTTP/1.1" 200 -`
		sshdLine  = `Accepted publickey for root from 127.0.0.1 port 4242 ssh2: ED25519 SHA256:abc`
	)
	at := time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)
	batches := testkit.Batches(t, func(ctx context.Context, out chan<- detect.Batch) error {
		s, err := NewStreams(ctx, out, StreamsOptions{Max: 3, Overflow: "syslog:other", Feeder: FeederOptions{Location: time.UTC}})
		if err != nil {
			return err
		}
		for range 3 {
			s.Stream("syslog:web-1/nginx").Line([]byte(nginxLine+"\n"), at)
			s.Stream("syslog:web-2/flask").Line([]byte(werkLine), at)
			s.Stream("syslog:web-1/sshd").Line([]byte(sshdLine), at)
			s.Stream("syslog:web-9/nginx").Line([]byte(nginxLine), at) // over the cap: overflow
		}
		s.SetStatus(detect.StateLive, "listening")
		return s.Close(nil)
	})
	reqs := map[string]int{}
	notes := map[string]string{}
	counters := map[string]uint64{}
	for _, b := range batches {
		for _, r := range b.Requests {
			if r.Source != b.Source {
				t.Errorf("request of %s in a batch of %s", r.Source, b.Source)
			}
			reqs[r.Source]++
		}
		if b.Note != "" {
			notes[b.Source] = b.Note
		}
		for k, v := range b.Counters {
			counters[b.Source+" "+k] += v
		}
	}
	want := map[string]int{"syslog:web-1/nginx": 3, "syslog:web-2/flask": 3, "syslog:other": 3}
	for k, v := range want {
		if reqs[k] != v {
			t.Errorf("%s: %d requests, want %d (all: %v)", k, reqs[k], v, reqs)
		}
	}
	if reqs["syslog:web-1/sshd"] != 0 || counters["syslog:web-1/sshd lines_unread"] != 3 {
		t.Errorf("sshd stream: %d requests, %d lines_unread; want 0 and 3", reqs["syslog:web-1/sshd"], counters["syslog:web-1/sshd lines_unread"])
	}
	if n := counters["syslog:other streams_over_cap"]; n != 3 {
		t.Errorf("streams_over_cap = %d, want 3", n)
	}
	if !strings.Contains(notes["syslog:web-2/flask"], "format: werkzeug (auto)") || !strings.HasPrefix(notes["syslog:web-2/flask"], "listening; ") {
		t.Errorf("flask note %q", notes["syslog:web-2/flask"])
	}
	if !strings.Contains(notes["syslog:web-1/sshd"], "not read: ") {
		t.Errorf("sshd note %q", notes["syslog:web-1/sshd"])
	}
}

// A Feeder of a format with no clock takes the envelope's time.
func TestFeederEnvelopeTime(t *testing.T) {
	at := time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)
	batches := testkit.Batches(t, func(ctx context.Context, out chan<- detect.Batch) error {
		s, err := NewStreams(ctx, out, StreamsOptions{Feeder: FeederOptions{Format: `nginx:$host "$request" $status`}})
		if err != nil {
			return err
		}
		s.Stream("x").Line([]byte(`api.example.test "GET / HTTP/1.1" 200`), at)
		return s.Close(nil)
	})
	n := 0
	for _, b := range batches {
		for _, r := range b.Requests {
			n++
			if !r.Time.Equal(at) {
				t.Errorf("time %v, want the envelope's %v", r.Time, at)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d requests, want 1: %+v", n, batches)
	}
}

// Commit: every stream's events go out before the batch that carries the
// commit, which is the last batch sent; ordinary batches carry none.
func TestStreamsCommit(t *testing.T) {
	const line = `127.0.0.1 - - [26/Nov/2026:23:58:29 +0100] "GET / HTTP/1.1" 200 3 "-" "curl/7.88.1"`
	committed := 0
	batches := testkit.Batches(t, func(ctx context.Context, out chan<- detect.Batch) error {
		s, err := NewStreams(ctx, out, StreamsOptions{Feeder: FeederOptions{Format: "combined"}})
		if err != nil {
			return err
		}
		s.Stream("a").Line([]byte(line), time.Time{})
		s.Stream("b").Line([]byte(line), time.Time{})
		s.Commit(func() { committed++ })
		return nil // the test reads the batches Commit sent, not a Close
	})
	var withCommit []int
	reqs := 0
	for i, b := range batches {
		reqs += len(b.Requests)
		if b.Commit != nil {
			withCommit = append(withCommit, i)
			if reqs != 2 {
				t.Errorf("the commit's batch comes after %d of the 2 requests", reqs)
			}
			b.Commit()
		}
	}
	if len(withCommit) != 1 || withCommit[0] != len(batches)-1 || committed != 1 {
		t.Errorf("commit in batches %v of %d, run %d times", withCommit, len(batches), committed)
	}
}
