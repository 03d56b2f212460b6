package e2e

// The commands around detection: --import-allowlist, --suggest-config and
// --webhook.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestImportAllowlist(t *testing.T) {
	r := runBin(t, "--import-allowlist", "../allowimport/testdata/settings.py")
	if r.code != 0 || !strings.Contains(r.stdout, "[hosts]") || !strings.Contains(r.stdout, `"*.shop.example.com"`) {
		t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// What it prints must load as a rebindwatch config.
	path := filepath.Join(t.TempDir(), "rw.toml")
	writeFile(t, path, r.stdout, 0o644)
	if r := runBin(t, "--no-tui", "-c", path, "-r", rec+"normal.pcap", "--emit", "summary"); r.code != 0 {
		t.Errorf("imported config does not load: %s", r.stderr)
	}
	if r := runBin(t, "--import-allowlist", "../go.mod"); r.code != 2 || !strings.Contains(r.stderr, "go.mod") {
		t.Errorf("an unknown file: exit %d, want 2 and the file named: %s", r.code, r.stderr)
	}
}

// TestSuggestConfig: the suggestion from normal traffic loads as a config and
// raises nothing on that traffic.
func TestSuggestConfig(t *testing.T) {
	r := runBin(t, "--suggest-config", "-c", rec+"rebindwatch.toml", "-r", rec+"normal.pcap")
	if r.code != 0 || !strings.Contains(r.stdout, `"api.rebind.test"`) || !strings.Contains(r.stdout, `"https://app.rebind.test"`) {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	path := filepath.Join(t.TempDir(), "suggested.toml")
	writeFile(t, path, r.stdout, 0o644)
	again := runBin(t, "--no-tui", "-c", path, "-r", rec+"normal.pcap")
	if again.code != 0 || len(again.ofType("alert")) != 0 {
		t.Errorf("the suggested config: exit %d, alerts %v, %s", again.code, alertKeys(again), again.stderr)
	}
	if r := runBin(t, "--suggest-config", rec+"normal_access_combined.log"); r.code != 2 {
		t.Errorf("--suggest-config on a followed log: exit %d, want 2", r.code)
	}
}

// TestWebhook posts alerts to a real local receiver: each alert's JSON
// line, with the content type and the header given on the command line.
func TestWebhook(t *testing.T) {
	var mu sync.Mutex
	var bodies, problems []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, string(b))
		if r.Method != http.MethodPost || r.URL.Path != "/hook" || r.Header.Get("Content-Type") != "application/json" ||
			r.Header.Get("Authorization") != "Bearer receiver-token" {
			problems = append(problems, fmt.Sprintf("%s %s, headers %v", r.Method, r.URL.Path, r.Header))
		}
	}))
	defer srv.Close()
	r := runBin(t, "--no-tui", "-c", rec+"rebindwatch.toml", "-r", rec+"scenarios.pcap", "--webhook", srv.URL+"/hook", "--webhook-header", "Authorization: Bearer receiver-token")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != len(r.ofType("alert")) || len(bodies) == 0 {
		t.Fatalf("webhook got %d alerts, stdout has %d", len(bodies), len(r.ofType("alert")))
	}
	for _, p := range problems {
		t.Errorf("webhook request: %s", p)
	}
	var lines, got []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, `{"type":"alert"`) {
			lines = append(lines, l)
		}
	}
	for _, b := range bodies {
		noKeys(t, "webhook", b)
		got = append(got, strings.TrimSuffix(b, "\n"))
	}
	slices.Sort(lines)
	slices.Sort(got)
	if !slices.Equal(got, lines) {
		t.Errorf("the webhook bodies are not the alert lines on stdout\n got: %q\nwant: %q", got, lines)
	}
}
