package keys

import "testing"

// TestParamNames: one rule decides which query parameters carry keys, for
// fingerprinting and for redaction alike.
func TestParamNames(t *testing.T) {
	x := NewExtractor(DefaultConfig())
	tests := []struct {
		name string
		raw  string
		want bool
	}{
		{"plain", "api_key", true},
		{"upper", "API_KEY", true},
		{"percent_underscore", "api%5Fkey", true},
		{"all_encoded", "%61%70%69%5f%6b%65%79", true},
		{"php_array", "key[]", true},
		{"indexed_array", "api_key[0]", true},
		{"encoded_brackets", "api_key%5B%5D", true},
		{"nul_suffix", "api_key%00", true},
		{"space_before_eq", "api_key ", true},
		{"plus_padding", "+token+", true},
		{"tab_padding", "token%09", true},
		{"other", "keys", false},
		{"prefix", "api_keys", false},
		{"suffix_word", "monkey", false},
		{"bracket_only", "[]", false},
		{"bad_escape", "api%zzkey", false},
		{"truncated_escape", "api%5", false},
		{"too_long", "api_key" + string(make([]byte, 100)), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := x.IsQueryParam([]byte(tc.raw)); got != tc.want {
				t.Errorf("IsQueryParam(%q) = %v, want %v", tc.raw, got, tc.want)
			}
			target := "/v1/items?" + tc.raw + "=k-alice-3f9a1c"
			redacted := x.Redact(target)
			if (redacted != target) != tc.want {
				t.Errorf("Redact(%q) = %q, want redacted=%v", target, redacted, tc.want)
			}
			_, ok := x.FromTarget([]byte(target))
			if ok != tc.want {
				t.Errorf("FromTarget(%q) found=%v, want %v", target, ok, tc.want)
			}
		})
	}
}

func TestFromTargetPriority(t *testing.T) {
	x := NewExtractor(DefaultConfig())
	// api_key is configured before token: it wins wherever it stands.
	got, ok := x.FromTarget([]byte("/x?token=t1&api_key=a1"))
	if !ok || got != Fingerprint("", "a1") {
		t.Errorf("got %s %v, want the api_key's fingerprint", got, ok)
	}
}

func TestAppendRedacted(t *testing.T) {
	x := NewExtractor(DefaultConfig())
	buf := make([]byte, 0, 256)
	out, ok := x.AppendRedacted(buf, []byte("/v1/items?x=1&api_key=sk_live_abc&y=2"))
	if !ok || string(out) != "/v1/items?x=1&api_key=REDACTED&y=2" {
		t.Errorf("got %q %v", out, ok)
	}
	in := []byte("/v1/items?x=1&y=2")
	if n := testing.AllocsPerRun(100, func() { buf, _ = x.AppendRedacted(buf[:0], in) }); n != 0 {
		t.Errorf("AppendRedacted costs %v allocations with nothing to redact", n)
	}
	key := []byte("/v1/items?api_key=sk_live_abc")
	if n := testing.AllocsPerRun(100, func() { buf, _ = x.AppendRedacted(buf[:0], key) }); n != 0 {
		t.Errorf("AppendRedacted costs %v allocations into a large enough buffer", n)
	}
}
