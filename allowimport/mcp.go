package allowimport

import "strings"

// MCP Python SDK, from mcp/server/transport_security.py
// (github.com/modelcontextprotocol/python-sdk):
//
//   - TransportSecuritySettings(enable_dns_rebinding_protection=True,
//     allowed_hosts=[...], allowed_origins=[...]). _validate_host() accepts a
//     Host equal (case-insensitively) to an entry, or, for an entry
//     "base:*", any Host that starts with "base:" -- any port. An entry
//     without a port matches only a Host without one. _validate_origin() is
//     the same for origins ("http://localhost:*" = any port); a request with
//     no Origin passes.
//   - FastMCP(host=...) with no transport_security turns the protection on
//     for a loopback host (SDK 1.23 and later, the fix for CVE-2025-66416)
//     with allowed_hosts ["127.0.0.1:*", "localhost:*", "[::1]:*"] and
//     allowed_origins ["http://127.0.0.1:*", "http://localhost:*",
//     "http://[::1]:*"]. The default host is 127.0.0.1.
//
// MCP TypeScript SDK (github.com/modelcontextprotocol/typescript-sdk):
//
//   - StreamableHTTPServerTransport / SSEServerTransport options
//     allowedHosts, allowedOrigins, enableDnsRebindingProtection:
//     validateRequestHeaders() checks only with the protection on, with
//     this._allowedHosts.includes(host): the exact Host string, port
//     included; origins likewise.
//   - createMcpExpressApp({ host, allowedHosts }) (and the Hono and Fastify
//     variants) apply hostHeaderValidation(allowedHostnames): "Validates Host
//     header hostname (port-agnostic) against an allowed list ... For IPv6,
//     provide the address with brackets". With no allowedHosts and host
//     127.0.0.1 (the default), localhost or ::1 they apply
//     localhostHostValidation(): localhost, 127.0.0.1 and [::1].
//     originValidation(allowedOriginHostnames) compares the Origin's
//     hostname, "without scheme or port".

var mcpPyHosts = hostRules{setting: "allowed_hosts", ports: portKeep, anyPort: true, noPortExact: true}
var mcpPyOrigins = originRules{setting: "allowed_origins", anyPort: true}

var loopbackNames = []string{"127.0.0.1", "localhost", "[::1]"}

func convertMCPPython(c *conv, p *parser) {
	hostSets := p.pyFind("allowed_hosts")
	for _, a := range hostSets {
		els := p.values(a)
		if len(els) == 0 && a.op == "=" {
			c.note(a.line, "allowed_hosts is empty: with DNS rebinding protection on, the SDK refuses every Host")
		}
		for _, e := range els {
			c.hostElem(e, mcpPyHosts)
		}
	}
	for _, a := range p.pyFind("allowed_origins") {
		for _, e := range p.values(a) {
			if e.kind == eString && !e.dyn {
				c.addOrigin(e.val, e.line, mcpPyOrigins)
				continue
			}
			c.otherElem(e, "allowed_origins")
		}
	}
	for _, a := range p.pyFind("enable_dns_rebinding_protection") {
		for _, e := range p.values(a) {
			if e.kind == eFalse {
				c.note(a.line, "enable_dns_rebinding_protection is False: the SDK does not check Host or Origin at all")
			}
		}
	}
	if len(hostSets) == 0 {
		c.mcpPyDefaults(p)
	}
}

// mcpPyDefaults applies FastMCP's automatic protection when the file
// creates a FastMCP server on a loopback host without transport_security.
func (c *conv) mcpPyDefaults(p *parser) {
	for i, t := range p.toks {
		if t.kind != tIdent || t.text != "FastMCP" || !p.isPunct(i+1, "(") {
			continue
		}
		args, _ := p.elems(i+2, ")")
		host, custom := "127.0.0.1", false
		for _, a := range args {
			switch {
			case a.key == "transport_security":
				custom = true
			case a.key == "host" && a.kind == eString && !a.dyn:
				host = a.val
			case a.key == "host":
				host = ""
			}
		}
		if custom {
			c.note(t.line, "FastMCP is given transport_security from elsewhere; its allowed hosts could not be read")
			return
		}
		if host != "127.0.0.1" && host != "localhost" && host != "::1" {
			c.note(t.line, "FastMCP listens on %s without transport_security: the SDK does no Host check", q(host))
			return
		}
		for _, h := range loopbackNames {
			c.addHost(h+":*", t.line, mcpPyHosts)
		}
		c.note(t.line, "FastMCP on a loopback host without transport_security allows Hosts 127.0.0.1, localhost and [::1] on any port (SDK 1.23 and later); imported. Its origins http://127.0.0.1:*, http://localhost:* and http://[::1]:* allow any port, which [origins] cannot express; add the origins of your clients")
		return
	}
	c.note(0, "no allowed_hosts setting found")
}

var mcpTSExact = hostRules{setting: "allowedHosts", ports: portKeep, noPortExact: true, starLiteral: true}
var mcpTSNames = hostRules{setting: "allowedHosts", ports: portDead, starLiteral: true}

var mcpApps = []string{"createMcpExpressApp", "createMcpHonoApp", "createMcpFastifyApp"}
var mcpTransports = []string{"StreamableHTTPServerTransport", "WebStandardStreamableHTTPServerTransport",
	"NodeStreamableHTTPServerTransport", "SSEServerTransport"}

func convertMCPTypeScript(c *conv, p *parser) {
	props, calls := p.jsScan(
		[]string{"allowedHosts", "allowedOrigins", "enableDnsRebindingProtection", "host"},
		append([]string{"hostHeaderValidation", "localhostHostValidation", "originValidation", "localhostOriginValidation"}, mcpApps...))
	owners := append(append([]string(nil), mcpApps...), mcpTransports...)
	transportHosts, protection := 0, false
	appHosts := map[int]bool{}  // app calls (by "(" index) given allowedHosts
	appListen := map[int]elem{} // app calls given a host to listen on
	for _, pr := range props {
		owner := pr.in.inner(owners...)
		app := owner != nil && owner.is(mcpApps...)
		switch pr.key {
		case "allowedHosts":
			r := mcpTSExact
			if app {
				r = mcpTSNames
				appHosts[owner.open] = true
			} else {
				transportHosts++
			}
			els, _, _ := p.expr(pr.at)
			for _, e := range els {
				c.hostElem(e, r)
			}
		case "allowedOrigins":
			els, _, _ := p.expr(pr.at)
			for _, e := range els {
				c.tsOrigin(e, app)
			}
		case "enableDnsRebindingProtection":
			els, _, _ := p.expr(pr.at)
			for _, e := range els {
				if e.kind == eTrue {
					protection = true
				}
			}
		case "host":
			if app && pr.in != nil && pr.in.parent == owner { // createMcpExpressApp({ host })
				els, _, _ := p.expr(pr.at)
				v := elem{kind: eDynamic}
				if len(els) == 1 {
					v = els[0]
				}
				appListen[owner.open] = v
			}
		}
	}
	if transportHosts > 0 && !protection {
		c.note(0, "the transport's allowedHosts/allowedOrigins are only checked with enableDnsRebindingProtection: true, which this file does not set")
	}
	for _, cl := range calls {
		switch cl.name {
		case "hostHeaderValidation":
			args, _ := p.elems(cl.at, ")")
			for _, e := range args {
				c.hostElem(e, mcpTSNames)
			}
		case "localhostHostValidation":
			c.mcpTSLocalhost(cl.line, "localhostHostValidation()")
		case "originValidation":
			args, _ := p.elems(cl.at, ")")
			for _, e := range args {
				c.tsOrigin(e, true)
			}
		case "localhostOriginValidation":
			c.note(cl.line, "localhostOriginValidation() allows origins on localhost, 127.0.0.1 and [::1] with any port, which [origins] cannot express; add the origins of your clients")
		default: // an app: without allowedHosts it protects a loopback host itself
			if appHosts[cl.open] {
				continue
			}
			host := "127.0.0.1"
			if v, ok := appListen[cl.open]; ok {
				host = ""
				if v.kind == eString && !v.dyn {
					host = v.val
				}
			}
			if host == "127.0.0.1" || host == "localhost" || host == "::1" {
				c.mcpTSLocalhost(cl.line, cl.name+"() on a loopback host")
			} else {
				c.note(cl.line, "%s() listens on %s without allowedHosts: no Host check", cl.name, q(host))
			}
		}
	}
}

func (c *conv) mcpTSLocalhost(line int, what string) {
	for _, h := range loopbackNames {
		c.addHost(h, line, mcpTSNames)
	}
	c.note(line, "%s allows the Hosts localhost, 127.0.0.1 and [::1] on any port; imported", what)
}

// tsOrigin imports an allowedOrigins entry: an exact origin for a transport,
// a hostname (any scheme, any port) for the app helpers.
func (c *conv) tsOrigin(e elem, names bool) {
	if e.kind != eString || e.dyn {
		c.otherElem(e, "allowedOrigins")
		return
	}
	if !names || strings.Contains(e.val, "://") {
		c.addOrigin(e.val, e.line, originRules{setting: "allowedOrigins"})
		return
	}
	name, why := hostName(strings.ToLower(strings.TrimSpace(e.val)))
	if why != "" {
		c.note(e.line, "allowedOrigins entry %s %s; skipped", q(e.val), why)
		return
	}
	c.origin("http://" + name)
	c.origin("https://" + name)
	c.note(e.line, "allowedOrigins entry %s allows that hostname with any scheme and port; imported as http:// and https:// on the default ports (add origins with the ports your clients use)", q(e.val))
}
