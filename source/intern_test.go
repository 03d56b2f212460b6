package source

import (
	"fmt"
	"testing"
)

// TestInternerCache: values that share their length and the words the
// cache hashes, or fall in one slot, are still told apart; a value evicted
// from the cache is still shared through the table.
func TestInternerCache(t *testing.T) {
	in := NewInterner(64, 64)
	vals := []string{"a", "b", "ab", "ba", "12345678", "12345679", "/v1/items/1?page=2", "/v1/items/2?page=2",
		"Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36", "Mozilla/5.0 (X11; Linux x86_64) Chrome/121.0.0.0 Safari/537.36"}
	for i := range 100 {
		vals = append(vals, fmt.Sprintf("/v1/items/%d", i))
	}
	first := map[string]string{}
	for round := range 3 {
		for _, v := range vals {
			s := in.String([]byte(v))
			if s != v {
				t.Fatalf("String(%q) = %q", v, s)
			}
			if round == 0 {
				first[v] = s
			}
		}
	}
	for _, v := range vals[:10] {
		if testing.AllocsPerRun(5, func() { in.String([]byte(v)) }) != 0 {
			t.Errorf("%q seen again allocates", v)
		}
	}
}

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
