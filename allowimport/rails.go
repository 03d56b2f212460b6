package allowimport

import (
	"net"
	"strings"
)

// Rails, from the Configuring guide (guides.rubyonrails.org/configuring.html,
// config.hosts) and ActionDispatch::HostAuthorization (actionpack
// lib/action_dispatch/middleware/host_authorization.rb):
//
//   - "config.hosts: An array of strings, regular expressions, or IPAddr used
//     to validate the Host header." Rails.application.config.hosts <<
//     "product.com" allows that name.
//   - A String becomes /\A#{Regexp.escape host}#{PORT_REGEX}?\z/i: the name on
//     any port; an entry written with a port allows that port.
//   - A String starting with "." becomes
//     /\A([a-z0-9-]+\.)?#{Regexp.escape host[1..]}#{PORT_REGEX}?\z/i: the
//     domain and ONE level of subdomain. rebindwatch's "*.domain" allows any
//     depth, which is wider; each such entry gets a note.
//   - A Regexp becomes /\A#{regexp}#{PORT_REGEX}?\z/: only the trivial
//     "subdomains of a domain" forms are converted.
//   - An IPAddr matches the address of an IP Host: a single address is
//     imported, a range is noted and skipped.
//   - An empty list turns the check off (config.hosts.clear).
//   - In development the defaults are ".localhost", 0.0.0.0/0 and ::/0
//     (ALLOWED_HOSTS_IN_DEVELOPMENT).

var railsHosts = hostRules{setting: "config.hosts", leadingDot: true, ports: portKeep}

func convertRails(c *conv, p *parser) {
	found := false
	for i, t := range p.toks {
		if t.kind != tIdent || !p.isPunct(i-1, ".") || !p.isIdent(i-2, "config") {
			continue
		}
		switch t.text {
		case "hosts":
			found = true
			c.railsHosts(p, i)
		case "host_authorization":
			c.note(t.line, "config.host_authorization is set: requests it excludes (e.g. a health check path) skip the Host check; rebindwatch checks them all")
		}
	}
	if !found {
		c.note(0, "no config.hosts setting found: outside development Rails does no Host check")
	}
	if strings.Contains(strings.ToLower(c.file), "development") {
		c.host("localhost")
		c.host("*.localhost")
		c.note(0, "in development Rails also allows .localhost and every IP address (ALLOWED_HOSTS_IN_DEVELOPMENT); localhost and *.localhost were added, IP addresses cannot be written as one rebindwatch pattern")
	}
}

// railsHosts reads what follows config.hosts at token i.
func (c *conv) railsHosts(p *parser, i int) {
	j := i + 1
	line := p.tok(i).line
	switch {
	case p.isPunct(j, "<<"):
		for p.isPunct(j, "<<") {
			els, _, k := p.expr(j + 1)
			if k == j+1 {
				return
			}
			c.railsElems(els)
			j = k
		}
	case p.isPunct(j, "=") || p.isPunct(j, "+="):
		els, _, _ := p.expr(j + 1)
		if p.isPunct(j, "=") && len(els) == 0 {
			c.note(line, "config.hosts is set to an empty list, which turns Rails' Host check off")
		}
		c.railsElems(els)
	case p.isPunct(j, ".") && p.tok(j+1).kind == tIdent:
		switch m := p.tok(j + 1).text; m {
		case "clear":
			c.note(line, "config.hosts.clear turns Rails' Host check off (entries added after it turn it back on)")
		case "push", "append", "concat", "unshift", "prepend", "<<":
			k := j + 2
			if p.isPunct(k, "(") {
				args, _ := p.elems(k+1, ")")
				c.railsElems(args)
				return
			}
			for {
				els, _, next := p.expr(k)
				if next == k {
					return
				}
				c.railsElems(els)
				if !p.isPunct(next, ",") {
					return
				}
				k = next + 1
			}
		case "delete", "reject!", "delete_if", "select!", "keep_if":
			c.note(line, "config.hosts.%s removes entries when the application starts; they were not removed here", m)
		}
	}
}

func (c *conv) railsElems(els []elem) {
	for _, e := range els {
		switch {
		case e.kind == eString && !e.dyn:
			if v := strings.TrimSpace(e.val); strings.HasPrefix(v, ".") && len(v) > 1 {
				c.note(e.line, "config.hosts entry %s allows %s and one level of subdomain in Rails; rebindwatch's *.%s allows deeper subdomains too", q(v), detectSafe(v[1:]), detectSafe(v[1:]))
			}
			c.addHost(e.val, e.line, railsHosts)
		case e.kind == eRegex && !e.dyn:
			hosts, ok := regexHosts(e.val)
			if !ok {
				c.note(e.line, "config.hosts regex %s is not a plain domain or subdomain pattern; skipped", q(e.raw))
				continue
			}
			for _, h := range hosts {
				c.host(h)
			}
			c.note(e.line, "config.hosts regex %s was imported as %s", q(e.raw), strings.Join(hosts, ", "))
		case e.kind == eCall && e.val == "IPAddr.new" && len(e.args) == 1 && e.args[0].kind == eString:
			c.railsIPAddr(e)
		case e.kind == eNil:
			c.note(e.line, "config.hosts entry nil is not a host name; skipped")
		default:
			c.otherElem(e, "config.hosts")
		}
	}
}

// railsIPAddr imports IPAddr.new("addr") as that address; a range cannot be
// written as host patterns.
func (c *conv) railsIPAddr(e elem) {
	v := strings.TrimSpace(e.args[0].val)
	addr, bits, hasBits := strings.Cut(v, "/")
	ip := net.ParseIP(addr)
	if ip == nil {
		c.note(e.line, "config.hosts entry %s is not an IP address; skipped", q(e.raw))
		return
	}
	full := "32"
	if ip.To4() == nil {
		full = "128"
	}
	if hasBits && bits != full {
		c.note(e.line, "config.hosts entry %s is an address range, which rebindwatch's [hosts] cannot express; skipped (list the addresses the application is reached at)", q(e.raw))
		return
	}
	c.addHost(addr, e.line, railsHosts)
}

// detectSafe bounds a name for a note (q without the quotes).
func detectSafe(s string) string {
	s = q(s)
	return s[1 : len(s)-1]
}
