package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/keys"
)

// TestRequestsMatchTshark checks every request tshark shows in the recorded
// captures appears once with the same method, Host and target. The tshark
// output is committed by the recording script; capture/tshark_test.go runs
// tshark itself.
func TestRequestsMatchTshark(t *testing.T) {
	for _, c := range []struct{ pcap, tsv string }{
		{"scenarios.pcap", "requests_tshark.tsv"},
		{"normal.pcap", "requests_tshark_normal.tsv"},
	} {
		t.Run(c.pcap, func(t *testing.T) {
			var want []string
			for _, line := range strings.Split(strings.TrimSpace(readFile(t, rec+c.tsv)), "\n") {
				f := strings.Split(line, "\t")
				if len(f) < 4 {
					continue
				}
				// tshark joins the requests of one frame (a pipelined
				// pair) with commas; keys in targets are redacted by us.
				methods, hosts, targets := strings.Split(f[1], ","), strings.Split(f[2], ","), strings.Split(f[3], ",")
				for i := range methods {
					want = append(want, methods[i]+" "+at(hosts, i)+" "+keys.NewExtractor(keys.DefaultConfig()).Redact(at(targets, i)))
				}
			}
			r := runBin(t, "--no-tui", "-c", rec+"rebindwatch.toml", "--emit", "request", "-r", rec+c.pcap)
			var got []string
			for _, q := range r.ofType("request") {
				got = append(got, fmt.Sprintf("%v %v %v", q["method"], q["host"], q["target"]))
			}
			slices.Sort(got)
			slices.Sort(want)
			if len(want) < 20 || !slices.Equal(got, want) {
				t.Errorf("requests differ from tshark's (%d vs %d)\n got: %q\nwant: %q", len(got), len(want), got, want)
			}
		})
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
