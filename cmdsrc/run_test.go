package cmdsrc

import (
	"context"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
)

// Lines over maxLine are reported as too long without their bytes, and
// the lines around them arrive whole, however the reads are cut.
func TestReadLines(t *testing.T) {
	long := strings.Repeat("x", maxLine+10)
	for _, tc := range []struct {
		name, in string
		want     []string // "TOO_LONG" for a skipped line
	}{
		{"plain", "a\nb\n", []string{"a", "b"}},
		{"last_without_newline", "a\nb", []string{"a", "b"}},
		{"empty_lines", "\n\na\n", []string{"", "", "a"}},
		{"hostile_too_long", "a\n" + long + "\nb\n", []string{"a", "TOO_LONG", "b"}},
		{"hostile_too_long_at_end", "a\n" + long, []string{"a", "TOO_LONG"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.HalfReader(strings.NewReader(tc.in))} {
				out := make(chan outLine, 100)
				readLines(r, false, out)
				close(out)
				var got []string
				for l := range out {
					if l.tooLong {
						got = append(got, "TOO_LONG")
					} else {
						got = append(got, string(l.b[:min(len(l.b), 20)]))
					}
				}
				if strings.Join(got, "|") != strings.Join(tc.want, "|") {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
			}
		})
	}
}

// shellKind runs a shell command and feeds its stdout lines to one stream.
type shellKind struct {
	script  string
	streams *logsrc.Streams
}

func (k *shellKind) argv(bool) []string { return []string{"sh", "-c", k.script} }
func (k *shellKind) attempt()           {}
func (k *shellKind) line(b []byte, fromErr bool) lineKind {
	if fromErr {
		return diagnostic
	}
	k.streams.Stream("sh").Line(b, time.Time{})
	return fresh
}

// A command that leaves a child holding its output does not hold the
// source: once the command exited, its output is read for stopWait, then
// what it left is ended.
func TestCommandLeavesChildBehind(t *testing.T) {
	start := time.Now()
	batches := testkit.Batches(t, func(ctx context.Context, out chan<- detect.Batch) error {
		s, err := logsrc.NewStreams(ctx, out, logsrc.StreamsOptions{})
		if err != nil {
			return err
		}
		k := &shellKind{script: `sleep 30 & echo '127.0.0.1 - - [26/Nov/2026:23:58:29 +0100] "GET / HTTP/1.1" 200 2 "-" "curl"'`, streams: s}
		return run(ctx, "sh", k, s, Options{})
	})
	n := 0
	for _, b := range batches {
		n += len(b.Requests)
	}
	if n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if d := time.Since(start); d > stopWait+5*time.Second {
		t.Errorf("took %v", d)
	}
}

// A command's last words go into the note with key material hidden: tail
// or an engine may quote a line it read.
func TestExitNoteHidesKeys(t *testing.T) {
	const secret = "sk_live_0123456789abcdef"
	r := &runner{keys: keys.NewExtractor(keys.DefaultConfig())}
	r.keepDiag([]byte("tail: GET /v1/items?api_key=" + secret + " HTTP/1.1: no such file"))
	if n := r.exitNote(); strings.Contains(n, secret[:12]) || !strings.Contains(n, "no such file") {
		t.Errorf("note %q", n)
	}
}

// A diagnostic line longer than the note shows is scrubbed whole and cut
// after: cut first, a key straddling the cut would lose the part that
// makes it recognisable and show the rest.
func TestExitNoteScrubsBeforeCutting(t *testing.T) {
	const secret = "k-alice-3f9a1cZq7W"
	for _, line := range []string{
		// The note used to keep the last 512 bytes: the cut fell 4
		// characters into the key, after "api_key=".
		"tail: GET /v1/items?api_key=" + secret + " " + strings.Repeat("y", stderrKeep-len(secret)+3),
		// The key past the end of what is shown.
		"tail: " + strings.Repeat("y", stderrKeep-10) + " Bearer " + secret + " failed",
	} {
		r := &runner{keys: keys.NewExtractor(keys.DefaultConfig())}
		r.keepDiag([]byte(line))
		r.keepDiag([]byte("  ")) // a blank line after it says nothing
		n := r.exitNote()
		for i := 0; i+8 <= len(secret); i++ {
			if strings.Contains(n, secret[i:i+8]) {
				t.Fatalf("note holds %q of the key: %q", secret[i:i+8], n)
			}
		}
		if len(n) > stderrKeep+40 || !strings.Contains(n, "tail: ") {
			t.Errorf("note is %d bytes, or lost the line's start: %q", len(n), n)
		}
	}
}
