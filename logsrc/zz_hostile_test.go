package logsrc

// Hostile log lines, from testdata/hostile (record.sh there): nginx's own
// logs of requests carrying escape sequences, bidi controls, invalid UTF-8
// and 10 kB values, in its default \xHH escaping and with escape=none, and
// generated lines with every such value in every field.

import (
	"context"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

const hostileDir = "../testdata/hostile/"

// hostileRead parses a whole log with the given format spec.
func hostileRead(t *testing.T, path, spec string) (reqs []detect.Request, parseErrors uint64, problems []detect.Problem) {
	t.Helper()
	out := make(chan detect.Batch, 16)
	errc := make(chan error, 1)
	go func() {
		errc <- Run(context.Background(), path, Options{Format: spec, Keys: keys.NewExtractor(keys.DefaultConfig()), MaxProblems: 100}, out)
		close(out)
	}()
	for b := range out {
		reqs = append(reqs, b.Requests...)
		parseErrors += b.ParseErrors
		problems = append(problems, b.Problems...)
	}
	if err := <-errc; err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return reqs, parseErrors, problems
}

func hostileExtFormat(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/rec/ext.fmt")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(string(b), "\n")
}

// TestHostileEscapedAndRawLogsAgree: the generated log written with nginx's
// \xHH escaping and the same log written raw (escape=none) give the same
// requests, byte for byte: unescaping is exact, and no value is lost, cut
// or changed on the way (sanitising is for display, not for parsing).
func TestHostileEscapedAndRawLogsAgree(t *testing.T) {
	ext := hostileExtFormat(t)
	esc, escErrs, escProblems := hostileRead(t, hostileDir+"hostile_gen_escaped.log", "nginx:"+ext)
	raw, rawErrs, rawProblems := hostileRead(t, hostileDir+"hostile_gen_raw.log", "nginx:escape=none '"+ext+"'")
	// The 16 lines with a hostile value in the Origin column do not read as
	// an Origin (scheme://host[:port] or null): the parser takes them for
	// columns out of line and counts them, in both logs alike.
	if escErrs != 16 || rawErrs != 16 {
		t.Errorf("parse errors: escaped %d %v, raw %d %v; want the 16 Origin lines", escErrs, escProblems, rawErrs, rawProblems)
	}
	for _, p := range append(escProblems, rawProblems...) {
		if !strings.Contains(p.Text, "the Origin column is not an origin") {
			t.Errorf("unexpected problem %s: %s", p.Where, p.Text)
		}
	}
	if len(esc) != 80 || len(raw) != len(esc) {
		t.Fatalf("requests: escaped %d, raw %d, want 80 each (16 values x 5 fields)", len(esc), len(raw))
	}
	for i := range esc {
		a, b := esc[i], raw[i]
		a.Source, b.Source = "", ""
		if a.Host != b.Host || a.Origin != b.Origin || a.UserAgent != b.UserAgent || a.Target != b.Target || a.Referer != b.Referer || a.HasHost != b.HasHost || a.HasOrigin != b.HasOrigin {
			t.Errorf("line %d differs:\nescaped %+q\nraw     %+q", i+1, []string{a.Host, a.Origin, a.UserAgent, a.Target, a.Referer}, []string{b.Host, b.Origin, b.UserAgent, b.Target, b.Referer})
		}
	}
	// Spot checks against corpus.py: line 1 is csi_red in Host, line 33
	// (the 17th request, the Origin lines being errors) in the User-Agent,
	// 49 in the target.
	want := map[int][2]string{
		0:  {esc[0].Host, "evil\x1b[31mRED\x1b[0m.test"},
		16: {esc[16].UserAgent, "evil\x1b[31mRED\x1b[0m.test"},
		32: {esc[32].Target, "/v1/items?q=evil\x1b[31mRED\x1b[0m.test"},
		13: {esc[13].Host, "\xff\xfe\xc0\x80\xed\xa0\x80host"},
		15: {esc[15].Host, strings.Repeat("B", 10000)},
	}
	for i, w := range want {
		if w[0] != w[1] {
			t.Errorf("line %d: got %q, want %q", i+1, w[0], w[1])
		}
	}
}

// TestHostileProblemsAreSanitised: a raw log read as if nginx had escaped it
// (the format string without escape=none) cannot parse the values that end
// in a backslash; the lines quoted in the Problems are terminal-safe once
// through the sanitiser every edge uses.
func TestHostileProblemsAreSanitised(t *testing.T) {
	_, errs, problems := hostileRead(t, hostileDir+"hostile_gen_raw.log", "nginx:"+hostileExtFormat(t))
	if errs == 0 || len(problems) == 0 {
		t.Fatalf("want parse errors from the mismatched escaping, got %d", errs)
	}
	for _, p := range problems {
		for _, s := range []string{sanitize.String(p.Where), sanitize.String(p.Text)} {
			if !utf8.ValidString(s) {
				t.Errorf("problem is not valid UTF-8: %q", s)
			}
			for _, r := range s {
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || sanitize.Invisible(r) {
					t.Errorf("problem carries %U: %q", r, s)
					break
				}
			}
		}
	}
}

// TestHostileEscapeNoneForgedFields: with escape=none nginx writes a quote
// in a header as is, so a client can end the User-Agent field early and
// write the fields after it itself. testdata/hostile/hostile_access_ext_raw.log
// (real nginx) has two requests to /v1/admin/users with Host
// evil.rebind.test: one whose User-Agent forges host="api.rebind.test"
// origin="-" key="" rt=0.000, one whose User-Agent ends in a backslash.
// Neither may come out with the forged, allowed Host: either the real Host
// is found or the line is counted as not parsed (so the operator sees it).
func TestHostileEscapeNoneForgedFields(t *testing.T) {
	spec := "nginx:escape=none '" + hostileExtFormat(t) + "'"
	reqs, errs, problems := hostileRead(t, hostileDir+"hostile_access_ext_raw.log", spec)
	var admin []detect.Request
	for _, r := range reqs {
		if r.Target == "/v1/admin/users" {
			admin = append(admin, r)
		}
	}
	for _, r := range admin {
		if r.Host != "evil.rebind.test" {
			t.Errorf("forged line read with Host %q (User-Agent %q): a client hid its foreign Host from the Host check; "+
				"logsrc should notice a field's closing text appears twice in an escape=none line and count the line as "+
				"ambiguous (a parse error with a Problem) instead of taking the first split", r.Host, r.UserAgent)
		}
	}
	if len(admin)+int(errs) < 2 {
		t.Errorf("the two /v1/admin/users lines: %d read, %d parse errors (problems %v)", len(admin), errs, problems)
	}
}
