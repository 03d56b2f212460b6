package schema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
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

// TestRequestMalformed: a request read leniently says why in "malformed";
// a well-formed one has no such field.
func TestRequestMalformed(t *testing.T) {
	r := detect.Request{Method: "GET", Target: "/x", Proto: "HTTP/0.9", Malformed: "no_version"}
	var m map[string]any
	if err := json.Unmarshal(AppendRequest(nil, &r), &m); err != nil || m["malformed"] != "no_version" || m["proto"] != "HTTP/0.9" {
		t.Errorf("%v %v", m, err)
	}
	r.Malformed = ""
	if got := string(AppendRequest(nil, &r)); strings.Contains(got, "malformed") {
		t.Errorf("well-formed request: %s", got)
	}
}
