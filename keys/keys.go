// Package keys is the one home of API-key rules: where requests carry keys
// (headers, query parameters, log fields), how a key becomes a fingerprint,
// and how key material is hidden in targets, Referers and quoted input. No
// raw key, or piece of one, may leave rebindwatch; every package that meets
// key material asks this one.
package keys

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/maphash"
	"net/url"
	"strings"

	"github.com/rebindwatch/rebindwatch/internal/cachegate"
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

// Config says where requests carry their API keys (the [keys] section).
type Config struct {
	Headers   []string // header names, case-insensitive, in priority order
	Query     []string // query parameter names, in priority order
	LogFields []string // log variables that carry a key or key suffix
	Salt      string
}

// DefaultConfig is the [keys] section's default.
func DefaultConfig() Config {
	return Config{
		Headers:   []string{"X-API-Key", "Authorization"},
		Query:     []string{"api_key", "apikey", "key", "access_token", "token"},
		LogFields: []string{"api_key_suffix", "key_suffix"},
	}
}

// fpCacheSize is the number of fingerprints one extractor remembers.
const fpCacheSize = 4096

// fpEntry is a remembered fingerprint. The key is known by two 64-bit
// hashes of its bytes under seeds of this process (a wrong match needs
// both to collide, about 2^-128 per lookup, and traffic cannot aim at
// seeds it does not know), so a seen key costs two hashes and keeps no
// copy of key material, and a new one allocates its fingerprint only.
type fpEntry struct {
	h1, h2 uint64
	fp     string
}

// Extractor turns the key material of a request into a fingerprint and
// hides key material in text. Its From* methods are not safe for concurrent
// use (they share a cache): give each source goroutine its own (Clone). Its
// redaction methods keep no state and may be called from anywhere.
//
// A key seen lately costs two hashes instead of an HMAC and an allocation.
type Extractor struct {
	cfg     Config
	headers [][]byte // lower-cased
	query   paramNames
	fields  []string
	mac     hash.Hash
	cache   []fpEntry      // two ways per set: [i] the more recent, [i^1] the other
	gate    cachegate.Gate // skips the cache while nearly every key is new (a flood)
	seeds   [2]maphash.Seed
	scratch [256]byte // decoded Basic credentials; kept here so they do not escape per call
}

// NewExtractor builds an extractor for cfg.
func NewExtractor(cfg Config) *Extractor {
	k := &Extractor{cfg: cfg, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	for _, h := range cfg.Headers {
		k.headers = append(k.headers, []byte(strings.ToLower(h)))
	}
	k.query = newParamNames(cfg.Query)
	for _, f := range cfg.LogFields {
		k.fields = append(k.fields, strings.ToLower(f))
	}
	if cfg.Salt != "" {
		k.mac = hmac.New(sha256.New, []byte(cfg.Salt))
	}
	return k
}

// Clone returns an independent extractor with the same configuration.
func (k *Extractor) Clone() *Extractor { return NewExtractor(k.cfg) }

// HeaderRank returns the priority of a header name among the key headers
// (0 is highest), or -1 when the header carries no key. name may be in any case.
func (k *Extractor) HeaderRank(name []byte) int {
	for i, h := range k.headers {
		if len(h) == len(name) && asciiEqualFold(h, name) {
			return i
		}
	}
	return -1
}

// IsLogField reports whether a log variable (without "$") carries key material.
func (k *Extractor) IsLogField(name string) bool {
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
func (k *Extractor) FromHeader(name, value []byte) (string, bool) {
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

// FromValue fingerprints key material taken verbatim (a log field).
func (k *Extractor) FromValue(v []byte) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || (len(v) == 1 && v[0] == '-') {
		return "", false
	}
	return k.fingerprint(v), true
}

// FromParam fingerprints the value of a key query parameter as it appears
// in a URL: percent-escapes and '+' are decoded first, as the server reads it.
func (k *Extractor) FromParam(v []byte) (string, bool) {
	if len(v) == 0 {
		return "", false
	}
	if bytes.IndexByte(v, '%') < 0 && bytes.IndexByte(v, '+') < 0 {
		return k.fingerprint(v), true
	}
	s, err := url.QueryUnescape(string(v))
	if err != nil {
		return k.fingerprint(v), true
	}
	return k.fingerprint([]byte(s)), true
}

func (k *Extractor) fingerprint(key []byte) string {
	if k.gate.Skipping() {
		return k.digest(key)
	}
	if k.cache == nil {
		k.cache = make([]fpEntry, fpCacheSize)
	}
	h1, h2 := maphash.Bytes(k.seeds[0], key), maphash.Bytes(k.seeds[1], key)
	i := int(h1) & (fpCacheSize - 1)
	if e := &k.cache[i]; e.h1 == h1 && e.h2 == h2 && e.fp != "" {
		k.gate.Looked(true)
		return e.fp
	}
	if e := k.cache[i^1]; e.h1 == h1 && e.h2 == h2 && e.fp != "" {
		k.cache[i^1], k.cache[i] = k.cache[i], e
		k.gate.Looked(true)
		return e.fp
	}
	k.gate.Looked(false)
	fp := k.digest(key)
	k.cache[i^1] = k.cache[i]
	k.cache[i] = fpEntry{h1, h2, fp}
	return fp
}

// digest computes key's fingerprint.
func (k *Extractor) digest(key []byte) string {
	var sum [sha256.Size]byte
	if k.mac == nil {
		sum = sha256.Sum256(key)
	} else {
		k.mac.Reset()
		k.mac.Write(key)
		k.mac.Sum(sum[:0])
	}
	return hex.EncodeToString(sum[:FingerprintLen/2])
}

// authCredential extracts the key from an Authorization value (RFC 9110
// §11.6.2: a scheme, then whitespace, then the credentials). Basic
// credentials are decoded into scratch.
func authCredential(v, scratch []byte) ([]byte, bool) {
	i := bytes.IndexAny(v, " \t")
	if i < 0 {
		return nil, false
	}
	scheme, cred := v[:i], bytes.TrimSpace(v[i+1:])
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

func asciiEqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
