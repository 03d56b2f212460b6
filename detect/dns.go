package detect

import (
	"net/netip"
	"slices"
	"strings"
	"time"
)

// DNSAnswer is one DNS response a source saw: the name asked, the CNAME chain
// followed, and the A/AAAA addresses with the smallest TTL among them.
type DNSAnswer struct {
	Time     time.Time
	Source   string
	Client   netip.AddrPort // who asked (the stub resolver or browser host)
	Server   netip.AddrPort // the DNS server that answered
	Name     string         // lower-case, no trailing dot
	CNAMEs   []string       // the chain, in order
	Addrs    []netip.Addr
	TTL      uint32 // smallest TTL of the A/AAAA records (seconds)
	Rcode    int
	Private  bool // an address is loopback, private, link-local, CGNAT or unspecified, or the chain reaches localhost
	Flipped  bool // the name has had both public and private answers
	Internal bool // the name is the service's own: in [hosts] allowed or under [dns] internal_suffixes
}

// PrivateAddr reports whether a is an address a public name should never
// resolve to: loopback, RFC 1918, link-local, CGNAT (100.64/10), unspecified,
// IPv6 ULA (fc00::/7) or link-local (fe80::/10).
func PrivateAddr(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsLinkLocalMulticast() {
		return true
	}
	if a.Is4() {
		b := a.As4()
		return b[0] == 100 && b[1]&0xc0 == 64 || b[0] == 0
	}
	return false
}

// dnsName is what the engine remembers about one name's answers: the
// evidence the DNS detectors share.
type dnsName struct {
	hadPublic, hadPrivate bool
	privateUntil          time.Time // last private answer's time + TTL + margin
	lastPrivate           time.Time
	answers               []DNSAnswer // the most recent few, oldest first
}

// dnsAnswersKept bounds the answers remembered per name (evidence).
const dnsAnswersKept = 8

// dnsMargin is added to a private answer's TTL: resolvers and browsers keep
// answers a little past it.
const dnsMargin = 60 * time.Second

// observeDNS classifies a DNS answer, records it in the names table and
// hands it to the detectors.
func (e *Engine) observeDNS(a *DNSAnswer) {
	a.Name = strings.TrimRight(strings.ToLower(a.Name), ".")
	a.Internal = e.ownName(a.Name)
	for _, ip := range a.Addrs {
		if PrivateAddr(ip) {
			a.Private = true
		}
	}
	for _, c := range a.CNAMEs {
		if c = strings.TrimRight(strings.ToLower(c), "."); c == "localhost" || strings.HasSuffix(c, ".localhost") {
			a.Private = true
		}
	}
	st, ok := e.dnsNames.get(a.Name)
	if !ok {
		st = &dnsName{}
		e.dnsNames.put(a.Name, st)
	}
	if len(a.Addrs) > 0 || a.Private {
		if a.Private {
			st.hadPrivate = true
			st.lastPrivate = a.Time
			st.privateUntil = a.Time.Add(time.Duration(a.TTL)*time.Second + dnsMargin)
		} else {
			st.hadPublic = true
		}
	}
	a.Flipped = st.hadPublic && st.hadPrivate
	if len(st.answers) >= dnsAnswersKept {
		st.answers = slices.Delete(st.answers, 0, 1)
	}
	st.answers = append(st.answers, *a)
	e.dnsCount++
	e.out.add(output{dns: a})
	e.route(event{dns: a})
}

// ownName reports whether a DNS name is the service's own: one of [hosts]
// allowed, or under [dns] internal_suffixes. Such a name may resolve to a
// private address (internal APIs, split-horizon DNS): that is not rebinding.
func (e *Engine) ownName(name string) bool {
	return e.hostAllow.allowsName(name) || e.internalName(name)
}

// internalName reports whether name is under a [dns] internal_suffixes entry.
func (e *Engine) internalName(name string) bool {
	for _, s := range e.cfg.InternalSuffixes {
		s = strings.Trim(strings.ToLower(s), ".")
		if name == s || strings.HasSuffix(name, "."+s) {
			return true
		}
	}
	return false
}

func serverText(s netip.AddrPort) string {
	if !s.IsValid() {
		return "the server"
	}
	return s.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
