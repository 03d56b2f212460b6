package logsrc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Auto-detection must never drop columns silently. nginx's "main" format
// and every extended one add columns after combined's, so such a log reads
// as combined: its Host, Origin and key columns would be ignored and every
// detector that needs them blind, with no word said. When the lines a
// lenient built-in format read carry more columns than it reads, the
// source says so loudly (its note: stderr, the header, the summary) with
// the fix, and proposes the format when the extra quoted columns are
// recognisably a Host, an Origin or a key.

// tail returns what a lenient built-in format leaves unread at the end of
// line, or nil. AWS ALB's fields after the user agent are known, and none
// is a Host, an Origin or a key: nothing is said of them.
func (p *Parser) tail(line []byte) []byte {
	if !p.lenientTail || p.json != nil || p.werkzeug || p.absTarget {
		return nil
	}
	var x lineVals
	x.bestRank = -1
	end, err := p.extractLiteral(line, &x)
	if err != nil || end >= len(line) {
		return nil
	}
	return bytes.TrimSpace(line[end:])
}

// extraColumns returns the warning for lines that carry columns p does not
// read ("" when they do not, in at least half of them), and the format it
// proposes when it has one (a --log-format value; "" for none).
func extraColumns(p *Parser, lines [][]byte) (warn, proposed string) {
	var tails [][]string
	for _, l := range lines {
		if t := p.tail(l); len(t) > 0 {
			tails = append(tails, splitColumns(string(t)))
		}
	}
	if len(tails) == 0 || 2*len(tails) < len(lines) {
		return "", ""
	}
	n := len(tails[0])
	kinds := make([]string, n)
	for i := range n {
		kinds[i] = columnKind(tails, i)
	}
	msg := fmt.Sprintf("WARNING: the lines have %d more column(s) than %s reads, which it ignores", n, p.name)
	base, ok := nginxBase[p.name]
	if !ok || n > 8 || !anyKind(kinds, "host", "origin", "key") || anyKind(kinds, "text") {
		return msg + ": if they hold the Host, Origin or key, every detector that needs them is blind; give the log's format " +
			"with --log-format (nginx:'<log_format>', apache:'<LogFormat>', gunicorn:'<access_log_format>') or --server-config", ""
	}
	var vars []string
	for i, k := range kinds {
		vars = append(vars, columnVar(k, tails[0][i], i))
	}
	proposed = "nginx:" + base + " " + strings.Join(vars, " ")
	return msg + fmt.Sprintf(" (seen: %s); if they are what they look like: --log-format '%s'",
		strings.Join(kinds, ", "), proposed), proposed
}

// nginxBase is each lenient format as an nginx log_format, to extend.
var nginxBase = map[string]string{
	nameCombined: combinedFormat,
	nameCommon:   commonFormat,
}

// splitColumns cuts a tail into columns: quoted strings (quotes kept) and
// bare words.
func splitColumns(t string) []string {
	var cols []string
	for t = strings.TrimSpace(t); t != ""; t = strings.TrimSpace(t) {
		if t[0] == '"' {
			end := 1
			for end < len(t) && (t[end] != '"' || t[end-1] == '\\') {
				end++
			}
			end = min(end+1, len(t))
			cols = append(cols, t[:end])
			t = t[end:]
			continue
		}
		end := strings.IndexAny(t, " \t")
		if end < 0 {
			end = len(t)
		}
		cols = append(cols, t[:end])
		t = t[end:]
	}
	return cols
}

// columnKind says what column i holds over all lines: host, origin, key,
// number, name=value (a named column), or text.
func columnKind(tails [][]string, i int) string {
	counts := map[string]int{}
	seen := 0
	for _, cols := range tails {
		if i >= len(cols) {
			continue
		}
		v := strings.Trim(cols[i], `"`)
		if name, _, ok := strings.Cut(cols[i], "="); ok && isIdent(name) {
			counts["named:"+name]++
			seen++
			continue
		}
		if v == "-" || v == "" {
			continue
		}
		seen++
		counts[valueKind(v)]++
	}
	best, bestN := "text", 0
	for k, n := range counts {
		if n > bestN {
			best, bestN = k, n
		}
	}
	if seen > 0 && 10*bestN < 9*seen {
		return "text" // no kind holds for nine in ten lines
	}
	return best
}

// valueKind guesses what one value is.
func valueKind(v string) string {
	switch {
	case v == "null" || strings.Contains(v, "://") && originShaped([]byte(v)):
		return "origin"
	case strings.Trim(v, "0123456789.") == "":
		return "number"
	case hostShaped(v):
		return "host"
	case len(v) >= 6 && len(v) <= 128 && !strings.ContainsAny(v, " /.:"):
		return "key"
	}
	return "text"
}

// hostShaped: a DNS name or an address, with an optional port.
func hostShaped(v string) bool {
	if len(v) > 255 || !strings.Contains(v, ".") && v != "localhost" && !strings.HasPrefix(v, "localhost:") {
		return false
	}
	for _, c := range v {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_') {
			return false
		}
	}
	return true
}

// columnVar is the nginx variable a column of that kind likely logs.
func columnVar(kind, sample string, i int) string {
	q := strings.HasPrefix(sample, `"`)
	quote := func(v string) string {
		if q {
			return `"` + v + `"`
		}
		return v
	}
	switch {
	case kind == "host":
		return quote("$host")
	case kind == "origin":
		return quote("$http_origin")
	case kind == "key":
		return quote("$http_x_api_key")
	case kind == "number":
		return "$request_time"
	case strings.HasPrefix(kind, "named:"):
		name := strings.TrimPrefix(kind, "named:")
		v := "$" + name
		switch strings.ToLower(name) {
		case "host":
			v = "$host"
		case "origin":
			v = "$http_origin"
		}
		_, val, _ := strings.Cut(sample, "=")
		if strings.HasPrefix(val, `"`) {
			return name + `="` + v + `"`
		}
		return name + "=" + v
	}
	return quote(fmt.Sprintf("$column_%d", i+1))
}

func isIdent(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func anyKind(kinds []string, want ...string) bool {
	for _, k := range kinds {
		for _, w := range want {
			if k == w || w != "text" && k == "named:"+w {
				return true
			}
		}
	}
	return false
}

// extraJSONFields is extraColumns for JSON lines read by the common key
// names: fields whose names say they hold a Host, an Origin or a key but
// which no common name reads are named, with the mapping that reads them.
func extraJSONFields(p *Parser, lines [][]byte) string {
	if p.name != nameJSON {
		return ""
	}
	known := map[string]bool{}
	for _, g := range genericKeys {
		for _, n := range g.names {
			known[n] = true
		}
	}
	want := map[string]string{} // role -> field
	for _, l := range lines {
		var m map[string]json.RawMessage
		if json.Unmarshal(l, &m) != nil {
			continue
		}
		for k := range m {
			lk := strings.ToLower(k)
			if known[lk] {
				continue
			}
			for _, role := range []struct{ role, hint string }{{"host", "host"}, {"origin", "origin"}, {"key", "key"}, {"key", "token"}, {"key", "auth"}} {
				if strings.Contains(lk, role.hint) && want[role.role] == "" {
					want[role.role] = k
				}
			}
		}
	}
	if len(want) == 0 {
		return ""
	}
	var names, spec []string
	for _, role := range []string{"host", "origin", "key"} {
		if f := want[role]; f != "" {
			names = append(names, f)
			spec = append(spec, role+"="+f)
		}
	}
	return "WARNING: the lines have field(s) " + strings.Join(names, ", ") + " that the common JSON names do not read; " +
		"if they are what they look like, map them (and the rest): --log-format json:" + strings.Join(spec, ",") + ",time=...,request=..."
}
