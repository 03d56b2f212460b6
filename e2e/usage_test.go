package e2e

// Usage errors, exit codes, --help, --version and the fingerprint command.

import (
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runBin(t, tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", r.code, r.stderr)
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
