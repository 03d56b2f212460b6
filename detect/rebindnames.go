package detect

import (
	"encoding/hex"
	"net/netip"
	"strings"
)

// Rebinding services: public tools whose host names carry the addresses a
// rebinding page flips between. Such a name is never the API's own, so an
// alert on it is critical with the addresses decoded, whatever the
// allowlists say. Structures, as the tools document them:
//
//   - rbndr (github.com/taviso/rbndr): <ipv4 hex>.<ipv4 hex>.rbndr.us,
//     e.g. 7f000001.c0a80001.rbndr.us;
//   - whonow (github.com/brannondorsey/whonow):
//     A.<ip>.<rule>[.<ip>.<rule>...][.<uuid>].rebind.network, where a rule
//     is <n>time, <n>times, forever or repeat;
//   - Singularity of Origin (github.com/nccgroup/singularity):
//     s-<ip1>-<ip2>-<session>-<strategy>-e.<domain> (strategy fs, ma, rr
//     or rd; ip2 may be "localhost" or a CNAME; its newer form writes
//     addresses in hex);
//   - 1u.ms: make-<ip>-rebind-<ip>[-rebind-<ip>...]-rr.1u.ms and its
//     variants (rebindfor<time>, dashed addresses);
//   - IP-embedding names: 127.0.0.1.nip.io, 127-0-0-1.sslip.io, xip.io.
//
// rbndr, whonow, 1u.ms and the IP-embedding names are matched under their
// public domains and any domain in [rebinding] domains (self-hosted copies);
// Singularity's shape is distinctive enough to match under any domain.

// RebindTool names the rebinding service a host name belongs to.
type RebindTool string

// Rebinding services recognised.
const (
	ToolRbndr       RebindTool = "rbndr"
	ToolWhonow      RebindTool = "whonow"
	ToolSingularity RebindTool = "singularity"
	ToolOneUMS      RebindTool = "1u.ms"
	ToolIPEmbedding RebindTool = "ip-embedding"
)

// DefaultRebindDomains are the public domains of the services above.
func DefaultRebindDomains() []string {
	return []string{"rbndr.us", "rebind.network", "1u.ms", "nip.io", "sslip.io", "xip.io", "rebind.it"}
}

// RebindName is a recognised rebinding-service host name.
type RebindName struct {
	Tool  RebindTool
	Addrs []netip.Addr // the addresses it embeds, in order
}

// ParseRebindName recognises a rebinding-service host name (any case, with
// or without a port or trailing dot) under domains (see DefaultRebindDomains).
func ParseRebindName(host string, domains []string) (RebindName, bool) {
	name, _ := SplitHostPort(host)
	if !mayBeRebindName(name, domains) {
		return RebindName{}, false // the common case, without allocating
	}
	name = strings.TrimRight(strings.ToLower(name), ".")
	if r, ok := parseSingularity(name); ok {
		return r, true
	}
	labels := strings.Split(name, ".")
	for _, d := range domains {
		d = strings.Trim(strings.ToLower(d), ".")
		if d == "" || !strings.HasSuffix(name, "."+d) {
			continue
		}
		head := labels[:len(labels)-strings.Count(d, ".")-1]
		for _, parse := range []func([]string) (RebindName, bool){parseRbndr, parseWhonow, parseOneUMS, parseIPEmbedding} {
			if r, ok := parse(head); ok {
				return r, true
			}
		}
	}
	return RebindName{}, false
}

// mayBeRebindName is a cheap first look: a Singularity shape or a name
// under one of the domains.
func mayBeRebindName(name string, domains []string) bool {
	name = strings.TrimRight(name, ".")
	if strings.Contains(name, "-e.") || strings.Contains(name, "-E.") {
		return true
	}
	for _, d := range domains {
		d = strings.Trim(d, ".")
		if len(name) > len(d) && name[len(name)-len(d)-1] == '.' && strings.EqualFold(name[len(name)-len(d):], d) {
			return true
		}
	}
	return false
}

// parseRbndr reads <hex ipv4>.<hex ipv4>.
func parseRbndr(head []string) (RebindName, bool) {
	if len(head) != 2 {
		return RebindName{}, false
	}
	var r RebindName
	for _, l := range head {
		a, ok := hexAddr(l)
		if !ok || len(l) != 8 {
			return RebindName{}, false
		}
		r.Addrs = append(r.Addrs, a)
	}
	r.Tool = ToolRbndr
	return r, true
}

// parseWhonow reads A.<ip>.<rule>[.<ip>.<rule>...][.<id>...].
func parseWhonow(head []string) (RebindName, bool) {
	if len(head) < 6 || head[0] != "a" {
		return RebindName{}, false
	}
	r := RebindName{Tool: ToolWhonow}
	rest := head[1:]
	for len(rest) >= 5 {
		a, err := netip.ParseAddr(strings.Join(rest[:4], "."))
		if err != nil || !a.Is4() || !whonowRule(rest[4]) {
			break
		}
		r.Addrs = append(r.Addrs, a)
		rest = rest[5:]
	}
	return r, len(r.Addrs) > 0
}

func whonowRule(l string) bool {
	switch l {
	case "forever", "repeat":
		return true
	}
	n := strings.TrimSuffix(strings.TrimSuffix(l, "s"), "time")
	return n != l && n != "" && strings.Trim(n, "0123456789") == ""
}

// parseSingularity reads s-<ip1>-<ip2>-<session>-<strategy>-e.<domain>.
func parseSingularity(name string) (RebindName, bool) {
	start := strings.Index(name, "s-")
	end := strings.Index(name, "-e.")
	if start < 0 || end < start+2 || (start > 0 && name[start-1] != '.') || end+3 >= len(name) { // "s-e.x": the fields would run backwards
		return RebindName{}, false
	}
	// "--" escapes a dash inside a CNAME target.
	fields := strings.Split(strings.ReplaceAll(name[start+2:end], "--", "_"), "-")
	if len(fields) != 4 || fields[2] == "" || !singularityStrategy(fields[3]) {
		return RebindName{}, false
	}
	r := RebindName{Tool: ToolSingularity}
	a, ok := embeddedAddr(fields[0])
	if !ok {
		return RebindName{}, false
	}
	r.Addrs = append(r.Addrs, a)
	if b, ok := embeddedAddr(fields[1]); ok {
		r.Addrs = append(r.Addrs, b)
	} else if fields[1] == "localhost" {
		r.Addrs = append(r.Addrs, netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	}
	return r, true
}

func singularityStrategy(s string) bool {
	switch s {
	case "fs", "ma", "rr", "rd", "fromqueryfirstthensecond", "fromquerymultia", "fromqueryroundrobin", "fromqueryrandom":
		return true
	}
	return false
}

// parseOneUMS reads make-<ip>-rebind[for<t>]-<ip>[...][-rr] (1u.ms).
func parseOneUMS(head []string) (RebindName, bool) {
	s := strings.Join(head, ".")
	if !strings.HasPrefix(s, "make-") {
		return RebindName{}, false
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "make-"), "-rr")
	r := RebindName{Tool: ToolOneUMS}
	for part := range strings.SplitSeq(s, "-rebind") {
		// "for10s-1.2.3.4" after rebindfor<time>; a bare "-1.2.3.4" after rebind.
		if i := strings.IndexByte(part, '-'); i >= 0 && strings.HasPrefix(part, "for") {
			part = part[i+1:]
		}
		part = strings.TrimPrefix(part, "-")
		a, ok := embeddedAddr(part)
		if !ok {
			return RebindName{}, false
		}
		r.Addrs = append(r.Addrs, a)
	}
	return r, len(r.Addrs) >= 2
}

// parseIPEmbedding reads [anything.]<ip>, the IP dotted or dashed, as the
// last labels before the domain (nip.io, sslip.io, xip.io).
func parseIPEmbedding(head []string) (RebindName, bool) {
	if n := len(head); n >= 4 {
		if a, err := netip.ParseAddr(strings.Join(head[n-4:], ".")); err == nil && a.Is4() {
			return RebindName{Tool: ToolIPEmbedding, Addrs: []netip.Addr{a}}, true
		}
	}
	if n := len(head); n >= 1 {
		l := head[n-1]
		if i := strings.LastIndexByte(l, '.'); i >= 0 {
			l = l[i+1:]
		}
		// "app-127-0-0-1" or "127-0-0-1"; IPv6 as "--1" for ::1 (sslip.io).
		if a, ok := dashedAddr(l); ok {
			return RebindName{Tool: ToolIPEmbedding, Addrs: []netip.Addr{a}}, true
		}
	}
	return RebindName{}, false
}

// embeddedAddr reads an address written dotted, dashed, or in hex (8 digits
// for IPv4, 32 for IPv6).
func embeddedAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if a, ok := hexAddr(s); ok {
		return a, true
	}
	return dashedAddr(s)
}

// dashedAddr reads the last four dash-separated numbers as an IPv4 address
// ("127-0-0-1", "app-10-0-0-1"), or a dashed IPv6 address ("--1").
func dashedAddr(s string) (netip.Addr, bool) {
	parts := strings.Split(s, "-")
	if n := len(parts); n >= 4 {
		if a, err := netip.ParseAddr(strings.Join(parts[n-4:], ".")); err == nil && a.Is4() {
			return a, true
		}
	}
	if strings.Contains(s, "--") || strings.Count(s, "-") >= 7 {
		if a, err := netip.ParseAddr(strings.ReplaceAll(s, "-", ":")); err == nil && a.Is6() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// hexAddr reads 8 hex digits as IPv4 or 32 as IPv6.
func hexAddr(s string) (netip.Addr, bool) {
	if len(s) != 8 && len(s) != 32 {
		return netip.Addr{}, false
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return netip.Addr{}, false
	}
	a, _ := netip.AddrFromSlice(b)
	return a, true
}

// addrsText lists addresses for a message.
func addrsText(addrs []netip.Addr) string {
	var b strings.Builder
	for i, a := range addrs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	return b.String()
}
