package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseErrorsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name, toml string
		line       int
		key, msg   string
	}{
		{"unknown_key", "[hosts]\nallowed = [\"a\"]\nalowed_x = 1\n", 3, "hosts.alowed_x", "unknown key"},
		{"unknown_section", "[hostz]\nallowed = []\n", 1, "hostz", "unknown section [hostz]"},
		{"unknown_top", "colour = true\n", 1, "colour", "unknown key"},
		{"bad_duration", "[burst]\nmax_requests = 5\nwindow = \"ten seconds\"\n", 3, "burst.window", "not a duration"},
		{"zero_max", "[burst]\nmax_requests = 0\n", 2, "burst.max_requests", "at least 1"},
		{"huge_limit", "[limits]\nvalues = 20000\nkeys = 3000000000\n", 3, "limits.keys", "at most 100000000"},
		{"bad_host_pattern", "[hosts]\nallowed = [\"https://api.example.com/\"]\n", 2, "hosts.allowed", "not a URL"},
		{"bad_origin", "[origins]\nallowed = [\"app.example.com\"]\n", 2, "origins.allowed", "scheme://"},
		{"bad_port", "[capture]\nports = [70000]\n", 2, "capture.ports", "not a TCP port"},
		{"wrong_type", "[burst]\nmax_requests = \"many\"\n", 2, "burst.max_requests", "incompatible types"},
		{"syntax", "[burst\nmax_requests = 1\n", 2, "", "table name"},
		{"ui_unknown_key", "[ui]\ncolums = 1\n", 2, "ui.colums", "known: columns"},
		{"ui_unknown_pane", "[ui.columns]\nkeys = [\"key\"]\nkees = [\"key\"]\n", 3, "ui.columns.kees", `"kees" is not a pane`},
		{"ui_unknown_column", "[ui.columns]\n\nkeys = [\"key\", \"reqs\"]\n", 3, "ui.columns.keys", `"reqs" is not a column of keys (columns: key, requests,`},
		{"ui_twice", "[ui]\ncolumns.hosts = [\"host\", \"host\"]\n", 2, "ui.columns.hosts", "named twice"},
		{"ui_inline", "[ui]\n# layout\ncolumns = { requests = [] }\n", 3, "ui.columns.requests", "names no column"},
		{"ui_wrong_type", "[ui]\ncolumns = [\"keys\"]\n", 2, "ui.columns", "incompatible types"},
		{"ui_wrong_type_pane", "[ui.columns]\nkeys = \"key\"\n", 2, "ui.columns.keys", "incompatible types"},
		{"ui_wrong_type_col", "[ui.columns]\nkeys = [1]\n", 2, "ui.columns.keys", "incompatible types"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("rw.toml", []byte(tc.toml))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *config.Error", err)
			}
			if ce.Line != tc.line || ce.Key != tc.key || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %q (line %d, key %q), want line %d key %q containing %q", err, ce.Line, ce.Key, tc.line, tc.key, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "rw.toml:") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestExampleIsValidAndDefault(t *testing.T) {
	data, err := os.ReadFile("../config.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("config.toml.example", data)
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	// The example documents the defaults: decoding it must give them back
	// (apart from the allowlists, which it fills with examples).
	c.Hosts, c.Origins.Allowed, c.Path, c.set = d.Hosts, d.Origins.Allowed, "", nil
	if got, want := strings.Join(c.Keys.Headers, ","), strings.Join(d.Keys.Headers, ","); got != want {
		t.Errorf("example keys.headers = %s, default %s", got, want)
	}
	dc, _ := c.Detect()
	dd, _ := d.Detect()
	if dc.BurstWindow != 10*time.Second || dc.BurstMax != dd.BurstMax || dc.SpreadWindow != dd.SpreadWindow || dc.Limits != dd.Limits || dc.Dedupe != dd.Dedupe {
		t.Errorf("example disagrees with defaults:\n%+v\n%+v", dc, dd)
	}
	// Every option, not only the ones above: an option added to Default
	// but documented with another value in the example fails here.
	if !reflect.DeepEqual(c, d) {
		t.Errorf("the example's options differ from the defaults:\nexample  %+v\ndefaults %+v", c, d)
	}
}

func TestAddAllowedKeepsComments(t *testing.T) {
	path := t.TempDir() + "/rw.toml"
	orig := "# my config\n[hosts]\n# names\nallowed = [\n  \"api.example.com\",\n]\n\n[burst]\nmax_requests = 5\n"
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := AddAllowed(path, []string{"eu.example.com", "api.example.com"}, []string{"https://app.example.com"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Join(c.Hosts.Allowed, ",") != "api.example.com,eu.example.com" || strings.Join(c.Origins.Allowed, ",") != "https://app.example.com" ||
		c.Burst.MaxRequests != 5 || !strings.Contains(string(data), "# names") {
		t.Errorf("after AddAllowed:\n%s", data)
	}
}

// TestSetColumns writes a pane's columns into [ui.columns], keeps the rest
// of the file, and replaces them on a second call.
func TestSetColumns(t *testing.T) {
	path := t.TempDir() + "/rw.toml"
	orig := "# my config\n[hosts]\nallowed = [\"api.example.com\"]\n"
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cols := range [][]string{{"key", "flags", "requests"}, {"key", "requests"}} {
		if _, err := SetColumns(path, "keys", cols); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := SetColumns(path, "hosts", []string{"host", "status"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	data, _ := os.ReadFile(path)
	if err != nil || !reflect.DeepEqual(c.UI.Columns, map[string][]string{"keys": {"key", "requests"}, "hosts": {"host", "status"}}) ||
		!strings.Contains(string(data), "# my config") || len(c.Hosts.Allowed) != 1 {
		t.Errorf("after SetColumns (%v):\n%s", err, data)
	}
	if _, err := SetColumns(path, "keys", []string{"nope"}); err == nil || !strings.Contains(err.Error(), "not written") {
		t.Errorf("a bad column was written: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../config.toml.example"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("[hosts]\nallowed = [\"a\", \"*.b\"]\n[burst]\nwindow = \"1s\"\n"))
	f.Add([]byte("[burst\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("fuzz.toml", data)
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}

// TestConfigAsAnAttackSurface: a config is read only when it is a regular
// file of a sane size and nesting, and its errors do not quote values.
func TestConfigAsAnAttackSurface(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "deep.toml")
	os.WriteFile(deep, []byte("x = "+strings.Repeat("{a = ", 40_000/5)+"1"+strings.Repeat("}", 40_000/5)+"\n"), 0o644)
	start := time.Now()
	_, err := Load(deep)
	if err == nil || !strings.Contains(err.Error(), "nested more than") || time.Since(start) > 2*time.Second {
		t.Errorf("deeply nested inline tables: %v after %v", err, time.Since(start))
	}
	big := filepath.Join(dir, "big.toml")
	os.WriteFile(big, []byte(strings.Repeat("# padding\n", 200_000)), 0o644)
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than a config") {
		t.Errorf("a 2 MB config: %v", err)
	}
	fifo := filepath.Join(dir, "fifo.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err == nil {
		done := make(chan error, 1)
		go func() { _, err := Load(fifo); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "the pipe gave nothing") {
				t.Errorf("a FIFO nothing writes to: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("a FIFO config blocks")
		}
	}
	salt := filepath.Join(dir, "salt.toml")
	os.WriteFile(salt, []byte("[keys]\nsalt = abc123xyzsecret\n"), 0o644)
	if _, err := Load(salt); err == nil || strings.Contains(err.Error(), "abc") {
		t.Errorf("an unquoted salt is quoted back: %v", err)
	}
	// A section name of 900 KB (under the size bound): the message quotes
	// a line's worth of it, not all of it.
	long := filepath.Join(dir, "long.toml")
	os.WriteFile(long, []byte("["+strings.Repeat("a", 900_000)+"]\n"), 0o644)
	if _, err := Load(long); err == nil || len(err.Error()) > 1000 || !strings.Contains(err.Error(), "] (known sections: [hosts]") {
		t.Errorf("a 900 KB section name gives a %d-byte error: %.300v", len(fmt.Sprint(err)), err)
	}
	ok := filepath.Join(dir, "ok.toml")
	os.WriteFile(ok, []byte("[hosts]\nallowed = [\"a.test\", \"[x]\"] # [[[[[[[[[[[\n[log.json]\nhost = \"{{{{{{{{{{\"\n"), 0o644)
	if _, err := Load(ok); err != nil && strings.Contains(err.Error(), "nested") {
		t.Errorf("brackets in strings and comments counted: %v", err)
	}
}

func TestCaptureServers(t *testing.T) {
	c, err := Parse("t.toml", []byte("[capture]\nservers = [\"10.0.0.5\", \"10.1.0.0/24\", \"::1\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := c.Detect()
	if fmt.Sprint(d.Servers) != "[10.0.0.5/32 10.1.0.0/24 ::1/128]" {
		t.Errorf("servers %v", d.Servers)
	}
	if _, err := Parse("t.toml", []byte("[capture]\nservers = [\"api.example.com\"]\n")); err == nil || !strings.Contains(err.Error(), "capture.servers") {
		t.Errorf("a name accepted: %v", err)
	}
}

// TestConfigFromAPipe: -c <(envsubst < tmpl) is a pipe the shell's child
// writes, in its own time: read once to its end; read again (a SIGHUP
// reload) it gives nothing, which is an error, not an empty config.
func TestConfigFromAPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	path := fmt.Sprintf("/proc/self/fd/%d", r.Fd())
	if _, err := os.Stat(path); err != nil {
		t.Skip("SKIPPED LOUDLY: no /proc/self/fd here: a pipe cannot be named by a path")
	}
	go func() {
		w.WriteString("[hosts]\n")
		time.Sleep(200 * time.Millisecond) // a writer that takes its time
		w.WriteString("allowed = [\"api.example.com\"]\n")
		w.Close()
	}()
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Hosts.Allowed, []string{"api.example.com"}) {
		t.Errorf("hosts %v", c.Hosts.Allowed)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "read once") {
		t.Errorf("the pipe read again: %v", err)
	}

	// A pipe that never ends is given up on, not waited for.
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	defer w2.Close()
	w2.WriteString("[hosts]\n")
	start := time.Now()
	if _, err := Load(fmt.Sprintf("/proc/self/fd/%d", r2.Fd())); err == nil || !strings.Contains(err.Error(), "no end") {
		t.Errorf("a pipe that never ends: %v", err)
	}
	if d := time.Since(start); d > 3*pipeWait {
		t.Errorf("gave up after %v", d)
	}
}
