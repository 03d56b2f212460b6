package syslogsrc

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Wire text in, header and payload out; hostile cases by name.
func TestParseMessage(t *testing.T) {
	const line = `127.0.0.1 - - [26/Nov/2026:23:58:29 +0100] "GET / HTTP/1.1" 200 3 "-" "curl/7.88.1"`
	for _, tc := range []struct {
		name      string
		in        string
		host, tag string
		msg       string
		time      string // RFC 3339, "" = zero
		err       error
	}{
		{name: "nginx_3164", in: "<190>Nov 26 23:58:29 web-3 api: " + line, host: "web-3", tag: "api", msg: line, time: "2025-11-26T23:58:29Z"},
		{name: "3164_pid", in: "<14>Jan  2 03:00:00 web-1 gunicorn[4242]: " + line, host: "web-1", tag: "gunicorn", msg: line, time: "2026-01-02T03:00:00Z"},
		{name: "3164_no_host", in: "<13>Jan  2 03:00:00 logger: hello", tag: "logger", msg: "hello", time: "2026-01-02T03:00:00Z"},
		{name: "3164_no_tag", in: "<13>Jan  2 03:00:00 web-1 " + line, host: "web-1", msg: line, time: "2026-01-02T03:00:00Z"},
		{name: "3164_zero_padded_day", in: "<13>Jan 02 03:00:00 h t: x", host: "h", tag: "t", msg: "x", time: "2026-01-02T03:00:00Z"},
		{name: "3164_december_read_in_january", in: "<13>Dec 31 23:59:59 h t: x", host: "h", tag: "t", msg: "x", time: "2025-12-31T23:59:59Z"},
		{name: "3164_rfc3339_time", in: "<13>2026-01-02T03:04:05.123456+01:00 h t: x", host: "h", tag: "t", msg: "x", time: "2026-01-02T02:04:05.123456Z"},
		{name: "5424_rsyslog", in: "<190>1 2026-11-26T23:58:29.123+01:00 web-3 api - - - " + line, host: "web-3", tag: "api", msg: line, time: "2026-11-26T22:58:29.123Z"},
		{name: "5424_sd", in: `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] ` + "\xef\xbb\xbf" + "An application event", host: "mymachine.example.com", tag: "evntslog", msg: "An application event", time: "2003-10-11T22:14:15.003Z"},
		{name: "5424_sd_escaped_bracket", in: `<165>1 - h a - - [x@1 v="a\]b\"c\\"] m`, host: "h", tag: "a", msg: "m"},
		{name: "5424_nil_everything", in: "<0>1 - - - - - -", msg: ""},
		{name: "5424_no_msg", in: "<0>1 - h a - - -", host: "h", tag: "a"},

		{name: "hostile_no_pri", in: "Nov 26 23:58:29 web-3 api: x", err: errNoPRI},
		{name: "hostile_pri_too_big", in: "<192>Nov 26 23:58:29 h t: x", err: errBadPRI},
		{name: "hostile_pri_leading_zero", in: "<01>Nov 26 23:58:29 h t: x", err: errBadPRI},
		{name: "hostile_pri_four_digits", in: "<1000>x", err: errBadPRI},
		{name: "hostile_pri_unclosed", in: "<13", err: errBadPRI},
		{name: "hostile_5424_short_header", in: "<13>1 2026-01-02T03:04:05Z h", err: errBadHeader},
		{name: "hostile_5424_bad_time", in: "<13>1 yesterday h a - - - m", err: errBadTime},
		{name: "hostile_5424_sd_unclosed", in: `<13>1 - h a - - [x@1 v="]"`, err: errBadSD},
		{name: "hostile_5424_sd_no_space", in: `<13>1 - h a - - [x@1]m`, err: errBadSD},
		{name: "hostile_5424_host_too_long", in: "<13>1 - " + strings.Repeat("h", 256) + " a - - - m", err: errBadName},
		{name: "hostile_5424_tag_too_long", in: "<13>1 - h " + strings.Repeat("a", 49) + " - - - m", err: errBadName},
		{name: "hostile_3164_control_in_host", in: "<13>Jan  2 03:00:00 we\x1bb t: x", err: errBadName},
		{name: "hostile_3164_tag_too_long", in: "<13>Jan  2 03:00:00 h " + strings.Repeat("t", 49) + ": x", err: errBadName},
		{name: "python_no_time_no_host", in: "<14>gunicorn.api.access: [4242] " + line, tag: "gunicorn.api.access", msg: line},
		{name: "5424_python_pid", in: "<14>1 2026-11-26T23:58:29Z h gunicorn.api.access - - - [4242] " + line, host: "h", tag: "gunicorn.api.access", msg: line, time: "2026-11-26T23:58:29Z"},
		{name: "no_time_no_tag", in: "<13>hello world", msg: "hello world"},
		{name: "pid_not_stripped_without_space", in: "<13>t: [12]x", tag: "t", msg: "[12]x"},
		{name: "hostile_bad_month_is_content", in: "<13>Foo  2 03:00:00 h t: x", msg: "Foo  2 03:00:00 h t: x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseMessage([]byte(tc.in), time.UTC, now)
			if tc.err != nil || err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if string(m.Host) != tc.host || string(m.Tag) != tc.tag || string(m.Msg) != tc.msg {
				t.Errorf("host %q tag %q msg %q; want %q %q %q", m.Host, m.Tag, m.Msg, tc.host, tc.tag, tc.msg)
			}
			want := time.Time{}
			if tc.time != "" {
				want, _ = time.Parse(time.RFC3339Nano, tc.time)
			}
			if !m.Time.Equal(want) {
				t.Errorf("time %v, want %v", m.Time, want)
			}
		})
	}
}

// FuzzMessage: any bytes parse or fail cleanly, and what is read lies
// within the message and within the header limits.
func FuzzMessage(f *testing.F) {
	for _, s := range []string{
		"<190>Nov 26 23:58:29 web-3 api: 127.0.0.1 - - [26/Nov/2026:23:58:29 +0100] \"GET / HTTP/1.1\" 200 3",
		"<165>1 2003-10-11T22:14:15.003Z host app - ID47 [a@1 b=\"\\]\"] \xef\xbb\xbfmsg",
		"<13>2026-01-02T03:04:05+01:00 h t[1]: x",
		"<0>1 - - - - - -",
		"<13>Jan  2 03:00:00 t: x",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMessage(b, time.UTC, now)
		if err != nil {
			return
		}
		if len(m.Host) > maxHost || len(m.Tag) > maxTag {
			t.Fatalf("host %d bytes, tag %d bytes", len(m.Host), len(m.Tag))
		}
		for _, part := range [][]byte{m.Host, m.Tag, m.Msg} {
			if len(part) > 0 && !bytes.Contains(b, part) {
				t.Fatalf("%q is not in the message", part)
			}
		}
	})
}
