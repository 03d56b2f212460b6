package allowimport

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.toml")

// testdataFiles are the realistic config files, one per framework.
var testdataFiles = map[string]string{
	"settings.py":       "django",
	"flask_config.py":   "flask",
	"production.rb":     "rails",
	"vite.config.ts":    "vite",
	"webpack.config.js": "webpack-dev-server",
	"mcp_server.py":     "mcp-python",
	"mcp_server.ts":     "mcp-typescript",
	"nginx.conf":        "nginx",
}

// TestTestdataGolden imports each testdata file and compares the TOML it
// renders with testdata/golden/<file>.toml (go test -update rewrites them).
func TestTestdataGolden(t *testing.T) {
	for file, fw := range testdataFiles {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", file)
			r, err := Import(path)
			if err != nil {
				t.Fatal(err)
			}
			if r.Framework != fw {
				t.Errorf("framework = %q, want %q", r.Framework, fw)
			}
			if len(r.Hosts) == 0 {
				t.Errorf("no hosts imported")
			}
			checkResult(t, r)
			got := r.TOML(file)
			golden := filepath.Join("testdata", "golden", file+".toml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("TOML differs from %s (go test -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

// TestValidateEveryPattern builds rebindwatch's configuration from each
// import and validates it, as main does with --import-allowlist.
func TestValidateEveryPattern(t *testing.T) {
	for file := range testdataFiles {
		r, err := Import(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		cfg := detect.DefaultConfig()
		cfg.AllowedHosts, cfg.AllowedOrigins = r.Hosts, r.Origins
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	for _, tc := range []struct{ name, src string }{
		{"README.md", "# My app\nALLOWED_HOSTS is set in settings.py\n"},
		{"utils.py", "def add(a, b):\n    return a + b\n"},
		{"index.js", "console.log('hello')\n"},
		{"Gemfile.rb", "source 'https://rubygems.org'\n"},
		{"site.conf", "[section]\nkey = value\n"},
		{"Makefile", "all:\n\tgo build\n"},
	} {
		_, err := ImportBytes(tc.name, []byte(tc.src))
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		msg := err.Error()
		if !errors.Is(err, errUnknownFormat) || !strings.Contains(msg, tc.name) || !strings.Contains(msg, "Django settings") ||
			!strings.Contains(msg, "nginx (server_name)") {
			t.Errorf("%s: error %q should name the file and the formats it reads", tc.name, msg)
		}
	}
	if _, err := Import(filepath.Join("testdata", "no-such-file.py")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// A hostile name reaches stderr through the error: it must be sanitised.
	_, err := ImportBytes("evil\x1b[2J.txt", []byte("x"))
	if err == nil || strings.ContainsRune(err.Error(), 0x1b) {
		t.Errorf("error leaks a control character: %q", err)
	}
}

func TestDetectByContent(t *testing.T) {
	for _, tc := range []struct{ name, src, fw string }{
		{"config/environments/staging.rb", "Rails.application.configure do\nend\n", "rails"},
		{"conf.d/app", "server {\n  server_name a.example.com;\n}\n", "nginx"},
		{"app_settings", "ALLOWED_HOSTS = ['a.example.com']\n", "django"},
		{"server.mjs", "import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'\n", "mcp-typescript"},
		{"webpack.config.cjs", "module.exports = {}\n", "webpack-dev-server"},
		{"dev-server.js", "module.exports = { devServer: { allowedHosts: 'all' } }\n", "webpack-dev-server"},
		{"serve.py", "from mcp.server.fastmcp import FastMCP\n", "mcp-python"},
	} {
		r, err := ImportBytes(tc.name, []byte(tc.src))
		if err != nil || r.Framework != tc.fw {
			t.Errorf("%s: framework %q, err %v; want %q", tc.name, r.Framework, err, tc.fw)
		}
	}
}

func TestTOMLRendering(t *testing.T) {
	r := Result{Framework: "django", Hosts: []string{"a.example.com"}, Notes: []string{"settings.py:3: a note"}}
	out := r.TOML("/srv/app/settings.py\n[hosts]\nallowed = [\"*\"]")
	for _, want := range []string{
		"# Imported by rebindwatch --import-allowlist from /srv/app/settings.py\\n[hosts]\\nallowed = [\"*\"] (django).\n",
		"#   - settings.py:3: a note\n",
		"[hosts]\nallowed = [\n  \"a.example.com\",\n]\n",
		"[origins]\n# The application has no Origin allowlist",
		"allowed = []\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("TOML output lacks %q:\n%s", want, out)
		}
	}
	checkResult(t, r)
	if got := tomlString("a\"b\\c\x01é"); got != `"a\"b\\c\u0001\u00e9"` {
		t.Errorf("tomlString = %s", got)
	}
}

func FuzzImportBytes(f *testing.F) {
	for file := range testdataFiles {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(file, data)
	}
	f.Add("settings.py", []byte("ALLOWED_HOSTS = [[[[[['a'"))
	f.Add("production.rb", []byte("config.hosts << %w[a b <<~X\nconfig.hosts << /a(/\n"))
	f.Add("vite.config.js", []byte("export default {server:{allowedHosts:[`${`${'`'}`}`, /[/]/]}}"))
	f.Add("nginx.conf", []byte("server_name \"unterminated ~^(\\"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		r, err := ImportBytes(name, data)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\x1b\n\r") {
				t.Errorf("error is not terminal-safe: %q", err)
			}
			return
		}
		checkResult(t, r)
	})
}

func BenchmarkImportBytes(b *testing.B) {
	for _, file := range []string{"settings.py", "production.rb", "vite.config.ts", "nginx.conf"} {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(file, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := ImportBytes(file, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
