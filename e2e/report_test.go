package e2e

// The incident report in a real browser: the binary writes --report on a
// recording, Debian's headless chromium loads the file with no way out to
// the network (every host name resolves to nothing, every connection goes
// to a proxy that refuses) and a net log, dumps the DOM it built and takes
// a screenshot. The page must show the run's incidents, be made of the
// report's own elements only (the hostile recordings' markup shown as
// text), have made no request of its own (the net log, checked first on
// a canary page that does make one), and draw with its stylesheet (the
// colours of the severity bars in the screenshot: a stylesheet the
// Content-Security-Policy blocked would leave them black).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// chromiumPath finds the browser, or skips loudly.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("headless browser run skipped with -short")
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("SKIPPED LOUDLY: chromium is not installed (apt-get install chromium), so the report is not tested in a browser")
	return ""
}

// browse loads page in headless chromium and returns what mode asks for
// ("--dump-dom": the DOM; "--screenshot": the PNG) and the URLs of the
// requests the page made, from the net log.
func browse(t *testing.T, chromium, page, mode string) (out []byte, requests []string) {
	t.Helper()
	dir := t.TempDir()
	netlog := filepath.Join(dir, "netlog.json")
	shot := filepath.Join(dir, "shot.png")
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--disable-default-apps", "--disable-breakpad", "--hide-scrollbars", "--force-color-profile=srgb",
		// No way out: names resolve to nothing, connections go to a
		// proxy that is not there. A request the page makes still shows
		// in the net log, which is what is checked.
		"--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--log-net-log=" + netlog, "--net-log-capture-mode=Everything",
		"--window-size=1280,2000",
	}
	if mode == "--screenshot" {
		args = append(args, "--screenshot="+shot)
	} else {
		args = append(args, mode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*patience)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, append(args, "file://"+page)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", mode, err, stderr.String())
	}
	out = stdout.Bytes()
	if mode == "--screenshot" {
		var err error
		if out, err = os.ReadFile(shot); err != nil {
			t.Fatalf("chromium wrote no screenshot: %v\n%s", err, stderr.String())
		}
	}
	return out, pageRequests(t, netlog)
}

// pageRequests reads a chromium net log and returns the URLs of the
// requests a page made: those whose initiator or network isolation key is
// a file: page. Chromium's own background requests (its updater, its
// account check; refused here) are initiated by no origin.
func pageRequests(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no net log: %v", err)
	}
	var log struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int            `json:"type"`
			Params map[string]any `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		t.Fatalf("net log %s: %v", path, err)
	}
	start, ok := log.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	if !ok || len(log.Events) == 0 {
		t.Fatalf("the net log has no URL_REQUEST_START_JOB type or no events: the check would check nothing")
	}
	var urls []string
	for _, e := range log.Events {
		url, _ := e.Params["url"].(string)
		if e.Type != start || url == "" {
			continue
		}
		initiator, _ := e.Params["initiator"].(string)
		nik, _ := e.Params["network_isolation_key"].(string)
		if initiator == "null" || strings.HasPrefix(initiator, "file:") || strings.Contains(nik, "file://") || strings.HasPrefix(url, "file:") {
			urls = append(urls, url)
		}
	}
	return urls
}

// reportElements are the elements a report is made of.
var reportElements = map[string]bool{
	"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "header": true, "nav": true,
	"section": true, "article": true, "h1": true, "h2": true, "h3": true, "p": true, "b": true, "span": true, "code": true,
	"pre": true, "ul": true, "li": true, "a": true, "table": true, "caption": true, "thead": true, "tbody": true, "tr": true,
	"th": true, "td": true, "figure": true, "figcaption": true, "svg": true, "line": true, "rect": true, "text": true,
}

// domCheck parses the DOM chromium built and fails on any element the
// report does not make, any event handler, any link out; it returns the
// text the page shows (the stylesheet aside) and the reproduce command.
func domCheck(t *testing.T, dom []byte) (shown, command string) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *html.Node, inReproduce bool)
	walk = func(n *html.Node, inReproduce bool) {
		if n.Type == html.ElementNode {
			if !reportElements[n.Data] {
				t.Errorf("element <%s> in the page", n.Data)
			}
			for _, a := range n.Attr {
				switch {
				case strings.HasPrefix(strings.ToLower(a.Key), "on"):
					t.Errorf("event handler %s=%q on <%s>", a.Key, a.Val, n.Data)
				case a.Key == "href" && !strings.HasPrefix(a.Val, "#"):
					t.Errorf("link %q", a.Val)
				case a.Key == "src" || a.Key == "style" || a.Key == "action" || a.Key == "srcset":
					t.Errorf("attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
				case a.Key == "id" && a.Val == "reproduce":
					inReproduce = true
				}
			}
			if n.Data == "style" {
				return
			}
			if n.Data == "pre" && inReproduce && n.FirstChild != nil {
				command = n.FirstChild.Data
			}
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inReproduce)
		}
	}
	walk(doc, false)
	return b.String(), command
}

// writeReport runs the binary with --report in dir and returns the
// report's path and the JSON lines (alerts, incidents, summary).
func writeReport(t *testing.T, dir string, args ...string) (string, result) {
	t.Helper()
	path := filepath.Join(dir, "report.html")
	cmd := exec.Command(bin, append(args, "--no-tui", "--emit", "alert,incident,summary", "--report", path)...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errb.String())
	}
	if !strings.Contains(errb.String(), "report written to "+path) {
		t.Errorf("stderr does not say where the report is: %s", errb.String())
	}
	r := result{stdout: out.String(), stderr: errb.String()}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		r.lines = append(r.lines, m)
	}
	noKeys(t, "the report", readFile(t, path))
	return path, r
}

// TestReportInChromium: the report of the recorded scenarios, in a
// browser; its command, run, gives the same incidents.
func TestReportInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }

	// The check of the net log, on a page that does make a request.
	canary := filepath.Join(t.TempDir(), "canary.html")
	writeFile(t, canary, `<!DOCTYPE html><title>canary</title><img src="http://canary.invalid/x.png">`, 0o644)
	if _, reqs := browse(t, chromium, canary, "--dump-dom"); !slices.Contains(reqs, "http://canary.invalid/x.png") {
		t.Fatalf("the canary's request is not found in the net log (found %q): the check would miss a report's", reqs)
	}

	dir := t.TempDir()
	path, run := writeReport(t, dir, "-c", abs(rec+"rebindwatch.toml"), "-r", abs(rec+"scenarios.pcap"))
	dom, reqs := browse(t, chromium, path, "--dump-dom")
	if len(reqs) > 0 {
		t.Errorf("the report made requests: %q", reqs)
	}
	shown, command := domCheck(t, dom)
	incidents := run.ofType("incident")
	if len(incidents) < 4 {
		t.Fatalf("%d incident lines: the recording should give more", len(incidents))
	}
	for _, inc := range incidents {
		for _, f := range []string{"id", "subject"} {
			if v, _ := inc[f].(string); !strings.Contains(shown, v) {
				t.Errorf("incident %s %q is not shown", f, v)
			}
		}
	}
	for _, a := range run.ofType("alert") {
		if k, _ := a["key"].(string); k != "" && !strings.Contains(shown, k) {
			t.Errorf("alert key %s is not shown", k)
		}
	}
	for _, want := range []string{"Incident report", "Sources and coverage", "every source was read to its end",
		"fed by every source", "nothing to see: no DNS answers", `allowed = ["api.rebind.test", "*.api.rebind.test"]`, "salt: not set"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the page does not show %q", want)
		}
	}

	shot, reqs := browse(t, chromium, path, "--screenshot")
	if len(reqs) > 0 {
		t.Errorf("the report made requests while drawn: %q", reqs)
	}
	checkScreenshot(t, shot)

	// The command the report gives, run by a shell where it says,
	// finds the same incidents.
	if !strings.HasPrefix(command, "rebindwatch --no-tui ") {
		t.Fatalf("reproduce command %q", command)
	}
	binDir := t.TempDir()
	if err := os.Symlink(bin, filepath.Join(binDir, "rebindwatch")); err != nil {
		t.Fatal(err)
	}
	sh := exec.Command("sh", "-c", command+" --emit incident")
	sh.Dir = dir
	sh.Env = append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH"))
	out, err := sh.Output()
	if err != nil {
		t.Fatalf("running %q: %v", command, err)
	}
	var again []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		again = append(again, regexp.MustCompile(`"time":"[^"]*",`).ReplaceAllString(l, ""))
	}
	var first []string
	for _, l := range strings.Split(strings.TrimSpace(run.stdout), "\n") {
		if strings.HasPrefix(l, `{"type":"incident"`) {
			first = append(first, regexp.MustCompile(`"time":"[^"]*",`).ReplaceAllString(l, ""))
		}
	}
	if !slices.Equal(first, again) {
		t.Errorf("the reproduce command gives other incidents:\n%s\nthen\n%s", strings.Join(first, "\n"), strings.Join(again, "\n"))
	}
}

// checkScreenshot fails on a screenshot that is not a drawn report: too
// small, blank, or without the colours of its stylesheet (the request
// bars' blue and the critical bars' red are exact fills).
func checkScreenshot(t *testing.T, shot []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	if b.Dx() < 1000 || b.Dy() < 1000 {
		t.Fatalf("screenshot %v", b)
	}
	colours := map[[3]uint8]int{}
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			colours[rgb(img, x, y)]++
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot has %d colours: blank", len(colours))
	}
	for name, c := range map[string][3]uint8{"request bars #0969da": {0x09, 0x69, 0xda}, "critical #b3261e": {0xb3, 0x26, 0x1e}} {
		if colours[c] < 50 {
			t.Errorf("screenshot has %d pixels of the %s: the stylesheet did not apply", colours[c], name)
		}
	}
}

func rgb(img image.Image, x, y int) [3]uint8 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

// TestHostileReportInChromium: the hostile recordings' reports (HTML
// markup in every field of markup.pcap and its nginx log; terminal escapes,
// bidi and invalid UTF-8 in hostile.pcap) in a browser: markup shown as
// text, nothing executed or loaded.
func TestHostileReportInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	var markup []string
	for _, l := range strings.Split(readFile(t, hostile+"markup.txt"), "\n") {
		if _, v, ok := strings.Cut(l, "\t"); ok && !strings.HasPrefix(l, "#") {
			markup = append(markup, v)
		}
	}
	cfg := abs(hostile + "rebindwatch.toml")
	for name, args := range map[string][]string{
		"markup_pcap":  {"-c", cfg, "-r", abs(hostile + "markup.pcap")},
		"markup_log":   {"-c", cfg, "--no-follow", "--log-format", "nginx:" + extFormat(t), abs(hostile + "markup_access_ext.log")},
		"hostile_pcap": {"-c", cfg, "-r", abs(hostile + "hostile.pcap")},
	} {
		t.Run(name, func(t *testing.T) {
			path, _ := writeReport(t, t.TempDir(), args...)
			start := time.Now()
			dom, reqs := browse(t, chromium, path, "--dump-dom")
			t.Logf("chromium loaded the %d-byte report in %v", len(readFile(t, path)), time.Since(start).Round(time.Millisecond))
			if len(reqs) > 0 {
				t.Errorf("the report made requests: %q", reqs)
			}
			shown, _ := domCheck(t, dom)
			if name != "markup_pcap" {
				// The log holds fewer of them: nginx logs "_" for a Host it
				// refuses, and an Origin column that is not an origin is a
				// parse error whose text is not quoted.
				return
			}
			lower := strings.ToLower(shown)
			for _, v := range markup {
				if !strings.Contains(lower, strings.ToLower(v)) {
					t.Errorf("%q is not shown as text", v)
				}
			}
		})
	}
}

// TestReportFromTheDashboard runs the dashboard under a real pty: R writes
// the report while it runs (to the --report file), and quitting writes it
// again at the end of the run.
func TestReportFromTheDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("pty run skipped with -short")
	}
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: util-linux script is not installed, so R in the dashboard is not tested")
	}
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	dir := t.TempDir()
	path := filepath.Join(dir, "incident.html")
	inner := fmt.Sprintf("stty rows 40 cols 140; exec %s -c %s --speed 0 -r %s --report %s", bin, abs(rec+"rebindwatch.toml"), abs(rec+"scenarios.pcap"), path)
	cmd, out, stdin := startInPty(t, script, dir, inner)
	waitUntil(t, cmd, "the replay's end", func() bool { return strings.Contains(out.String(), "DONE") })
	if _, err := os.Stat(path); err == nil {
		t.Fatal("the report exists before R or the end of the run")
	}
	stdin.Write([]byte("R"))
	waitUntil(t, cmd, "the report R writes", func() bool { return strings.Contains(out.String(), "report written to") })
	first := readFile(t, path)
	if !strings.Contains(first, "Incident report") || !strings.Contains(first, "every source was read to its end") {
		t.Errorf("R wrote %.300q", first)
	}
	noKeys(t, "the report", first)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	stdin.Write([]byte("q"))
	if err := waitExit(t, cmd); err != nil {
		t.Fatalf("exit: %v\n%s", err, out.String())
	}
	last := readFile(t, path)
	if !strings.Contains(last, "evil.rebind.test") {
		t.Errorf("the report written at the end: %.300q", last)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files left in the run's directory: %v", ents)
	}
}

// TestReportOfAFollowedLogAtStop: a followed log has no end; the report is
// written when the run is stopped, with the config a SIGHUP put in force
// and a command that reads the log to its end.
func TestReportOfAFollowedLogAtStop(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	cfgPath := filepath.Join(dir, "rw.toml")
	path := filepath.Join(dir, "incident.html")
	writeFile(t, logPath, readFile(t, rec+"scenarios_access_ext.log"), 0o644)
	writeFile(t, cfgPath, readFile(t, rec+"rebindwatch.toml"), 0o644)
	cmd := exec.Command(bin, "--no-tui", "-c", cfgPath, "--log-format", "nginx:"+extFormat(t), "--report", path, logPath)
	var out, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, cmd, "the first alert", func() bool { return strings.Contains(out.String(), `"type":"alert"`) })
	writeFile(t, cfgPath, strings.Replace(readFile(t, rec+"rebindwatch.toml"), "max_requests = 100", "max_requests = 77", 1), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, cmd, "the reload", func() bool { return strings.Contains(stderr.String(), "config reloaded") })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, cmd); err != nil {
		t.Fatalf("after SIGTERM: %v; stderr: %s", err, stderr.String())
	}
	page := readFile(t, path)
	noKeys(t, "the report", page)
	for _, want := range []string{"written when the run was stopped", "max_requests = 77", "--no-follow -- " + logPath,
		"the logs were followed", "evil.rebind.test"} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}
