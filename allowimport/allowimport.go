// Package allowimport reads the Host and Origin allowlist an application
// already has -- Django's ALLOWED_HOSTS, Flask's TRUSTED_HOSTS, Rails'
// config.hosts, Vite's and webpack-dev-server's allowedHosts, the MCP SDKs'
// allowed hosts and origins, nginx's server_name -- and converts it to
// rebindwatch's [hosts] and [origins] patterns, for
// `rebindwatch --import-allowlist FILE`.
//
// It does not run or fully parse the application's code. A small tokenizer
// per language (Python, JavaScript/TypeScript, Ruby, nginx) finds the
// setting and reads the literal lists and strings given to it; values known
// only when the application runs (environment variables, function calls)
// are reported in Notes rather than guessed. Each framework's matching
// rules, cited from its documentation in the converter's file, decide how
// an entry maps to rebindwatch's patterns; where rebindwatch cannot say
// exactly the same thing, a Note says what was approximated or skipped.
package allowimport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rebindwatch/rebindwatch/sanitize"
)

// Result is what was found in one file.
type Result struct {
	Framework string   // "django", "flask", "rails", "vite", "webpack-dev-server", "mcp-python", "mcp-typescript", "nginx"
	Hosts     []string // rebindwatch [hosts] allowed patterns
	Origins   []string // rebindwatch [origins] allowed entries (scheme://host[:port], or scheme://*.domain)
	Notes     []string // one sentence each: what was approximated or skipped, with the file line
}

// Framework names, as they appear in Result.Framework.
const (
	fwDjango        = "django"
	fwFlask         = "flask"
	fwRails         = "rails"
	fwVite          = "vite"
	fwWebpack       = "webpack-dev-server"
	fwMCPPython     = "mcp-python"
	fwMCPTypeScript = "mcp-typescript"
	fwNginx         = "nginx"
)

// maxFileSize bounds what is read: configuration files are small, and a
// larger file is not one.
const maxFileSize = 4 << 20

const understood = "Django settings (ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS), Flask config (TRUSTED_HOSTS, SERVER_NAME), " +
	"Rails config (config.hosts), vite.config.{js,ts,mjs} (allowedHosts), webpack.config.js (devServer.allowedHosts), " +
	"MCP Python (TransportSecuritySettings allowed_hosts/allowed_origins, FastMCP), " +
	"MCP TypeScript (allowedHosts/allowedOrigins, createMcpExpressApp), nginx (server_name)"

// errUnknownFormat is wrapped by the error for a file no converter reads.
var errUnknownFormat = errors.New("not an allowlist file this importer understands")

// Import reads path and detects the framework from the file name and content.
// An unknown file is an error naming the file and the formats it understands.
func Import(path string) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) { // the path is the user's, but keep stderr clean anyway
			return Result{}, fmt.Errorf("import allowlist: %s %s: %w", pe.Op, sanitize.String(pe.Path), pe.Err)
		}
		return Result{}, fmt.Errorf("import allowlist: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return Result{}, fmt.Errorf("import allowlist: read %s: %w", sanitize.String(path), err)
	}
	if len(data) > maxFileSize {
		return Result{}, fmt.Errorf("import allowlist: %s is larger than %d MiB; that is not a configuration file", sanitize.String(path), maxFileSize>>20)
	}
	return ImportBytes(path, data)
}

// ImportBytes is Import on content already read (name is used for detection and messages).
func ImportBytes(name string, data []byte) (Result, error) {
	if len(data) > maxFileSize {
		return Result{}, fmt.Errorf("import allowlist: %s is larger than %d MiB; that is not a configuration file", sanitize.String(name), maxFileSize>>20)
	}
	src := string(data)
	fw := detectFramework(name, src)
	if fw == "" {
		return Result{}, fmt.Errorf("import allowlist: %s: %w; it reads %s", sanitize.String(name), errUnknownFormat, understood)
	}
	c := newConv(filepath.Base(name), fw)
	var p *parser
	switch fw {
	case fwDjango, fwFlask, fwMCPPython:
		p = newParser(src, langPython)
	case fwRails:
		p = newParser(src, langRuby)
	case fwVite, fwWebpack, fwMCPTypeScript:
		p = newParser(src, langJS)
	}
	switch fw {
	case fwDjango:
		convertDjango(c, p)
	case fwFlask:
		convertFlask(c, p)
	case fwMCPPython:
		convertMCPPython(c, p)
	case fwRails:
		convertRails(c, p)
	case fwVite:
		convertVite(c, p)
	case fwWebpack:
		convertWebpack(c, p)
	case fwMCPTypeScript:
		convertMCPTypeScript(c, p)
	case fwNginx:
		convertNginx(c, src)
	}
	if p != nil && p.truncated() {
		c.note(0, "the file is too convoluted to read completely; the import stopped early and may be missing entries")
	}
	return c.result(), nil
}

// detectFramework picks the converter from the file name first (a name
// like vite.config.ts or settings.py is unambiguous) and then from markers
// in the content; "" when nothing fits.
func detectFramework(name, src string) string {
	base := strings.ToLower(filepath.Base(name))
	ext := filepath.Ext(base)
	has := func(markers ...string) bool {
		for _, m := range markers {
			if strings.Contains(src, m) {
				return true
			}
		}
		return false
	}
	js := ext == ".js" || ext == ".ts" || ext == ".mjs" || ext == ".cjs" || ext == ".mts" || ext == ".cts"
	mcpPy := func() bool {
		return has("TransportSecuritySettings", "FastMCP", "allowed_hosts", "from mcp", "import mcp")
	}
	mcpTS := func() bool {
		return has("@modelcontextprotocol", "StreamableHTTPServerTransport", "SSEServerTransport", "createMcpExpressApp",
			"createMcpHonoApp", "createMcpFastifyApp", "hostHeaderValidation", "enableDnsRebindingProtection")
	}
	switch {
	case js && strings.HasPrefix(base, "vite.config."):
		return fwVite
	case js && strings.HasPrefix(base, "webpack") && !mcpTS():
		return fwWebpack
	case js && mcpTS():
		return fwMCPTypeScript
	case js && has("devServer"):
		return fwWebpack
	case js && has("allowedHosts") && has("vite"):
		return fwVite
	case js:
		return ""
	case ext == ".py" && mcpPy():
		return fwMCPPython
	case ext == ".py" && (base == "settings.py" || has("ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DJANGO_SETTINGS_MODULE")):
		return fwDjango
	case ext == ".py" && has("TRUSTED_HOSTS", "trusted_hosts", "SERVER_NAME", "flask", "Flask"):
		return fwFlask
	case ext == ".py":
		return ""
	case ext == ".rb":
		if has("config.hosts", "host_authorization") || strings.Contains(name, "environments") {
			return fwRails
		}
		return ""
	case ext == ".conf" || base == "nginx.conf" || strings.Contains(filepath.ToSlash(name), "nginx/") || isNginx(src):
		if isNginx(src) || has("server {", "http {") {
			return fwNginx
		}
		return ""
	}
	// No extension that says: sniff the content, most specific first.
	switch {
	case has("config.hosts"):
		return fwRails
	case has("TransportSecuritySettings", "FastMCP("):
		return fwMCPPython
	case has("ALLOWED_HOSTS ="), has("ALLOWED_HOSTS="):
		return fwDjango
	case has("TRUSTED_HOSTS"):
		return fwFlask
	}
	return ""
}

// isNginx looks for a server_name directive at the start of a line.
func isNginx(src string) bool {
	for _, line := range strings.Split(src, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "server_name" {
			return true
		}
	}
	return false
}

// TOML renders a Result as commented [hosts] and [origins] sections ready to paste into rebindwatch.toml,
// with a header comment naming the source file and framework and each Note as a comment.
func (r Result) TOML(source string) string {
	var b strings.Builder
	b.WriteString("# Imported by rebindwatch --import-allowlist from ")
	b.WriteString(comment(source))
	b.WriteString(" (")
	b.WriteString(comment(r.Framework))
	b.WriteString(").\n")
	b.WriteString("# Review before use: the application's own rules and rebindwatch's patterns differ in places.\n")
	if len(r.Notes) > 0 {
		b.WriteString("#\n# Notes:\n")
		for _, n := range r.Notes {
			b.WriteString("#   - ")
			b.WriteString(comment(n))
			b.WriteByte('\n')
		}
	}
	b.WriteString("\n[hosts]\n")
	if len(r.Hosts) == 0 {
		b.WriteString("# Nothing could be imported. With no allowed hosts rebindwatch says its Host check is off;\n")
		b.WriteString("# list the names the application is served under.\n")
	}
	writeList(&b, r.Hosts)
	b.WriteString("\n[origins]\n")
	if len(r.Origins) == 0 {
		b.WriteString("# The application has no Origin allowlist that could be imported; with none, every Origin\n")
		b.WriteString("# is reported. List the origins of the pages that call the API, e.g. \"https://app.example.com\".\n")
	}
	writeList(&b, r.Origins)
	return b.String()
}

func writeList(b *strings.Builder, list []string) {
	if len(list) == 0 {
		b.WriteString("allowed = []\n")
		return
	}
	b.WriteString("allowed = [\n")
	for _, s := range list {
		b.WriteString("  ")
		b.WriteString(tomlString(s))
		b.WriteString(",\n")
	}
	b.WriteString("]\n")
}

// tomlString quotes s as a TOML basic string: \" and \\ escaped, anything
// outside printable ASCII as \uXXXX (the patterns are printable ASCII, so
// this is a guard, not a path taken).
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r <= 0xffff:
			b.WriteString(`\u`)
			b.WriteString(fmt.Sprintf("%04x", r))
		default:
			b.WriteString(`\U`)
			b.WriteString(fmt.Sprintf("%08x", r))
		}
	}
	b.WriteByte('"')
	return b.String()
}

// comment makes s safe inside a one-line TOML comment: no control
// characters or line breaks (Sanitize), nothing that would end the comment.
func comment(s string) string {
	s = sanitize.String(s)
	if strings.ContainsAny(s, "\n\r") { // Sanitize escapes these; keep the guarantee local
		s = strconv.Quote(s)
	}
	return s
}
