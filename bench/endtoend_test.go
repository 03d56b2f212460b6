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
	"syscall"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/capture"
	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/jsonl"
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
	opts := capture.Options{Ports: cfg.Ports(), Keys: detect.NewKeyExtractor(cfg.KeyConfig())}
	var reqs uint64
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ReportAllocs()
	for b.Loop() {
		w := jsonl.New(io.Discard, emit)
		e, err := detect.NewEngine(dcfg, w)
		if err != nil {
			b.Fatal(err)
		}
		batches := make(chan detect.Batch, 64)
		errc := make(chan error, 1)
		go func() { errc <- capture.ReadFile(context.Background(), path, opts, batches); close(batches) }()
		if err := e.Run(context.Background(), batches); err != nil {
			b.Fatal(err)
		}
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
		reqs += e.Summary().Requests
	}
	b.ReportMetric(float64(reqs)/b.Elapsed().Seconds(), "requests/s")
	// CPU time (all threads: source, engine, GC) is steadier than wall
	// time on a shared machine.
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(reqs)/cpu.Seconds(), "requests/cpu-s")
}
