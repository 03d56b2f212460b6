package detect

import "strings"

// Redacted replaces the value of a key-bearing query parameter in every
// target, Referer and message that leaves the engine.
const Redacted = "REDACTED"

// RedactQuery replaces the values of the named query parameters in s (a
// request-target, a URL, or a log line quoting one) with Redacted, so a key
// sent as ?api_key=... never reaches an output. It returns s itself when
// there is nothing to redact.
func RedactQuery(s string, names []string) string {
	if len(names) == 0 || strings.IndexByte(s, '=') < 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '?' && c != '&' && c != ';' {
			continue
		}
		start := i + 1
		for _, n := range names {
			if len(s)-start > len(n) && strings.EqualFold(s[start:start+len(n)], n) && s[start+len(n)] == '=' {
				v := start + len(n) + 1
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
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
