package detect

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/url"
	"strings"
)

// FingerprintLen is the number of hex digits of a key fingerprint.
const FingerprintLen = 12

// Fingerprint returns the fingerprint of key: the first 12 hex digits of
// HMAC-SHA256(salt, key), or of SHA-256(key) when salt is empty.
func Fingerprint(salt, key string) string {
	var sum [sha256.Size]byte
	if salt == "" {
		sum = sha256.Sum256([]byte(key))
	} else {
		m := hmac.New(sha256.New, []byte(salt))
		m.Write([]byte(key))
		m.Sum(sum[:0])
	}
	return hex.EncodeToString(sum[:FingerprintLen/2])
}

// KeyConfig says where requests carry their API keys.
type KeyConfig struct {
	Headers   []string // header names, case-insensitive, in priority order
	Query     []string // query parameter names
	LogFields []string // log variables that carry a key or key suffix
	Salt      string
}

// DefaultKeyConfig is the [keys] section's default.
func DefaultKeyConfig() KeyConfig {
	return KeyConfig{
		Headers:   []string{"X-API-Key", "Authorization"},
		Query:     []string{"api_key", "apikey", "key", "access_token", "token"},
		LogFields: []string{"api_key_suffix", "key_suffix"},
	}
}

// fpCacheSize bounds the raw-key -> fingerprint cache of one extractor.
const fpCacheSize = 4096

// KeyExtractor turns the key material of a request into a fingerprint. It is
// not safe for concurrent use: give each source goroutine its own (Clone).
// It caches recent fingerprints so that a key seen again costs a map lookup
// instead of an HMAC and an allocation.
type KeyExtractor struct {
	cfg     KeyConfig
	headers [][]byte // lower-cased
	query   []string
	fields  []string
	mac     hash.Hash
	cache   map[string]string
	scratch [256]byte // decoded Basic credentials; kept here so they do not escape per call
}

// NewKeyExtractor builds an extractor for cfg.
func NewKeyExtractor(cfg KeyConfig) *KeyExtractor {
	k := &KeyExtractor{cfg: cfg, query: cfg.Query, cache: make(map[string]string)}
	for _, h := range cfg.Headers {
		k.headers = append(k.headers, []byte(strings.ToLower(h)))
	}
	for _, f := range cfg.LogFields {
		k.fields = append(k.fields, strings.ToLower(f))
	}
	if cfg.Salt != "" {
		k.mac = hmac.New(sha256.New, []byte(cfg.Salt))
	}
	return k
}

// Clone returns an independent extractor with the same configuration.
func (k *KeyExtractor) Clone() *KeyExtractor { return NewKeyExtractor(k.cfg) }

// HeaderRank returns the priority of a header name among the key headers
// (0 is highest), or -1 when the header carries no key. name may be in any case.
func (k *KeyExtractor) HeaderRank(name []byte) int {
	for i, h := range k.headers {
		if len(h) == len(name) && asciiEqualFold(h, name) {
			return i
		}
	}
	return -1
}

// IsLogField reports whether a log variable (without "$") carries key material.
func (k *KeyExtractor) IsLogField(name string) bool {
	for _, f := range k.fields {
		if strings.EqualFold(f, name) {
			return true
		}
	}
	return false
}

// FromHeader returns the fingerprint of the key in a key header's value.
// Authorization gives the credentials of Bearer, Token and ApiKey schemes and
// the user name of Basic; other schemes carry no key we can use.
func (k *KeyExtractor) FromHeader(name, value []byte) (string, bool) {
	value = bytes.TrimSpace(value)
	if asciiEqualFold(name, []byte("authorization")) {
		var ok bool
		if value, ok = authCredential(value, k.scratch[:]); !ok {
			return "", false
		}
	}
	if len(value) == 0 {
		return "", false
	}
	return k.fingerprint(value), true
}

// FromTarget returns the fingerprint of the first configured query parameter
// present in a request-target.
func (k *KeyExtractor) FromTarget(target []byte) (string, bool) {
	_, q, ok := bytes.Cut(target, []byte("?"))
	if !ok || len(k.query) == 0 {
		return "", false
	}
	if i := bytes.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	for _, name := range k.query {
		if v, ok := queryValue(q, name); ok && len(v) > 0 {
			return k.fingerprintQuery(v), true
		}
	}
	return "", false
}

// FromValue fingerprints key material taken verbatim (a log field).
func (k *KeyExtractor) FromValue(v []byte) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || (len(v) == 1 && v[0] == '-') {
		return "", false
	}
	return k.fingerprint(v), true
}

func (k *KeyExtractor) fingerprintQuery(v []byte) string {
	if bytes.IndexByte(v, '%') < 0 && bytes.IndexByte(v, '+') < 0 {
		return k.fingerprint(v)
	}
	s, err := url.QueryUnescape(string(v))
	if err != nil {
		return k.fingerprint(v)
	}
	return k.fingerprint([]byte(s))
}

func (k *KeyExtractor) fingerprint(key []byte) string {
	if fp, ok := k.cache[string(key)]; ok {
		return fp
	}
	var sum [sha256.Size]byte
	if k.mac == nil {
		sum = sha256.Sum256(key)
	} else {
		k.mac.Reset()
		k.mac.Write(key)
		k.mac.Sum(sum[:0])
	}
	fp := hex.EncodeToString(sum[:FingerprintLen/2])
	if len(k.cache) >= fpCacheSize {
		clear(k.cache)
	}
	k.cache[string(key)] = fp
	return fp
}

// authCredential extracts the key from an Authorization value (RFC 9110
// §11.6.2). Basic credentials are decoded into scratch.
func authCredential(v, scratch []byte) ([]byte, bool) {
	scheme, cred, ok := bytes.Cut(v, []byte(" "))
	if !ok {
		return nil, false
	}
	cred = bytes.TrimSpace(cred)
	switch {
	case asciiEqualFold(scheme, []byte("bearer")), asciiEqualFold(scheme, []byte("token")), asciiEqualFold(scheme, []byte("apikey")):
		return cred, len(cred) > 0
	case asciiEqualFold(scheme, []byte("basic")):
		if len(cred) > base64.StdEncoding.EncodedLen(len(scratch)) {
			return nil, false
		}
		n, err := base64.StdEncoding.Decode(scratch, cred)
		if err != nil {
			return nil, false
		}
		user, _, _ := bytes.Cut(scratch[:n], []byte(":"))
		return user, len(user) > 0
	}
	return nil, false
}

// queryValue finds name=value in a raw query string.
func queryValue(q []byte, name string) ([]byte, bool) {
	for len(q) > 0 {
		var pair []byte
		pair, q, _ = bytes.Cut(q, []byte("&"))
		k, v, _ := bytes.Cut(pair, []byte("="))
		if string(k) == name {
			return v, true
		}
		// Servers decode names too: ?api%5Fkey=K is api_key to Flask.
		if bytes.IndexByte(k, '%') >= 0 {
			if dk, err := url.QueryUnescape(string(k)); err == nil && dk == name {
				return v, true
			}
		}
	}
	return nil, false
}

func asciiEqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
