package logsrc

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
)

// copyTree copies a testdata directory, replacing old by new in every file
// (the configs name their own absolute paths).
func copyTree(t *testing.T, src, dst, old, new string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if old != "" {
			b = []byte(strings.ReplaceAll(string(b), old, new))
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestServerConfigDebianNginx(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, logsDir+"debian/nginx", dir, "/etc/nginx", dir)
	logs, err := ServerConfig(filepath.Join(dir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 1 || logs[0].Path != "/var/log/nginx/access.log" || logs[0].Format != "nginx-combined" ||
		logs[0].Where != filepath.Join(dir, "nginx.conf")+":40" || logs[0].Skip != "" {
		t.Fatalf("logs %+v", logs)
	}
	if _, err := Compile(logs[0].Format); err != nil {
		t.Error(err)
	}
}

func TestServerConfigDebianApache(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, logsDir+"debian/apache2", dir, "", "")
	t.Setenv("APACHE_LOG_DIR", "") // unset below: the envvars file beside the config says it
	os.Unsetenv("APACHE_LOG_DIR")
	logs, err := ServerConfig(filepath.Join(dir, "apache2.conf"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/var/log/apache2/other_vhosts_access.log": "apache:vhost_combined",
		"/var/log/apache2/access.log":              "apache:combined",
	}
	if len(logs) != 2 {
		t.Fatalf("logs %+v", logs)
	}
	for _, l := range logs {
		p, err := Compile(l.Format)
		if err != nil {
			t.Fatalf("%s: %v", l.Format, err)
		}
		if want[l.Path] != p.Format() || l.Skip != "" || !strings.Contains(l.Where, dir) {
			t.Errorf("log %+v compiles to %s", l, p.Format())
		}
	}
	// The vhost_combined line recorded from Apache reads with it.
	p := mustCompile(t, logs[0].Format)
	var r = readLines(t, logsDir+"apache_vhost_combined.log")[3]
	if err := p.Parse([]byte(r), nil, new(detect.Request)); err != nil {
		t.Errorf("recorded vhost_combined line: %v", err)
	}
}

func TestServerConfigRecorderNginx(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../testdata/recorder/nginx.conf.in") // committed
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	os.WriteFile(conf, []byte(strings.ReplaceAll(string(b), "@PREFIX@", dir)), 0o644)
	logs, err := ServerConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 2 || logs[0].Format != "nginx-combined" || logs[0].Path != dir+"/access_combined.log" ||
		logs[1].Path != dir+"/access_ext.log" || !strings.HasPrefix(logs[1].Format, "nginx:log_format rebind '") {
		t.Fatalf("logs %+v", logs)
	}
	p := mustCompile(t, logs[1].Format)
	if p.Format() != "nginx:rebind" {
		t.Errorf("format %s", p.Format())
	}
	// It reads what that nginx wrote (recorded by testdata/record.sh).
	if lines, err := os.ReadFile("../testdata/rec/scenarios_access_ext.log"); err == nil {
		for i, l := range strings.Split(strings.TrimSpace(string(lines)), "\n")[:20] {
			if err := p.Parse([]byte(l), testKeys(), new(detect.Request)); err != nil && !strings.Contains(err.Error(), "not HTTP") {
				t.Errorf("line %d: %v", i+1, err)
			}
		}
	}
}

func TestServerConfigCases(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // relative path -> content; "main" is read
		want  []LogFile         // Path relative to the temp dir when not absolute
		err   string
	}{
		{name: "nginx_includes_and_formats", files: map[string]string{
			"nginx.conf": `http {
    log_format j escape=json '{"h":"$http_host",'
                             '"r":"$request"}';
    include conf.d/*.conf;
    include extra.conf;
}
stream { server { access_log /var/log/stream.log; } }`,
			"conf.d/a.conf": "server { access_log logs/a.log j; access_log off; }",
			"conf.d/b.conf": "server { access_log syslog:server=10.0.0.1 combined; access_log /var/log/$host.access.log combined buffer=32k; }",
			"extra.conf":    "# nothing\n",
		}, want: []LogFile{
			{Path: "conf.d/../logs/a.log", Format: `nginx:log_format j escape=json '{"h":"$http_host","r":"$request"}';`, Where: "conf.d/a.conf:1"},
			{Path: "off", Format: "nginx-combined", Where: "conf.d/a.conf:1", Skip: "access_log off"},
			{Path: "syslog:server=10.0.0.1", Format: "nginx-combined", Where: "conf.d/b.conf:1", Skip: "sent to syslog, not a file"},
			{Path: "/var/log/*.access.log", Format: "nginx-combined", Where: "conf.d/b.conf:1"},
			{Path: "/var/log/stream.log", Format: "nginx-combined", Where: "nginx.conf:7", Skip: "a stream (TCP) log, not HTTP"},
		}},
		{name: "nginx_undefined_format", files: map[string]string{"nginx.conf": "http { access_log /x.log nope; }"},
			err: `nginx.conf:1: access_log uses log_format "nope", which the config does not define`},
		{name: "nginx_missing_include", files: map[string]string{"nginx.conf": "include missing.conf;"}, err: "missing.conf"},
		{name: "nginx_include_loop", files: map[string]string{"nginx.conf": "include nginx.conf;"}, err: "nested more than 16 deep"},
		{name: "nginx_unbalanced_quote", files: map[string]string{"nginx.conf": "log_format x '$a;\n"}, err: "unbalanced ' quote"},
		{name: "apache_nicknames_pipes_transfer", files: map[string]string{
			"httpd.conf": `ServerRoot .
LogFormat "%h \"%r\" %>s host=%{Host}i" mine
LogFormat "%h [%{%d/%m/%Y %T}t] \"%r\""
<VirtualHost *:80>
    CustomLog logs/mine.log mine
    CustomLog "|/usr/bin/rotatelogs /var/log/x 86400" combined
    CustomLog /var/log/inline.log "%a \"%r\" %>s" env=!dontlog
    TransferLog /var/log/transfer.log
    CustomLog /var/log/odd.log nickname_nobody_defined
</VirtualHost>
IncludeOptional nothing/*.conf
Include more.d
`,
			"more.d/x.conf": "GlobalLog /var/log/global.log \\\n    common\n",
		}, want: []LogFile{
			{Path: "logs/mine.log", Format: `apache:LogFormat "%h \"%r\" %>s host=%{Host}i" mine`, Where: "httpd.conf:5"},
			{Path: "|/usr/bin/rotatelogs /var/log/x 86400", Format: apacheSpec(apacheCombinedFormat, "combined"), Where: "httpd.conf:6", Skip: "piped to a program, not a file"},
			{Path: "/var/log/inline.log", Format: `apache:LogFormat "%a \"%r\" %>s"`, Where: "httpd.conf:7"},
			{Path: "/var/log/transfer.log", Format: `apache:LogFormat "%h [%{%d/%m/%Y %T}t] \"%r\""`, Where: "httpd.conf:8"},
			{Path: "/var/log/odd.log", Format: `apache:LogFormat "nickname_nobody_defined"`, Where: "httpd.conf:9",
				Skip: `format "nickname_nobody_defined" is neither a LogFormat nickname nor a format`},
			{Path: "/var/log/global.log", Format: apacheSpec(apacheCommonFormat, "common"), Where: "more.d/x.conf:1"},
		}},
		{name: "apache_missing_include", files: map[string]string{"apache2.conf": "Include nope/*.conf\n"}, err: "apache2.conf:1: Include nope/*.conf matches no file"},
		{name: "apache_unset_variable", files: map[string]string{"apache2.conf": "CustomLog ${NOT_SET_ANYWHERE}/a.log common\n"},
			want: []LogFile{{Path: "${NOT_SET_ANYWHERE}/a.log", Format: apacheSpec(apacheCommonFormat, "common"), Where: "apache2.conf:1",
				Skip: "its path has a variable that is not set: ${NOT_SET_ANYWHERE}/a.log"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			main := ""
			for name, content := range tc.files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(name, "/") && (strings.HasSuffix(name, "nginx.conf") || strings.HasSuffix(name, "httpd.conf") || name == "apache2.conf") {
					main = p
				}
			}
			logs, err := ServerConfig(main)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(logs) != len(tc.want) {
				t.Fatalf("got %d logs %+v, want %d", len(logs), logs, len(tc.want))
			}
			for i, w := range tc.want {
				if !filepath.IsAbs(w.Path) && w.Skip == "" {
					w.Path = filepath.Join(dir, w.Path)
				}
				w.Where = filepath.Join(dir, w.Where)
				if logs[i] != w {
					t.Errorf("log %d:\n got %+v\nwant %+v", i, logs[i], w)
				}
				if w.Skip == "" {
					if _, err := Compile(logs[i].Format); err != nil {
						t.Errorf("log %d: format does not compile: %v", i, err)
					}
				}
			}
		})
	}
	if _, err := ServerConfig(filepath.Join(t.TempDir(), "none.conf")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing config: %v", err)
	}
}
