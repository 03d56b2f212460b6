package capture

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/rebindwatch/rebindwatch/internal/cachegate"
)

// TestStrCache checks that a kept string equals its bytes and owns them,
// that a value seen again is shared while it is one of the two latest of
// its set, and that a flood of distinct values grows the table to its
// bound and no further, and does not evict a value that keeps being used.
func TestStrCache(t *testing.T) {
	c := newStrCache()
	b := []byte("api.example.com")
	s := c.String(b)
	b[0] = 'X'
	if s != "api.example.com" {
		t.Fatalf("kept string changed with its bytes: %q", s)
	}
	if again := c.String([]byte("api.example.com")); unsafe.StringData(again) != unsafe.StringData(s) {
		t.Error("a value seen just before is not shared")
	}
	if c.String(nil) != "" || c.String([]byte{}) != "" {
		t.Error("empty bytes do not give the empty string")
	}
	long := []byte(strings.Repeat("a", maxIntern+1))
	if l := c.String(long); l != string(long) || unsafe.StringData(l) == unsafe.StringData(c.String(long)) {
		t.Error("a value longer than maxIntern is wrong or kept")
	}
	hot := c.String([]byte("hot.example.com"))
	for i := range 100000 {
		v := fmt.Sprintf("h%d.flood.test", i)
		if got := c.String([]byte(v)); got != v {
			t.Fatalf("String(%q) = %q", v, got)
		}
		if got := c.String([]byte("hot.example.com")); unsafe.StringData(got) != unsafe.StringData(hot) {
			t.Fatalf("after %d distinct values the value used between them is not shared", i+1)
		}
	}
	if len(c.strs) != cacheSets {
		t.Errorf("after a flood the table has %d sets, want %d", len(c.strs), cacheSets)
	}
	fresh := newStrCache()
	if fresh.strs != nil {
		t.Error("a new table is made before its first use")
	}
	fresh.String([]byte("x"))
	if len(fresh.strs) != cacheSetsMin || len(fresh.hashes) != cacheSetsMin {
		t.Errorf("a table after its first use has %d/%d sets, want %d", len(fresh.strs), len(fresh.hashes), cacheSetsMin)
	}
}

// TestStrCacheGate: a field whose values are all new (a flood's Hosts)
// goes past the table for a while, though another field's values hit it
// meanwhile (the values still come back right); once its gate opens again,
// a value that repeats is shared again.
func TestStrCacheGate(t *testing.T) {
	c := newStrCache()
	var hosts cachegate.Gate
	ua := c.String([]byte("curl/8.5.0"))
	for i := range cachegate.Period {
		c.gated(&hosts, []byte(fmt.Sprintf("h%d.flood.test", i)))
		if got := c.String([]byte("curl/8.5.0")); unsafe.StringData(got) != unsafe.StringData(ua) {
			t.Fatal("a value of another field that repeats is not shared")
		}
	}
	if !hosts.Closed() {
		t.Fatal("a period of new Hosts left their gate open")
	}
	for i := range cachegate.Skip {
		if v := fmt.Sprintf("s%d.flood.test", i%3); c.gated(&hosts, []byte(v)) != v {
			t.Fatalf("gate closed: gated(%q) wrong", v)
		}
	}
	if hosts.Closed() {
		t.Fatal("the gate stayed closed past the skip")
	}
	first := c.gated(&hosts, []byte("api.example.com"))
	if again := c.gated(&hosts, []byte("api.example.com")); unsafe.StringData(again) != unsafe.StringData(first) {
		t.Error("gate open again, a repeated Host is not shared")
	}
}
