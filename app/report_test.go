package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReproduce: the command a report gives to rerun a run. e2e runs the
// command of a real report and compares the findings.
func TestReproduce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		o     Options
		cfg   string
		want  []string
		notes []string // each a part of some note
	}{
		{name: "capture", o: Options{Read: "cap.pcap", AllowHosts: []string{"api.example.com"}, Speed: 1, SpeedSet: true,
			Webhook: "https://hooks.example.com/x", WebhookHdrs: []string{"Authorization: Bearer s3cret"}, Metrics: ":9464", Emit: "alert"},
			cfg:  "rw.toml",
			want: []string{"rebindwatch", "--no-tui", "-c", "rw.toml", "--allow-host", "api.example.com", "-r", "cap.pcap", "--report", "report.html"}},
		{name: "no_config", o: Options{Read: "cap.pcap"},
			want: []string{"rebindwatch", "--no-tui", "-r", "cap.pcap", "--report", "report.html"}, notes: []string{"no config file"}},
		{name: "stdin_capture", o: Options{Read: "-"}, cfg: "c.toml",
			want: []string{"rebindwatch", "--no-tui", "-c", "c.toml", "-r", "CAPTURE", "--report", "report.html"}, notes: []string{"stdin"}},
		{name: "live", o: Options{Interface: "eth0", Filter: "port 80"}, cfg: "c.toml",
			want: []string{"rebindwatch", "--no-tui", "-c", "c.toml", "-r", "CAPTURE", "--report", "report.html"}, notes: []string{"tcpdump -w"}},
		{name: "followed_logs", o: Options{Logs: []string{"a.log", "-odd.log"}, LogFormat: "combined", TZ: "Europe/Paris", TailOnly: true, State: "st.json"}, cfg: "c.toml",
			want:  []string{"rebindwatch", "--no-tui", "-c", "c.toml", "--log-format", "combined", "--tz", "Europe/Paris", "--no-follow", "--", "a.log", "-odd.log", "--report", "report.html"},
			notes: []string{"were followed", "--tail-only", "--state st.json"}},
		{name: "no_follow_logs", o: Options{Logs: []string{"a.log"}, NoFollow: true, AllowOrigins: []string{"https://app.example.com"}}, cfg: "c.toml",
			want: []string{"rebindwatch", "--no-tui", "-c", "c.toml", "--allow-origin", "https://app.example.com", "--no-follow", "--", "a.log", "--report", "report.html"}},
		{name: "stdin_log", o: Options{Logs: []string{"-"}}, cfg: "c.toml",
			want: []string{"rebindwatch", "--no-tui", "-c", "c.toml", "--no-follow", "--", "LOGFILE", "--report", "report.html"}, notes: []string{"stdin"}},
		{name: "server_config", o: Options{ServerConfig: "/etc/nginx/nginx.conf", NoFollow: true}, cfg: "c.toml",
			want: []string{"rebindwatch", "--no-tui", "-c", "c.toml", "--server-config", "/etc/nginx/nginx.conf", "--no-follow", "--report", "report.html"}},
		{name: "demo", o: Options{Demo: true}, cfg: "demo.toml (embedded)",
			want: []string{"rebindwatch", "--no-tui", "--demo", "--report", "report.html"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := reproduce(tc.o, tc.cfg, "/work")
			if !slices.Equal(c.Args, tc.want) {
				t.Errorf("args\n %q\nwant\n %q", c.Args, tc.want)
			}
			all := strings.Join(c.Notes, "\n")
			for _, n := range tc.notes {
				if !strings.Contains(all, n) {
					t.Errorf("no note about %q in:\n%s", n, all)
				}
			}
			if strings.Contains(strings.Join(c.Args, " "), "s3cret") || strings.Contains(all, "s3cret") {
				t.Error("the webhook's header is in the command")
			}
			if c.Dir != "/work" {
				t.Errorf("dir %q", c.Dir)
			}
		})
	}
}

func TestCheckReport(t *testing.T) {
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, err string
	}{
		{"", ""},
		{filepath.Join(dir, "r.html"), ""},
		{dir, "is a directory"},
		{filepath.Join(dir, "missing", "r.html"), "cannot write in"},
	} {
		err := checkReport(Options{Report: tc.path})
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: %v, want %q", tc.path, err, tc.err)
		}
		var ue UsageError
		if err != nil && !asUsage(err, &ue) {
			t.Errorf("%q: %v is not a usage error", tc.path, err)
		}
	}
	if os.Geteuid() != 0 { // root writes anywhere
		if err := checkReport(Options{Report: filepath.Join(ro, "r.html")}); err == nil {
			t.Error("a read-only directory was accepted")
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the check left files behind: %v", ents)
	}
}

func asUsage(err error, ue *UsageError) bool {
	u, ok := err.(UsageError)
	*ue = u
	return ok
}
