package app

import (
	"reflect"
	"testing"

	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/ui"
)

// TestUIColumnsAgree: the columns [ui] columns may name are the
// dashboard's own, in the same default order.
func TestUIColumnsAgree(t *testing.T) {
	if got, want := config.PaneColumns, ui.Columns(); !reflect.DeepEqual(got, want) {
		t.Errorf("config knows the columns\n%v\nthe dashboard has\n%v", got, want)
	}
}

// TestCanRereadLog: L may start the run over only when reading the one
// log again from its start repeats nothing and loses nothing.
func TestCanRereadLog(t *testing.T) {
	auto := &setup{cfg: config.Default()}
	for _, c := range []struct {
		name string
		o    Options
		want bool
	}{
		{"one_log", Options{Logs: []string{"access.log"}}, true},
		{"two_logs", Options{Logs: []string{"a.log", "b.log"}}, false},
		{"stdin", Options{Logs: []string{"-"}}, false},
		{"glob", Options{Logs: []string{"logs/*.log"}}, false},
		{"zeek", Options{Logs: []string{"zeek:/var/log/zeek"}}, false},
		{"state", Options{Logs: []string{"access.log"}, State: "s.json"}, false},
		{"output", Options{Logs: []string{"access.log"}, Output: "out.jsonl"}, false},
		{"format_given", Options{Logs: []string{"access.log"}, LogFormat: "combined"}, false},
		{"tail_only", Options{Logs: []string{"access.log"}, TailOnly: true}, false},
		{"capture", Options{Read: "x.pcap"}, false},
	} {
		if got := canRereadLog(c.o, auto); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	set := &setup{cfg: config.Default()}
	set.cfg.Log.Format = "combined"
	if canRereadLog(Options{Logs: []string{"access.log"}}, set) {
		t.Errorf("a format from the config is not auto-detection's")
	}
}
