package allowimport

// Flask, from its configuration reference (flask.palletsprojects.com/en/stable/config/):
//
//   - TRUSTED_HOSTS (new in 3.1): "Validate Request.host and other attributes
//     that use it against these trusted values. Raise a SecurityError if the
//     host is invalid, which results in a 400 error. If it is None, all hosts
//     are valid. Each value is either an exact match, or can start with a dot
//     . to match any subdomain." The check is werkzeug's host_is_trusted(),
//     which cuts the port off both the Host and the entry
//     (ref.partition(":")[0]) and, for ".example.com", matches example.com and
//     any name ending in ".example.com". So an entry's port is ignored.
//     werkzeug's Request.trusted_hosts attribute takes the same list.
//   - SERVER_NAME: "Inform the application what host and port it is bound
//     to." Changed in 3.1: "Does not restrict requests to only this domain"
//     (before 3.1 routing answered 404 for other hosts). It is imported as an
//     allowed host, port kept, with a note.

var flaskHosts = hostRules{setting: "TRUSTED_HOSTS", leadingDot: true, ports: portStrip}
var flaskServerName = hostRules{setting: "SERVER_NAME", ports: portKeep}

func convertFlask(c *conv, p *parser) {
	trusted := p.pyFind("TRUSTED_HOSTS", "trusted_hosts")
	for _, a := range trusted {
		for _, e := range p.values(a) {
			if e.kind == eNil {
				c.note(e.line, "%s is None: Flask accepts every Host", a.name)
				continue
			}
			r := flaskHosts
			r.setting = a.name
			c.hostElem(e, r)
		}
	}
	c.mergedNote(trusted, "TRUSTED_HOSTS")
	for _, a := range p.pyFind("SERVER_NAME") {
		for _, e := range p.values(a) {
			if e.kind == eNil {
				continue
			}
			before := len(c.res.Hosts)
			c.hostElem(e, flaskServerName)
			if len(c.res.Hosts) > before {
				c.note(e.line, "SERVER_NAME %s names the server but, since Flask 3.1, does not restrict which Host is accepted; imported as an allowed host", q(e.val))
			}
		}
	}
	if len(trusted) == 0 {
		c.note(0, "no TRUSTED_HOSTS setting found: Flask accepts every Host")
	}
}
