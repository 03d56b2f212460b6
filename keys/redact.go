package keys

import "strings"

// Redacted replaces key material in every target, Referer and quoted text
// that leaves rebindwatch.
const Redacted = "REDACTED"

// Redact replaces the values of key parameters in s (a request-target, a
// URL, or text quoting one) with Redacted, so a key sent as ?api_key=...
// never reaches an output. Parameters are found after '?', '&' and ';'
// (and "; " between cookies), and after '#' (an OAuth implicit-flow
// fragment, #access_token=..., quoted in a Referer); names are matched by
// the rule of paramIndex. It returns s itself when there is nothing to
// redact, without allocating.
func (k *Extractor) Redact(s string) string {
	out, ok := redactParams(nil, s, &k.query)
	if !ok {
		return s
	}
	return string(out)
}

// AppendRedacted is Redact for wire bytes: it appends u, with key values
// replaced, to dst and reports whether anything was replaced. When nothing
// was, dst is returned unchanged, so a caller can keep u as it is.
func (k *Extractor) AppendRedacted(dst, u []byte) ([]byte, bool) {
	return redactParams(dst, u, &k.query)
}

// redactParams is the one scanner behind Redact and AppendRedacted. It
// looks for the '=' of each parameter (IndexByte runs over paths and values
// fast) and reads its name backwards to the separator it follows: a name
// holds no separator, quote, line end or other '='. The scan does not look
// inside a value it has replaced (where a '?' is no separator).
func redactParams[T string | []byte](dst []byte, s T, names *paramNames) ([]byte, bool) {
	if len(names.names) == 0 {
		return dst, false
	}
	start := len(dst)
	last, found := 0, false
	for from := 0; from < len(s); {
		i := indexByte(s[from:], '=')
		if i < 0 {
			break
		}
		eq := from + i
		from = eq + 1
		n, ok := nameStart(s, eq, last)
		if !ok || !names.mayStart(s[n]) || paramIndex(names, s[n:eq]) < 0 {
			continue
		}
		v := eq + 1
		end := v
		for end < len(s) && !valueStop[s[end]] {
			end++
		}
		if end == v || string(s[v:end]) == Redacted {
			continue
		}
		dst = append(dst, s[last:v]...)
		dst = append(dst, Redacted...)
		last, found = end, true
		from = end
	}
	if !found {
		return dst[:start], false
	}
	return append(dst, s[last:]...), true
}

// nameStart returns where the name of the parameter whose '=' is at eq
// starts: after the separator it follows, at or after min, and the spaces
// after a ';' (cookie pairs: "a=1; api_key=..."). ok is false when the name
// follows no separator, is empty, or is longer than any name can be written.
func nameStart[T string | []byte](s T, eq, min int) (n int, ok bool) {
	j := eq - 1
	for j >= min && !nameStop[s[j]] {
		j--
	}
	if j < min || !paramSep[s[j]] {
		return 0, false
	}
	n = j + 1
	if s[j] == ';' {
		for n < eq && s[n] == ' ' {
			n++
		}
	}
	if n == eq || eq-n > 3*maxParamName+1 {
		return 0, false
	}
	return n, true
}

// paramSep are the bytes a parameter follows.
var paramSep = [256]bool{'?': true, '&': true, ';': true, '#': true}

// nameStop are the bytes a name read backwards from its '=' stops at: a
// separator, the end of a quoted URL, a line end or another '='.
var nameStop = [256]bool{'&': true, '#': true, ';': true, '?': true, '"': true, '\'': true, '\r': true, '\n': true, '=': true}

// valueStop are the bytes that end a parameter value.
var valueStop = [256]bool{'&': true, '#': true, ';': true, ' ': true, '"': true, '\'': true, '\t': true, '\r': true, '\n': true}

// authSchemes are the Authorization schemes whose credentials RedactText
// hides when it finds one followed by white space.
var authSchemes = []string{"bearer", "token", "basic", "apikey", "digest", "negotiate"}

// minSecretRun is the shortest run of token characters RedactText takes
// for key material. Fingerprints (12 hex digits) are shorter.
const minSecretRun = 16

// minSecretSegment is the shortest stretch without '-' or '_' in such a run.
const minSecretSegment = 10

// RedactText is Redact for free text that quotes raw input: a log line that
// did not parse, shown on stderr and on screen so its format can be fixed.
// Such a line may carry whole credentials in columns no parser found (an
// $http_authorization, $http_x_api_key or $http_cookie column), so besides
// the key parameters it replaces with Redacted:
//
//   - the credentials after an Authorization scheme (Bearer, Token, Basic,
//     ApiKey, Digest, Negotiate and white space): the next word when it has
//     a digit or 8 characters or more,
//   - every run of at least 16 token characters [A-Za-z0-9_+=~-] with a
//     stretch of 10 or more between '-' and '_', that mixes letters and
//     digits, or upper and lower case over 20 or more: the shape of API
//     keys, session cookies, base64 credentials and JWT segments, not of
//     dates or file names (access-2026-11-26).
//
// Words, host names, paths, addresses and times are left readable.
func (k *Extractor) RedactText(s string) string {
	s = k.Redact(s)
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
		// A scheme word followed by white space: hide the next word when it
		// can be a credential (prose such as "a token is missing" stays).
		if blankAt(s, j) > 0 && isScheme(s[i:j]) {
			k := j
			for n := blankAt(s, k); n > 0; n = blankAt(s, k) {
				k += n
			}
			e := k
			for e < len(s) && !isBlank(s[e]) && s[e] != '"' && s[e] != '\'' && s[e] != ',' {
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

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// blankAt returns the length of the white space at s[i:]: a space or a
// TAB, or a TAB or space as a log escapes it (nginx writes "Bearer\x09KEY",
// others "Bearer\tKEY"); 0 when there is none.
func blankAt(s string, i int) int {
	switch {
	case i >= len(s):
		return 0
	case isBlank(s[i]):
		return 1
	case strings.HasPrefix(s[i:], `\t`):
		return 2
	case strings.HasPrefix(s[i:], `\x09`), strings.HasPrefix(s[i:], `\x20`):
		return 4
	}
	return 0
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
