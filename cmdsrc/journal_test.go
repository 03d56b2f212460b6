package cmdsrc

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
	"github.com/rebindwatch/rebindwatch/state"
)

func TestParseEntry(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		lines []string
		unit  string
		time  int64 // µs
		err   error
	}{
		{name: "text", in: `{"MESSAGE":"GET / 200","__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1795730309001000","_SYSTEMD_UNIT":"app.service"}`,
			lines: []string{"GET / 200"}, unit: "app.service", time: 1795730309001000},
		{name: "bytes", in: `{"MESSAGE":[104,105,27,13],"SYSLOG_IDENTIFIER":"flask"}`, lines: []string{"hi\x1b\r"}, unit: "flask"},
		{name: "multi_line", in: `{"MESSAGE":"a\nb"}`, lines: []string{"a", "b"}, unit: "-"},
		{name: "repeated_field", in: `{"MESSAGE":["a",[98]],"_SYSTEMD_UNIT":["u1","u2"]}`, lines: []string{"a", "b"}, unit: "u1"},
		{name: "hostile_not_json", in: `MESSAGE=hi`, err: errEntryJSON},
		{name: "hostile_no_message", in: `{"_SYSTEMD_UNIT":"x"}`, err: errEntryMessage},
		{name: "hostile_null_message", in: `{"MESSAGE":null}`, err: errEntryMessage},
		{name: "hostile_byte_over_255", in: `{"MESSAGE":[256]}`, err: errEntryMessage},
		{name: "hostile_number_message", in: `{"MESSAGE":42}`, err: errEntryMessage},
		{name: "hostile_bad_time", in: `{"MESSAGE":"x","__REALTIME_TIMESTAMP":"soon"}`, err: errEntryTime},
		{name: "hostile_negative_time", in: `{"MESSAGE":"x","__REALTIME_TIMESTAMP":"-1"}`, err: errEntryTime},
		{name: "hostile_long_unit", in: `{"MESSAGE":"x","_SYSTEMD_UNIT":"` + strings.Repeat("u", 300) + `","SYSLOG_IDENTIFIER":"id"}`, lines: []string{"x"}, unit: "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := parseEntry([]byte(tc.in))
			if tc.err != nil || err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			var got []string
			for _, l := range e.message {
				got = append(got, string(l))
			}
			if strings.Join(got, "|") != strings.Join(tc.lines, "|") || e.unit != tc.unit {
				t.Errorf("lines %q unit %q; want %q %q", got, e.unit, tc.lines, tc.unit)
			}
			if tc.time != 0 && e.time.UnixMicro() != tc.time {
				t.Errorf("time %v", e.time)
			}
		})
	}
}

func FuzzEntry(f *testing.F) {
	for _, s := range []string{`{"MESSAGE":"GET / 200","__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1"}`, `{"MESSAGE":[1,2],"_SYSTEMD_UNIT":["a"]}`, `{"MESSAGE":["a",[98]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := parseEntry(b)
		if err == nil && (len(e.message) == 0 || len(e.unit) > maxUnit || e.unit == "") {
			t.Fatalf("entry %+v", e)
		}
	})
}

// journalFile gunzips the recorded journal (testdata/journal/record.py)
// into a temporary directory.
func journalFile(t *testing.T) string {
	t.Helper()
	needJournalctl(t)
	f, err := os.Open("../testdata/journal/apps.journal.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "apps.journal")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	return path
}

func needJournalctl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("journalctl"); err != nil {
		t.Skip("SKIPPED: journalctl is not installed (Debian package systemd)")
	}
}

// The recorded journal through the real journalctl: each unit is a stream
// with its own format (gunicorn's access lines among its error log lines,
// werkzeug's coloured ones given as bytes), dated by its own log times.
func TestJournalFile(t *testing.T) {
	path := journalFile(t)
	arg := "journal-file:" + path
	c := testkit.Collect(t, func(ctx context.Context, out chan<- detect.Batch) error {
		return Run(ctx, arg, Options{Location: time.UTC}, out)
	})
	if err := c.Wait(t); err != nil {
		t.Fatal(err)
	}
	v := c.View()
	gunicorn, flask := arg+":gunicorn.service", arg+":flaskapp.service"
	if n := v.Count(); n[gunicorn] != 16 || n[flask] != 16 {
		t.Errorf("requests %v, want 16 from gunicorn and 16 from flask", n)
	}
	if note := v.Notes[flask]; !strings.Contains(note, "format: werkzeug (auto)") {
		t.Errorf("flask note %q", note)
	}
	if note := v.Notes[gunicorn]; !strings.Contains(note, "format: combined (auto)") {
		t.Errorf("gunicorn note %q", note)
	}
	for _, r := range v.Requests[flask] {
		if r.Time.Year() != 2026 || r.Source != flask {
			t.Errorf("flask request %s at %v", r.Source, r.Time)
		}
	}
	for src, st := range v.States {
		if st != detect.StateDone {
			t.Errorf("%s ended %v", src, st)
		}
	}
}

// Resuming after a cursor (a checkpoint's, or the last entry an attempt
// read) reads only what came after it.
func TestJournalCursor(t *testing.T) {
	path := journalFile(t)
	out, err := exec.Command("journalctl", "--file="+path, "--output=json", "--unit=gunicorn.service").Output()
	if err != nil {
		t.Fatal(err)
	}
	entries := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	e, err := parseEntry(entries[len(entries)-5])
	if err != nil {
		t.Fatal(err)
	}
	arg := "journal-file:" + path
	batches := testkit.Batches(t, func(ctx context.Context, out chan<- detect.Batch) error {
		return Run(ctx, arg, Options{Cursor: e.cursor}, out)
	})
	n := 0
	for _, b := range batches {
		n += len(b.Requests)
	}
	if n != 4+16 { // the last 4 of gunicorn's, then flask's
		t.Errorf("%d requests after the cursor, want 20", n)
	}
	j := &journal{cursor: "s=x;i=9", file: path}
	if a := strings.Join(j.argv(true), " "); !strings.Contains(a, "--after-cursor=s=x;i=9") {
		t.Errorf("a new attempt runs %s", a)
	}
}

// Following a journal file as systemd-journal-remote appends to it: what
// it appends arrives; a stop ends journalctl and hands everything over.
func TestJournalFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.journal")
	write := journalWriter(t, path)
	write(0, 5)
	arg := "journal-file:" + path
	c := testkit.Collect(t, func(ctx context.Context, out chan<- detect.Batch) error {
		return Run(ctx, arg, Options{Follow: true}, out)
	})
	src := arg + ":myapp.service"
	c.WaitFor(t, "the first five", 10*time.Second, func(v testkit.View) bool { return len(v.Requests[src]) == 5 })
	write(5, 12)
	c.WaitFor(t, "the appended seven", 10*time.Second, func(v testkit.View) bool { return len(v.Requests[src]) == 12 })
	if err := c.Stop(t); err != nil {
		t.Fatal(err)
	}
	v := c.View()
	for i, r := range v.Requests[src] {
		if r.Target != "/r/"+itoa(int64(i)) {
			t.Errorf("request %d is %s", i, r.Target)
		}
	}
	if st := v.States[src]; st != detect.StateStopped {
		t.Errorf("state %v, want stopped", st)
	}
}

// journalWriter returns a function that appends entries from to to-1 of
// myapp.service (a combined line for /r/N each) to the journal file at
// path, through the real systemd-journal-remote, as journald would.
func journalWriter(t *testing.T, path string) func(from, to int) {
	t.Helper()
	needJournalctl(t)
	remote := "/usr/lib/systemd/systemd-journal-remote"
	if _, err := os.Stat(remote); err != nil {
		t.Skip("SKIPPED: systemd-journal-remote is not installed (apt-get install systemd-journal-remote; .ci/run does)")
	}
	return func(from, to int) {
		t.Helper()
		var b strings.Builder
		for i := from; i < to; i++ {
			b.WriteString("__REALTIME_TIMESTAMP=" + itoa(1795730309000000+int64(i)*1000) + "\n__MONOTONIC_TIMESTAMP=" + itoa(int64(i+1)*1000) +
				"\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=myapp.service\nMESSAGE=127.0.0.1 - - [26/Nov/2026:23:58:29 +0100] \"GET /r/" +
				itoa(int64(i)) + " HTTP/1.1\" 200 2 \"-\" \"curl/7.88.1\"\n\n")
		}
		cmd := exec.Command(remote, "--output="+path, "-")
		cmd.Stdin = strings.NewReader(b.String())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("systemd-journal-remote: %v: %s", err, out)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// runCommitted reads arg to its end with store, committing every batch
// as the engine does once the sinks wrote it, and returns the requests'
// targets by source.
func runCommitted(t *testing.T, arg string, o Options) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	for _, b := range testkit.Batches(t, func(ctx context.Context, out chan<- detect.Batch) error { return Run(ctx, arg, o, out) }) {
		for _, r := range b.Requests {
			got[r.Source] = append(got[r.Source], r.Target)
		}
		if b.Commit != nil {
			b.Commit()
		}
	}
	return got
}

// --state: a second run of a journal reads only the entries written
// since the first (the cursor of the last one handed over is kept).
func TestJournalState(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.journal")
	write := journalWriter(t, path)
	store, err := state.Open(filepath.Join(dir, "rw.state"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	arg := "journal-file:" + path
	src := arg + ":myapp.service"
	write(0, 4)
	if got := runCommitted(t, arg, Options{State: store}); strings.Join(got[src], " ") != "/r/0 /r/1 /r/2 /r/3" {
		t.Fatalf("first run: %v", got)
	}
	write(4, 7)
	if got := runCommitted(t, arg, Options{State: store}); strings.Join(got[src], " ") != "/r/4 /r/5 /r/6" {
		t.Errorf("second run read %v, want /r/4 to /r/6", got[src])
	}
	if got := runCommitted(t, arg, Options{State: store}); len(got[src]) != 0 {
		t.Errorf("third run read %v, want nothing", got[src])
	}
}
