package detect

import "strings"

// Redacted replaces the value of a key-bearing query parameter in every
// target, Referer and message that leaves the engine.
const Redacted = "REDACTED"

// RedactQuery replaces the values of the named query parameters in s (a
// request-target, a URL, or a log line quoting one) with Redacted, so a key
// sent as ?api_key=... never reaches an output. Parameters are found after
// '?', '&' and ';' (and "; " between cookies), and after '#' (an OAuth
// implicit-flow fragment, #access_token=..., quoted in a Referer); a name
// matches in any case and percent-encoded (api%5Fkey is api_key to the
// server that decodes it). It returns s itself when there is nothing to
// redact.
func RedactQuery(s string, names []string) string {
	if len(names) == 0 || strings.IndexByte(s, '=') < 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '?' && c != '&' && c != ';' && c != '#' {
			continue
		}
		start := i + 1
		if c == ';' {
			// Cookie pairs: "a=1; api_key=...".
			for start < len(s) && s[start] == ' ' {
				start++
			}
		}
		for _, n := range names {
			eq, ok := matchParam(s, start, n)
			if !ok {
				continue
			}
			v := eq + 1
			end := v
			for end < len(s) && !strings.ContainsRune("&#; \"'\t\r\n", rune(s[end])) {
				end++
			}
			if end == v || s[v:end] == Redacted {
				break
			}
			if b.Len() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:v])
			b.WriteString(Redacted)
			last = end
			i = end - 1
			break
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// matchParam reports whether s at i starts with name (ASCII case-folded,
// %XX decoded) followed by '=', and where the '=' is.
func matchParam(s string, i int, name string) (int, bool) {
	for j := 0; j < len(name); j++ {
		if i >= len(s) {
			return 0, false
		}
		c := s[i]
		i++
		if c == '%' && i+1 < len(s) {
			if h, l := unhex(s[i]), unhex(s[i+1]); h >= 0 && l >= 0 {
				c = byte(h<<4 | l)
				i += 2
			}
		}
		if lower(c) != lower(name[j]) {
			return 0, false
		}
	}
	if i < len(s) && s[i] == '=' {
		return i, true
	}
	return 0, false
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// authSchemes are the Authorization schemes whose credentials RedactSecrets
// hides when it finds one followed by a space.
var authSchemes = []string{"bearer", "token", "basic", "apikey", "digest", "negotiate"}

// minSecretRun is the shortest run of token characters RedactSecrets takes
// for key material. Fingerprints (12 hex digits) are shorter.
const minSecretRun = 16

// minSecretSegment is the shortest stretch without '-' or '_' in such a run.
const minSecretSegment = 10

// RedactSecrets is RedactQuery for free text that quotes raw input: a log
// line that did not parse, shown on stderr and on screen so its format can
// be fixed. Such a line may carry whole credentials in columns we could not
// find (an $http_authorization, $http_x_api_key or $http_cookie column),
// so besides the query parameters it replaces with Redacted:
//
//   - the credentials after an Authorization scheme (Bearer, Token, Basic,
//     ApiKey, Digest, Negotiate and a space): the next word when it has a
//     digit or 8 characters or more,
//   - every run of at least 16 token characters [A-Za-z0-9_+=~-] with a
//     stretch of 10 or more between '-' and '_', that mixes letters and
//     digits, or upper and lower case over 20 or more: the shape of API
//     keys, session cookies, base64 credentials and JWT segments, not of
//     dates or file names (access-2026-11-26).
//
// Words, host names, paths, addresses and times are left readable.
func RedactSecrets(s string, names []string) string {
	s = RedactQuery(s, names)
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isTokenByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isTokenByte(s[j]) {
			j++
		}
		// A scheme word followed by spaces: hide the next word when it can
		// be a credential (prose such as "a token is missing" stays).
		if j < len(s) && s[j] == ' ' && isScheme(s[i:j]) {
			k := j
			for k < len(s) && s[k] == ' ' {
				k++
			}
			e := k
			for e < len(s) && s[e] != ' ' && s[e] != '"' && s[e] != '\'' && s[e] != ',' {
				e++
			}
			if e > k && s[k:e] != Redacted && credentialShaped(s[k:e]) {
				b.WriteString(s[last:k])
				b.WriteString(Redacted)
				last = e
			}
			i = e
			continue
		}
		if secretShaped(s[i:j]) {
			b.WriteString(s[last:i])
			b.WriteString(Redacted)
			last = j
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func credentialShaped(w string) bool {
	if w == "-" {
		return false
	}
	return len(w) >= 8 || strings.ContainsAny(w, "0123456789")
}

func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '+' || c == '=' || c == '~'
}

func isScheme(w string) bool {
	for _, a := range authSchemes {
		if strings.EqualFold(w, a) {
			return true
		}
	}
	return false
}

func secretShaped(w string) bool {
	if len(w) < minSecretRun {
		return false
	}
	// The longest stretch between '-' and '_' decides: a key or a base64
	// blob is one long stretch, a date or a file name is short pieces
	// (access-2026-11-26).
	longest, seg := 0, 0
	var lo, up, dig bool
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '-' || c == '_':
			seg = 0
			continue
		case 'a' <= c && c <= 'z':
			lo = true
		case 'A' <= c && c <= 'Z':
			up = true
		case '0' <= c && c <= '9':
			dig = true
		}
		seg++
		longest = max(longest, seg)
	}
	if longest < minSecretSegment {
		return false
	}
	return dig && (lo || up) || lo && up && len(w) >= 20
}
