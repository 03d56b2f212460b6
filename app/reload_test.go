package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
)

// TestReloadRefusesToTurnChecksOff: an empty or cut config on SIGHUP would
// silently turn the Host check off; only a file that says so may.
func TestReloadRefusesToTurnChecksOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rebindwatch.toml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("[hosts]\nallowed = [\"api.example.com\"]\n[burst]\nmax_requests = 100\n")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	current, _ := cfg.Detect()
	e, err := detect.NewEngine(current)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Config: path}

	write("")
	if _, err := reload(e, o, current, nil); err == nil || !strings.Contains(err.Error(), "hosts.allowed") {
		t.Errorf("an empty config was accepted: %v", err)
	}
	write("[hosts]\nallowed = [\"api.example.com\", \"eu.example.com\"]\n[burst]\nmax_requests = 50\n")
	next, err := reload(e, o, current, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := changes(current, next); got != "allowed hosts +1 -0, burst 100/10s → 50/10s" {
		t.Errorf("changes: %q", got)
	}
	// A reload reads the file as the start does: within the size and
	// nesting bounds, so a hostile file on SIGHUP costs nothing either.
	write("[hosts]\nallowed = [\"api.example.com\"]\nx = " + strings.Repeat("{a = ", 8000) + "1" + strings.Repeat("}", 8000) + "\n")
	if _, err := reload(e, o, next, nil); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("a deeply nested config on reload: %v", err)
	}
	write("[hosts]\nallowed = []\n")
	if next, err := reload(e, o, next, nil); err != nil || len(next.AllowedHosts) != 0 {
		t.Errorf("a config that says allowed = [] must turn the check off: %v", err)
	}
}
