package allowimport

import (
	"net"
	"strings"
)

// Vite, from its server options (vite.dev/config/server-options#server-allowedhosts,
// and preview-options for preview.allowedHosts, which defaults to
// server.allowedHosts):
//
//   - "server.allowedHosts: string[] | true. The hostnames that Vite is
//     allowed to respond to. localhost and domains under .localhost and all IP
//     addresses are allowed by default."
//   - "If a string starts with ., it will allow that hostname without the .
//     and all subdomains under the hostname. For example, .example.com will
//     allow example.com, foo.example.com, and foo.bar.example.com. If set to
//     true, the server is allowed to respond to requests for any hosts."
//   - Entries are hostnames: the Host's port is not compared, so an entry
//     written with a port never matches.
//
// webpack-dev-server, from its devServer options
// (webpack.js.org/configuration/dev-server/#devserverallowedhosts):
//
//   - "devServer.allowedHosts: 'auto' | 'all' [string]" (a single string is
//     one host). "Mimicking Django's ALLOWED_HOSTS, a value beginning with .
//     can be used as a subdomain wildcard. .host.com will match host.com,
//     www.host.com, and any other subdomain of host.com."
//   - "When set to 'all' this option bypasses host checking." "When set to
//     'auto' this option always allows localhost, host, and
//     client.webSocketURL.hostname". Server.js isValidHost() also always
//     allows IP addresses, localhost, *.localhost and the host option, and
//     compares the hostname without its port.
//   - webpack-dev-server 3 had disableHostCheck: true to turn the check off.

var viteHosts = hostRules{setting: "server.allowedHosts", leadingDot: true, ports: portDead}
var webpackHosts = hostRules{setting: "devServer.allowedHosts", leadingDot: true, ports: portDead}

func convertVite(c *conv, p *parser) {
	props, _ := p.jsScan([]string{"allowedHosts", "host"}, nil)
	found := false
	for _, pr := range props {
		els, _, _ := p.expr(pr.at)
		switch {
		case pr.key == "allowedHosts":
			found = true
			r := viteHosts
			if f := pr.in.inner("server", "preview"); f != nil && f.name == "preview" {
				r.setting = "preview.allowedHosts"
			}
			for _, e := range els {
				if e.kind == eTrue {
					c.note(e.line, "%s is true: Vite answers every Host, so rebindwatch's Host check would never fire; nothing imported from it", r.setting)
					continue
				}
				c.hostElem(e, r)
			}
		case pr.key == "host" && pr.in.is("server", "preview"):
			c.listenHost(els, "server.host", "Vite")
		}
	}
	if !found {
		c.note(0, "no allowedHosts setting found: Vite answers only localhost, *.localhost, IP addresses and server.host")
	}
	c.devDefaults("Vite")
}

func convertWebpack(c *conv, p *parser) {
	props, _ := p.jsScan([]string{"allowedHosts", "host", "disableHostCheck"}, nil)
	found := false
	for _, pr := range props {
		els, _, _ := p.expr(pr.at)
		inDevServer := pr.in.is("devServer")
		switch pr.key {
		case "allowedHosts":
			found = true
			for _, e := range els {
				switch {
				case e.kind == eString && e.val == "all":
					c.note(e.line, "devServer.allowedHosts is 'all': the dev server answers every Host, so rebindwatch's Host check would never fire; nothing imported from it")
				case e.kind == eString && e.val == "auto":
					c.note(e.line, "devServer.allowedHosts is 'auto': only localhost, *.localhost, IP addresses, the host option and client.webSocketURL.hostname are allowed")
				default:
					c.hostElem(e, webpackHosts)
				}
			}
		case "host":
			if inDevServer {
				c.listenHost(els, "devServer.host", "webpack-dev-server")
			}
		case "disableHostCheck":
			for _, e := range els {
				if e.kind == eTrue {
					c.note(e.line, "devServer.disableHostCheck is true: webpack-dev-server 3 answers every Host")
				}
			}
		}
	}
	if !found {
		c.note(0, "no devServer.allowedHosts setting found: it defaults to 'auto' (localhost, *.localhost, IP addresses, the host option)")
	}
	c.devDefaults("webpack-dev-server")
}

// listenHost imports the name a dev server listens on, which it also
// accepts as a Host. Wildcard addresses and IPs add nothing: IPs are always
// accepted, and 0.0.0.0 is not a name anyone sends.
func (c *conv) listenHost(els []elem, setting, server string) {
	for _, e := range els {
		if e.kind != eString || e.dyn {
			continue
		}
		v := strings.ToLower(strings.TrimSpace(e.val))
		switch v {
		case "", "0.0.0.0", "::", "localhost", "local-ip", "local-ipv4", "local-ipv6":
			continue
		}
		if net.ParseIP(strings.Trim(v, "[]")) != nil {
			continue
		}
		before := len(c.res.Hosts)
		c.addHost(v, e.line, hostRules{setting: setting, ports: portDead})
		if len(c.res.Hosts) > before {
			c.note(e.line, "%s %s is also accepted by %s as a Host; imported", setting, q(e.val), server)
		}
	}
}

// devDefaults adds the names a dev server always accepts.
func (c *conv) devDefaults(server string) {
	c.host("localhost")
	c.host("*.localhost")
	c.note(0, "%s always answers localhost, *.localhost and every IP address; localhost and *.localhost were added, and IP addresses cannot be written as one rebindwatch pattern (add the addresses the server is reached at, e.g. 127.0.0.1 and [::1])", server)
}
