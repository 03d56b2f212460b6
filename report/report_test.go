package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/rebindwatch/rebindwatch/capture"
	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
	"github.com/rebindwatch/rebindwatch/keys"
)

const rec = "../testdata/rec/"

// recorded runs a recording through the real capture and engine, with the
// recordings' config, as the binary does.
func recorded(t *testing.T, pcap string) (*detect.Engine, config.Config) {
	t.Helper()
	e, cfg, kx := engineFor(t, rec+"rebindwatch.toml")
	testkit.Feed(t, e, pcap, func(ctx context.Context, out chan<- detect.Batch) error {
		return capture.ReadFile(ctx, pcap, capture.Options{Ports: cfg.Ports(), Keys: kx}, out)
	})
	return e, cfg
}

// engineFor is the engine, config and key rules the binary builds from
// the config at path.
func engineFor(t *testing.T, path string) (*detect.Engine, config.Config, *keys.Extractor) {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dcfg, err := cfg.Detect()
	if err != nil {
		t.Fatal(err)
	}
	e, err := detect.NewEngine(dcfg)
	if err != nil {
		t.Fatal(err)
	}
	return e, cfg, keys.NewExtractor(cfg.KeyConfig())
}

func runOf(t *testing.T, cfg config.Config) Run {
	t.Helper()
	text, err := cfg.InForce()
	if err != nil {
		t.Fatal(err)
	}
	return Run{Title: "rebindwatch — scenarios.pcap", Version: "test", Generated: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
		Final: true, ConfigPath: cfg.Path, ConfigText: text,
		Command: Command{Args: []string{"rebindwatch", "--no-tui", "-c", cfg.Path, "-r", rec + "scenarios.pcap"}, Dir: "/work"}}
}

func render(t *testing.T, b Backend, r Run) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, b, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// doc parses a report as a browser would.
func doc(t *testing.T, page string) *html.Node {
	t.Helper()
	n, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// find returns the element with id, or nil.
func byID(n *html.Node, id string) *html.Node {
	if n.Type == html.ElementNode && attr(n, "id") == id {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := byID(c, id); f != nil {
			return f
		}
	}
	return nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// each visits every element named tag under n.
func each(n *html.Node, tag string, f func(*html.Node)) {
	if n.Type == html.ElementNode && (tag == "" || n.Data == tag) {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		each(c, tag, f)
	}
}

// text is n's text as a browser shows it, <style> aside.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "style" {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// rows returns the text of each cell of each body row of the tables in n.
func rows(n *html.Node) [][]string {
	var out [][]string
	each(n, "tbody", func(tb *html.Node) {
		each(tb, "tr", func(tr *html.Node) {
			var cells []string
			each(tr, "td", func(td *html.Node) { cells = append(cells, text(td)) })
			out = append(out, cells)
		})
	})
	return out
}

// TestReportOfScenarios writes the report of the recorded scenarios and
// checks what it says against the engine that made it.
func TestReportOfScenarios(t *testing.T) {
	e, cfg := recorded(t, rec+"scenarios.pcap")
	page := render(t, e, runOf(t, cfg))
	d := doc(t, page)
	s := e.Snapshot()

	// Every incident, most severe first, each with its timeline.
	incs := rows(byID(d, "incidents"))
	if len(incs) != len(s.Incidents) || len(s.Incidents) < 4 {
		t.Fatalf("%d incident rows, the engine has %d", len(incs), len(s.Incidents))
	}
	rank := map[string]int{"critical": 3, "high": 2, "medium": 1, "low": 0}
	for i := 1; i < len(incs); i++ {
		if rank[incs[i][1]] > rank[incs[i-1][1]] {
			t.Errorf("incident %d (%s) after a less severe one (%s)", i, incs[i][1], incs[i-1][1])
		}
	}
	for _, inc := range s.Incidents {
		d, _ := e.IncidentDetail(inc.ID)
		var art *html.Node
		each(byID(page2(t, page), "evidence"), "article", func(a *html.Node) {
			if strings.Contains(text(a), inc.ID+":") {
				art = a
			}
		})
		if art == nil {
			t.Errorf("incident %s has no evidence article", inc.ID)
			continue
		}
		var timeline [][]string
		each(art, "table", func(tb *html.Node) {
			if strings.HasPrefix(strings.TrimSpace(text(tb)), "Timeline") {
				timeline = rows(tb)
			}
		})
		if len(timeline) != min(len(d.Timeline), timelineRows) {
			t.Errorf("incident %s: %d timeline rows, the engine has %d", inc.ID, len(timeline), len(d.Timeline))
		}
		if !strings.Contains(text(art), inc.Subject) {
			t.Errorf("incident %s: subject %q not shown", inc.ID, inc.Subject)
		}
	}

	// The charts count every request and every alert.
	var reqs, alerts uint64
	re := regexp.MustCompile(`: (\d+) (requests|critical|high|medium|low)$`)
	each(byID(d, "rates"), "rect", func(r *html.Node) {
		m := re.FindStringSubmatch(text(r))
		if m == nil {
			t.Errorf("bar without a count: %q", text(r))
			return
		}
		n, _ := strconv.ParseUint(m[1], 10, 64)
		if m[2] == "requests" {
			reqs += n
		} else {
			alerts += n
		}
	})
	var raised int
	for _, n := range s.AlertsByDetector {
		raised += n
	}
	if reqs != s.Requests || alerts != uint64(raised) {
		t.Errorf("charts count %d requests and %d alerts, the engine %d and %d", reqs, alerts, s.Requests, raised)
	}

	// The top keys are the keys with the most requests, as fingerprints.
	keyRows := rows(byID(d, "keys"))
	if len(keyRows) == 0 || keyRows[0][0] != topKey(s) {
		t.Errorf("top key %v, want %s", keyRows, topKey(s))
	}
	for _, r := range keyRows {
		if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(r[0]) {
			t.Errorf("key %q is not a fingerprint", r[0])
		}
	}
	hostText := text(byID(d, "hosts"))
	for _, h := range []string{"api.rebind.test", "evil.rebind.test"} {
		if !strings.Contains(hostText, h) {
			t.Errorf("Hosts table without %s", h)
		}
	}

	// The sources: what the capture delivered and saw.
	src := rows(byID(d, "sources"))
	if len(src) < 1 || src[0][0] != "pcap" || src[0][2] != strconv.FormatUint(s.Requests, 10) ||
		src[0][7] != "Host, Origin, Referer, key" {
		t.Errorf("sources: %q", src)
	}

	// The config and the command.
	cfgText := text(byID(d, "config"))
	if !strings.Contains(cfgText, `allowed = ["api.rebind.test", "*.api.rebind.test"]`) || !strings.Contains(cfgText, "salt: not set") {
		t.Errorf("config section: %s", cfgText)
	}
	if c := text(byID(d, "reproduce")); !strings.Contains(c, "rebindwatch --no-tui -c ../testdata/rec/rebindwatch.toml -r ../testdata/rec/scenarios.pcap") {
		t.Errorf("reproduce section: %s", c)
	}
	if !strings.Contains(text(d), "every source was read to its end") {
		t.Error("the report does not say it is complete")
	}
}

func page2(t *testing.T, page string) *html.Node { return doc(t, page) }

func topKey(s detect.Snapshot) string {
	best := detect.KeyStat{}
	for _, k := range s.Keys {
		if k.Requests > best.Requests {
			best = k
		}
	}
	return best.Key
}

// TestReportIsSelfContained: nothing in the page loads or runs anything,
// and the policy it carries forbids it.
func TestReportIsSelfContained(t *testing.T) {
	e, cfg := recorded(t, rec+"scenarios.pcap")
	page := render(t, e, runOf(t, cfg))
	d := doc(t, page)
	checkInert(t, d)
	var policy string
	each(d, "meta", func(m *html.Node) {
		if strings.EqualFold(attr(m, "http-equiv"), "Content-Security-Policy") {
			policy = attr(m, "content")
		}
	})
	if !strings.HasPrefix(policy, "default-src 'none'; style-src 'sha256-") {
		t.Errorf("policy %q", policy)
	}
	var styles []string
	each(d, "style", func(s *html.Node) { styles = append(styles, text2(s)) })
	if len(styles) != 1 || styles[0] != css {
		t.Errorf("%d style elements; the one must be the embedded stylesheet, whose hash the policy names", len(styles))
	}
}

func text2(n *html.Node) string {
	if n.FirstChild == nil {
		return ""
	}
	return n.FirstChild.Data
}

// allowedElements are the elements the report is made of; anything else
// in a parsed report came from the data.
var allowedElements = map[string]bool{
	"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "header": true, "nav": true,
	"section": true, "article": true, "h1": true, "h2": true, "h3": true, "p": true, "b": true, "span": true, "code": true,
	"pre": true, "ul": true, "li": true, "a": true, "table": true, "caption": true, "thead": true, "tbody": true, "tr": true,
	"th": true, "td": true, "figure": true, "figcaption": true, "svg": true, "line": true, "rect": true, "text": true,
}

// checkInert fails on any element or attribute the report does not make,
// on event handlers, and on links that leave the page.
func checkInert(t *testing.T, d *html.Node) {
	t.Helper()
	each(d, "", func(n *html.Node) {
		if !allowedElements[n.Data] {
			t.Errorf("element <%s> in the report", n.Data)
		}
		for _, a := range n.Attr {
			switch {
			case strings.HasPrefix(strings.ToLower(a.Key), "on"):
				t.Errorf("event handler %s=%q on <%s>", a.Key, a.Val, n.Data)
			case a.Key == "href" && !regexp.MustCompile(`^#[a-z]+(-[0-9]+)?$`).MatchString(a.Val):
				t.Errorf("link %q on <%s>", a.Val, n.Data)
			case a.Key == "src" || a.Key == "style" || a.Key == "srcset" || a.Key == "action" || a.Key == "formaction" ||
				a.Key == "xlink:href" || a.Key == "background":
				t.Errorf("attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
			}
		}
	})
}

func TestWriteFile(t *testing.T) {
	e, cfg := recorded(t, rec+"normal.pcap")
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, e, runOf(t, cfg)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || !bytes.Contains(b, []byte("No incident.")) {
		t.Errorf("report of normal traffic: %.200s", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files left in the directory, want the report only", len(ents))
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir.html"), e, runOf(t, cfg)); err == nil || !strings.Contains(err.Error(), "dir.html") {
		t.Errorf("writing into a missing directory: %v", err)
	}
}
