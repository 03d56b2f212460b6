package keys

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"testing"
)

func TestFingerprint(t *testing.T) {
	// sha256("sk_test_example") and HMAC-SHA256("salt", "sk_test_example"), first 12 hex digits.
	if got := Fingerprint("", "sk_test_example"); got != "d3b9b59ae0ca" {
		t.Errorf("unsalted = %s", got)
	}
	salted := Fingerprint("salt", "sk_test_example")
	if salted == "d3b9b59ae0ca" || len(salted) != FingerprintLen {
		t.Errorf("salted = %s", salted)
	}
	k := NewExtractor(Config{Headers: []string{"X-API-Key"}, Salt: "salt"})
	if got, _ := k.FromHeader([]byte("x-api-key"), []byte("sk_test_example")); got != salted {
		t.Errorf("extractor with salt = %s, want %s", got, salted)
	}
}

func TestKeyFromHeader(t *testing.T) {
	k := NewExtractor(DefaultConfig())
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:secret"))
	tests := []struct {
		name, header, value string
		want                string // key material, "" = none
	}{
		{"x_api_key", "X-API-Key", "sk_live_abc", "sk_live_abc"},
		{"x_api_key_lower_spaces", "x-api-key", "  sk_live_abc ", "sk_live_abc"},
		{"bearer", "Authorization", "Bearer tok123", "tok123"},
		{"bearer_case", "authorization", "bEaReR tok123", "tok123"},
		{"token", "Authorization", "Token tok456", "tok456"},
		{"apikey", "Authorization", "ApiKey k789", "k789"},
		{"basic_user", "Authorization", basic, "alice"},
		{"basic_garbage", "Authorization", "Basic !!!notbase64", ""},
		{"digest_ignored", "Authorization", `Digest username="a"`, ""},
		{"scheme_only", "Authorization", "Bearer", ""},
		{"empty", "X-API-Key", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if k.HeaderRank([]byte(tc.header)) < 0 {
				t.Fatalf("%s is not a key header", tc.header)
			}
			got, ok := k.FromHeader([]byte(tc.header), []byte(tc.value))
			if tc.want == "" {
				if ok {
					t.Errorf("got a key %s, want none", got)
				}
				return
			}
			if want := Fingerprint("", tc.want); got != want {
				t.Errorf("got %s, want fingerprint of %q (%s)", got, tc.want, want)
			}
		})
	}
	if k.HeaderRank([]byte("Cookie")) >= 0 {
		t.Error("Cookie is not a key header by default")
	}
}

func TestKeyFromTarget(t *testing.T) {
	k := NewExtractor(DefaultConfig())
	tests := []struct{ target, want string }{
		{"/v1/items?api_key=abc", "abc"},
		{"/v1/items?x=1&apikey=abc&y=2", "abc"},
		{"/v1/items?api_key=a%2Bb", "a+b"},
		{"/v1/items?monkey=abc", ""},
		{"/v1/items?api_key=", ""},
		{"/v1/items#api_key=abc", ""},
		{"/v1/items", ""},
		{"http://h/x?token=t1", "t1"},
	}
	for _, tc := range tests {
		got, ok := k.FromTarget([]byte(tc.target))
		if tc.want == "" {
			if ok {
				t.Errorf("%s: got key, want none", tc.target)
			}
			continue
		}
		if got != Fingerprint("", tc.want) {
			t.Errorf("%s: got %s, want fingerprint of %q", tc.target, got, tc.want)
		}
	}
}

func TestKeyExtractorCachedDoesNotAllocate(t *testing.T) {
	k := NewExtractor(DefaultConfig())
	name, val := []byte("X-API-Key"), []byte("sk_live_0123456789abcdef")
	k.FromHeader(name, val)
	if n := testing.AllocsPerRun(100, func() { k.FromHeader(name, val) }); n != 0 {
		t.Errorf("a cached key costs %v allocations, want 0", n)
	}
}

func TestBasicCachedDoesNotAllocate(t *testing.T) {
	k := NewExtractor(DefaultConfig())
	name, val := []byte("Authorization"), []byte("Basic "+base64.StdEncoding.EncodeToString([]byte("alice:secret")))
	k.FromHeader(name, val)
	if n := testing.AllocsPerRun(100, func() { k.FromHeader(name, val) }); n != 0 {
		t.Errorf("a cached Basic user costs %v allocations, want 0", n)
	}
}

func TestKeyFromPercentEncodedName(t *testing.T) {
	k := NewExtractor(DefaultConfig())
	if got, ok := k.FromTarget([]byte("/v1/items?api%5Fkey=abc")); !ok || got != Fingerprint("", "abc") {
		t.Errorf("?api%%5Fkey= must count as api_key: %v %v", got, ok)
	}
}

// The cache gives every key its own fingerprint whatever the mix: keys
// seen again at once, after others that share their set, and after the
// cache has turned over many times; a new key allocates its fingerprint
// and nothing else.
func TestFingerprintCacheIsExact(t *testing.T) {
	for _, salt := range []string{"", "salt"} {
		k := NewExtractor(Config{LogFields: []string{"api_key"}, Salt: salt})
		const n = 3 * fpCacheSize
		for round := range 3 {
			for i := range n {
				// Back and forth, so sets see both their ways hit and turn over.
				j := i
				if round == 1 {
					j = n - 1 - i
				}
				key := fmt.Sprintf("sk_live_%d_%d", j, j%7)
				for range 1 + j%2 {
					if got, _ := k.FromValue([]byte(key)); got != Fingerprint(salt, key) {
						t.Fatalf("salt %q round %d: %s -> %s, want %s", salt, round, key, got, Fingerprint(salt, key))
					}
				}
			}
		}
		next := 0
		if a := testing.AllocsPerRun(200, func() {
			next++
			k.FromValue([]byte("sk_new_" + strconv.Itoa(next)))
		}); a > 3 { // this closure's string and []byte, and the fingerprint (a copy of the key too, before)
			t.Errorf("salt %q: a new key costs %v allocations", salt, a)
		}
	}
}
