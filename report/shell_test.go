package report

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

var shellCases = []struct {
	name, in, want string
}{
	{"plain", "rebindwatch", "rebindwatch"},
	{"flag", "--allow-host=api.example.com:8443", "--allow-host=api.example.com:8443"},
	{"path", "/var/log/nginx/api.log", "/var/log/nginx/api.log"},
	{"empty", "", "''"},
	{"space", "my logs/a b.log", "'my logs/a b.log'"},
	{"glob", "logs/*.log", "'logs/*.log'"},
	{"quote", "it's", `'it'\''s'`},
	{"only_quote", "'", `\'`},
	{"dollar_backtick", "$(rm -rf ~)`id`", "'$(rm -rf ~)`id`'"},
	{"tilde", "~/x", "'~/x'"},
	{"hash", "#x", "'#x'"},
	{"log_format", `nginx:$remote_addr "$request" $status`, `'nginx:$remote_addr "$request" $status'`},
	{"newline", "a\nb", "'a\nb'"},
	{"trailing_newline", "a\n", "'a\n'"},
	{"escape", "a\x1b[31mb", `'a'"$(printf '\033')"'[31mb'`},
	{"tab", "a\tb", `'a'"$(printf '\011')"'b'`},
	{"rlo", "x\u202ey", `'x'"$(printf '\342\200\256')"'y'`},
	{"invalid", "\xffz", `"$(printf '\377')"'z'`},
	{"c1", "a\u009bb", `'a'"$(printf '\302\233')"'b'`},
	{"wide", "漢字.log", "'漢字.log'"},
	{"ends_with_control", "a\x07", `'a'"$(printf '\007')"`},
}

func TestShellWord(t *testing.T) {
	for _, tc := range shellCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ShellWord(tc.in); got != tc.want {
				t.Errorf("ShellWord(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestShellLineReadsBack runs the quoted line through real POSIX shells
// (dash, Debian's /bin/sh, and bash in POSIX mode) and compares the words
// they see with the ones quoted, byte for byte.
func TestShellLineReadsBack(t *testing.T) {
	var args []string
	for _, tc := range shellCases {
		args = append(args, tc.in)
	}
	line := ShellLine(args)
	// What a reader sees holds nothing a terminal or a browser would
	// take as a command or reorder: only printable runes and newlines.
	if i, r := unseen(line); i >= 0 {
		t.Errorf("the line holds %U at %d: %q", r, i, line)
	}
	shells := [][]string{{"dash"}, {"bash", "--posix"}, {"sh"}}
	ran := 0
	for _, sh := range shells {
		path, err := exec.LookPath(sh[0])
		if err != nil {
			continue
		}
		ran++
		cmd := exec.Command(path, append(sh[1:], "-c", `printf '%s\0' `+line)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", sh[0], err)
		}
		got := strings.Split(string(bytes.TrimSuffix(out, []byte{0})), "\x00")
		if !slices.Equal(got, args) {
			for i := range max(len(got), len(args)) {
				var g, w string
				if i < len(got) {
					g = got[i]
				}
				if i < len(args) {
					w = args[i]
				}
				if g != w {
					t.Errorf("%s: word %d reads back as %q, want %q", sh[0], i, g, w)
				}
			}
		}
	}
	if ran == 0 {
		t.Skip("SKIPPED LOUDLY: no POSIX shell found (dash, bash, sh): the quoting is not checked against one")
	}
}
