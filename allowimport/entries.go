package allowimport

import (
	"fmt"
	"net"
	"strings"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// conv collects what one converter found: patterns, de-duplicated in the
// order they were found, and notes.
type conv struct {
	file    string // base name, for notes
	res     Result
	hosts   map[string]bool
	origins map[string]bool
	dropped int // notes beyond maxNotes
}

// maxNotes bounds the notes kept for one file; the rest are counted.
const maxNotes = 200

func newConv(file, framework string) *conv {
	return &conv{file: sanitize.String(file), res: Result{Framework: framework}, hosts: map[string]bool{}, origins: map[string]bool{}}
}

// note records one sentence about line (0: the whole file).
func (c *conv) note(line int, format string, args ...any) {
	if len(c.res.Notes) >= maxNotes {
		c.dropped++
		return
	}
	msg := sanitize.String(fmt.Sprintf(format, args...))
	if line > 0 {
		c.res.Notes = append(c.res.Notes, fmt.Sprintf("%s:%d: %s", c.file, line, msg))
		return
	}
	c.res.Notes = append(c.res.Notes, c.file+": "+msg)
}

func (c *conv) result() Result {
	if c.dropped > 0 {
		c.res.Notes = append(c.res.Notes, fmt.Sprintf("%s: %d more notes were left out", c.file, c.dropped))
	}
	return c.res
}

func (c *conv) host(h string) {
	if !c.hosts[h] {
		c.hosts[h] = true
		c.res.Hosts = append(c.res.Hosts, h)
	}
}

func (c *conv) origin(o string) {
	if !c.origins[o] {
		c.origins[o] = true
		c.res.Origins = append(c.res.Origins, o)
	}
}

// q quotes an entry for a note: sanitised, bounded, in single quotes.
func q(s string) string {
	s = sanitize.String(s)
	if len(s) > maxRaw {
		s = s[:maxRaw] + "..."
	}
	return "'" + s + "'"
}

// portPolicy says what an application does with a port written in an entry.
type portPolicy uint8

const (
	portKeep  portPolicy = iota // "name:port" allows that port only (Rails, MCP)
	portStrip                   // the port is ignored: "name:port" allows name on any port (werkzeug)
	portDead                    // Hosts are compared without their port, so the entry never matches (Django, Vite, webpack)
)

// hostRules describe one framework's Host allowlist syntax.
type hostRules struct {
	setting     string // the setting's name, for notes
	leadingDot  bool   // ".example.com" = example.com and all its subdomains
	starNative  bool   // "*.example.com" is the framework's own wildcard
	ports       portPolicy
	anyPort     bool // "name:*" means any port (MCP Python)
	noPortExact bool // "name" matches only a Host without a port (MCP exact matching)
	starLiteral bool // "*" is compared literally, it is no wildcard (MCP TypeScript)
}

// addHost converts one allowlist entry to rebindwatch patterns.
func (c *conv) addHost(raw string, line int, r hostRules) {
	s := strings.ToLower(strings.TrimSpace(raw))
	switch {
	case s == "":
		c.note(line, "%s has an empty entry; skipped", r.setting)
		return
	case s == "*" && r.starLiteral:
		c.note(line, "%s entry '*' is compared literally by the application, it is not a wildcard; skipped", r.setting)
		return
	case s == "*":
		c.note(line, "%s contains '*': the application accepts every Host, so rebindwatch's Host check would never fire; not imported (list the names the application is really served under)", r.setting)
		return
	}
	if r.leadingDot && strings.HasPrefix(s, ".") && !strings.HasPrefix(s, "..") {
		name, port, ok := c.hostParts(s[1:], raw, line, r)
		if !ok {
			return
		}
		c.host(joinHostPort(name, port))
		// The subdomains, when rebindwatch can say them: an address has
		// none, and "*." cannot go before a wildcard.
		if sub := joinHostPort("*."+name, port); detect.CheckHostPattern(sub) == nil {
			c.host(sub)
		} else {
			c.note(line, "%s entry %s: its subdomains cannot be written as a pattern; imported as %s alone", r.setting, q(raw), name)
		}
		return
	}
	name, port, ok := c.hostParts(s, raw, line, r)
	if !ok {
		return
	}
	if strings.HasPrefix(name, "*.") && !r.starNative {
		c.note(line, "%s entry %s is not a wildcard for this application (it compares it literally); imported as rebindwatch's wildcard for any subdomain", r.setting, q(raw))
	}
	if r.noPortExact && port == "" && !strings.HasSuffix(s, ":*") {
		c.note(line, "%s entry %s matches only a Host without a port in the application; rebindwatch's %s allows every port", r.setting, q(raw), name)
	}
	c.host(joinHostPort(name, port))
}

// hostParts splits and validates an entry; it writes the note when the
// entry cannot be imported.
func (c *conv) hostParts(s, raw string, line int, r hostRules) (name, port string, ok bool) {
	// A bare IPv6 address ("::1") has no port; bracket it as in a Host.
	if strings.Count(s, ":") >= 2 && !strings.HasPrefix(s, "[") {
		if ip := net.ParseIP(s); ip != nil {
			return "[" + canonicalIP(s, ip) + "]", "", true
		}
	}
	name, port = detect.SplitHostPort(s)
	switch {
	case port == "*" && r.anyPort:
		port = ""
	case port == "*":
		c.note(line, "%s entry %s has a port wildcard the application does not support; skipped", r.setting, q(raw))
		return "", "", false
	case port != "" && !validPort(port):
		c.note(line, "%s entry %s does not end in a port number; skipped", r.setting, q(raw))
		return "", "", false
	case port != "" && r.ports == portStrip:
		c.note(line, "%s entry %s has a port the application ignores (any port is allowed); imported without it", r.setting, q(raw))
		port = ""
	case port != "" && r.ports == portDead:
		c.note(line, "%s entry %s has a port, but the application compares Hosts without their port, so it never matches; skipped", r.setting, q(raw))
		return "", "", false
	}
	if strings.HasSuffix(s, ":") {
		c.note(line, "%s entry %s ends in ':' with no port; skipped", r.setting, q(raw))
		return "", "", false
	}
	canon, why := hostName(name)
	if why != "" {
		c.note(line, "%s entry %s %s; skipped", r.setting, q(raw), why)
		return "", "", false
	}
	return canon, port, true
}

// hostName validates and normalises a host name without its port: lower
// case, no trailing dot, IPv6 in brackets, "*." only in front. It returns
// why it is not a name.
func hostName(name string) (string, string) {
	if strings.HasPrefix(name, "[") {
		inner := strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
		ip := net.ParseIP(inner)
		if !strings.HasSuffix(name, "]") || ip == nil || !strings.Contains(inner, ":") {
			return "", "is not a valid IPv6 address"
		}
		return "[" + canonicalIP(inner, ip) + "]", ""
	}
	name = strings.TrimSuffix(name, ".")
	wild := strings.HasPrefix(name, "*.")
	if wild {
		name = name[2:]
	}
	if strings.Contains(name, "*") {
		return "", "has a wildcard rebindwatch cannot express (only a leading '*.' is)"
	}
	if !isASCII(name) {
		// The IDNA mapping needs golang.org/x/text, which the module does
		// not carry; clients send the ASCII (xn--) form anyway.
		return "", "is not ASCII; write the name in its xn-- (punycode) form"
	}
	if name == "" || len(name) > 253 {
		return "", "is not a host name"
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return "", "is not a host name"
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
				return "", "is not a host name"
			}
		}
	}
	if wild {
		name = "*." + name
	}
	if err := detect.CheckHostPattern(name); err != nil {
		return "", "is not a host name by IDNA's rules (a label that starts or ends with '-', or a bad xn-- label)"
	}
	return name, ""
}

func canonicalIP(s string, ip net.IP) string {
	if ip.To4() != nil { // an IPv4-mapped form: keep it as written
		return s
	}
	return ip.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n >= 1 && n <= 65535
}

func joinHostPort(name, port string) string {
	if port == "" {
		return name
	}
	return name + ":" + port
}

// originRules describe one framework's Origin allowlist syntax.
type originRules struct {
	setting      string
	anyPort      bool // "scheme://host:*" (MCP Python): rebindwatch cannot say it
	wildcardApex bool // "https://*.example.com" also allows https://example.com (Django)
}

// addOrigin converts one origin entry: scheme://host[:port] or
// scheme://*.domain[:port].
func (c *conv) addOrigin(raw string, line int, r originRules) {
	s := strings.TrimSpace(raw)
	if s == "*" {
		c.note(line, "%s contains '*': every Origin is accepted, so rebindwatch's Origin check would never fire; not imported", r.setting)
		return
	}
	if strings.EqualFold(s, "null") {
		c.note(line, "%s allows the 'null' origin; set allow_null = true in [origins] to match", r.setting)
		return
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !validScheme(scheme) || rest == "" {
		c.note(line, "%s entry %s is not scheme://host[:port]; skipped", r.setting, q(raw))
		return
	}
	scheme = strings.ToLower(scheme)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		if strings.Trim(rest[i:], "/") != "" {
			c.note(line, "%s entry %s has a path, which an Origin never has; imported without it", r.setting, q(raw))
		}
		rest = rest[:i]
	}
	if strings.Contains(rest, "@") {
		c.note(line, "%s entry %s has user information, which an Origin never has; skipped", r.setting, q(raw))
		return
	}
	name, port := detect.SplitHostPort(strings.ToLower(rest))
	anyPort := false
	if port == "*" {
		if !r.anyPort {
			c.note(line, "%s entry %s has a port wildcard the application does not support; skipped", r.setting, q(raw))
			return
		}
		anyPort, port = true, "" // rebindwatch's [origins] takes scheme://host:* too
	}
	if port != "" && !validPort(port) || strings.HasSuffix(rest, ":") {
		c.note(line, "%s entry %s does not end in a port number; skipped", r.setting, q(raw))
		return
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = "" // browsers omit the default port from an Origin
	}
	canon, why := hostName(name)
	if why != "" {
		c.note(line, "%s entry %s: the host %s; skipped", r.setting, q(raw), why)
		return
	}
	if anyPort {
		c.origin(scheme + "://" + canon + ":*")
		return
	}
	c.origin(scheme + "://" + joinHostPort(canon, port))
	if r.wildcardApex && strings.HasPrefix(canon, "*.") {
		c.origin(scheme + "://" + joinHostPort(canon[2:], port))
	}
}

func validScheme(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '+' || ch == '-' || ch == '.') {
			return false
		}
	}
	return true
}

// dynamicNote reports an element whose value is only known when the
// application runs.
func (c *conv) dynamicNote(e elem, setting string) {
	what := e.raw
	if what == "" {
		what = e.val
	}
	switch {
	case e.kind == eString && e.dyn:
		c.note(e.line, "%s entry %s is filled in when the application runs; not imported", setting, q(what))
	default:
		c.note(e.line, "%s entry %s is computed when the application runs; not imported", setting, q(what))
	}
}

// regexHosts turns the few host regexes that are a domain and its
// subdomains written the long way (Rails /.*\.example\.com/, nginx
// ~^(www\.)?example\.com$, (staging|qa)\.example\.net) into rebindwatch
// patterns. Anything else is reported as not convertible: ok is false.
func regexHosts(re string) (hosts []string, ok bool) {
	s := re
	for _, p := range []string{`\A`, `^`} {
		s = strings.TrimPrefix(s, p)
	}
	for _, p := range []string{`\z`, `\Z`, `$`} {
		s = strings.TrimSuffix(s, p)
	}
	for _, p := range []string{`(:\d+)?`, `(?::\d+)?`, `(:[0-9]+)?`, `(?::[0-9]+)?`} {
		s = strings.TrimSuffix(s, p)
	}
	sub, optional := "", false
	// A group in front: (sub\.)? (sub\.) (sub)\. with (?: (?<name> (?P<name> allowed.
	if rest, ok := strings.CutPrefix(s, "("); ok {
		rest = strings.TrimPrefix(rest, "?:")
		if strings.HasPrefix(rest, "?<") || strings.HasPrefix(rest, "?P<") {
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return nil, false
			}
			rest = rest[end+1:]
		}
		end := strings.IndexByte(rest, ')')
		if end < 0 || strings.Contains(rest[:end], "(") {
			return nil, false
		}
		inner, after := rest[:end], rest[end+1:]
		if inner2, ok := strings.CutSuffix(inner, `\.`); ok {
			sub = inner2
			if a, ok := strings.CutPrefix(after, "?"); ok {
				optional, after = true, a
			}
		} else if a, ok := strings.CutPrefix(after, `\.`); ok {
			sub, after = inner, a
		} else {
			return nil, false
		}
		if sub == "" {
			return nil, false
		}
		s = after
	} else {
		for _, p := range subdomainRegexes {
			if strings.HasPrefix(s, p+`\.`) {
				sub, s = p, s[len(p)+2:]
				break
			}
		}
	}
	if !isDomainRegex(s) {
		return nil, false
	}
	domain := strings.ReplaceAll(s, `\.`, ".")
	if _, why := hostName(strings.ToLower(domain)); why != "" {
		return nil, false
	}
	domain = strings.ToLower(domain)
	if optional {
		hosts = append(hosts, domain)
	}
	switch {
	case sub == "":
		hosts = append(hosts, domain)
	case isSubdomainRegex(sub):
		hosts = append(hosts, "*."+domain)
	default:
		// (www|api)\. : literal alternatives
		for _, alt := range strings.Split(sub, "|") {
			if !isDomainRegex(alt) {
				return nil, false
			}
			hosts = append(hosts, strings.ToLower(strings.ReplaceAll(alt, `\.`, "."))+"."+domain)
		}
	}
	for i, h := range hosts {
		canon, why := hostName(h)
		if why != "" {
			return nil, false
		}
		hosts[i] = canon
	}
	return hosts, true
}

// subdomainRegexes match one or more labels; rebindwatch's "*." matches any
// depth, which is the same or a little wider.
var subdomainRegexes = []string{`.*`, `.+`, `[^.]+`, `[^\.]+`, `[a-z0-9-]+`, `[a-z0-9\-]+`, `[a-zA-Z0-9-]+`,
	`[A-Za-z0-9-]+`, `[\w-]+`, `[\w\-]+`, `\w+`, `[a-z0-9_-]+`, `[\w.-]+`, `[a-z0-9.-]+`}

func isSubdomainRegex(s string) bool {
	for _, p := range subdomainRegexes {
		if s == p {
			return true
		}
	}
	return false
}

// isDomainRegex reports whether s is a literal domain. Dots are usually
// escaped; an unescaped one matches any character, and is read as the dot
// it was meant to be.
func isDomainRegex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\' && i+1 < len(s) && s[i+1] == '.':
			i++
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '-', ch == '_', ch == '.':
		default:
			return false
		}
	}
	return true
}
