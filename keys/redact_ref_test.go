package keys

import "testing"

// FuzzRedactMatchesReference: the query scanners as they are (redactParams
// finds parameters from their '=' and skips names by their first byte)
// hide and find exactly what the plain forward scans they replaced
// (below, as first written) hide and find, on bytes and on strings.
func FuzzRedactMatchesReference(f *testing.F) {
	for _, s := range []string{
		"/v1/items?api_key=k-1&page=2", "/a;token=x?key=y", "/?a=b=c&key=1", "a=1;  api_key=z", "/cb#access_token=t&x=1",
		"/?api_key=REDACTED&token=", "/?key[;x]=1", "/?api%5Fkey=k", "/?%20key=1", "/?api_key=a?b=c&token=d", "x=1",
		"/?" + string(make([]byte, 200)) + "key=1",
	} {
		f.Add(s)
	}
	x := NewExtractor(DefaultConfig())
	names := x.query
	f.Fuzz(func(t *testing.T, s string) {
		want, wok := redactReference(nil, s, names.names)
		got, ok := redactParams(nil, s, &names)
		if ok != wok || string(got) != string(want) {
			t.Fatalf("%q: got %q %v, want %q %v", s, got, ok, want, wok)
		}
		got, ok = redactParams([]byte("prefix"), []byte(s), &names)
		if ok != wok || (ok && string(got) != "prefix"+string(want)) || (!ok && string(got) != "prefix") {
			t.Fatalf("%q as bytes: got %q %v, want %q %v", s, got, ok, want, wok)
		}
		fp, ok := x.FromTarget([]byte(s))
		wfp, wok := fromTargetReference(x, []byte(s))
		if fp != wfp || ok != wok {
			t.Fatalf("FromTarget(%q) = %s %v, want %s %v", s, fp, ok, wfp, wok)
		}
	})
}

// The scanners as first written.

func redactReference[T string | []byte](dst []byte, s T, names []string) ([]byte, bool) {
	if len(names) == 0 || indexByte(s, '=') < 0 {
		return dst, false
	}
	start := len(dst)
	last, found := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '?' && c != '&' && c != ';' && c != '#' {
			continue
		}
		n := i + 1
		if c == ';' {
			for n < len(s) && s[n] == ' ' { // cookie pairs: "a=1; api_key=..."
				n++
			}
		}
		eq := n
		for eq < len(s) && s[eq] != '=' && !paramEndReference(s[eq]) && eq-n <= 3*maxParamName {
			eq++
		}
		if eq >= len(s) || s[eq] != '=' || eq == n || paramIndexReference(names, s[n:eq]) < 0 {
			continue
		}
		v := eq + 1
		end := v
		for end < len(s) && !valueEndReference(s[end]) {
			end++
		}
		if end == v || string(s[v:end]) == Redacted {
			continue
		}
		dst = append(dst, s[last:v]...)
		dst = append(dst, Redacted...)
		last, found = end, true
		i = end - 1
	}
	if !found {
		return dst[:start], false
	}
	return append(dst, s[last:]...), true
}

func fromTargetReference(k *Extractor, target []byte) (string, bool) {
	q := indexByte(target, '?')
	if q < 0 || len(k.query.names) == 0 {
		return "", false
	}
	end := len(target)
	if i := indexByte(target[q:], '#'); i >= 0 {
		end = q + i
	}
	best, bestVal := -1, []byte(nil)
	for i := q + 1; i < end; {
		j := indexByte(target[i:end], '&')
		if j < 0 {
			j = end - i
		}
		pair := target[i : i+j]
		if eq := indexByte(pair, '='); eq > 0 && eq < len(pair)-1 {
			if n := paramIndexReference(k.query.names, pair[:eq]); n >= 0 && (best < 0 || n < best) {
				best, bestVal = n, pair[eq+1:]
			}
		}
		i += j + 1
	}
	if best < 0 {
		return "", false
	}
	return k.FromParam(bestVal)
}
func paramIndexReference[T string | []byte](names []string, raw T) int {
	if len(names) == 0 || len(raw) == 0 {
		return -1
	}
	var buf [maxParamName]byte
	n := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' && i+2 < len(raw) {
			if h, l := unhex(raw[i+1]), unhex(raw[i+2]); h >= 0 && l >= 0 {
				c = byte(h<<4 | l)
				i += 2
			}
		}
		if n == len(buf) {
			return -1
		}
		buf[n] = lower(c)
		n++
	}
	name := trimNameReference(buf[:n])
	if len(name) > 0 && name[len(name)-1] == ']' {
		if i := indexByte(name, '['); i > 0 {
			name = trimNameReference(name[:i])
		}
	}
	for i, want := range names {
		if string(name) == want {
			return i
		}
	}
	return -1
}
func trimNameReference(b []byte) []byte {
	for len(b) > 0 && nameJunk(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && nameJunk(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// paramEndReference ends a parameter name: a separator or the end of a quoted URL.
func paramEndReference(c byte) bool {
	switch c {
	case '&', '#', ';', '?', '"', '\'', '\r', '\n':
		return true
	}
	return false
}

// valueEndReference ends a parameter value.
func valueEndReference(c byte) bool {
	switch c {
	case '&', '#', ';', ' ', '"', '\'', '\t', '\r', '\n':
		return true
	}
	return false
}
