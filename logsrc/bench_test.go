package logsrc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// goodLines returns the lines of a recorded log that parse with spec.
func goodLines(b *testing.B, file, spec string) (*Parser, [][]byte) {
	p := mustCompile(b, spec)
	var lines [][]byte
	var r detect.Request
	for _, l := range readLines(b, file) {
		if p.Parse([]byte(l), nil, &r) == nil {
			lines = append(lines, []byte(l))
		}
	}
	return p, lines
}

func benchParse(b *testing.B, p *Parser, lines [][]byte, keys *detect.KeyExtractor) {
	var r detect.Request
	var n int64
	for _, l := range lines {
		n += int64(len(l))
	}
	b.SetBytes(n / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := p.Parse(lines[i%len(lines)], keys, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseCombined: the recorded combined lines over and over
// (repeated: every kept string is interned, so no allocation), and with a
// new target on every line (unique_targets: the one string kept is new).
func BenchmarkParseCombined(b *testing.B) {
	p, lines := goodLines(b, "testdata/nginx_combined.log", "nginx-combined")
	b.Run("repeated", func(b *testing.B) { benchParse(b, p, lines, testKeys()) })
	b.Run("unique_targets", func(b *testing.B) {
		uniq := make([][]byte, 1<<16) // more than the intern table holds
		for i := range uniq {
			uniq[i] = []byte(fmt.Sprintf(`127.0.0.1 - - [26/Nov/2026:22:13:19 +0000] "GET /v1/items/%d?page=%d HTTP/1.1" 200 13 "-" "python-requests/2.31.0"`, i, i*7))
		}
		p := mustCompile(b, "nginx-combined")
		benchParse(b, p, uniq, testKeys())
	})
}

// BenchmarkParseExtended: the recorded ext log (Host, Origin, key header,
// Authorization, three clocks) with key extraction.
func BenchmarkParseExtended(b *testing.B) {
	p, lines := goodLines(b, "testdata/nginx_real.log", "nginx:"+readFile(b, "testdata/nginx_real.fmt"))
	benchParse(b, p, lines, testKeys())
}

// BenchmarkParseJSON: the recorded escape=json log.
func BenchmarkParseJSON(b *testing.B) {
	p, lines := goodLines(b, "testdata/nginx_json.log", "nginx:"+readFile(b, "testdata/nginx_json.fmt"))
	benchParse(b, p, lines, testKeys())
}

// BenchmarkRunFile: Run over ~100k lines made from the recorded ext log (a
// new page number per line so targets do not all repeat), batches drained.
func BenchmarkRunFile(b *testing.B) {
	spec := "nginx:" + readFile(b, "testdata/nginx_real.fmt")
	src := readLines(b, "testdata/nginx_real.log")
	path := filepath.Join(b.TempDir(), "big.log")
	var sb strings.Builder
	const lines = 100_000
	for i := 0; i < lines; i++ {
		l := src[i%len(src)]
		sb.WriteString(strings.Replace(l, "/v1/items", fmt.Sprintf("/v1/items/%d", i%5000), 2))
		sb.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(sb.Len()))
	b.ReportAllocs()
	var total time.Duration
	for b.Loop() {
		out := make(chan detect.Batch, 16)
		done := make(chan int)
		go func() {
			n := 0
			for bt := range out {
				n += len(bt.Requests) + int(bt.ParseErrors)
			}
			done <- n
		}()
		t0 := time.Now()
		err := Run(context.Background(), path, Options{Format: spec, Keys: testKeys()}, out)
		close(out)
		n := <-done
		total += time.Since(t0)
		if err != nil || n != lines {
			b.Fatalf("err %v, %d lines", err, n)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/total.Seconds(), "lines/s")
}
