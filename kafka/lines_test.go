package kafka

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/logsrc"
)

// Raw lines go through a logsrc.Feeder per producing host, on the
// partition's source: each host's format is detected on its own lines, a
// host no format reads is said and counted, and a commit never passes a
// line that auto-detection still holds (web-b's first line waits for its
// stream to decide while web-a's lines fill batches).
func TestRawStreamsThroughFeeders(t *testing.T) {
	c := newCluster(t, 1, "access-logs")
	brokers := c.ListenAddrs()
	ship, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer ship.Close()
	line := func(off int) string {
		return fmt.Sprintf(`192.0.2.7 - - [%s] "GET /r/%d HTTP/1.1" 200 12 "-" "curl/8.0"`,
			t0.Add(time.Duration(off)*time.Millisecond).Format("02/Jan/2006:15:04:05 -0700"), off)
	}
	const lines, unread = 301, 5 // web-b's one line, then web-a's; then a printer's
	var recs []*kgo.Record
	for off := range lines {
		host := "web-a"
		if off == 0 {
			host = "web-b"
		}
		recs = append(recs, &kgo.Record{Topic: "access-logs", Key: []byte(host), Value: []byte(line(off))})
	}
	for range unread {
		recs = append(recs, &kgo.Record{Topic: "access-logs", Key: []byte("printer"), Value: []byte("PRINTER READY: tray 2 empty")})
	}
	if err := ship.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan detect.Batch)
	co, err := newConsumer(ctx, Options{Brokers: brokers, Topic: "access-logs", Group: "raw",
		Lines: &logsrc.FeederOptions{Location: time.UTC}}, out)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- co.run(ctx); close(out) }()

	seen := map[int]string{} // offset -> the request's Source
	var note string
	var unreadLines uint64
	held := 0 // commits that stopped short of what was seen: a line was held
	for b := range out {
		if b.Source != "kafka:access-logs/0" {
			if b.Commit != nil {
				b.Commit()
			}
			continue
		}
		maxSeen := -1
		for _, r := range b.Requests {
			off, err := strconv.Atoi(strings.TrimPrefix(r.Target, "/r/"))
			if err != nil {
				t.Fatalf("target %q", r.Target)
			}
			seen[off] = r.Source
		}
		for off := range seen {
			maxSeen = max(maxSeen, off)
		}
		if b.Note != "" {
			note = b.Note
		}
		unreadLines += b.Counters["lines_unread"]
		if b.Commit != nil {
			b.Commit()
			co.mu.Lock()
			committable := int64(-1) // the partition left at the stop: nothing more to commit
			if own := co.owned[0]; own != nil {
				committable = own.observed
			}
			co.mu.Unlock()
			for off := range min(int(committable), lines) {
				if _, ok := seen[off]; !ok {
					t.Fatalf("offset %d may be committed (up to %d), yet its request never reached the engine", off, committable)
				}
			}
			if int(committable) <= maxSeen {
				held++
			}
		}
		if len(seen) == lines && unreadLines == unread {
			cancel()
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d commits held back by a line auto-detection held", held)
	if len(seen) != lines || seen[0] != "web-b" || seen[1] != "web-a" {
		t.Errorf("requests %d, sources %q %q", len(seen), seen[0], seen[1])
	}
	if unreadLines != unread || !strings.Contains(note, "web-a: format: combined (auto)") ||
		!strings.Contains(note, "printer: not read") {
		t.Errorf("lines_unread %d, note %q", unreadLines, note)
	}
	if g := c.GroupInfo("raw"); g == nil || g.Commits["access-logs"][0].Offset != lines+unread {
		t.Errorf("committed %+v, want offset %d", g, lines+unread)
	}
}
