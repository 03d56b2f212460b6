package detect

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
)

// NormalizeHost lower-cases a Host value and drops the trailing dot of its
// name, keeping the port: "API.Example.com.:8080" -> "api.example.com:8080".
// It returns h itself when nothing changes, so the common case allocates nothing.
func NormalizeHost(h string) string {
	name, port := SplitHostPort(h)
	trimmed := strings.TrimRight(name, ".")
	if trimmed == name && !hasUpper(h) {
		return h
	}
	name = asciiLower(trimmed)
	if port == "" && !strings.HasSuffix(h, ":") {
		return name
	}
	return name + ":" + port
}

// SplitHostPort splits a Host value into name and port without validating
// it: "[::1]:8080" -> ("[::1]", "8080"), "a.b" -> ("a.b", ""). A bare IPv6
// address without brackets is all name. Brackets stay on IPv6 names so the
// normalised form can be shown and matched as written in an allowlist.
func SplitHostPort(h string) (name, port string) {
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return h, ""
		}
		if rest := h[end+1:]; strings.HasPrefix(rest, ":") {
			return h[:end+1], rest[1:]
		}
		return h[:end+1], ""
	}
	i := strings.LastIndexByte(h, ':')
	if i < 0 || strings.IndexByte(h[:i], ':') >= 0 {
		return h, ""
	}
	return h[:i], h[i+1:]
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// hostPattern is one compiled [hosts] allowed entry.
type hostPattern struct {
	raw      string
	name     string // lower-case ASCII (IDNs as punycode); for wildcards the domain after "*."
	port     string // "" = any port
	wildcard bool   // "*.domain": any subdomain of domain, not domain itself
	any      bool   // "*": everything
}

// CheckHostPattern reports why p cannot be an allowlist entry ([hosts]
// allowed, --allow-host), or nil: what proposes entries (--suggest-config,
// --import-allowlist) asks it, so it never proposes one the config refuses.
func CheckHostPattern(p string) error {
	_, err := compileHostPattern(p)
	return err
}

// CheckOriginPattern reports why o cannot be an [origins] allowed entry
// (--allow-origin), or nil; --suggest-config asks it before proposing one.
func CheckOriginPattern(o string) error {
	_, err := compileOrigins([]string{o})
	return err
}

// compileHostPattern parses "name", "name:port", "*.domain", "[v6]:port" or
// "*". An internationalised name is kept as the punycode browsers send
// (bücher.example is xn--bcher-kva.example on the wire).
func compileHostPattern(p string) (hostPattern, error) {
	raw := p
	p = strings.TrimSpace(p)
	switch {
	case p == "":
		return hostPattern{}, fmt.Errorf("empty host pattern")
	case p == "*":
		return hostPattern{raw: raw, any: true}, nil
	case strings.Contains(p, "://") || strings.ContainsAny(p, "/ ?#@"):
		return hostPattern{}, fmt.Errorf("host pattern %q must be a name, name:port or *.domain, not a URL", raw)
	case strings.ContainsFunc(p, func(r rune) bool {
		return r < 0x20 || r == 0x7f || r == '\\' || r == '"' || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029
	}):
		return hostPattern{}, fmt.Errorf("host pattern %q has a character no host name has", raw)
	}
	name, port := SplitHostPort(p)
	if strings.ContainsAny(p, "[]") && !bracketedIPv6(p, name) {
		return hostPattern{}, fmt.Errorf("host pattern %q: an IPv6 address goes in brackets, [::1] or [::1]:8080", raw)
	}
	switch {
	case strings.HasSuffix(p, ":") && port == "":
		return hostPattern{}, fmt.Errorf("host pattern %q ends with ':' but has no port", raw)
	case port == "*":
		port = ""
	case port != "":
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '+' {
			return hostPattern{}, fmt.Errorf("host pattern %q has a port that is not a number from 1 to 65535", raw)
		}
	}
	name = strings.TrimRight(name, ".")
	hp := hostPattern{raw: raw, port: port}
	if strings.HasPrefix(name, "*.") {
		hp.wildcard, name = true, name[2:]
	}
	if strings.Contains(name, "*") || name == "" {
		return hostPattern{}, fmt.Errorf("host pattern %q: a wildcard is only allowed as a leading \"*.\"", raw)
	}
	if strings.HasPrefix(name, ".") || strings.Contains(name, "..") {
		return hostPattern{}, fmt.Errorf("host pattern %q has an empty label (two dots in a row)", raw)
	}
	ascii, err := idnaLookup.ToASCII(name)
	if err != nil && !strings.HasPrefix(name, "[") {
		return hostPattern{}, fmt.Errorf("host pattern %q is not a host name: %v", raw, err)
	}
	if err == nil {
		name = ascii
	}
	hp.name = asciiLower(name)
	return hp, nil
}

// bracketedIPv6 reports whether p, whose name part is name, is an IPv6
// address in brackets with nothing after them but a port: "[::1]x" and
// "[not-an-address]" are neither a Host nor a pattern of one. A zone
// ("[fe80::1%eth0]") is not part of a Host.
func bracketedIPv6(p, name string) bool {
	if !strings.HasPrefix(name, "[") || !strings.HasSuffix(name, "]") || strings.Count(p, "[") != 1 || strings.Count(p, "]") != 1 {
		return false
	}
	if rest := p[len(name):]; rest != "" && rest[0] != ':' {
		return false
	}
	a, err := netip.ParseAddr(name[1 : len(name)-1])
	return err == nil && a.Is6() && a.Zone() == ""
}

// idnaLookup maps allowlist names as browsers map the names they look up;
// underscores are allowed (service names use them).
var idnaLookup = idna.New(idna.MapForLookup(), idna.StrictDomainName(false), idna.Transitional(false))

// match reports whether a normalised host name and port match the pattern.
func (p *hostPattern) match(name, port string) bool {
	if p.any {
		return true
	}
	if p.port != "" && p.port != port {
		return false
	}
	if p.wildcard {
		return len(name) > len(p.name)+1 && strings.HasSuffix(name, p.name) && name[len(name)-len(p.name)-1] == '.'
	}
	return name == p.name
}

// hostAllowlist is the compiled [hosts] allowed list, indexed: exact names
// in a map and wildcards by their domain, so a Host is checked in a few
// lookups whatever the list's length (100,000 entries cost 8 s per 50,000
// lines when checked one by one).
type hostAllowlist struct {
	patterns []hostPattern       // in order, for display
	exact    map[string][]string // name -> its ports ("" = any)
	wild     map[string][]string // domain after "*." -> ports
	any      bool
}

func compileHosts(list []string) (hostAllowlist, error) {
	var l hostAllowlist
	for _, s := range list {
		p, err := compileHostPattern(s)
		if err != nil {
			return hostAllowlist{}, err
		}
		l.add(p)
	}
	return l, nil
}

// add puts a compiled pattern in the list.
func (l *hostAllowlist) add(p hostPattern) {
	l.patterns = append(l.patterns, p)
	switch {
	case p.any:
		l.any = true
	case p.wildcard:
		if l.wild == nil {
			l.wild = map[string][]string{}
		}
		l.wild[p.name] = append(l.wild[p.name], p.port)
	default:
		if l.exact == nil {
			l.exact = map[string][]string{}
		}
		l.exact[p.name] = append(l.exact[p.name], p.port)
	}
}

func (l *hostAllowlist) len() int { return len(l.patterns) }

// allows reports whether a normalised Host is allowed on its port.
func (l *hostAllowlist) allows(host string) bool {
	name, port := SplitHostPort(host)
	return l.allowsOn(name, port, false)
}

// allowsName reports whether a name (no port) is one of the allowed names,
// on whatever port: a DNS name, a TLS server name, a Referer's host.
func (l *hostAllowlist) allowsName(name string) bool {
	return l.allowsOn(strings.TrimRight(asciiLower(name), "."), "", true)
}

// allowsOn looks name up with port; anyPort accepts a pattern on any port.
func (l *hostAllowlist) allowsOn(name, port string, anyPort bool) bool {
	if l.any {
		return true
	}
	ok := func(ports []string) bool {
		for _, p := range ports {
			if p == "" || p == port || anyPort {
				return true
			}
		}
		return false
	}
	if ports, found := l.exact[name]; found && ok(ports) {
		return true
	}
	if len(l.wild) == 0 || strings.HasPrefix(name, "[") {
		return false
	}
	// Each parent domain: "a.b.example.com" tries b.example.com, example.com, com.
	for i := strings.IndexByte(name, '.'); i >= 0; {
		if ports, found := l.wild[name[i+1:]]; found && ok(ports) {
			return true
		}
		j := strings.IndexByte(name[i+1:], '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// NormalizeOrigin serialises an Origin the way browsers compare them (RFC 6454
// §6.1): lower-case scheme and host, default port dropped, no path. "null"
// stays "null". A value that is not a URL is returned lower-cased as is.
func NormalizeOrigin(o string) string {
	// No trimming here: parsers drop the header's whitespace, and a value that
	// still has some is shown as it came.
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok {
		if hasUpper(o) {
			return asciiLower(o)
		}
		return o
	}
	clean := !hasUpper(o) && strings.IndexAny(rest, "/?#@") < 0
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	name, port := SplitHostPort(rest)
	lscheme := asciiLower(scheme)
	defaultPort := (lscheme == "http" && port == "80") || (lscheme == "https" && port == "443")
	if clean && !defaultPort && !strings.HasSuffix(name, ".") && !strings.HasSuffix(rest, ":") {
		return o
	}
	if defaultPort {
		port = ""
	}
	return lscheme + "://" + asciiLower(joinHostPort(strings.TrimRight(name, "."), port))
}

func joinHostPort(name, port string) string {
	if port == "" {
		return name
	}
	return name + ":" + port
}

// originPattern is one [origins] allowed entry: an exact origin, or a
// pattern: scheme://*.domain[:port] for any subdomain, scheme://host:* for
// any port (as the MCP SDKs write "http://localhost:*").
type originPattern struct {
	exact   string
	scheme  string
	host    hostPattern
	anyPort bool
	pattern bool
}

// originAllowlist is the compiled [origins] allowed list, indexed like the
// Hosts': exact origins in a set, patterns in a host allowlist per scheme,
// so an Origin costs a few lookups whatever the list's length.
type originAllowlist struct {
	exact    map[string]struct{}       // normalised origins, and "null"
	patterns map[string]*hostAllowlist // scheme -> its patterns, ports as originPort says
	n        int
}

// Ports in a scheme's pattern list: anyPort patterns ("http://localhost:*")
// are stored without a port, which the host allowlist matches on every
// port, and patterns without one ("https://*.a.com") with defaultPort,
// which only an Origin without a port (the scheme's default) is looked up
// with.
const defaultPort = "0"

func compileOrigins(list []string) (originAllowlist, error) {
	var l originAllowlist
	for _, s := range list {
		p, err := compileOrigin(s)
		if err != nil {
			return originAllowlist{}, err
		}
		l.add(p)
	}
	return l, nil
}

// compileOrigin parses one [origins] allowed entry.
func compileOrigin(s string) (originPattern, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return originPattern{}, fmt.Errorf("empty origin")
	}
	if s == "null" {
		return originPattern{exact: "null"}, nil
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme == "" || rest == "" {
		return originPattern{}, fmt.Errorf("origin %q must look like scheme://host[:port]", s)
	}
	rest = strings.TrimRight(rest, "/")
	if strings.ContainsAny(rest, "/?#") {
		return originPattern{}, fmt.Errorf("origin %q must not have a path", s)
	}
	anyPort := strings.HasSuffix(rest, ":*")
	if anyPort {
		rest = strings.TrimSuffix(rest, ":*")
	}
	if strings.HasPrefix(rest, "*.") || anyPort {
		hp, err := compileHostPattern(rest)
		if err != nil {
			return originPattern{}, fmt.Errorf("origin %q: %w", s, err)
		}
		if anyPort && hp.port != "" {
			return originPattern{}, fmt.Errorf("origin %q has two ports", s)
		}
		return originPattern{scheme: asciiLower(scheme), host: hp, anyPort: anyPort, pattern: true}, nil
	}
	exact, err := exactOrigin(NormalizeOrigin(scheme + "://" + rest))
	if err != nil {
		return originPattern{}, fmt.Errorf("origin %q: %w", s, err)
	}
	return originPattern{exact: exact}, nil
}

// add puts a compiled entry in the list.
func (l *originAllowlist) add(p originPattern) {
	l.n++
	if !p.pattern {
		if l.exact == nil {
			l.exact = map[string]struct{}{}
		}
		l.exact[p.exact] = struct{}{}
		return
	}
	if l.patterns == nil {
		l.patterns = map[string]*hostAllowlist{}
	}
	hosts := l.patterns[p.scheme]
	if hosts == nil {
		hosts = &hostAllowlist{}
		l.patterns[p.scheme] = hosts
	}
	hp := p.host
	switch {
	case p.anyPort:
		hp.port = ""
	case hp.port == "":
		hp.port = defaultPort
	}
	hosts.add(hp)
}

func (l *originAllowlist) len() int { return l.n }

// allows reports whether a normalised origin is allowed.
func (l *originAllowlist) allows(origin string) bool {
	if _, ok := l.exact[origin]; ok {
		return true
	}
	if len(l.patterns) == 0 {
		return false
	}
	scheme, rest, ok := strings.Cut(origin, "://")
	if !ok {
		return false
	}
	hosts := l.patterns[scheme]
	if hosts == nil {
		return false
	}
	name, port := SplitHostPort(rest)
	if port == "" {
		port = defaultPort
	}
	return hosts.allowsOn(name, port, false)
}

// exactOrigin checks a normalised origin's host by the host pattern rules
// and writes an internationalised name as the punycode browsers put in
// Origin (https://bücher.example is sent as https://xn--bcher-kva.example).
func exactOrigin(o string) (string, error) {
	scheme, host, _ := strings.Cut(o, "://")
	hp, err := compileHostPattern(host)
	switch {
	case err != nil:
		return "", err
	case hp.any || hp.wildcard:
		return "", fmt.Errorf("a wildcard goes as scheme://*.domain")
	}
	return scheme + "://" + joinHostPort(hp.name, hp.port), nil
}

// originHost returns the host[:port] of a normalised origin ("" for null).
func originHost(origin string) string {
	_, rest, ok := strings.Cut(origin, "://")
	if !ok {
		return ""
	}
	return rest
}

// RefererOrigin returns the origin part of a Referer URL ("" when it has none).
func RefererOrigin(ref string) string {
	scheme, rest, ok := strings.Cut(ref, "://")
	if !ok || scheme == "" || rest == "" {
		return ""
	}
	for _, c := range scheme {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return ""
		}
	}
	return NormalizeOrigin(ref)
}

// asciiLower lower-cases A-Z only. Host names compare case-insensitively in
// ASCII (RFC 4343); other bytes, including invalid UTF-8 that
// strings.ToLower would replace with U+FFFD, are kept as sent.
func asciiLower(s string) string {
	if !hasUpper(s) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// isASCII reports whether s has only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// memo remembers one value and what a function made of it.
type memo struct{ in, out string }

// of returns f(in), from the memo when in is the value it holds.
func (m *memo) of(in string, f func(string) string) string {
	if in != m.in || in == "" {
		m.in, m.out = in, f(in)
	}
	return m.out
}
