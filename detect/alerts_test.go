package detect

import (
	"testing"
	"unsafe"
)

// TestAlertEvidenceIsDetached: an alert keeps its evidence's targets in
// memory of their own, not in the block a log parser copied them into
// (source.Arena), which would otherwise stay alive with every alert kept.
func TestAlertEvidenceIsDetached(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	block := "/v1/items/1/v1/items/2/v1/items/3" // one block, three targets
	r1, r2, r3 := rq(0, "evil.test", "k1"), rq(1, "evil.test", "k1"), rq(2, "evil.test", "k1")
	r1.Target, r2.Target, r3.Target = block[:11], block[11:22], block[22:]
	feed(t, e, r1, r2, r3) // a new alert, then two occurrences inside its de-duplication window
	if len(e.alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(e.alerts))
	}
	a := e.alerts[0]
	inBlock := func(s string) bool {
		p, b := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(block)))
		return p >= b && p < b+uintptr(len(block))
	}
	if a.Target != block[:11] || inBlock(a.Target) {
		t.Errorf("alert target %q shares the block: %v", a.Target, inBlock(a.Target))
	}
	if len(a.Evidence) < 2 {
		t.Fatalf("%d evidence requests, want at least 2", len(a.Evidence))
	}
	for i, r := range a.Evidence {
		if inBlock(r.Target) {
			t.Errorf("evidence %d (%q) shares the block", i, r.Target)
		}
	}
}
