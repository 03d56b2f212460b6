package schema

import (
	"encoding/json"
	"testing"
)

func TestSupplementaryInvisibleIsASurrogatePair(t *testing.T) {
	got := string(AppendString(nil, "a\U000E0001b")) // LANGUAGE TAG, a format character
	if got != `"a\udb40\udc01b"` {
		t.Errorf("got %s", got)
	}
	var s string
	if err := json.Unmarshal([]byte(got), &s); err != nil || s != "a\U000E0001b" {
		t.Errorf("round trip: %q %v", s, err)
	}
}
