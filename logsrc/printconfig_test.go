package logsrc

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden snippet files in ../testdata/logs/snippets")

// snippetFiles are where the snippets are kept for record_logs.sh, which
// runs each one against the real server.
var snippetFiles = map[string]string{
	"nginx":    "../testdata/logs/snippets/nginx.conf",
	"apache":   "../testdata/logs/snippets/apache.conf",
	"gunicorn": "../testdata/logs/snippets/gunicorn.conf.py",
	"flask":    "../testdata/logs/snippets/flask_rebindwatch.py",
}

// TestPrintLogConfig checks the snippets against the files the recorder ran
// (go test ./logsrc -run TestPrintLogConfig -update rewrites them; then
// rerun testdata/logs/record_logs.sh).
func TestPrintLogConfig(t *testing.T) {
	for server, file := range snippetFiles {
		got, err := PrintLogConfig(server)
		if err != nil {
			t.Fatalf("%s: %v", server, err)
		}
		if *update {
			if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s: PrintLogConfig differs from %s, which record_logs.sh ran; rerun with -update and record again", server, file)
		}
		if strings.Contains(got, "\t") && server != "nginx" {
			t.Errorf("%s: snippet has tabs", server)
		}
	}
	for _, alias := range []string{"Apache2", "httpd", " werkzeug "} {
		if _, err := PrintLogConfig(alias); err != nil {
			t.Errorf("%q: %v", alias, err)
		}
	}
	if _, err := PrintLogConfig("lighttpd\x1b[2J"); err == nil || strings.ContainsRune(err.Error(), 0x1b) ||
		!strings.Contains(err.Error(), "nginx, apache, gunicorn or flask") || !strings.Contains(err.Error(), "zeek") {
		t.Errorf("unknown server: %v", err)
	}
}

// TestPrintLogConfigSensors: every other sensor and cloud has a text, which
// says what its log cannot show when nothing can be added to it.
func TestPrintLogConfigSensors(t *testing.T) {
	for name, cannot := range map[string]string{"zeek": "", "suricata": "", "alb": "nothing can be added",
		"cloudfront": "cannot show the\n# Origin", "gcp": "cannot add", "cloudflare": "", "azure-frontdoor": "cannot log"} {
		got, err := PrintLogConfig(name)
		if err != nil || !strings.HasPrefix(got, "# rebindwatch: ") || strings.Contains(got, "\t") && name != "zeek" {
			t.Errorf("%s: %v %q", name, err, got)
		}
		if cannot != "" && !strings.Contains(got, strings.ReplaceAll(cannot, "\\n", "\n")) {
			t.Errorf("%s: the text does not say what the log cannot show (%q)", name, cannot)
		}
	}
}
