package capture

import (
	"context"
	"os"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// TestDump prints what ReadFile makes of $CAPTURE_DUMP: a debugging aid,
// skipped unless the variable is set.
func TestDump(t *testing.T) {
	path := os.Getenv("CAPTURE_DUMP")
	if path == "" {
		t.Skip("set CAPTURE_DUMP=file.pcap to print what ReadFile makes of it")
	}
	// Any port, so any capture of HTTP shows something.
	opts := Options{AnyPort: true, Keys: keys.NewExtractor(keys.DefaultConfig())}
	out := make(chan detect.Batch, 16)
	errc := make(chan error, 1)
	go func() { errc <- ReadFile(context.Background(), path, opts, out); close(out) }()
	for b := range out {
		for _, r := range b.Requests {
			t.Logf("%s %s > %s %s %q %q %s host=%v origin=%q key=%s status=%d dup=%v ua=%q",
				r.Time.Format("15:04:05.000000"), r.Client, r.Server, r.Method, r.Host, r.Target, r.Proto, r.HasHost, r.Origin, r.Key, r.Status, r.DupHost, r.UserAgent)
		}
		t.Logf("batch: %d reqs state=%v done=%d/%d parse=%d counters=%v problems=%v", len(b.Requests), b.State, b.Done, b.Total, b.ParseErrors, b.Counters, b.Problems)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
