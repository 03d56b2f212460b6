package allowimport

import "strings"

// nginx, from "Server names" (nginx.org/en/docs/http/server_names.html) and
// the server_name directive (ngx_http_core_module):
//
//   - Names are exact ("example.org"), wildcards with an asterisk at the
//     start or end on a dot border ("*.example.org", "mail.*"), or regular
//     expressions starting with "~". "An asterisk can match several name
//     parts": *.example.org also matches www.sub.example.org, the same as
//     rebindwatch's "*.".
//   - "A special wildcard name in the form .example.org can be used to match
//     both the exact name example.org and the wildcard name *.example.org."
//   - The empty name "" handles requests without a Host; "_" is just an
//     invalid name used in catch-all servers. Names carry no port: the Host's
//     port is not compared.
//   - A request whose Host matches no server_name goes to the default server
//     of its listen socket, so nginx itself does not refuse foreign Hosts
//     unless that server does (return 444).
//
// The directive grammar is simple enough to tokenize directly: words
// (quoted or not), ";", "{", "}", and # comments.

var nginxHosts = hostRules{setting: "server_name", leadingDot: true, starNative: true, ports: portDead}

type ngxWord struct {
	text   string
	quoted bool
	line   int
}

func convertNginx(c *conv, src string) {
	found := false
	var words []ngxWord
	flush := func() {
		if len(words) > 0 {
			switch words[0].text {
			case "server_name":
				found = true
				for _, w := range words[1:] {
					c.nginxName(w)
				}
			case "include":
				if len(words) > 1 {
					c.note(words[0].line, "include %s was not read; import that file too if it has server blocks", q(words[1].text))
				}
			}
		}
		words = words[:0]
	}
	line := 1
	for i := 0; i < len(src); {
		ch := src[i]
		switch {
		case ch == '\n':
			line++
			i++
		case ch == ' ' || ch == '\t' || ch == '\r':
			i++
		case ch == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case ch == ';' || ch == '{' || ch == '}':
			flush()
			i++
		case ch == '"' || ch == '\'':
			start := line
			var b strings.Builder
			i++
			for i < len(src) && src[i] != ch {
				if src[i] == '\\' && i+1 < len(src) {
					b.WriteString(ngxEscape(src[i+1]))
					i += 2
					continue
				}
				if src[i] == '\n' {
					line++
				}
				b.WriteByte(src[i])
				i++
			}
			i++ // closing quote
			words = append(words, ngxWord{text: b.String(), quoted: true, line: start})
		default:
			var b strings.Builder
			for i < len(src) && !strings.ContainsRune(" \t\r\n;{}", rune(src[i])) {
				if src[i] == '\\' && i+1 < len(src) && src[i+1] != '\n' {
					b.WriteString(ngxEscape(src[i+1]))
					i += 2
					continue
				}
				b.WriteByte(src[i])
				i++
			}
			words = append(words, ngxWord{text: b.String(), line: line})
		}
		if len(words) > 4096 { // one absurdly long directive: stop collecting its arguments
			words = words[:4096]
		}
	}
	flush()
	if !found {
		c.note(0, "no server_name directive found")
		return
	}
	c.note(0, "nginx sends a request whose Host matches no server_name to the default server of its listen address; unless that server refuses it (return 444), foreign Hosts reach the application")
}

// ngxEscape decodes a backslash escape the way ngx_conf_read_token does:
// \" \' \\ give the character, \t \r \n the control character, and any
// other escape is kept with its backslash (so regexes keep \. and \d).
func ngxEscape(ch byte) string {
	switch ch {
	case '"', '\'', '\\':
		return string(ch)
	case 't':
		return "\t"
	case 'r':
		return "\r"
	case 'n':
		return "\n"
	}
	return "\\" + string(ch)
}

func (c *conv) nginxName(w ngxWord) {
	v := w.text
	switch {
	case v == "" && w.quoted:
		c.note(w.line, "server_name \"\" (requests without a Host) has no rebindwatch pattern; a missing Host on HTTP/1.1 is always flagged")
	case v == "_":
		c.note(w.line, "server_name _ is a catch-all placeholder, not a name; skipped")
	case strings.HasPrefix(v, "~"):
		hosts, ok := regexHosts(v[1:])
		if !ok {
			c.note(w.line, "server_name regex %s is not a plain domain or subdomain pattern; skipped", q(v))
			return
		}
		for _, h := range hosts {
			c.host(h)
		}
		c.note(w.line, "server_name regex %s was imported as %s", q(v), strings.Join(hosts, ", "))
	case strings.HasSuffix(v, ".*"):
		c.note(w.line, "server_name %s ends in a wildcard, which rebindwatch cannot express; skipped (list the full names)", q(v))
	case strings.Contains(v, "$"):
		c.note(w.line, "server_name %s uses a variable; skipped", q(v))
	default:
		c.addHost(v, w.line, nginxHosts)
	}
}
