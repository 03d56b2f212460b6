package e2e

// Usage errors, exit codes, --help, --version and the fingerprint command.

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestUsageErrorsExit2WithOneSentence(t *testing.T) {
	dir := t.TempDir()
	notCap := filepath.Join(dir, "notes.txt")
	writeFile(t, notCap, "this is not a capture\n", 0o644)
	badCfg := filepath.Join(dir, "bad.toml")
	writeFile(t, badCfg, "[hosts]\nallowed = [\"a\"]\n[burst]\nwindw = \"1s\"\n", 0o644)
	// A pcap file header (as in normal.pcap) with major version 9.
	pcapV9 := filepath.Join(dir, "v9.pcap")
	hdr := []byte(readFile(t, rec+"normal.pcap")[:24])
	hdr[4], hdr[5] = 9, 0
	writeFile(t, pcapV9, string(hdr), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not_a_capture", []string{"--no-tui", "-r", notCap}, "notes.txt"},
		{"missing_capture", []string{"--no-tui", "-r", filepath.Join(dir, "nope.pcap")}, "nope.pcap"},
		{"config_unknown_key", []string{"--no-tui", "-c", badCfg, "-r", rec + "normal.pcap"}, "bad.toml:4: burst.windw: unknown key"},
		{"bad_flag", []string{"--no-such-flag"}, "no-such-flag"},
		{"nothing_to_watch", []string{"--no-tui"}, "nothing to watch"},
		{"no_such_interface", []string{"--no-tui", "-i", "nosuchif0"}, "nosuchif0"},
		{"filter_without_interface", []string{"--no-tui", "-f", "port 80", "-r", rec + "normal.pcap"}, "-f goes with -i"},
		{"bad_emit", []string{"--no-tui", "--emit", "alerts,bogus", "-r", rec + "normal.pcap"}, "bogus"},
		{"bad_log_format", []string{"--no-tui", "--no-follow", "--log-format", "bogus-format", rec + "normal_access_combined.log"}, "--log-format"},
		{"bad_listen", []string{"--no-tui", "--listen", "http://127.0.0.1:5514"}, "--listen http://127.0.0.1:5514"},
		{"listen_tls_without_cert", []string{"--no-tui", "--listen", "syslog+tls://127.0.0.1:0"}, "--listen-cert"},
		{"listen_cert_without_listen", []string{"--no-tui", "--listen-cert", "c.pem", rec + "normal_access_combined.log"}, "--listen-cert and --listen-key go with --listen"},
		{"ssh_option_injection", []string{"--no-tui", "ssh://-oProxyCommand=sh/x.log"}, "ssh://-oProxyCommand=sh/x.log"},
		{"bad_container_name", []string{"--no-tui", "docker:-v"}, "docker:-v"},
		{"journal_file_missing", []string{"--no-tui", "journal-file:" + filepath.Join(dir, "nope.journal")}, "nope.journal: not a journal"},
		{"unbalanced_log_format", []string{"--no-tui", "--no-follow", "--log-format", "nginx:'$remote_addr \"$request", rec + "normal_access_combined.log"}, "--log-format"},
		// The red-team issue's validation list.
		{"speed_nan", []string{"--no-tui", "--speed", "NaN", "-r", rec + "normal.pcap"}, "speed"},
		{"speed_inf", []string{"--no-tui", "--speed", "Inf", "-r", rec + "normal.pcap"}, "speed"},
		{"speed_tiny", []string{"--no-tui", "--speed", "1e-300", "-r", rec + "normal.pcap"}, "speed"},
		{"emit_empty", []string{"--no-tui", "--emit", "", "-r", rec + "normal.pcap"}, "--emit"},
		{"tail_only_no_follow", []string{"--no-tui", "--tail-only", "--no-follow", rec + "normal_access_combined.log"}, "--tail-only"},
		{"demo_with_read", []string{"--demo", "-r", rec + "normal.pcap"}, "--demo"},
		{"log_format_with_read", []string{"--no-tui", "--log-format", "combined", "-r", rec + "normal.pcap"}, "--log-format"},
		{"read_directory", []string{"--no-tui", "-r", dir}, "is a directory"},
		{"pcap_version_9", []string{"--no-tui", "-r", pcapV9}, "version 9"},
		{"bad_flag_with_escape", []string{"--no-tui", "--bad\x1b[31mflag"}, `\x1b[31mflag`},
		{"fingerprint_argument", []string{"fingerprint", "sk_test_example"}, "not as an argument"},
		{"fingerprint_config_escape", []string{"fingerprint", "-c", "\x1b[31m.toml"}, `\x1b[31m.toml`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runBin(t, tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", r.code, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, `"type":"summary"`) {
				t.Errorf("a summary of a run that did not happen: %s%s", r.stdout, r.stderr)
			}
			if strings.ContainsRune(r.stderr, 0x1b) {
				t.Errorf("stderr holds a raw escape: %q", r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, tc.want) }) {
				t.Errorf("stderr %q does not name %q", r.stderr, tc.want)
			}
		})
	}
}

func TestFingerprintCommand(t *testing.T) {
	cmd := exec.Command(bin, "fingerprint")
	cmd.Stdin = strings.NewReader("sk_test_example\n")
	cmd.Dir = t.TempDir() // no ./rebindwatch.toml: no salt
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	// sha256("sk_test_example")[:12]
	if got := strings.TrimSpace(string(out)); got != "d3b9b59ae0ca" {
		t.Errorf("fingerprint = %q", got)
	}
	// A second line is a second key, not part of this one: refused.
	cmd = exec.Command(bin, "fingerprint")
	cmd.Stdin = strings.NewReader("sk_test_example\nsk_test_other\n")
	cmd.Dir = t.TempDir()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || len(out) != 0 || !strings.Contains(stderr.String(), "more than one line") {
		t.Errorf("two lines: %v, stdout %q, stderr %q", err, out, stderr.String())
	}
}

// TestSameLogReadOnce: the same log named twice, or by a symlink, is read
// once (the red-team run counted 776 requests from 388 lines).
func TestSameLogReadOnce(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeFile(t, log, readFile(t, rec+"normal_access_combined.log")+"\n", 0o644)
	if err := os.Symlink(log, filepath.Join(dir, "link.log")); err != nil {
		t.Fatal(err)
	}
	want := runBin(t, "--no-tui", "--no-follow", log).summary(t)["requests"]
	r := runBin(t, "--no-tui", "--no-follow", log, filepath.Join(dir, "link.log"), dir+"/./access.log")
	if r.code != 0 || r.summary(t)["requests"] != want {
		t.Errorf("exit %d, %v requests, want %v (the file once): %s", r.code, r.summary(t)["requests"], want, r.stderr)
	}
}

func TestHelpAndVersion(t *testing.T) {
	r := runBin(t, "--help")
	if r.code != 0 || !strings.Contains(r.stderr, "Examples:") {
		t.Errorf("--help: exit %d, %q", r.code, r.stderr)
	}
	r = runBin(t, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "rebindwatch ") {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
}
