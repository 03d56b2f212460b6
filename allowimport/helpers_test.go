package allowimport

import (
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// tcase is one file and what importing it must give. hosts and origins are
// compared exactly, in order; notes are substrings that must each appear in
// some note.
type tcase struct {
	name    string
	file    string
	src     string
	fw      string
	hosts   []string
	origins []string
	notes   []string
	noNotes []string // substrings no note may contain
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ImportBytes(tc.file, []byte(tc.src))
			if err != nil {
				t.Fatalf("ImportBytes: %v", err)
			}
			if tc.fw != "" && r.Framework != tc.fw {
				t.Errorf("framework = %q, want %q", r.Framework, tc.fw)
			}
			if !slices.Equal(r.Hosts, tc.hosts) {
				t.Errorf("hosts:\n got  %q\n want %q", r.Hosts, tc.hosts)
			}
			if !slices.Equal(r.Origins, tc.origins) {
				t.Errorf("origins:\n got  %q\n want %q", r.Origins, tc.origins)
			}
			for _, want := range tc.notes {
				if !hasNote(r.Notes, want) {
					t.Errorf("no note contains %q; notes:\n  %s", want, strings.Join(r.Notes, "\n  "))
				}
			}
			for _, bad := range tc.noNotes {
				if hasNote(r.Notes, bad) {
					t.Errorf("a note contains %q; notes:\n  %s", bad, strings.Join(r.Notes, "\n  "))
				}
			}
			checkResult(t, r)
		})
	}
}

func hasNote(notes []string, sub string) bool {
	for _, n := range notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

// checkResult holds for every import: rebindwatch accepts every pattern,
// the TOML rendering decodes back to the same lists, and nothing that can
// reach a terminal carries a control character.
func checkResult(t testing.TB, r Result) {
	t.Helper()
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts, cfg.AllowedOrigins = r.Hosts, r.Origins
	if err := cfg.Validate(); err != nil {
		t.Errorf("rebindwatch rejects the import: %v\nhosts %q\norigins %q", err, r.Hosts, r.Origins)
	}
	for _, list := range [][]string{r.Hosts, r.Origins} {
		for _, s := range list {
			if s == "" || !isPrintableASCII(s) || strings.ToLower(s) != s {
				t.Errorf("pattern %q is not lower-case printable ASCII", s)
			}
		}
	}
	for _, n := range r.Notes {
		if sanitize.String(n) != n || strings.ContainsAny(n, "\n\r") {
			t.Errorf("note is not terminal-safe: %q", n)
		}
	}
	out := r.TOML("some/dir/app.conf")
	var got struct {
		Hosts   struct{ Allowed []string }
		Origins struct{ Allowed []string }
	}
	md, err := toml.Decode(out, &got)
	if err != nil {
		t.Fatalf("TOML output does not parse: %v\n%s", err, out)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Errorf("TOML output has keys rebindwatch does not read: %v", u)
	}
	if !slices.Equal(got.Hosts.Allowed, nilIfEmpty(r.Hosts)) && !(len(got.Hosts.Allowed) == 0 && len(r.Hosts) == 0) {
		t.Errorf("TOML hosts = %q, want %q", got.Hosts.Allowed, r.Hosts)
	}
	if !slices.Equal(got.Origins.Allowed, nilIfEmpty(r.Origins)) && !(len(got.Origins.Allowed) == 0 && len(r.Origins) == 0) {
		t.Errorf("TOML origins = %q, want %q", got.Origins.Allowed, r.Origins)
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
