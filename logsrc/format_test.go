package logsrc

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// describe renders a compiled format as "lit|$var|lit|$var|lit" for comparison.
func describe(p *Parser) string {
	var b strings.Builder
	b.WriteString(string(p.prefix))
	for _, f := range p.fields {
		b.WriteString("|$" + f.name + "|")
		b.WriteString(string(f.lit))
	}
	return b.String()
}

func TestCompile(t *testing.T) {
	ext, err := os.ReadFile("testdata/nginx_real.fmt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		spec   string
		format string // Format()
		layout string // describe()
		escape escapeMode
	}{
		{"auto", "auto", "auto", "", escDefault},
		{"empty_is_auto", "  ", "auto", "", escDefault},
		{"nginx_combined", "nginx-combined", "nginx-combined",
			`|$remote_addr| - |$remote_user| [|$time_local|] "|$request|" |$status| |$body_bytes_sent| "|$http_referer|" "|$http_user_agent|"`, escDefault},
		{"combined_alias", "combined", "nginx-combined", "", escDefault},
		{"apache_combined", "apache-combined", "apache-combined", "", escDefault},
		{"common", "common", "common",
			`|$remote_addr| - |$remote_user| [|$time_local|] "|$request|" |$status| |$body_bytes_sent|`, escDefault},
		{"bare", `nginx:$remote_addr [$time_local] "$request" $status $http_host`, "nginx",
			`|$remote_addr| [|$time_local|] "|$request|" |$status| |$http_host|`, escDefault},
		{"bare_starting_with_quote", `nginx:"$request" $status`, "nginx",
			`"|$request|" |$status|`, escDefault},
		{"bare_starting_with_quote_and_ending_quoted", `nginx:"$request" "$http_host"`, "nginx",
			`"|$request|" "|$http_host|"`, escDefault},
		{"one_double_quoted_string", `nginx:"$request $status";`, "nginx", `|$request| |$status|`, escDefault},
		{"single_quoted", `nginx:'$remote_addr "$request" $status'`, "nginx",
			`|$remote_addr| "|$request|" |$status|`, escDefault},
		{"quoted_parts", `nginx:'$remote_addr '  '"$request"'`, "nginx",
			`|$remote_addr| "|$request|"`, escDefault},
		{"escape_json_parts", `nginx:escape=json '{"a":"$remote_addr","s":$status}'`, "nginx",
			`{"a":"|$remote_addr|","s":|$status|}`, escJSON},
		{"directive", "nginx:log_format main '$remote_addr [$time_local] \"$request\" $status';", "nginx:main",
			`|$remote_addr| [|$time_local|] "|$request|" |$status|`, escDefault},
		{"directive_multiline_escape_none", "nginx:log_format  x escape=none\n\t'$remote_addr '\n\t\"[$time_local] \\\"$request\\\"\";\n", "nginx:x",
			`|$remote_addr| [|$time_local|] "|$request|"`, escNone},
		{"directive_with_comment", "nginx:log_format c # the c format\n '$remote_addr $status'; # done", "nginx:c",
			`|$remote_addr| |$status|`, escDefault},
		{"brace_syntax", `nginx:${remote_addr}x${status}`, "nginx", `|$remote_addr|x|$status|`, escDefault},
		{"unknown_vars_opaque", `nginx:$remote_addr $upstream_addr $status`, "nginx",
			`|$remote_addr| |$upstream_addr| |$status|`, escDefault},
		{"recorded_ext", "nginx:" + string(ext), "nginx:ext", "", escDefault},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.spec)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.spec, err)
			}
			if got := p.Format(); got != tc.format {
				t.Errorf("Format() = %q, want %q", got, tc.format)
			}
			if tc.layout != "" {
				if got := describe(p); got != tc.layout {
					t.Errorf("layout\n got %s\nwant %s", got, tc.layout)
				}
			}
			if p.escape != tc.escape {
				t.Errorf("escape = %d, want %d", p.escape, tc.escape)
			}
		})
	}
}

func TestCompileKinds(t *testing.T) {
	p, err := Compile(`nginx:$http_x_api_key $HTTP_ORIGIN $arg_api_key $api_key_suffix $sent_http_x $http_host $host`)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind   fieldKind
		header string
	}{{kHeader, "x-api-key"}, {kOrigin, ""}, {kArg, "api_key"}, {kOpaque, ""}, {kOpaque, ""}, {kHTTPHost, ""}, {kHost, ""}}
	for i, w := range want {
		f := p.fields[i]
		if f.kind != w.kind || string(f.header) != w.header {
			t.Errorf("field %d ($%s): kind %d header %q, want %d %q", i, f.name, f.kind, f.header, w.kind, w.header)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, spec, want string
		unknown          bool // wraps ErrUnknownFormat
	}{
		{"unknown_name", "nginx-main", `unknown log format "nginx-main"`, true},
		{"unknown_family", "lighttpd:%h", `unknown log format family "lighttpd"`, true},
		{"apache_unknown_directive", "apache:%h %Z", "unrecognized LogFormat directive %Z", false},
		{"apache_unclosed_brace", "apache:%h %{Host i", `"%{" without a closing "}"`, false},
		{"apache_adjacent", "apache:%h%u", "%h and %u with nothing between them", false},
		{"apache_bad_strftime", "apache:%{%Q}t %r", "%Q, which rebindwatch does not read", false},
		{"apache_unknown_nickname", `apache:CustomLog /x mine`, `nickname "mine"`, false},
		{"gunicorn_bare_percent", "gunicorn:%h %(r)s", "gunicorn formats name every value", false},
		{"gunicorn_no_conversion", "gunicorn:%(h) %(r)s", "without a conversion", false},
		{"gunicorn_bad_python", "gunicorn:access_log_format = '%(h)s", "unterminated string", false},
		{"json_unknown_name", "json:hots=request.host,target=uri,method=m", `unknown name "hots"`, false},
		{"json_no_request", "json:host=request.host", "has no request", false},
		{"json_bad_path", "json:target=a..b,method=m", "want keys separated by dots", false},
		{"json_bad_index", "json:target=a[1],method=m", "want keys separated by dots", false},
		{"empty_nginx", "nginx:", "empty", false},
		{"lone_dollar", `nginx:$remote_addr $ $status`, `"$" without a variable name at byte 14`, false},
		{"trailing_dollar", `nginx:$remote_addr $`, `"$" without a variable name`, false},
		{"unclosed_brace", `nginx:$remote_addr ${status`, `"${" without a closing "}"`, false},
		{"bad_brace_name", `nginx:${remote-addr}`, `invalid variable name "${remote-addr}"`, false},
		{"adjacent_vars", `nginx:$remote_addr$status`, "$remote_addr and $status with nothing between them", false},
		{"unbalanced_single", `nginx:'$remote_addr "$request"`, "unbalanced ' quote", false},
		{"unbalanced_in_directive", "nginx:log_format x '$remote_addr' \"$status;", `unbalanced " quote`, false},
		{"unknown_escape", `nginx:log_format x escape=xml '$remote_addr'`, `unknown escape="xml"`, false},
		{"escape_after_format", `nginx:log_format x '$remote_addr' escape=json`, "escape=json after the format string", false},
		{"no_name", `nginx:log_format '$remote_addr'`, "no format name", false},
		{"no_format", `nginx:log_format x;`, "no format string", false},
		{"no_vars", `nginx:'just text'`, "has no variables", false},
		{"text_after_semicolon", `nginx:log_format x '$status'; access_log off;`, `text after its closing ";"`, false},
		{"glued_quotes", `nginx:'$status''$remote_addr'`, "text right after a closing ' quote", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.spec)
			if err == nil {
				t.Fatalf("Compile(%q) succeeded, want error containing %q", tc.spec, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compile(%q) = %q, want it to contain %q", tc.spec, err, tc.want)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error is not one line: %q", err)
			}
			if got := errors.Is(err, ErrUnknownFormat); got != tc.unknown {
				t.Errorf("errors.Is(err, ErrUnknownFormat) = %v, want %v", got, tc.unknown)
			}
		})
	}
}
