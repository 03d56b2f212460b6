package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"testing"

	"github.com/rebindwatch/rebindwatch/app"
)

// The whole program minus its flags, for CPU profiles of what the binary
// does with a big capture or log (bench/all.sh PROFILE=1 runs these):
//
//	CAPTURE_BENCH_FILE=/tmp/rebindwatch-bench/bulk.pcap BENCH_CONFIG=/tmp/rebindwatch-bench/bench.toml \
//	  go test ./bench -run '^$' -bench AppCapture -benchtime 1x -cpuprofile /tmp/cpu.prof
//	LOG_BENCH_FILE=/tmp/rebindwatch-bench/bulk.log go test ./bench -run '^$' -bench AppLog -benchtime 1x -cpuprofile /tmp/cpu.prof

// BenchmarkAppCapture runs app.Run as "rebindwatch --no-tui --speed 0
// --emit summary [-c $BENCH_CONFIG] -r $CAPTURE_BENCH_FILE".
func BenchmarkAppCapture(b *testing.B) {
	path := os.Getenv("CAPTURE_BENCH_FILE")
	if path == "" {
		b.Skip("set CAPTURE_BENCH_FILE to a capture (bench/all.sh records one)")
	}
	benchApp(b, app.Options{Read: path, Speed: 0, SpeedSet: true})
}

// BenchmarkAppLog runs app.Run as "rebindwatch --no-tui --no-follow
// --emit summary [-c $BENCH_CONFIG] [--log-format $BENCH_LOG_FORMAT]
// $LOG_BENCH_FILE".
func BenchmarkAppLog(b *testing.B) {
	path := os.Getenv("LOG_BENCH_FILE")
	if path == "" {
		b.Skip("set LOG_BENCH_FILE to an access log (bench/all.sh records one)")
	}
	benchApp(b, app.Options{Logs: []string{path}, NoFollow: true, LogFormat: os.Getenv("BENCH_LOG_FORMAT")})
}

func benchApp(b *testing.B, o app.Options) {
	o.NoTUI, o.Emit, o.Config = true, "summary", os.Getenv("BENCH_CONFIG")
	var reqs uint64
	cpu0 := cpu()
	for b.Loop() {
		var out bytes.Buffer
		if err := app.Run(context.Background(), o, &out, io.Discard); err != nil {
			b.Fatal(err)
		}
		var sum struct{ Requests uint64 }
		if err := json.Unmarshal(lastLine(out.Bytes()), &sum); err != nil || sum.Requests == 0 {
			b.Fatalf("no summary with requests: %v: %q", err, out.String())
		}
		reqs += sum.Requests
	}
	b.ReportMetric(float64(reqs)/b.Elapsed().Seconds(), "requests/s")
	if d := cpu() - cpu0; d > 0 {
		b.ReportMetric(float64(reqs)/d.Seconds(), "requests/cpu-s")
	}
}

func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, "\n")
	return b[bytes.LastIndexByte(b, '\n')+1:]
}
