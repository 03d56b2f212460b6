package logsrc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
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

func benchParse(b *testing.B, p *Parser, lines [][]byte, keys *keys.Extractor) {
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

// BenchmarkParseFormats: one recorded log per format family, with keys.
func BenchmarkParseFormats(b *testing.B) {
	for _, c := range []struct{ name, file, spec string }{
		{"apache_full", logsDir + "apache_full.log", "apache:" + readFile(b, logsDir+"apache_full.fmt")},
		{"apache_strftime", logsDir + "apache_strftime.log", "apache:" + readFile(b, logsDir+"apache_strftime.fmt")},
		{"gunicorn_custom", logsDir + "gunicorn_custom.log", "gunicorn:" + readFile(b, logsDir+"gunicorn_custom.fmt")},
		{"rebindwatch_snippet", logsDir + "nginx_snippet.log", "rebindwatch"},
		{"werkzeug_color", logsDir + "werkzeug_color.log", "werkzeug"},
		{"caddy", logsDir + "caddy.log", "caddy"},
		{"traefik", logsDir + "traefik.log", "traefik"},
		{"json_generic", "testdata/nginx_json.log", "json"},
	} {
		b.Run(c.name, func(b *testing.B) {
			p, lines := goodLines(b, c.file, c.spec)
			benchParse(b, p, lines, testKeys())
		})
	}
}

// BenchmarkCaddyEncodingJSON is the yardstick for the scanner: the same
// lines unmarshalled by encoding/json into a struct of only the fields
// used (no map), without even the Request built.
func BenchmarkCaddyEncodingJSON(b *testing.B) {
	_, lines := goodLines(b, logsDir+"caddy.log", "caddy")
	type entry struct {
		TS      float64 `json:"ts"`
		Status  int     `json:"status"`
		Request struct {
			RemoteIP string              `json:"remote_ip"`
			Proto    string              `json:"proto"`
			Method   string              `json:"method"`
			Host     string              `json:"host"`
			URI      string              `json:"uri"`
			Headers  map[string][]string `json:"headers"`
		} `json:"request"`
	}
	var n int64
	for _, l := range lines {
		n += int64(len(l))
	}
	b.SetBytes(n / int64(len(lines)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var e entry
		if err := json.Unmarshal(lines[i%len(lines)], &e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseSensors reads the sensor and cloud formats' request lines:
// like the other formats, a line costs no allocation once its values are
// interned (DNS answers allocate the slices the engine keeps).
func BenchmarkParseSensors(b *testing.B) {
	const dir = "../testdata/sensors/"
	for _, c := range []struct{ name, file, spec string }{
		{"zeek_tsv", dir + "zeek/http.log", "zeek"},
		{"zeek_json", dir + "zeek-json/http.log", "zeek"},
		{"suricata", dir + "suricata/doc-eve.json", "suricata"},
		{"alb", dir + "cloud/alb.log", "alb"},
		{"cloudfront", dir + "cloud/cloudfront.log", "cloudfront"},
		{"gcp", dir + "cloud/gcp.json", "gcp"},
		{"cloudflare", dir + "cloud/cloudflare.json", "cloudflare"},
		{"azure", dir + "cloud/azure-frontdoor.json", "azure-frontdoor"},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := mustCompile(b, c.spec)
			var r detect.Request
			var lines [][]byte
			for _, l := range readLines(b, c.file) {
				kind, err := p.parseEvent([]byte(l), testKeys(), &r)
				if err == nil && kind == kindRequest {
					lines = append(lines, []byte(l))
				}
			}
			if len(lines) == 0 {
				b.Fatal("no request line")
			}
			benchParse(b, p, lines, testKeys())
		})
	}
}

// BenchmarkParseCombinedShapes: the combined lines that dominate real logs,
// one shape each, with keys. browser: the recorded line with a Firefox
// User-Agent and a Referer (long values, interned); key_in_query: wrk's
// requests with a key parameter, 7,000 targets as bench/all.sh sends them
// (fewer than the intern table holds, so none allocates).
func BenchmarkParseCombinedShapes(b *testing.B) {
	var browser []byte
	for _, l := range readLines(b, "testdata/nginx_combined.log") {
		if strings.Contains(l, "Mozilla/") && strings.Contains(l, `"https://`) {
			browser = []byte(l)
			break
		}
	}
	if browser == nil {
		b.Fatal("no browser line in the recording")
	}
	b.Run("browser", func(b *testing.B) {
		benchParse(b, mustCompile(b, "nginx-combined"), [][]byte{browser}, testKeys())
	})
	b.Run("key_in_query", func(b *testing.B) {
		keys := []string{"k-alpha-0001", "k-bravo-0002", "k-charlie-0003", "k-delta-0004", "k-echo-0005"}
		lines := make([][]byte, 7000)
		for i := range lines {
			lines[i] = []byte(fmt.Sprintf(`127.0.0.1 - - [03/Dec/2026:12:58:34 +0000] "GET /v1/items/%d?page=%d&api_key=%s HTTP/1.1" 200 11 "-" "wrk/4 bench"`,
				i%1000, i%7, keys[i%len(keys)]))
		}
		benchParse(b, mustCompile(b, "nginx-combined"), lines, testKeys())
	})
}
