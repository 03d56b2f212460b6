package source

import (
	"fmt"
	"strings"
	"testing"
)

// TestArenaStringsStay: every string the arena made still holds its bytes
// after the buffer it came from is overwritten and after many blocks, and
// values past arenaMax, empty ones and ones that fill a block exactly come
// back whole.
func TestArenaStringsStay(t *testing.T) {
	var a Arena
	buf := make([]byte, 0, 4096)
	var want, got []string
	for i := range 5000 {
		v := fmt.Sprintf("/v1/items/%d?page=%d", i, i%7)
		switch {
		case i%97 == 0:
			v = strings.Repeat("x", arenaMax+1+i%5) // its own string
		case i%89 == 0:
			v = ""
		case i%83 == 0:
			v = strings.Repeat("y", arenaMax) // the most a block takes
		}
		buf = append(buf[:0], v...)
		s := a.String(buf)
		for j := range buf {
			buf[j] = '!' // the caller's buffer is reused for the next value
		}
		want, got = append(want, v), append(got, s)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("string %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// TestArenaAllocatesPerBlock: short values cost an allocation per block,
// not per value.
func TestArenaAllocatesPerBlock(t *testing.T) {
	var a Arena
	v := []byte("/v1/items/123?page=4&api_key=REDACTED") // 37 bytes
	allocs := testing.AllocsPerRun(10000, func() { a.String(v) })
	if allocs > 0.05 {
		t.Errorf("%.3f allocations per value, want about %d per block of %d", allocs, 1, arenaBlock)
	}
}
