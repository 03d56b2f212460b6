package source

import (
	"fmt"
	"testing"
)

// TestInternerTable: values that differ in one byte, or collide in the
// table, are told apart; values seen again are shared without allocating
// while the table grows; a full table starts over and its size stays bounded.
func TestInternerTable(t *testing.T) {
	const max = 200
	in := NewInterner(max, 128)
	vals := []string{"a", "b", "ab", "ba", "12345678", "12345679",
		"Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36", "Mozilla/5.0 (X11; Linux x86_64) Chrome/121.0.0.0 Safari/537.36"}
	for i := range 150 {
		vals = append(vals, fmt.Sprintf("/v1/items/%d", i))
	}
	for range 3 {
		for _, v := range vals {
			if s := in.String([]byte(v)); s != v {
				t.Fatalf("String(%q) = %q", v, s)
			}
		}
	}
	if in.n != len(vals) {
		t.Errorf("%d entries for %d values", in.n, len(vals))
	}
	for _, v := range vals {
		b := []byte(v)
		if testing.AllocsPerRun(3, func() { in.String(b) }) != 0 {
			t.Errorf("%q seen again allocates", v)
		}
	}
	for i := range 10 * max {
		in.String(fmt.Appendf(nil, "/other/%d", i))
		if in.n > max || len(in.slots) > 2*512 {
			t.Fatalf("%d entries in %d slots, max %d", in.n, len(in.slots), max)
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
