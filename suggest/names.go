package suggest

import (
	"net/netip"
	"strings"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Proposal rules, shared by hosts and origins.
const (
	// minShare is the share of the keyed traffic (to names, or with an
	// Origin) that a value outside the majority needs, with minKeys keys.
	minShare = 0.01
	minKeys  = 2
	// minCoreWeight is what a value after the first needs to count towards
	// the majority when keys are unknown: one stray request must not ride
	// along in a tiny input.
	minCoreWeight = 2
	// minWildcard is how many proposed names under one parent become one
	// "*.parent" pattern.
	minWildcard = 3
	// maxListed caps the commented list of values not proposed.
	maxListed = 30
	// maxCovered caps the names listed as also matched by a wildcard.
	maxCovered = 5
)

// Reasons a value is not proposed.
const (
	reasonEmpty     = "empty Host header"
	reasonIP        = "IP literal: looks like a scanner or a rebinding attempt"
	reasonLocal     = "localhost: only pages on the server itself use it; looks like a scanner or a rebinding attempt"
	reasonInvalid   = "not a valid host name"
	reasonNoKey     = "seen only without a key"
	reasonOneKey    = "a single key (the service's names are used by several)"
	reasonSmall     = "under 1% of the traffic to names, outside the names that carry most of it"
	reasonNoOrigin  = "not an origin (scheme://host[:port])"
	reasonIPOrigin  = "IP literal or localhost origin: a local page, a scanner or a rebinding attempt; allow it by hand if it is your front end"
	reasonReferer   = "seen only in a Referer (no Origin header)"
	reasonOneKeyOrg = "a single key (the service's own front ends are used by several)"
	reasonSmallOrg  = "under 1% of the traffic with an origin, outside the origins that carry most of it"
)

// candidate is one Host name or Origin being considered.
type candidate struct {
	value    string // normalised (hosts: without the port)
	requests uint64 // all requests
	keyed    uint64
	keys     keySet
	weight   uint64 // what the rules rank by: keyed requests (all requests when the input shows no key)
	nkeys    int    // distinct keys behind weight (0 when unknown)
	reason   string // why it is not proposed, "" while eligible
	proposed bool

	// Hosts: the ports it was seen with.
	ports     []string
	morePorts int
	bare      bool // seen without a port

	// Origins: requests without Origin whose Referer had it.
	refRequests uint64
	refKeyed    uint64
}

// choose marks the proposed candidates among the eligible ones (reason ""):
// a value needs keyed traffic from minKeys or more keys (unless the whole
// input has fewer keys: a single-key setup), and then either belongs to the
// fewest values that together carry more than half the weight of such
// values, or has at least minShare of it. Single-key evidence is weak
// whatever its volume: one stolen key can make any number of requests to an
// attacker's name. When the input shows no key at all (blind), volume is all
// there is: the majority, then minShare with at least 3 requests.
// cands must be sorted by weight, heaviest first. It returns the weight of
// the values the majority is counted over.
func choose(cands []*candidate, blind bool, keysInInput int, smallReason, oneKeyReason string) uint64 {
	needKeys := min(minKeys, max(keysInInput, 1))
	var total uint64
	for _, c := range cands {
		if c.reason == "" && !blind && c.nkeys < needKeys {
			c.reason = oneKeyReason
		}
		if c.reason == "" {
			total += c.weight
		}
	}
	var cum uint64
	core := true
	for _, c := range cands {
		if c.reason != "" {
			continue
		}
		if core && cum*2 <= total && (cum == 0 || !blind || c.weight >= minCoreWeight) {
			c.proposed = true
			cum += c.weight
			continue
		}
		core = false
		share := float64(c.weight) / float64(total)
		switch {
		case share < minShare, blind && c.weight < 3:
			c.reason = smallReason
		default:
			c.proposed = true
		}
	}
	return total
}

// hostReason classifies a normalised Host name (port removed) that can
// never be proposed; "" when it may be.
func hostReason(name string) string {
	switch {
	case name == "":
		return reasonEmpty
	case isIPLiteral(name):
		return reasonIP
	case isLocalhost(name):
		return reasonLocal
	case !validHostName(name):
		return reasonInvalid
	}
	return ""
}

// isIPLiteral reports whether a host name is an address rather than a name:
// a bracketed IPv6 literal, an address netip parses, or (as browsers parse
// hosts, WHATWG URL "ends in a number") a name whose last label is a number,
// which catches 2130706433, 0x7f.1 and 127.1.
func isIPLiteral(name string) bool {
	if strings.HasPrefix(name, "[") {
		return true
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return true
	}
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") {
		last = last[2:]
		for i := 0; i < len(last); i++ {
			c := last[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return false
		}
	}
	return true
}

// isLocalhost reports whether a name is loopback by definition (RFC 6761
// §6.3: localhost and every name under it).
func isLocalhost(name string) bool {
	return name == "localhost" || strings.HasSuffix(name, ".localhost") || name == "localhost.localdomain" ||
		name == "ip6-localhost" || name == "ip6-loopback"
}

// validHostName reports whether a lower-cased name is made of DNS labels
// (letters, digits, '-', '_') that the config takes as a pattern, so that
// it is safe to propose.
func validHostName(name string) bool {
	if len(name) == 0 || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if len(label) == 0 || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return detect.CheckHostPattern(name) == nil // IDNA's rules too: no label starts or ends with '-'
}

// wildcardParent returns the parent domain of a proposed name when a
// "*.parent" pattern would be reasonable: the parent has at least two
// labels and is not a two-label public suffix such as co.uk.
func wildcardParent(name string) (string, bool) {
	_, parent, ok := strings.Cut(name, ".")
	if !ok || !strings.Contains(parent, ".") {
		return "", false
	}
	first, tld, _ := strings.Cut(parent, ".")
	if !strings.Contains(tld, ".") && len(tld) == 2 {
		switch first {
		case "co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gv", "mil", "ltd", "plc", "nom", "sch":
			return "", false
		}
	}
	return parent, true
}

// matchesWildcard reports whether name is a subdomain of parent.
func matchesWildcard(name, parent string) bool {
	return len(name) > len(parent)+1 && strings.HasSuffix(name, parent) && name[len(name)-len(parent)-1] == '.'
}

// originReason classifies a normalised origin that can never be proposed.
func originReason(o string) string {
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok || scheme == "" || rest == "" {
		return reasonNoOrigin
	}
	for i := 0; i < len(scheme); i++ {
		c := scheme[i]
		if !(c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return reasonNoOrigin
		}
	}
	name, port := detect.SplitHostPort(rest)
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		return reasonIPOrigin
	}
	if strings.Contains(rest, ":") && port == "" && !strings.HasSuffix(rest, "]") {
		return reasonNoOrigin
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return reasonNoOrigin
		}
	}
	switch {
	case name == "":
		return reasonNoOrigin
	case isIPLiteral(name), isLocalhost(name):
		return reasonIPOrigin
	case !validHostName(name), detect.CheckOriginPattern(o) != nil: // a port from 1 to 65535, as the config takes it
		return reasonNoOrigin
	}
	return ""
}
