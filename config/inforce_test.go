package config

import (
	"strings"
	"testing"
)

func TestInForceNeverShowsTheSalt(t *testing.T) {
	for _, tc := range []struct {
		name, file, want, not string
	}{
		{"salted", "[keys]\nsalt = \"pepper-Zq8vX2\"\n[hosts]\nallowed = [\"api.example.com\"]\n", "# salt: set (not shown)", "pepper"},
		{"unsalted", "[burst]\nmax_requests = 7\n", "# salt: not set", "salt ="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("x.toml", []byte(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			text, err := c.InForce()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, tc.want) || strings.Contains(text, tc.not) {
				t.Errorf("want %q and no %q in:\n%s", tc.want, tc.not, text)
			}
			// What is shown loads back as the same config (the salt aside).
			back, err := Parse("back.toml", []byte(text))
			if err != nil {
				t.Fatalf("InForce does not load back: %v\n%s", err, text)
			}
			c.Keys.Salt = ""
			c.Path, back.Path, c.set, back.set = "", "", nil, nil
			again, _ := back.InForce()
			first, _ := c.InForce()
			if again != first {
				t.Errorf("loads back differently:\n%s\n---\n%s", first, again)
			}
			if !strings.Contains(text, "[keys]\nheaders = ") || !strings.Contains(text, "\nlog_fields = ") {
				t.Errorf("the [keys] section is not whole:\n%s", text)
			}
		})
	}
}

func TestInForceShowsEveryValue(t *testing.T) {
	c, err := Parse("x.toml", []byte("[hosts]\nallowed = [\"api.example.com\", \"*.example.com\"]\n[spread]\nmax_hosts = 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := c.InForce()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`allowed = ["api.example.com", "*.example.com"]`, "max_hosts = 5", `window = "10s"`, "[limits]", "[rebinding]"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
}
