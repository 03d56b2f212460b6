package keys

import (
	"strings"
	"testing"
)

// Keys leaked through paths that RedactQuery and the engine's Problem
// redaction did not cover (found by e2e/secrets_test.go on testdata/hostile).
func TestRedactQueryHostile(t *testing.T) {
	x := NewExtractor(DefaultConfig())
	const k = "sk_live_DOkSWPJ42J2A0VepElDtJpJP"
	tests := []struct{ name, in, want string }{
		{"fragment_access_token", "https://evil.test/cb#access_token=" + k + "&token_type=bearer", "https://evil.test/cb#access_token=REDACTED&token_type=bearer"},
		{"fragment_first_param", "/cb#token=" + k, "/cb#token=REDACTED"},
		{"percent_encoded_name", "/v1/items?api%5Fkey=" + k, "/v1/items?api%5Fkey=REDACTED"},
		{"percent_encoded_lower", "/v1/items?api%5fkey=" + k + "&x=1", "/v1/items?api%5fkey=REDACTED&x=1"},
		{"all_encoded", "/?%61%70%69%5f%6b%65%79=" + k, "/?%61%70%69%5f%6b%65%79=REDACTED"},
		{"upper_case", "/?API_KEY=" + k, "/?API_KEY=REDACTED"},
		{"semicolon", "/?a=1;token=" + k, "/?a=1;token=REDACTED"},
		{"bad_escape_kept", "/?api%zzkey=" + k, "/?api%zzkey=" + k},
		{"other_param_kept", "/?keys=" + k, "/?keys=" + k},
		{"prefix_name_kept", "/?api_keys=" + k, "/?api_keys=" + k},
		{"fragment_section_kept", "/doc#section=intro", "/doc#section=intro"},
		{"truncated_escape", "/?api%5", "/?api%5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := x.Redact(tc.in); got != tc.want {
				t.Errorf("RedactQuery(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactSecrets(t *testing.T) {
	x := NewExtractor(DefaultConfig())
	tests := []struct{ name, in, want string }{
		{"bearer_column", `auth="Bearer sk_live_K2zzSxxnF1eKUpTXYgwMzqHx" xkey="-"`, `auth="Bearer REDACTED" xkey="-"`},
		{"short_bearer", `Authorization: bearer abc123`, `Authorization: bearer REDACTED`},
		{"bearer_tab", "Authorization: Bearer\tk-alice-3f9a", "Authorization: Bearer\tREDACTED"},
		// A TAB as nginx logs it (\x09) and as other loggers escape it.
		{"bearer_nginx_tab", `auth="Bearer\x09k-alice-3f9a" xkey="-"`, `auth="Bearer\x09REDACTED" xkey="-"`},
		{"bearer_escaped_tab", `auth="Bearer\tk-alice-3f9a"`, `auth="Bearer\tREDACTED"`},
		{"token_escaped_space", `auth="Token\x20abcdefghij"`, `auth="Token\x20REDACTED"`},
		{"basic", `auth="Basic c2tfbGl2ZV9NV0tZ:cw=="`, `auth="Basic REDACTED"`},
		{"token_scheme", `Token sk_live_qcAsblDvliin8NvY40XDNXvz`, `Token REDACTED`},
		{"xkey_column", `xkey="sk_live_ECcNQf2suOoOOsgAwpIYiIP9" cookie="-"`, `xkey="REDACTED" cookie="-"`},
		{"cookie_pairs", `cookie="session=sk_live_D0UaJdiZqlOOYGmHkeF7Cqur; api_key=sk_live_db5w2HYItbI9C9wXsPYeZW2q"`, `cookie="REDACTED; api_key=REDACTED"`},
		{"cut_cookie", `cookie="sid=sk_live_kzkdfPBScRTaQES2kQU8KhDe`, `cookie="REDACTED`},
		{"jwt", `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U`, `REDACTED.REDACTED.REDACTED`},
		{"query", `"GET /v1/items?api_key=abc&page=2 HTTP/1.1"`, `"GET /v1/items?api_key=REDACTED&page=2 HTTP/1.1"`},
		{"readable_line_kept", `127.0.0.1 - - [2026-11-26T23:16:22+00:00] "GET /v1/items/12345/orders HTTP/1.1" 200 12 "-" "curl/7.88.1" host="eu.api.rebind.test" rt=0.000`, ""},
		{"fingerprint_kept", `key 3f2a9c1b7d4e made more than 100 requests`, ""},
		{"long_word_kept", strings.Repeat("B", 10000), ""},
		{"message_kept", `line ends before the text after $http_cookie: request-target SP HTTP/1.x (RFC 9112 section 3)`, ""},
		{"sanitised_escapes_kept", `host="evil\x1b[31mRED\x1b[0m.test" \u202e`, ""},
		{"scheme_word_alone", `a token is missing`, ""},
		{"dash_after_scheme", `auth="Bearer -"`, ""},
		{"dated_file_name_kept", `/var/log/nginx/access-2026-11-26.log: line 3`, ""},
		{"underscored_key", `k="sk_live_ECcNQf2suOoOOsgAwpIYiIP9"`, `k="REDACTED"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == "" {
				want = tc.in
			}
			got := x.RedactText(tc.in)
			if got != want {
				t.Errorf("RedactSecrets(%q)\n got %q\nwant %q", tc.in, got, want)
			}
			if again := x.RedactText(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

// FuzzRedactSecrets plants a key-shaped secret in arbitrary text, after
// a key parameter, an Authorization scheme or as a bare column, and checks
// no 8-character piece of its secret part survives.
func FuzzRedactSecrets(f *testing.F) {
	f.Add(`127.0.0.1 - - [2026-11-26T23:16:22+00:00] "GET /v1/items HTTP/1.1" 200 12 "-" "curl/7.88.1" xkey="`, `" rt=0.000`, uint8(0), "K2zzSxxnF1eKUpTXYgwMzqHx")
	f.Add(`auth="`, `"`, uint8(1), "qcAsblDvliin8NvY40XDNXvz")
	f.Add(`"GET /x?a=1&`, ` HTTP/1.1"`, uint8(2), "CwBZWJOBrUgazX5M4W4Nc8OH")
	f.Add(`cookie="sid=`, ``, uint8(0), "kzkdfPBScRTaQES2kQU8KhDe")
	x := NewExtractor(DefaultConfig())
	f.Fuzz(func(t *testing.T, before, after string, how uint8, secret string) {
		// The secret: base62 with a digit and a letter, at least 16 long.
		if len(secret) < 16 || len(secret) > 64 || !secretShaped(secret) {
			t.Skip()
		}
		for i := 0; i < len(secret); i++ {
			c := secret[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				t.Skip()
			}
		}
		// Whatever is next to the secret must end it as a token would be
		// ended in a log line (quote, space, separator).
		if before != "" && isTokenByte(before[len(before)-1]) || after != "" && isTokenByte(after[0]) {
			t.Skip()
		}
		var planted string
		switch how % 3 {
		case 0:
			planted = "sk_live_" + secret
		case 1:
			planted = "Bearer sk_live_" + secret
		case 2:
			planted = "token=sk_live_" + secret
		}
		out := x.RedactText(before + planted + after)
		for i := 0; i+8 <= len(secret); i++ {
			if piece := secret[i : i+8]; strings.Contains(out, piece) && !strings.Contains(before+after, piece) {
				t.Fatalf("piece %q of the secret survives: %q", piece, out)
			}
		}
	})
}

func TestRedactQuery(t *testing.T) {
	x := NewExtractor(DefaultConfig())
	tests := []struct{ in, want string }{
		{"/v1/items", "/v1/items"},
		{"/v1/items?api_key=sk_live_abc", "/v1/items?api_key=REDACTED"},
		{"/v1/items?x=1&API_KEY=sk_live_abc&y=2", "/v1/items?x=1&API_KEY=REDACTED&y=2"},
		{"/v1/items?monkey=abc&key=k1#frag", "/v1/items?monkey=abc&key=REDACTED#frag"},
		{"/v1/items?token=", "/v1/items?token="},
		{"https://app/x?access_token=t1&token=t2", "https://app/x?access_token=REDACTED&token=REDACTED"},
		{`"GET /a?apikey=zzz HTTP/1.1" 200`, `"GET /a?apikey=REDACTED HTTP/1.1" 200`},
	}
	for _, tc := range tests {
		if got := x.Redact(tc.in); got != tc.want {
			t.Errorf("RedactQuery(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = x.Redact("/v1/items?x=1&y=2") }); n != 0 {
		t.Errorf("nothing to redact costs %v allocations", n)
	}
}

// TestRedactTargets: targets as capture sees them on the wire.
func TestRedactTargets(t *testing.T) {
	x := NewExtractor(DefaultConfig())
	tests := []struct{ in, want string }{
		{"/a?api_key=k1&x=1#frag", "/a?api_key=REDACTED&x=1#frag"},
		{"/a?x=1&token=t2", "/a?x=1&token=REDACTED"},
		{"/a?token=t&api_key=k", "/a?token=REDACTED&api_key=REDACTED"},
		{"/a?api_key=a%2Bb", "/a?api_key=REDACTED"},
		{"/a?x=1", ""},
		{"/a?api_key=", ""},
		{"/a?api_key", ""},
		{"/a#?api_key=k", "/a#?api_key=REDACTED"}, // not a query, but a key all the same
		{"/a?API_KEY=k", "/a?API_KEY=REDACTED"},   // hiding too much is the safe mistake
		{"http://evil.test/steal?key=s3&x", "http://evil.test/steal?key=REDACTED&x"},
		{"/nokeys", ""},
		{"/a?api_key=" + Redacted, ""},
	}
	for _, tt := range tests {
		got, ok := x.AppendRedacted(nil, []byte(tt.in))
		if (tt.want == "") == ok || ok && string(got) != tt.want {
			t.Errorf("%q: got %q %v, want %q", tt.in, got, ok, tt.want)
		}
	}
}
