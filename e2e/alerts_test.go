package e2e

// The recorded scenarios, normal traffic and logs through the binary: the
// alerts are exactly the expected ones.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// alertKey is what an expected alert pins: detector, subject, dimension.
func alertKey(m map[string]any) string {
	k := fmt.Sprintf("%v %v", m["detector"], m["subject"])
	if d, ok := m["dimension"]; ok && d != "" {
		k += fmt.Sprintf(" %v", d)
	}
	return k
}

// expected reads the expected alerts of one or more files under testdata/rec.
func expected(t *testing.T, files ...string) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		out = append(out, expectedFile(t, f)...)
	}
	slices.Sort(out)
	return out
}

func expectedFile(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(rec + file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, alertKey(m))
	}
	slices.Sort(out)
	return out
}

func alertKeys(r result) []string {
	var out []string
	for _, a := range r.ofType("alert") {
		out = append(out, alertKey(a))
	}
	slices.Sort(out)
	return out
}

func sameAlerts(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("alerts differ\n got: %q\nwant: %q", got, want)
	}
}

func TestScenarioCapturesRaiseExactlyTheExpectedAlerts(t *testing.T) {
	want := expected(t, "expected_alerts.jsonl", "expected_host_served.jsonl")
	for _, f := range []string{"scenarios.pcap", "scenarios.pcapng"} {
		t.Run(f, func(t *testing.T) {
			r := runBin(t, "--no-tui", "-c", rec+"rebindwatch.toml", "-r", rec+f)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			sameAlerts(t, alertKeys(r), want)
			s := r.summary(t)
			if s["parse_errors"].(float64) != 0 {
				t.Errorf("parse_errors = %v on a clean recording", s["parse_errors"])
			}
		})
	}
}

func TestNormalTrafficRaisesNothing(t *testing.T) {
	for _, args := range [][]string{
		{"-r", rec + "normal.pcap"},
		{"--no-follow", "--log-format", "nginx:" + readFile(t, rec+"ext.fmt"), rec + "normal_access_ext.log"},
		{"--no-follow", rec + "normal_access_combined.log"},
	} {
		t.Run(filepath.Base(args[len(args)-1]), func(t *testing.T) {
			r := runBin(t, append([]string{"--no-tui", "-c", rec + "rebindwatch.toml"}, args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if a := alertKeys(r); len(a) != 0 {
				t.Errorf("normal traffic raised %q", a)
			}
			if n := r.summary(t)["requests"].(float64); n < 20 {
				t.Errorf("only %v requests seen", n)
			}
		})
	}
}

func TestExtendedLogRaisesTheExpectedAlerts(t *testing.T) {
	r := runBin(t, "--no-tui", "--no-follow", "-c", rec+"rebindwatch.toml",
		"--log-format", "nginx:"+readFile(t, rec+"ext.fmt"), rec+"scenarios_access_ext.log")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sameAlerts(t, alertKeys(r), expected(t, "expected_alerts_ext_log.jsonl", "expected_host_served_ext_log.jsonl"))
}

func TestCombinedLogRaisesWhatItCanSee(t *testing.T) {
	r := runBin(t, "--no-tui", "--no-follow", "-c", rec+"rebindwatch.toml", rec+"scenarios_access_combined.log")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sameAlerts(t, alertKeys(r), expected(t, "expected_alerts_combined_log.jsonl"))
	s := r.summary(t)
	src := s["sources"].([]any)[0].(map[string]any)
	if off, _ := src["off"].([]any); len(off) == 0 {
		t.Errorf("a combined log has no Host column: the summary must say unexpected_host is off for it: %v", src)
	}
}

func TestTruncatedCaptureIsProcessedToTheCut(t *testing.T) {
	r := runBin(t, "--no-tui", "-c", rec+"rebindwatch.toml", "-r", rec+"scenarios_truncated.pcap")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s := r.summary(t)
	if c := s["counters"].(map[string]any); c["truncated_file"] != float64(1) {
		t.Errorf("summary counters %v: want truncated_file 1", c)
	}
	if s["requests"].(float64) < 10 {
		t.Errorf("requests before the cut not reported: %v", s["requests"])
	}
}

// TestEvidenceRecordings runs the binary on the DNS rebinding chain, the
// served and blocked Flask runs, h2c and TLS recordings and checks the alerts
// exactly, with how the server answered.
func TestEvidenceRecordings(t *testing.T) {
	const dir = "../testdata/rebind/"
	for _, c := range []struct{ pcap, want string }{
		{"rebind.pcap", "expected_alerts.jsonl"},
		{"served.pcap", "expected_alerts_served.jsonl"},
		{"blocked.pcap", "expected_alerts_blocked.jsonl"},
		{"h2c.pcap", "expected_alerts_h2c.jsonl"},
		{"tls.pcap", "expected_alerts_tls.jsonl"},
	} {
		t.Run(c.pcap, func(t *testing.T) {
			r := runBin(t, "--no-tui", "-c", dir+"rebindwatch.toml", "-r", dir+c.pcap)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			key := func(m map[string]any) string {
				k := alertKey(m)
				if o, ok := m["outcome"]; ok {
					k += fmt.Sprintf(" outcome=%v", o)
				}
				return k
			}
			var got, want []string
			for _, a := range r.ofType("alert") {
				got = append(got, key(a))
			}
			for _, line := range strings.Split(strings.TrimSpace(readFile(t, dir+c.want)), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatal(err)
				}
				want = append(want, key(m))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("alerts differ\n got: %q\nwant: %q", got, want)
			}
		})
	}
}
