package sanitize

import (
	"strings"
	"testing"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "api.example.com", "api.example.com"},
		{"csi_colour", "evil\x1b[31mred", `evil\x1b[31mred`},
		{"osc52_clipboard", "\x1b]52;c;ZXZpbA==\x07", `\x1b]52;c;ZXZpbA==\x07`},
		{"osc8_link", "\x1b]8;;http://x\x1b\\a\x1b]8;;\x1b\\", `\x1b]8;;http://x\x1b\a\x1b]8;;\x1b\`},
		{"c1_csi_utf8", "a\u009b31mb", `a\u009b31mb`},
		{"c1_raw_byte", "a\x9b31m", `a\x9b31m`},
		{"cr_lf_tab", "a\rb\nc\td", `a\rb\nc\td`},
		{"backspace", "admin\b\b\b\b\bevil", `admin\x08\x08\x08\x08\x08evil`},
		{"del", "a\x7fb", `a\x7fb`},
		{"bidi_override", "api.\u202emoc.live", `api.\u202emoc.live`},
		{"zero_width_joiner", "ap\u200di.example.com", `ap\u200di.example.com`},
		{"bom", "\ufeffhost", `\ufeffhost`},
		{"invalid_utf8", "a\xff\xfeb", `a\xff\xfeb`},
		{"wide_ok", "例え.jp", "例え.jp"},
		{"combining_ok", "e\u0301", "e\u0301"},
		{"line_separator", "a\u2028b", `a\u2028b`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := String(tc.in)
			if got != tc.want {
				t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for _, r := range got {
				if r < 0x20 || r == 0x7f || Invisible(r) {
					t.Errorf("output %q still has %U", got, r)
				}
			}
			if strings.ContainsRune(got, 0x1b) {
				t.Errorf("output has ESC")
			}
		})
	}
}

func TestSanitizePlainDoesNotAllocate(t *testing.T) {
	s := "GET /v1/items?x=1 HTTP/1.1"
	if n := testing.AllocsPerRun(100, func() { _ = String(s) }); n != 0 {
		t.Errorf("plain ASCII costs %v allocations", n)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"a\x1b[31m", "\u202e", "\xff", "例"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := String(s)
		for _, r := range got {
			if r < 0x20 || r == 0x7f || Invisible(r) {
				t.Fatalf("String(%q) = %q keeps %U", s, got, r)
			}
		}
		if String(got) != got {
			t.Fatalf("not idempotent on %q", s)
		}
	})
}
