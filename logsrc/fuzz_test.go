package logsrc

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// fuzzFormats are the formats FuzzParseLine reads lines against.
var fuzzFormats = []string{
	"nginx-combined",
	"auto",
	"common",
	fmtExt,
	fmtJSON,
	`nginx:log_format n escape=none '$remote_addr "$http_user_agent" $request_method $uri?$args $server_protocol $host k=$api_key_suffix a=$arg_api_key'`,
	`nginx:$msec|$remote_addr|$server_addr:$server_port|"$request"|$status|$http_host|$http_origin|$http_authorization`,
	"werkzeug",
	"gunicorn",
	"vhost_combined",
	"rebindwatch",
	"caddy",
	"traefik",
	"json",
	`apache:%a|%{c}a|%A|%h|%l|%u|%t|%{%Y-%m-%dT%H:%M:%S}t.%{usec_frac}t %{%z}t|%{end:sec}t|%{msec}t|\"%r\"|%m|%U%q|%H|%>s|%<s|%s|%b|%B|%D|%T|%{ms}T|%v|%V|%p|%{remote}p|%X|%I|%O|\"%{Host}i\"|\"%{Origin}i\"|\"%{X-API-Key}i\"|\"%{Authorization}i\"|\"%{Referer}i\"|\"%{User-Agent}i\"|\"%{Content-Type}o\"|%{API_KEY_SUFFIX}e|%400,501{User-agent}i|%!200,304{Referer}i|%k|%L|%P|%R`,
	`apache:[%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] \"%r\" %>s host=%{Host}i begin=%{begin:%F %R:%S}t end=%{end:%s}t`,
	`apache:%{%s}t %{%A %B %e %I:%M:%S %p %Y}t %h \"%r\" %>s \"%{Origin}i\"`,
	`gunicorn:%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(B)s "%(f)s" "%(a)s" %(T)s %(D)s %(L)s %(M)s %(p)s %(m)s %(U)s?%(q)s %(H)s "%({host}i)s" "%({origin}i)s" "%({x-api-key}i)s" "%({authorization}i)s" "%({content-type}o)s" %({remote_addr}e)s`,
	"json:host=req.h,origin=req.hdr.Origin[0],time=t,method=req.m,target=req.u,status=st,client=c,key=req.hdr.Authorization,headers=req.hdr",
}

// seedLines are the recorded lines plus the hostile cases of TestParse.
func seedLines(f *testing.F) []string {
	var lines []string
	for _, name := range []string{"testdata/nginx_real.log", "testdata/nginx_combined.log", "testdata/nginx_json.log",
		"../testdata/rec/scenarios_access_ext.log", "../testdata/rec/scenarios_access_combined.log",
		"../testdata/logs/apache_full.log", "../testdata/logs/apache_strftime.log", "../testdata/logs/apache_epoch.log",
		"../testdata/logs/apache_vhost_combined.log", "../testdata/logs/apache_snippet.log", "../testdata/logs/gunicorn_custom.log",
		"../testdata/logs/gunicorn_snippet.log", "../testdata/logs/werkzeug_color.log", "../testdata/logs/caddy.log",
		"../testdata/logs/traefik.log", "../testdata/logs/flask_snippet.log", "../testdata/logs/nginx_snippet.log"} {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		for i, l := range strings.Split(string(b), "\n") {
			if i < 12 && l != "" {
				lines = append(lines, l)
			}
		}
	}
	return append(lines,
		`1795731199.551|::1|127.0.0.1:80|"GET /?api_key=k HTTP/1.1"|200|h|null|Basic Zm9vOmJhcg==`,
		`203.0.113.7 "a "quoted" \x22 ua" GET /x?y HTTP/1.1 h k=abc a=%2D`,
		`203.0.113.7 - - [26/Nov/2026:22:13:19 +0000] "GET /v1/items HTTP/1.1" 200 13 "-" "evil \"quoted\" \\back\\"`,
		`{"t":"2026-11-26T22:13:19+00:00","ip":"203.0.113.7","req":"GET /a\"b HTTP/1.1","s":200,"host":"h","origin":"","ua":"\ud83d\ude00 \ud800","key":"\u0000"}`,
		"", " ", `"`, `\`, `\x`, `\u12`, `[]`)
}

func FuzzParseLine(f *testing.F) {
	for _, l := range seedLines(f) {
		for i := range fuzzFormats {
			f.Add([]byte(l), uint8(i))
		}
	}
	kx := testKeys()
	parsers := make([]*Parser, len(fuzzFormats))
	for i, spec := range fuzzFormats {
		parsers[i] = mustCompile(f, spec)
	}
	f.Fuzz(func(t *testing.T, line []byte, which uint8) {
		p := parsers[int(which)%len(parsers)]
		orig := bytes.Clone(line)
		var r1, r2 detect.Request
		err1 := p.Parse(line, kx, &r1)
		if !bytes.Equal(line, orig) {
			t.Fatalf("Parse modified its input")
		}
		err2 := p.Parse(line, kx, &r2)
		if (err1 == nil) != (err2 == nil) || r1 != r2 {
			t.Fatalf("parsing twice differs: %v %+v / %v %+v", err1, r1, err2, r2)
		}
		if err1 != nil {
			return
		}
		if r1.Key != "" && len(r1.Key) != keys.FingerprintLen {
			t.Fatalf("key %q is not a fingerprint", r1.Key)
		}
		if r1.Status < 0 || r1.Status > 999 {
			t.Fatalf("status %d", r1.Status)
		}
		if r1.HasHost != (r1.Host != "") || r1.HasOrigin != (r1.Origin != "") {
			t.Fatalf("Has flags disagree: %+v", r1)
		}
		if r1.Method != "" && strings.ContainsAny(r1.Method, " \x00") {
			t.Fatalf("method %q", r1.Method)
		}
		if p.has&(1<<kRequest) != 0 && (r1.Method == "" || r1.Target == "") {
			t.Fatalf("a parsed $request without method or target: %+v", r1)
		}
	})
}

func FuzzCompileNginx(f *testing.F) {
	f.Add(readFile(f, "testdata/nginx_real.fmt"))
	f.Add(readFile(f, "testdata/nginx_json.fmt"))
	if b, err := os.ReadFile("../testdata/rec/ext.fmt"); err == nil {
		f.Add(string(b))
	}
	for _, s := range []string{combinedFormat, commonFormat, `'$a' "$b"`, `escape=json '$a'`, `log_format x escape=none '${a}b$c';`,
		`"$request" "$http_host"`, `$`, `${`, `${}`, `$a$b`, `'`, `"`, `log_format`, `log_format x;`, `'$a' # c` + "\n" + `'$b';`,
		`'a\'b$c'`, "$a\\\n$b", `$http_ ${http_x_y}z$arg_$arg_k`} {
		f.Add(s)
	}
	lines := seedLines(f)
	kx := testKeys()
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := Compile("nginx:" + spec)
		if err != nil {
			msg := err.Error()
			if msg == "" {
				t.Fatal("empty error")
			}
			return
		}
		if len(p.fields) == 0 || p.Format() == "" || strings.ContainsFunc(p.Format(), unicode.IsControl) {
			t.Fatalf("compiled %q into %d fields, format %q", spec, len(p.fields), p.Format())
		}
		for i, f := range p.fields {
			if i < len(p.fields)-1 && len(f.lit) == 0 {
				t.Fatalf("field $%s has no literal after it", f.name)
			}
		}
		var r detect.Request
		for _, l := range lines[:min(len(lines), 8)] {
			p.Parse([]byte(l), kx, &r)
		}
	})
}
