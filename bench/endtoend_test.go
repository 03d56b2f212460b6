// Package bench holds the capture-path benchmarks that need a large
// capture: bench/capture.sh records one and compares with tshark, and
// BenchmarkEndToEnd profiles what the rebindwatch binary does with it,
// source and engine together:
//
//	OUT=/tmp/rebindwatch-bench bench/capture.sh
//	CAPTURE_BENCH_FILE=/tmp/rebindwatch-bench/bulk.pcap \
//	  go test ./bench -run X -bench EndToEnd -benchtime 1x -cpuprofile /tmp/cpu.prof
package bench

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/rebindwatch/rebindwatch/capture"
	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
	"github.com/rebindwatch/rebindwatch/jsonl"
	"github.com/rebindwatch/rebindwatch/keys"
)

const benchConfig = `
[hosts]
allowed = ["api.example.com", "*.api.example.com"]
[origins]
allowed = ["https://app.example.com"]
[capture]
ports = [18680, 80, 8080, 8000, 5000]
`

// BenchmarkEndToEnd replays $CAPTURE_BENCH_FILE through the capture source
// into the engine with a JSON lines sink emitting the summary only, as
// "rebindwatch --no-tui --speed 0 --emit summary -r FILE" does.
func BenchmarkEndToEnd(b *testing.B) {
	path := os.Getenv("CAPTURE_BENCH_FILE")
	if path == "" {
		b.Skip("set CAPTURE_BENCH_FILE to a capture (bench/capture.sh makes one)")
	}
	cfg, err := config.Parse("bench.toml", []byte(benchConfig))
	if err != nil {
		b.Fatal(err)
	}
	dcfg, err := cfg.Detect()
	if err != nil {
		b.Fatal(err)
	}
	emit, err := jsonl.ParseEmit("summary")
	if err != nil {
		b.Fatal(err)
	}
	opts := capture.Options{Ports: cfg.Ports(), Keys: keys.NewExtractor(cfg.KeyConfig())}
	var reqs uint64
	cpu0 := cpu()
	b.ReportAllocs()
	for b.Loop() {
		w := jsonl.New(io.Discard, emit)
		e, err := detect.NewEngine(dcfg, w)
		if err != nil {
			b.Fatal(err)
		}
		testkit.Feed(b, e, path, func(ctx context.Context, out chan<- detect.Batch) error {
			return capture.ReadFile(ctx, path, opts, out)
		})
		reqs += e.Summary().Requests
	}
	b.ReportMetric(float64(reqs)/b.Elapsed().Seconds(), "requests/s")
	// CPU time (all threads: source, engine, GC) is steadier than wall
	// time on a shared machine.
	if d := cpu() - cpu0; d > 0 {
		b.ReportMetric(float64(reqs)/d.Seconds(), "requests/cpu-s")
	}
}
