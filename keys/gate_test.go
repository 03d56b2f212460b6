package keys

import (
	"fmt"
	"testing"

	"github.com/rebindwatch/rebindwatch/internal/cachegate"
)

// TestFingerprintGate: a period of new keys only closes the cache for
// cachegate.Skip fingerprints, all still exact; then the cache is used again, and keys
// that repeat are found in it. A stream where one key in 32 repeats keeps
// it open.
func TestFingerprintGate(t *testing.T) {
	k := NewExtractor(DefaultConfig())
	fp := func(key string) {
		t.Helper()
		if got, _ := k.FromValue([]byte(key)); got != Fingerprint("", key) {
			t.Fatalf("%s -> %s, want %s", key, got, Fingerprint("", key))
		}
	}
	for i := range cachegate.Period {
		fp(fmt.Sprintf("flood-%d", i))
	}
	if !k.gate.Closed() {
		t.Fatal("open after a period of new keys")
	}
	for i := range cachegate.Skip {
		fp(fmt.Sprintf("k-%d", i%4)) // repeating, but not looked up while closed
	}
	if k.gate.Closed() {
		t.Fatal("still closed after the skip")
	}
	for i := range cachegate.Period {
		fp(fmt.Sprintf("k-%d", i%4)) // the cache fills again and hits
	}
	if k.gate.Closed() {
		t.Error("closed again by a period of four repeating keys")
	}

	k = NewExtractor(DefaultConfig())
	for i := range 4 * cachegate.Period {
		key := fmt.Sprintf("new-%d", i)
		if i%32 == 0 {
			key = "steady"
		}
		fp(key)
		if k.gate.Closed() {
			t.Fatalf("closed after %d fingerprints with one key in 32 repeating", i+1)
		}
	}
}
