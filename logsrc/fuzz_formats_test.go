package logsrc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// checkCompiled is what every compiled format must satisfy, and its lines
// must parse without panicking.
func checkCompiled(t *testing.T, spec string, p *Parser, err error, lines []string) {
	t.Helper()
	if err != nil {
		msg := err.Error()
		if msg == "" || strings.ContainsFunc(msg, unicode.IsControl) {
			t.Fatalf("Compile(%q): bad error %q", spec, msg)
		}
		return
	}
	if p.Format() == "" || strings.ContainsFunc(p.Format(), unicode.IsControl) {
		t.Fatalf("Compile(%q): format name %q", spec, p.Format())
	}
	for i, f := range p.fields {
		if p.json == nil && i < len(p.fields)-1 && len(f.lit) == 0 {
			t.Fatalf("Compile(%q): field %s has no literal after it", spec, f.display)
		}
		if f.kind == kTimeFmt && f.tf == nil {
			t.Fatalf("Compile(%q): %s without a layout", spec, f.display)
		}
	}
	kx := testKeys()
	var r detect.Request
	for _, l := range lines {
		_ = p.Parse([]byte(l), kx, &r) // must not panic; messages are sanitised where they are shown
	}
}

func fuzzLines(f *testing.F, files ...string) []string {
	var out []string
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		for i, l := range strings.Split(string(b), "\n") {
			if i < 6 && l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

func FuzzCompileApache(f *testing.F) {
	for _, name := range []string{"apache_full.fmt", "apache_strftime.fmt", "apache_epoch.fmt"} {
		f.Add(readFile(f, logsDir+name))
	}
	f.Add(readFile(f, logsDir+"snippets/apache.conf"))
	for _, s := range []string{apacheCommonFormat, apacheCombinedFormat, vhostCombinedFormat, apacheCLF,
		`%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t`, `%{end:usec}t %{begin:%s}t`, `%!200,304<{Referer}i %>400s`, `%U%q %{c}a %{remote}p`,
		`%^ti %^to %{x}^ti`, `%`, `%{`, `%{}`, `%Z`, `%%%`, `\n\t\\\"`, `LogFormat "%h" a`, `CustomLog x "%h %r"`, `CustomLog x nick`,
		`TransferLog x`, `"%h`, `%{%Q}t`, `%{%Ey %Od %n%%}t`, `%h%u`, `%{%s}t%{%s}t`} {
		f.Add(s)
	}
	lines := fuzzLines(f, logsDir+"apache_full.log", logsDir+"apache_strftime.log", logsDir+"apache_epoch.log", logsDir+"apache_combined.log")
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := Compile("apache:" + spec)
		checkCompiled(t, spec, p, err, lines)
	})
}

func FuzzCompileGunicorn(f *testing.F) {
	f.Add(readFile(f, logsDir+"gunicorn_custom.fmt"))
	f.Add(readFile(f, logsDir+"snippets/gunicorn.conf.py"))
	for _, s := range []string{gunicornDefaultFormat, `access_log_format = '%(h)s "%(r)s"'`, `access_log_format = ("%(h)s "` + "\n" + `'%(s)s')`,
		`access_log_format = r'%(h)s\t%(r)s'  # c`, `--access-logformat="%(h)s \"%(r)s\""`, `--access-logformat '%(h)s'`,
		`%(h)s%(l)s`, `%(`, `%()s`, `%(h)`, `%h`, `%%(h)s`, `%({x-api-key}i)s %({api_key_suffix}e)s %({x}o)s`, `'''%(h)s'''`, `"%(h)s`} {
		f.Add(s)
	}
	lines := fuzzLines(f, logsDir+"gunicorn_custom.log", logsDir+"gunicorn_default.log", logsDir+"gunicorn_snippet.log")
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := Compile("gunicorn:" + spec)
		checkCompiled(t, spec, p, err, lines)
	})
}

func FuzzCompileJSON(f *testing.F) {
	for _, s := range []string{"host=request.host,origin=request.headers.Origin[0],time=ts,method=request.method,target=request.uri",
		"request=r,time=t,headers=h,key=h.authorization", "", "x=y", "target=a..b", "target=a[1],method=m", "target=[0],method=m",
		"request=a.b.c.d.e.f.g", "request=a,request=b", "request=a,time=a"} {
		f.Add(s)
	}
	lines := fuzzLines(f, logsDir+"caddy.log", logsDir+"traefik.log", "testdata/nginx_json.log")
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := Compile("json:" + spec)
		checkCompiled(t, spec, p, err, lines)
	})
}

// FuzzParseJSON reads JSON lines with the JSON formats and compares what
// the scanner found with encoding/json's reading of the same line.
func FuzzParseJSON(f *testing.F) {
	for _, l := range fuzzLines(f, logsDir+"caddy.log", logsDir+"traefik.log", "testdata/nginx_json.log") {
		f.Add(l)
	}
	for _, l := range []string{`{}`, `{"request":{}}`, `{"request":{"method":"GET","uri":"/","headers":{"X-Api-Key":[["x"]]}}}`,
		`{"request":{"method":"GET","uri":"/","method":"POST"}}`, `{"a":[{"b":"}"}],"request":{"method":"G\u0045T","uri":"/\"x"}}`,
		`{"RequestMethod":"GET","RequestPath":"/","request_X-Api-Key":"k","request_Origin":["o"]}`, `{"request":{"method":"GET","uri":"/"}} x`,
		`{"request":"GET / HTTP/1.1","time":1e9}`, `{"request":{"method":GET}}`, `{"ts":"1795731199.5","request":{"method":"GET","uri":"/"}}`,
		`{"request":{"method":"GET","uri":"/"},"ts":-1}`, `[1,2]`, `"x"`, `{"request":{"method":"GET","uri":"/","headers":{"A":"b","Origin":null}}}`} {
		f.Add(l)
	}
	parsers := []*Parser{mustCompile(f, "caddy"), mustCompile(f, "traefik"), mustCompile(f, "json"),
		mustCompile(f, "json:request=r,method=m,target=u,host=h,origin=o,time=t,key=k,headers=hd,client=c,status=s")}
	kx := testKeys()
	f.Fuzz(func(t *testing.T, line string) {
		for _, p := range parsers {
			b := []byte(line)
			var r1, r2 detect.Request
			err1 := p.Parse(b, kx, &r1)
			err2 := p.Parse(b, kx, &r2)
			if string(b) != line {
				t.Fatal("Parse modified its input")
			}
			if (err1 == nil) != (err2 == nil) || r1 != r2 {
				t.Fatalf("%s: parsing twice differs", p.name)
			}
			if err1 != nil {
				continue
			}
			if r1.Method == "" || (r1.Target == "" && p.name != nameJSON) {
				t.Fatalf("%s: parsed without a request: %+v", p.name, r1)
			}
			if r1.Key != "" && len(r1.Key) != keys.FingerprintLen {
				t.Fatalf("key %q", r1.Key)
			}
			if p.name == nameCaddy {
				compareCaddy(t, line, &r1)
			}
		}
	})
}

// compareCaddy checks the scanner against encoding/json on lines both
// read the same way: valid UTF-8, no escapes, no duplicate keys.
func compareCaddy(t *testing.T, line string, r *detect.Request) {
	if !utf8.ValidString(line) || strings.Contains(line, `\`) {
		return
	}
	var v struct {
		Request struct {
			Method, URI, Host, Proto string
		}
	}
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		return
	}
	for _, k := range []string{"method", "uri", "host", "proto", "request"} {
		if strings.Count(strings.ToLower(line), `"`+k+`"`) > 1 {
			return
		}
	}
	if v.Request.Method != r.Method || testKeys().Redact(v.Request.URI) != r.Target || v.Request.Host != r.Host {
		t.Fatalf("caddy line %q:\n scanner %q %q %q\n    json %q %q %q", line, r.Method, r.Target, r.Host, v.Request.Method, v.Request.URI, v.Request.Host)
	}
}

// FuzzServerConfig reads a fuzzed config (nginx or Apache by its name) that
// may include a second fuzzed file.
func FuzzServerConfig(f *testing.F) {
	for _, name := range []string{"debian/nginx/nginx.conf", "debian/apache2/apache2.conf", "debian/apache2/sites-enabled/000-default.conf"} {
		f.Add(readFile(f, logsDir+name), "", false)
	}
	if b, err := os.ReadFile("../testdata/recorder/nginx.conf.in"); err == nil {
		f.Add(string(b), "", false)
	}
	f.Add("http { include inc.conf; access_log /a.log j; }", `log_format j escape=json '{"r":"$request"}';`, false)
	f.Add("Include inc.conf\nCustomLog /a.log mine\n", `LogFormat "%h \"%r\"" mine`, true)
	f.Add("IncludeOptional *.conf\nTransferLog x\n", "LogFormat \"%h %{%T}t\"\n", true)
	f.Add("include inc.conf;", "include main.conf;", false)
	f.Add("ServerRoot /\nInclude ${X}\n", "", true)
	f.Fuzz(func(t *testing.T, main, inc string, apache bool) {
		dir := t.TempDir()
		name := "nginx.conf"
		if apache {
			name = "httpd.conf"
		}
		os.WriteFile(filepath.Join(dir, name), []byte(main), 0o644)
		os.WriteFile(filepath.Join(dir, "inc.conf"), []byte(inc), 0o644)
		logs, err := ServerConfig(filepath.Join(dir, name))
		if err != nil {
			return
		}
		for _, l := range logs {
			if l.Where == "" || strings.ContainsFunc(l.Where+l.Skip, unicode.IsControl) {
				t.Fatalf("log %+v", l)
			}
			if l.Skip == "" {
				if _, err := Compile(l.Format); err != nil && !strings.Contains(err.Error(), "has no variables") &&
					!strings.Contains(err.Error(), "with nothing between them") && !strings.Contains(err.Error(), "LogFormat") &&
					!strings.Contains(err.Error(), "log_format") && !strings.Contains(err.Error(), "unbalanced") {
					t.Fatalf("log %+v: format does not compile: %v", l, err)
				}
			}
		}
	})
}

// FuzzSplitter feeds data in fuzzed chunk sizes: the lines must be the same
// as splitting it whole.
func FuzzSplitter(f *testing.F) {
	f.Add([]byte("a\nbb\n\nccc"), uint8(1))
	f.Add([]byte("no newline"), uint8(3))
	f.Add(bytes.Repeat([]byte("x\n"), 100), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		n := int(step%64) + 1
		var sp splitter
		var got []string
		emit := func(l []byte, no int64) error {
			if int(no) != len(got)+1 {
				t.Fatalf("line number %d, want %d", no, len(got)+1)
			}
			got = append(got, string(l))
			return nil
		}
		for i := 0; i < len(data); i += n {
			sp.feed(data[i:min(i+n, len(data))], emit, func(int64, []byte) { t.Fatal("too long") })
		}
		sp.end(emit)
		var want []string
		for _, l := range bytes.SplitAfter(data, []byte("\n")) {
			if len(l) > 0 {
				want = append(want, string(l))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}
