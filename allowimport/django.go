package allowimport

// Django, from its settings reference (docs.djangoproject.com/en/stable/ref/settings/):
//
//   - ALLOWED_HOSTS: "Values in this list can be fully qualified names (e.g.
//     'www.example.com'), in which case they will be matched against the
//     request's Host header exactly (case-insensitive, not including port). A
//     value beginning with a period can be used as a subdomain wildcard:
//     '.example.com' will match example.com, www.example.com, and any other
//     subdomain of example.com. A value of '*' will match anything."
//     validate_host() strips the port before comparing, so a plain name allows
//     every port and an entry written with a port never matches.
//   - "When DEBUG is True and ALLOWED_HOSTS is empty, the host is validated
//     against ['.localhost', '127.0.0.1', '[::1]']."
//   - CSRF_TRUSTED_ORIGINS: origins with a scheme (required since 4.0); "values
//     can contain a wildcard, e.g. 'https://*.example.com'". The middleware
//     keeps netloc.lstrip("*") = ".example.com" and compares with
//     is_same_domain(), which also matches example.com itself, port included.
//   - The CSRF check also accepts an Origin equal to the request's own
//     scheme://host, so each allowed host is an allowed origin too.

var djangoHosts = hostRules{setting: "ALLOWED_HOSTS", leadingDot: true, ports: portDead}
var djangoOrigins = originRules{setting: "CSRF_TRUSTED_ORIGINS", wildcardApex: true}

func convertDjango(c *conv, p *parser) {
	sets := p.pyFind("ALLOWED_HOSTS")
	c.mergedNote(sets, "ALLOWED_HOSTS")
	entries := 0
	for _, a := range sets {
		for _, e := range p.values(a) {
			entries++
			c.hostElem(e, djangoHosts)
		}
	}
	switch {
	case len(sets) == 0:
		c.note(0, "no ALLOWED_HOSTS setting found: Django then allows only .localhost, 127.0.0.1 and [::1] with DEBUG on, and refuses every request with DEBUG off")
	case entries == 0:
		c.note(sets[0].line, "ALLOWED_HOSTS is empty: Django allows only .localhost, 127.0.0.1 and [::1] with DEBUG on, and refuses every request with DEBUG off")
	}
	if entries == 0 && djangoDebug(p) {
		for _, h := range []string{".localhost", "127.0.0.1", "[::1]"} {
			c.addHost(h, 0, djangoHosts)
		}
		c.note(0, "DEBUG = True: imported Django's development defaults .localhost, 127.0.0.1 and [::1]")
	}

	hosts := append([]string(nil), c.res.Hosts...)
	for _, a := range p.pyFind("CSRF_TRUSTED_ORIGINS") {
		for _, e := range p.values(a) {
			if e.kind == eString && !e.dyn {
				c.addOrigin(e.val, e.line, djangoOrigins)
				continue
			}
			c.otherElem(e, djangoOrigins.setting)
		}
	}
	if len(hosts) > 0 {
		for _, h := range hosts {
			c.origin("https://" + h)
			c.origin("http://" + h)
		}
		c.note(0, "Django's CSRF check also accepts a request whose Origin is its own scheme://Host, so http:// and https:// origins were added for each allowed host (default ports; add origins with ports if the site is served on another port)")
	}
}

// mergedNote says when a setting is assigned more than once (per
// environment or under a condition the importer cannot evaluate).
func (c *conv) mergedNote(sets []assignment, setting string) {
	n, second := 0, 0
	for _, a := range sets {
		if a.op == "=" {
			n++
			if n == 2 {
				second = a.line
			}
		}
	}
	if n > 1 {
		c.note(second, "%s is assigned %d times (per environment or under a condition); the entries of all of them were merged", setting, n)
	}
}

// djangoDebug reports whether the settings turn DEBUG on literally.
func djangoDebug(p *parser) bool {
	for _, a := range p.pyFind("DEBUG") {
		for _, e := range p.values(a) {
			if e.kind == eTrue {
				return true
			}
		}
	}
	return false
}

// hostElem imports one string entry or explains why it could not.
func (c *conv) hostElem(e elem, r hostRules) {
	if e.kind == eString && !e.dyn {
		c.addHost(e.val, e.line, r)
		return
	}
	c.otherElem(e, r.setting)
}

// otherElem explains a value that is not a plain string.
func (c *conv) otherElem(e elem, setting string) {
	switch e.kind {
	case eString, eDynamic, eCall:
		c.dynamicNote(e, setting)
	case eRegex:
		c.note(e.line, "%s entry %s is a regex, which this application does not accept here; skipped", setting, q(e.raw))
	default:
		c.note(e.line, "%s entry %s is not a host name; skipped", setting, q(e.raw))
	}
}
