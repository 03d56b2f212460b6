package source

import (
	"fmt"
	"testing"
)

// BenchmarkInterner: a value repeated (the one User-Agent of a bench
// client, a browser's), and 7,000 targets in turn with a User-Agent between
// them (wrk's requests in bench/all.sh).
func BenchmarkInterner(b *testing.B) {
	ua := []byte("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
	b.Run("repeated", func(b *testing.B) {
		in := NewInterner(8192, 512)
		b.ReportAllocs()
		for b.Loop() {
			in.String(ua)
		}
	})
	b.Run("targets_and_ua", func(b *testing.B) {
		in := NewInterner(8192, 512)
		vals := make([][]byte, 0, 14000)
		for i := range 7000 {
			vals = append(vals, []byte(fmt.Sprintf("/v1/items/%d?page=%d&api_key=REDACTED", i%1000, i%7)), []byte("wrk/4 bench"))
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			in.String(vals[i%len(vals)])
		}
	})
}
