package logsrc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// The predefined line shapes, written as nginx log_format strings. nginx's
// "combined" is built in (ngx_http_log_module); Apache's combined LogFormat
// (%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\") and
// gunicorn's default access_log_format write the same shape, and "common"
// is any of them without the last two fields.
const (
	combinedFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
	commonFormat   = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent`
	// extFormat is the line PrintLogConfig's snippets make every server write:
	// combined plus the Host and Origin as sent and the key's last 8
	// characters. Auto-detection knows it, so such a log needs no flag.
	extFormat = combinedFormat + ` host="$http_host" origin="$http_origin" key="$api_key_suffix"`
	// Apache's vhost_combined (Debian's apache2.conf):
	// %v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"
	vhostCombinedFormat = `%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`
	// Apache's common and combined as Debian's apache2.conf defines them.
	apacheCommonFormat   = `%h %l %u %t "%r" %>s %O`
	apacheCombinedFormat = `%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`
	// gunicorn's default access_log_format (gunicorn/config.py).
	gunicornDefaultFormat = `%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"`
)

// Format names as they appear in specs, notes and messages.
const (
	nameAuto           = "auto"
	nameCombined       = "combined"
	nameNginxCombined  = "nginx-combined"
	nameApacheCombined = "apache-combined"
	nameCommon         = "common"
	nameVhostCombined  = "vhost_combined"
	nameExt            = "rebindwatch"
	nameWerkzeug       = "werkzeug"
	nameGunicorn       = "gunicorn"
	nameCaddy          = "caddy"
	nameTraefik        = "traefik"
	nameJSON           = "json"
)

// ErrUnknownFormat is wrapped by the errors for a format spec that names no
// known format and for input whose first lines auto-detection cannot read:
// both are the user's to fix (a usage error, not a failure).
var ErrUnknownFormat = source.InputError("unknown log format")

// ErrNotRequest is returned by Parse for a line the format knows is not a
// request (werkzeug's startup banner, a Caddy log line that is not an access
// entry). Run skips such lines without counting them as parse errors.
var ErrNotRequest = errors.New("not a request line")

// formatHint is the list of --log-format values an error suggests.
const formatHint = "auto, combined, common, vhost_combined, werkzeug, gunicorn, caddy, traefik, json, " +
	"zeek, suricata, alb, cloudfront, gcp, cloudflare, azure-frontdoor, " +
	"nginx:'<log_format>', apache:'<LogFormat>', gunicorn:'<access_log_format>' or json:host=...,time=..."

// escapeMode is how values were escaped when the line was written.
type escapeMode uint8

const (
	// escDefault is nginx's default (\xHH for '"', '\\', bytes < 0x20 and
	// > 0x7e) and Apache's (\" \\ \n \t \xhh); nginx never writes a raw
	// backslash in this mode, so one decoder reads both.
	escDefault escapeMode = iota
	escJSON               // nginx escape=json and JSON logs: \" \\ \n \r \t \b \f \uXXXX
	escNone               // nginx escape=none, werkzeug: values are raw
	escQuote              // gunicorn: only '"' is escaped, as \"; backslashes are raw
)

// Compile parses a format spec (as for Options.Format). Accepted:
//
//   - "auto" (or empty): decide per file from its first lines;
//   - a name: combined (nginx-combined, apache-combined), common,
//     vhost_combined, rebindwatch (the PrintLogConfig line), werkzeug (flask),
//     gunicorn (its default format), caddy, traefik, json (JSON with common
//     key names);
//   - "nginx:" + a log_format string, bare, quoted, or the whole directive
//     ("log_format name [escape=...] '...' '...';", several lines allowed);
//   - "apache:" + a LogFormat string, bare or as the LogFormat / CustomLog
//     directive pasted from the config;
//   - "gunicorn:" + an access_log_format string, bare or as the config line
//     (access_log_format = '...') or the --access-logformat option;
//   - "json:" + a field mapping (host=request.host,time=ts,...; see CompileJSON).
//
// A directive pasted without a prefix (log_format ..., LogFormat ...,
// CustomLog ..., access_log_format = ...) is recognised too. The error is
// one sentence naming what is wrong.
func Compile(spec string) (*Parser, error) {
	s := strings.TrimSpace(spec)
	switch strings.ToLower(s) {
	case "", nameAuto:
		return newAutoParser(), nil
	case nameCombined, nameNginxCombined, "nginx":
		return compileNginxFormat(nameNginxCombined, combinedFormat, escDefault, true)
	case nameApacheCombined, "apache":
		return compileNginxFormat(nameApacheCombined, combinedFormat, escDefault, true)
	case nameCommon, "nginx-common", "apache-common", "clf":
		return compileNginxFormat(nameCommon, commonFormat, escDefault, true)
	case nameVhostCombined, "vhost-combined", "apache-vhost_combined", "apache-vhost-combined":
		return compileApacheFormat(nameVhostCombined, vhostCombinedFormat, true)
	case nameExt, "ext":
		return compileNginxFormat(nameExt, extFormat, escDefault, false)
	case nameWerkzeug, "flask":
		return newWerkzeugParser(), nil
	case nameGunicorn:
		return compileGunicornFormat(nameGunicorn, gunicornDefaultFormat)
	case nameCaddy:
		return newCaddyParser(), nil
	case nameTraefik:
		return newTraefikParser(), nil
	case nameJSON:
		return newGenericJSONParser(), nil
	case nameZeek, "bro":
		return newZeekParser(), nil
	case nameSuricata, "eve":
		return newSuricataParser(), nil
	case nameALB, "aws-alb", "elb":
		return newALBParser(), nil
	case nameCloudFront, "w3c", "iis":
		return newCloudFrontParser(), nil
	case nameGCP, "gcp-lb", "google":
		return newGCPParser(), nil
	case nameCloudflare:
		return newCloudflareParser(), nil
	case nameAzure, "azure", "frontdoor":
		return newAzureParser(), nil
	}
	// A directive pasted as is, without a family prefix.
	switch first := strings.ToLower(firstWord(s)); first {
	case "log_format":
		return compileNginxSpec(s)
	case "logformat", "customlog", "globallog", "transferlog":
		return compileApacheSpec(s)
	case "access_log_format", "--access-logformat":
		return compileGunicornSpec(s)
	}
	family, rest, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("%w %q; use %s", ErrUnknownFormat, short(s), formatHint)
	}
	switch strings.ToLower(strings.TrimSpace(family)) {
	case "nginx":
		return compileNginxSpec(rest)
	case "apache", "httpd", "apache2":
		return compileApacheSpec(rest)
	case "gunicorn":
		return compileGunicornSpec(rest)
	case "json":
		return compileJSONSpec(rest)
	}
	return nil, fmt.Errorf("%w family %q in %q; use %s", ErrUnknownFormat, short(family), short(s), formatHint)
}

// firstWord returns s up to its first white space or '='.
func firstWord(s string) string {
	if i := strings.IndexAny(s, " \t\r\n="); i >= 0 {
		return s[:i]
	}
	return s
}

// short cuts s for an error message and makes it printable (Go escapes,
// without the quotes around them: the messages add their own).
func short(s string) string {
	if len(s) > 40 {
		cut := 40
		for cut > 0 && s[cut]&0xc0 == 0x80 {
			cut--
		}
		s = s[:cut] + "..."
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// fieldKind is what a value means for a Request.
type fieldKind uint8

const (
	kOpaque         fieldKind = iota // skipped, unless Keys.IsLogField names it
	kRemoteAddr                      // client IP
	kRemoteHost                      // client IP or name (Apache %h): used when there is no kRemoteAddr
	kClientAddrPort                  // "ip:port" (Traefik ClientAddr)
	kClientPort                      // client port
	kTimeLocal                       // 02/Jan/2006:15:04:05 -0700
	kTimeISO                         // 2006-01-02T15:04:05+00:00
	kMsec                            // 1700000000.123
	kTimeWerkzeug                    // 02/Jan/2006 15:04:05, local time without a zone
	kTimeAny                         // JSON: RFC 3339, time_local, or epoch seconds/ms/µs/ns
	kTimeFmt                         // Apache %{format}t: strftime, several may combine
	kRequest                         // "GET /x HTTP/1.1"
	kMethod
	kRequestURI // target with query
	kURI        // path only
	kArgs       // query without '?'
	kQueryQ     // query with '?' or empty (Apache %q)
	kIsArgs     // nginx $is_args: "?" or ""; only in the $uri$is_args$args idiom
	kProto
	kStatus
	kStatusOrig // Apache %s / %<s, Traefik OriginStatus: used when there is no kStatus
	kHTTPHost   // Host header as sent
	kHost       // Host without port or the server's name when absent (nginx $host, Apache %V)
	kServerName // the server block's own name: not what the client sent
	kServerAddr
	kServerPort
	kOrigin
	kReferer
	kUserAgent
	kHeader      // another request header: a key header when Keys says so
	kArg         // a query parameter ($arg_name): a key when Keys says so
	kKeyValue    // key material named by a JSON mapping
	kHTTPVersion // "1.1" (Zeek's version): the protocol is HTTP/ and it
	kURL         // an absolute URL (scheme://host[:port]/path?query): the Host and the target, when no Host field says otherwise
	numKinds
)

// kinds is a set of fieldKinds.
type kinds uint64

func (s kinds) has(k fieldKind) bool { return s&(1<<k) != 0 }

// field is one variable of a compiled format.
type field struct {
	name    string    // for Keys.IsLogField: nginx variable, Apache %{X}e / %{X}n, gunicorn {x}e, JSON path
	display string    // as written in the format, for messages: "$http_host", "%{Host}i", "%(h)s"
	kind    fieldKind // what the value means
	header  []byte    // kHeader: the header name ("x-api-key"); kArg: the parameter; kKeyValue: "authorization" or nil
	lit     []byte    // the literal that ends the value; empty: the value runs to the end
	quoted  bool      // the value sits in double quotes: escaped quotes inside do not end it
	last    bool      // find lit by its last occurrence (werkzeug's request: only digits follow)
	// litCount, in formats that write values raw, is how often lit appears in
	// the rest of a well-formed line; more means a value holds it.
	litCount     int
	errAmbiguous error
	tf           *strftime // kTimeFmt
	end          bool      // kTimeFmt: %{end:...}t
	prio         uint8     // JSON: among fields of one kind, lower wins
	width        int       // extractSimple: a time of fixed layout is this wide

	errMissing error // prebuilt so that a bad line costs no allocation
}

// item is one piece of a format while it is compiled: a literal or a field.
type item struct {
	lit   string
	field *field
}

// assemble turns a sequence of literals and fields into a Parser: a leading
// literal, then fields each followed by the literal that ends its value. The
// messages name fields by their display form, in the format's own syntax.
func assemble(label string, items []item, esc escapeMode, lenient bool) (*Parser, error) {
	items = mergeTargets(items)
	p := &Parser{name: label, escape: esc, lenientTail: lenient}
	lit := []byte{}
	var prev *field
	for _, it := range items {
		if it.field == nil {
			lit = append(lit, it.lit...)
			continue
		}
		if prev == nil {
			p.prefix = lit
		} else {
			if len(lit) == 0 {
				return nil, fmt.Errorf("log format has %s and %s with nothing between them, so their values cannot be told apart in a line",
					short(prev.display), short(it.field.display)) // quoted: a display may hold control characters
			}
			prev.lit = lit
		}
		lit = []byte{}
		p.fields = append(p.fields, *it.field)
		prev = &p.fields[len(p.fields)-1]
	}
	if prev == nil {
		return nil, fmt.Errorf("log format \"%s\" has no variables, so its lines carry no request", short(string(lit)))
	}
	prev.lit = lit
	for i := range p.fields {
		f := &p.fields[i]
		f.quoted = len(f.lit) > 0 && f.lit[0] == '"'
		if esc == escNone && clientText(f.kind) && strings.IndexByte(string(f.lit), '"') >= 0 && i < len(p.fields)-1 {
			// Values are written raw: a client can put this field's closing
			// text in a header and write the fields after it itself. The
			// closing text may appear in the rest of a line only as often as
			// the format's own text has it; more is a forged or ambiguous line.
			var rest strings.Builder
			for _, g := range p.fields[i:] {
				rest.Write(g.lit)
				rest.WriteByte(0)
			}
			f.litCount = strings.Count(rest.String(), string(f.lit))
			f.errAmbiguous = &parseError{reason: "line is ambiguous: the text after " + f.display +
				" appears more often than the format has it (a value holds a quote, and this format writes values unescaped)"}
		}
		f.errMissing = &parseError{reason: "line ends before the text after " + f.display}
		if len(f.lit) == 0 {
			f.errMissing = &parseError{reason: "line ends before " + f.display}
		}
		p.has |= 1 << f.kind
	}
	p.errPrefix = &parseError{reason: fmt.Sprintf("line does not start with %q as %s says", string(p.prefix), label)}
	p.setBlind()
	p.setKindErrors()
	p.setSimple()
	return p, nil
}

// clientText reports whether a kind's value is text the client chose (a
// header, the target), which may hold anything a raw log does not escape.
// Addresses, times, statuses, ports and the server's names cannot.
func clientText(k fieldKind) bool {
	switch k {
	case kRemoteAddr, kClientAddrPort, kClientPort, kTimeLocal, kTimeISO, kMsec, kTimeWerkzeug, kTimeAny, kTimeFmt,
		kStatus, kStatusOrig, kServerName, kServerAddr, kServerPort, kProto, kMethod:
		return false
	}
	return true
}

// mergeTargets joins the idioms that write a target in two adjacent pieces
// (nginx $uri$is_args$args, Apache %U%q) into one field: nothing separates
// the pieces, but together they are the request-target.
func mergeTargets(items []item) []item {
	out := items[:0:0]
	for i := 0; i < len(items); i++ {
		f := items[i].field
		if f != nil && (f.kind == kURI || f.kind == kRequestURI) && i+1 < len(items) {
			if g := items[i+1].field; g != nil && g.kind == kQueryQ {
				m := *f
				m.kind, m.display = kRequestURI, f.display+g.display
				out = append(out, item{field: &m})
				i++
				continue
			}
			if i+2 < len(items) {
				g, h := items[i+1].field, items[i+2].field
				if g != nil && h != nil && g.kind == kIsArgs && h.kind == kArgs {
					m := *f
					m.kind, m.display = kRequestURI, f.display+g.display+h.display
					out = append(out, item{field: &m})
					i += 2
					continue
				}
			}
		}
		out = append(out, items[i])
	}
	return out
}

// setBlind records which fields the format cannot show. BlindKey is decided
// by resolveKeys, which knows the key configuration.
func (p *Parser) setBlind() {
	p.blind = 0
	if !p.has.has(kHTTPHost) && !p.has.has(kHost) && !p.headerMap {
		p.blind |= detect.BlindHost
	}
	if !p.has.has(kOrigin) && !p.headerMap {
		p.blind |= detect.BlindOrigin
	}
	if !p.has.has(kReferer) && !p.headerMap {
		p.blind |= detect.BlindReferer
	}
}
