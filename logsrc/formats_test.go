package logsrc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// formatCase is one line read with one spec.
type formatCase struct {
	name, spec, line string
	want             view
	err              string // substring of the error; "" = parses
	skip             bool   // the line is not a request (ErrNotRequest)
	blind            detect.Blindness
	checkBlind       bool
	loc              *time.Location
}

func runFormatCases(t *testing.T, cases []formatCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.spec)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.spec, err)
			}
			p.SetLocation(tc.loc)
			var r detect.Request
			err = p.Parse([]byte(tc.line), testKeys(), &r)
			switch {
			case tc.skip:
				if !errors.Is(err, ErrNotRequest) {
					t.Fatalf("err = %v, want ErrNotRequest", err)
				}
				return
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.err)
				}
				return
			case err != nil:
				t.Fatalf("err = %v", err)
			}
			if got := viewOf(&r); got != tc.want.redacted() {
				t.Errorf("\n got %+v\nwant %+v", got, tc.want)
			}
			if tc.checkBlind && r.Blind != tc.blind {
				t.Errorf("Blind = %b, want %b", r.Blind, tc.blind)
			}
		})
	}
}

const ts = "2026-11-26T22:13:19Z"

var baseView = view{Time: ts, Client: "203.0.113.7", Method: "GET", Target: "/v1/items", Proto: "HTTP/1.1", Status: 200}

func with(f func(*view)) view { v := baseView; f(&v); return v }

func TestApacheFormats(t *testing.T) {
	const ext = `apache:%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" host="%{Host}i" origin="%{Origin}i" key="%{X-API-Key}i"`
	runFormatCases(t, []formatCase{
		{name: "combined_escapes", spec: "apache-combined",
			line: `203.0.113.7 - - [26/Nov/2026:23:13:19 +0100] "GET /v1/items HTTP/1.1" 200 13 "-" "evil \"q\" \\b\\ \x1b[31m\xe2\x80\xae"`,
			want: with(func(v *view) { v.UserAgent = "evil \"q\" \\b\\ \x1b[31m\u202e" })},
		{name: "ext_key_header_and_escaped_quote_in_key", spec: ext,
			line: `203.0.113.7 - - [26/Nov/2026:22:13:19 +0000] "GET /v1/items HTTP/1.1" 200 - "-" "-" host="api.example.test" origin="null" key="fake \"k\""`,
			want: with(func(v *view) {
				v.Host, v.HasHost, v.Origin, v.HasOrigin, v.Key = "api.example.test", true, "null", true, fp(`fake "k"`)
			}), checkBlind: true, blind: 0},
		{name: "quoted_as_in_config", spec: `apache:"%h %t \"%r\" %>s"`, line: `203.0.113.7 [26/Nov/2026:22:13:19 +0000] "GET /v1/items HTTP/1.1" 200`,
			want: baseView},
		{name: "logformat_directive", spec: `LogFormat "%h %t \"%r\" %>s %{Host}i" mine`, line: `203.0.113.7 [26/Nov/2026:22:13:19 +0000] "GET /v1/items HTTP/1.1" 200 h.test`,
			want: with(func(v *view) { v.Host, v.HasHost = "h.test", true })},
		{name: "customlog_standard_nickname", spec: `CustomLog /var/log/x.log combined`,
			line: `203.0.113.7 - - [26/Nov/2026:22:13:19 +0000] "GET /v1/items HTTP/1.1" 200 13 "-" "curl/8"`,
			want: with(func(v *view) { v.UserAgent = "curl/8" })},
		{name: "U_q_merged_and_query_key", spec: `apache:%a %m %U%q %H %>s`, line: `203.0.113.7 GET /v1/items?api_key=fake-q-1 HTTP/1.1 200`,
			want: with(func(v *view) { v.Time = ""; v.Target = "/v1/items?api_key=fake-q-1"; v.Key = fp("fake-q-1") })},
		{name: "U_then_q_apart", spec: `apache:%a %U %q %>s`, line: `203.0.113.7 /v1/items ?token=fake-t 200`,
			want: view{Client: "203.0.113.7", Target: "/v1/items?token=fake-t", Key: fp("fake-t"), Status: 200}},
		{name: "U_without_query", spec: `apache:%a %U %q %>s`, line: `203.0.113.7 /v1/items  200`,
			want: view{Client: "203.0.113.7", Target: "/v1/items", Status: 200}},
		{name: "final_status_wins", spec: `apache:%h %s %>s "%r"`, line: `203.0.113.7 302 200 "GET /v1/items HTTP/1.1"`,
			want: with(func(v *view) { v.Time = "" })},
		{name: "original_status_alone", spec: `apache:%h %<s "%r"`, line: `203.0.113.7 200 "GET /v1/items HTTP/1.1"`,
			want: with(func(v *view) { v.Time = "" })},
		{name: "server_name_is_not_host", spec: `apache:%v:%p %h %t "%r" %>s`, line: `api.example.test:443 203.0.113.7 [26/Nov/2026:22:13:19 +0000] "GET /v1/items HTTP/1.1" 200`,
			want: baseView, checkBlind: true, blind: detect.BlindHost | detect.BlindOrigin | detect.BlindReferer},
		{name: "V_is_the_host", spec: `apache:%V %h "%r" %>s`, line: `evil.rebind.test 203.0.113.7 "GET /v1/items HTTP/1.1" 200`,
			want: with(func(v *view) { v.Time = ""; v.Host, v.HasHost = "evil.rebind.test", true })},
		{name: "vhost_port_not_a_number", spec: `vhost_combined`, err: "%p is not a port number",
			line: `x:y 203.0.113.7 - - [26/Nov/2026:22:13:19 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`},
		{name: "remote_port_and_peer", spec: `apache:%{c}a %a %{remote}p "%r" %>s`, line: `10.0.0.1 203.0.113.7 51234 "GET /v1/items HTTP/1.1" 200`,
			want: with(func(v *view) { v.Time = "" })},
		{name: "conditional_dash", spec: `apache:%h "%r" %>s "%400,501{User-agent}i" "%!200{Origin}i"`, line: `203.0.113.7 "GET /v1/items HTTP/1.1" 200 "-" "-"`,
			want: with(func(v *view) { v.Time = "" })},
		{name: "env_key_suffix_wins_over_header", spec: `apache:%h "%r" %>s %{X-API-Key}i %{API_KEY_SUFFIX}e`,
			line: `203.0.113.7 "GET /v1/items HTTP/1.1" 200 sk_fake_28WilSEq 28WilSEq`,
			want: with(func(v *view) { v.Time = ""; v.Key = fp("28WilSEq") })},
		{name: "note_key_field", spec: `apache:%h "%r" %>s %{key_suffix}n`, line: `203.0.113.7 "GET /v1/items HTTP/1.1" 200 abcdefgh`,
			want: with(func(v *view) { v.Time = ""; v.Key = fp("abcdefgh") })},
		{name: "percent_literal_and_newline_escape", spec: `apache:100%% %h\t"%r"`, line: "100% 203.0.113.7\t\"GET /v1/items HTTP/1.1\"",
			want: with(func(v *view) { v.Time = ""; v.Status = 0 })},
		{name: "strftime_documented_idiom", spec: `apache:[%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] %h "%r" %>s`,
			line: `[26/Nov/2026 23:13:19.250 +0100] 203.0.113.7 "GET /v1/items HTTP/1.1" 200`,
			want: with(func(v *view) { v.Time = "2026-11-26T22:13:19.25Z" })},
		{name: "strftime_12h_words_and_zone_name", spec: `apache:%{%a %B %e %I:%M:%S %p %Y %Z}t|%h|"%r"|%>s`,
			line: `Thu November 26 10:13:19 PM 2026 UTC|203.0.113.7|"GET /v1/items HTTP/1.1"|200`,
			want: baseView},
		{name: "strftime_12h_am", spec: `apache:%{%D %r}t|%h|"%r"|%>s`,
			line: `11/26/26 12:13:19 AM|203.0.113.7|"GET /v1/items HTTP/1.1"|200`, loc: time.UTC,
			want: with(func(v *view) { v.Time = "2026-11-26T00:13:19Z" })},
		{name: "strftime_without_zone_uses_location", spec: `apache:%{%F %T}t %h "%r" %>s`,
			line: `2026-11-26 23:13:19 203.0.113.7 "GET /v1/items HTTP/1.1" 200`, loc: time.FixedZone("CET", 3600),
			want: baseView},
		{name: "strftime_day_of_year", spec: `apache:%{%Y %j %H:%M:%S %z}t %h "%r" %>s`,
			line: `2026 330 22:13:19 +0000 203.0.113.7 "GET /v1/items HTTP/1.1" 200`, want: baseView},
		{name: "msec_token", spec: `apache:%{msec}t %h "%r" %>s`, line: `1795731199551 203.0.113.7 "GET /v1/items HTTP/1.1" 200`,
			want: with(func(v *view) { v.Time = "2026-11-26T22:13:19.551Z" })},
		{name: "usec_token", spec: `apache:%{end:usec}t %h "%r" %>s`, line: `1795731199551002 203.0.113.7 "GET /v1/items HTTP/1.1" 200`,
			want: with(func(v *view) { v.Time = "2026-11-26T22:13:19.551002Z" })},
		{name: "begin_wins_over_end", spec: `apache:%{end:sec}t %{begin:sec}t %h "%r" %>s`,
			line: `1795731299 1795731199 203.0.113.7 "GET /v1/items HTTP/1.1" 200`, want: baseView},
		{name: "t_plus_msec_frac", spec: `apache:%t %{msec_frac}t %h "%r" %>s`,
			line: `[26/Nov/2026:22:13:19 +0000] 042 203.0.113.7 "GET /v1/items HTTP/1.1" 200`,
			want: with(func(v *view) { v.Time = "2026-11-26T22:13:19.042Z" })},
		{name: "frac_alone_is_no_time", spec: `apache:%{msec_frac}t %h "%r" %>s`, err: "is not a time",
			line: `042 203.0.113.7 "GET /v1/items HTTP/1.1" 200`},
		{name: "strftime_garbage", spec: `apache:%{%d/%b/%Y %T}t %h "%r" %>s`, err: "%{%d/%b/%Y %T}t is not a time",
			line: `26/Nov/2026 25:13:19 203.0.113.7 "GET /v1/items HTTP/1.1" 200`},
		{name: "strftime_bad_month_name", spec: `apache:%{%d/%b/%Y}t %h "%r"`, err: "is not a time",
			line: `26/Xyz/2026 203.0.113.7 "GET /v1/items HTTP/1.1"`},
		{name: "bracketed_t_required", spec: `apache:%t %h "%r"`, err: `line does not start with "["`,
			line: `26/Nov/2026:22:13:19 +0000 203.0.113.7 "GET /v1/items HTTP/1.1"`},
		{name: "tls_garbage_in_r", spec: "apache-combined", err: "not HTTP",
			line: `203.0.113.7 - - [26/Nov/2026:22:13:19 +0000] "\x16\x03\x01\x02" 400 226 "-" "-"`},
	})
}

func TestGunicornFormats(t *testing.T) {
	runFormatCases(t, []formatCase{
		{name: "default_escaped_quote_raw_backslash", spec: "gunicorn",
			line: `203.0.113.7 - - [26/Nov/2026:23:13:19 +0100] "GET /v1/items HTTP/1.1" 200 13 "-" "evil \"quoted\" \back\slash\""`,
			want: with(func(v *view) { v.UserAgent = `evil "quoted" \back\slash"` })},
		{name: "config_line", spec: `gunicorn:access_log_format = '%(h)s %(t)s "%(r)s" %(s)s "%({X-Api-Key}i)s"'`,
			line: `203.0.113.7 [26/Nov/2026:22:13:19 +0000] "GET /v1/items HTTP/1.1" 200 "fake-key-1"`,
			want: with(func(v *view) { v.Key = fp("fake-key-1") })},
		{name: "config_line_double_quotes_parens", spec: "access_log_format = (\"%(h)s %(t)s \"\n    '\"%(r)s\" %(s)s')  # combined-ish",
			line: `203.0.113.7 [26/Nov/2026:22:13:19 +0000] "GET /v1/items HTTP/1.1" 200`, want: baseView},
		{name: "raw_string", spec: `gunicorn:access_log_format = r'%(h)s\t%(r)s'`, line: `203.0.113.7\tGET /v1/items HTTP/1.1`,
			want: with(func(v *view) { v.Time = ""; v.Status = 0 })},
		{name: "command_line_option", spec: `gunicorn:--access-logformat="%(h)s \"%(r)s\" %(s)s %({origin}i)s"`,
			line: `203.0.113.7 "GET /v1/items HTTP/1.1" 200 http://evil.rebind.test`,
			want: with(func(v *view) { v.Time = ""; v.Origin, v.HasOrigin = "http://evil.rebind.test", true })},
		{name: "parts_and_env_suffix", spec: `gunicorn:%(h)s %(m)s %(U)s?%(q)s %(H)s %(s)s %({api_key_suffix}e)s %({host}i)s`,
			line: `203.0.113.7 GET /v1/items?api_key=sk_fake_28WilSEq HTTP/1.1 200 28WilSEq api.example.test`,
			want: with(func(v *view) {
				v.Time, v.Target, v.Key, v.Host, v.HasHost = "", "/v1/items?api_key=sk_fake_28WilSEq", fp("28WilSEq"), "api.example.test", true
			})},
		{name: "empty_query", spec: `gunicorn:%(h)s %(U)s?%(q)s %(s)s`, line: `203.0.113.7 /v1/items? 200`,
			want: view{Client: "203.0.113.7", Target: "/v1/items", Status: 200}},
		{name: "bearer_header", spec: `gunicorn:%(h)s "%(r)s" %(s)s "%({authorization}i)s"`,
			line: `203.0.113.7 "GET /v1/items HTTP/1.1" 200 "Bearer fake-token-2"`,
			want: with(func(v *view) { v.Time = ""; v.Key = fp("fake-token-2") })},
	})
}

func TestWerkzeugFormat(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	runFormatCases(t, []formatCase{
		{name: "plain", spec: "werkzeug", loc: loc, line: `203.0.113.7 - - [26/Nov/2026 23:13:19] "GET /v1/items HTTP/1.1" 200 -`,
			want: baseView, checkBlind: true, blind: detect.BlindHost | detect.BlindOrigin | detect.BlindReferer},
		{name: "colour", spec: "flask", loc: loc, line: "203.0.113.7 - - [26/Nov/2026 23:13:19] \"\x1b[31m\x1b[1mGET /v1/items HTTP/1.1\x1b[0m\" 404 -",
			want: with(func(v *view) { v.Status = 404 })},
		{name: "raw_quotes_in_target", spec: "werkzeug", loc: loc, line: `203.0.113.7 - - [26/Nov/2026 23:13:19] "GET /a" 200 "b HTTP/1.1" 200 -`,
			want: with(func(v *view) { v.Target = `/a" 200 "b` })},
		{name: "ipv6_and_utc", spec: "werkzeug", loc: time.UTC, line: `::1 - - [26/Nov/2026 22:13:19] "POST /v1/items?api_key=fake-w HTTP/1.1" 201 -`,
			want: with(func(v *view) {
				v.Client = "::1"
				v.Method = "POST"
				v.Target = "/v1/items?api_key=fake-w"
				v.Status = 201
				v.Key = fp("fake-w")
			})},
		{name: "banner_running", spec: "werkzeug", line: " * Running on http://127.0.0.1:5000", skip: true},
		{name: "banner_coloured_warning", spec: "werkzeug", line: "\x1b[31m\x1b[1mWARNING: This is a development server. Do not use it.\x1b[0m", skip: true},
		{name: "banner_press", spec: "werkzeug", line: "\x1b[33mPress CTRL+C to quit\x1b[0m", skip: true},
		{name: "bad_request_message", spec: "werkzeug", line: `203.0.113.7 - - [26/Nov/2026 23:13:19] code 400, message Bad request version ('x')`, skip: true},
		{name: "zone_in_time_is_wrong", spec: "werkzeug", err: "is not a time like 02/Jan/2006 15:04:05",
			line: `203.0.113.7 - - [26/Nov/2026:23:13:19 +0100] "GET / HTTP/1.1" 200 -`},
		{name: "traceback_line", spec: "werkzeug", err: "line", line: `Traceback (most recent call last):`},
	})
}

func TestJSONFormats(t *testing.T) {
	caddy := func(req, rest string) string {
		return `{"level":"info","ts":1795731199.5,"logger":"http.log.access.log0","msg":"handled request","request":{` + req + `},"status":200` + rest + `}`
	}
	const creq = `"remote_ip":"203.0.113.7","remote_port":"5123","proto":"HTTP/1.1","method":"GET","host":"api.example.test","uri":"/v1/items"`
	cv := with(func(v *view) { v.Time = "2026-11-26T22:13:19.5Z"; v.Host, v.HasHost = "api.example.test", true })
	runFormatCases(t, []formatCase{
		{name: "caddy_headers", spec: "caddy", line: caddy(creq+`,"headers":{"Origin":["http://evil.rebind.test"],"X-Api-Key":["fake-k-1"],"User-Agent":["curl/8","x"]}`, ""),
			want: func() view {
				v := cv
				v.Origin, v.HasOrigin, v.Key, v.UserAgent = "http://evil.rebind.test", true, fp("fake-k-1"), "curl/8"
				return v
			}(), checkBlind: true},
		{name: "caddy_redacted_and_empty", spec: "caddy", line: caddy(creq+`,"headers":{"Authorization":["REDACTED"],"X-Api-Key":[],"Origin":["REDACTED"]}`, ""),
			want: cv},
		{name: "caddy_client_ip_preferred", spec: "caddy", line: caddy(`"client_ip":"198.51.100.1",`+creq, ""),
			want: func() view { v := cv; v.Client = "198.51.100.1"; return v }()},
		{name: "caddy_escapes_and_nesting", spec: "caddy",
			line: caddy(`"tls":{"x":[{"a":"}]\"{"}],"y":null},`+strings.Replace(creq, `"/v1/items"`, `"/v1/items?a=\"}\u0026b=\\"`, 1)+`,"headers":{"User-Agent":["\u001b[31m\ud83d\ude00"]}`, `,"resp_headers":{"X":["]"]}`),
			want: func() view { v := cv; v.Target = "/v1/items?a=\"}&b=\\"; v.UserAgent = "\x1b[31m\U0001F600"; return v }()},
		{name: "caddy_not_access_entry", spec: "caddy", line: `{"level":"info","ts":1795731199.5,"msg":"server running","name":"srv0"}`, skip: true},
		{name: "caddy_trailing_garbage", spec: "caddy", line: caddy(creq, "") + ` x`, err: "text after its JSON object"},
		{name: "caddy_truncated", spec: "caddy", line: caddy(creq, "")[:100], err: "not valid JSON"},
		{name: "caddy_not_json", spec: "caddy", line: `127.0.0.1 - - [26/Nov/2026:22:13:19 +0000] "GET / HTTP/1.1" 200 1`, err: "not a JSON object"},
		{name: "traefik_headers_dropped", spec: "traefik",
			line: `{"ClientAddr":"203.0.113.7:5123","ClientHost":"203.0.113.7","DownstreamStatus":200,"RequestAddr":"api.example.test:8443","RequestHost":"api.example.test","RequestMethod":"GET","RequestPath":"/v1/items","RequestProtocol":"HTTP/1.1","StartUTC":"2026-11-26T22:13:19Z"}`,
			want: with(func(v *view) { v.Host, v.HasHost = "api.example.test:8443", true }), checkBlind: true,
			blind: detect.BlindOrigin | detect.BlindReferer},
		{name: "traefik_redacted_auth_key_header", spec: "traefik",
			line: `{"ClientAddr":"[2001:db8::1]:5123","DownstreamStatus":403,"RequestHost":"evil.rebind.test","RequestMethod":"GET","RequestPath":"/admin","RequestProtocol":"HTTP/1.1","StartLocal":"2026-11-26T23:13:19+01:00","request_Authorization":"REDACTED","request_X-Api-Key":"fake-k-2","request_Origin":"null"}`,
			want: view{Time: ts, Client: "2001:db8::1", Method: "GET", Host: "evil.rebind.test", HasHost: true, Target: "/admin", Proto: "HTTP/1.1",
				Origin: "null", HasOrigin: true, Key: fp("fake-k-2"), Status: 403}},
		{name: "mapping_dotted_and_index", spec: "json:host=req.h,origin=req.hdr.Origin[0],time=t,method=req.m,target=req.u,status=st,client=c,key=req.hdr.Authorization",
			line: `{"t":1795731199551,"c":"203.0.113.7:5000","st":"200","req":{"h":"api.example.test","m":"GET","u":"/v1/items","hdr":{"Origin":["https://app.test"],"Authorization":["Bearer fake-b-1"]}}}`,
			want: view{Time: "2026-11-26T22:13:19.551Z", Client: "203.0.113.7", Method: "GET", Host: "api.example.test", HasHost: true,
				Target: "/v1/items", Origin: "https://app.test", HasOrigin: true, Key: fp("fake-b-1"), Status: 200}},
		{name: "mapping_request_line_and_headers", spec: "json:request=r,time=time,headers=h",
			line: `{"time":"2026-11-26T23:13:19.000+01:00","r":"GET /v1/items HTTP/1.1","h":{"host":"api.example.test","x-api-key":"fake-k-3","origin":"null"}}`,
			want: view{Time: ts, Method: "GET", Host: "api.example.test", HasHost: true, Target: "/v1/items", Proto: "HTTP/1.1",
				Origin: "null", HasOrigin: true, Key: fp("fake-k-3")}},
		{name: "mapping_zoneless_time_in_location", spec: "json:request=r,time=time", loc: time.FixedZone("CET", 3600),
			line: `{"time":"2026-11-26T23:13:19","r":"GET /v1/items HTTP/1.1"}`,
			want: view{Time: ts, Method: "GET", Target: "/v1/items", Proto: "HTTP/1.1"}},
		{name: "mapping_microseconds_and_nanoseconds", spec: "json:request=r,time=us",
			line: `{"us":1795731199000000,"r":"GET /v1/items HTTP/1.1"}`, want: view{Time: ts, Method: "GET", Target: "/v1/items", Proto: "HTTP/1.1"}},
		{name: "mapping_missing_request", spec: "json:request=r,time=t", line: `{"t":1795731199}`, err: "no request"},
		{name: "generic_nginx_escape_json", spec: "json",
			line: `{"time_iso8601":"2026-11-26T22:13:19+00:00","remote_addr":"203.0.113.7","request":"GET /v1/items HTTP/1.1","status":200,"http_host":"api.example.test","http_origin":"","http_user_agent":"x\"y","api_key_suffix":"28WilSEq"}`,
			want: with(func(v *view) { v.Host, v.HasHost, v.UserAgent, v.Key = "api.example.test", true, `x"y`, fp("28WilSEq") })},
		{name: "generic_preferred_names", spec: "json",
			line: `{"date":"Thu, 26 Nov 2026 22:13:19 GMT","time":"2026-11-26T22:13:19Z","ip":"203.0.113.7","method":"GET","url":"/v1/items","status_code":"200","key":null}`,
			want: with(func(v *view) { v.Proto = "" })},
		{name: "generic_bad_time", spec: "json", err: "the time value is not a time", line: `{"time":"yesterday","request":"GET / HTTP/1.1"}`},
		{name: "escaped_key_matches_nothing", spec: "json", err: "no request", line: `{"requ\u0065st":"GET / HTTP/1.1"}`},
	})
}

func TestFormatBlindness(t *testing.T) {
	kx := testKeys()
	for _, tc := range []struct {
		spec string
		want detect.Blindness
	}{
		{"werkzeug", detect.BlindHost | detect.BlindOrigin | detect.BlindReferer},
		{"gunicorn", detect.BlindHost | detect.BlindOrigin},
		{"common", detect.BlindHost | detect.BlindOrigin | detect.BlindReferer},
		{"vhost_combined", detect.BlindHost | detect.BlindOrigin},
		{"rebindwatch", 0},
		{"caddy", 0},
		{`apache:%h %U %>s`, detect.BlindHost | detect.BlindOrigin | detect.BlindReferer | detect.BlindKey},
		{`apache:%h %U %>s %{Authorization}i`, detect.BlindHost | detect.BlindOrigin | detect.BlindReferer},
		{`apache:%h %{Host}i %U%q`, detect.BlindOrigin | detect.BlindReferer},
		{`gunicorn:%(h)s %(U)s %({origin}i)s`, detect.BlindHost | detect.BlindReferer | detect.BlindKey},
		{`json:target=u,method=m`, detect.BlindHost | detect.BlindOrigin | detect.BlindReferer},
		{`json:request=r,host=h,origin=o,referer=f`, 0},
	} {
		p := mustCompile(t, tc.spec)
		var r detect.Request
		p.Parse([]byte("x"), kx, &r)
		if r.Blind != tc.want {
			t.Errorf("%s: Blind = %04b, want %04b", tc.spec, r.Blind, tc.want)
		}
	}
}

func TestParseTimeAny(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	for _, tc := range []struct{ in, want string }{
		{"1795731199", ts},
		{"1795731199.5", "2026-11-26T22:13:19.5Z"},
		{"1795731199500", "2026-11-26T22:13:19.5Z"},
		{"1795731199500000", "2026-11-26T22:13:19.5Z"},
		{"1795731199500000000", "2026-11-26T22:13:19.5Z"},
		{"2026-11-26T23:13:19+01:00", ts},
		{"2026-11-26 23:13:19", ts},
		{"2026-11-26T23:13:19.5", "2026-11-26T22:13:19.5Z"},
		{"26/Nov/2026:22:13:19 +0000", ts},
		{"Thu, 26 Nov 2026 22:13:19 GMT", ts},
		{"17957311995000000000000", ""},
		{"1.795e9", ""},
		{"", ""},
		{"soon", ""},
	} {
		got, ok := parseTimeAny([]byte(tc.in), cet)
		s := ""
		if ok {
			s = got.UTC().Format(time.RFC3339Nano)
		}
		if s != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, s, tc.want)
		}
	}
}

func TestJSONMappingSpec(t *testing.T) {
	m := JSONMapping{Host: "request.host", Origin: "request.headers.Origin[0]", Time: "ts", Method: "request.method",
		Target: "request.uri", Status: "status", Client: "request.remote_ip", Headers: "request.headers"}
	spec := m.Spec()
	if spec != "json:host=request.host,origin=request.headers.Origin[0],client=request.remote_ip,time=ts,method=request.method,target=request.uri,status=status,headers=request.headers" {
		t.Errorf("Spec() = %q", spec)
	}
	a, err1 := Compile(spec)
	b, err2 := CompileJSON(m)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	line := []byte(readLines(t, logsDir+"caddy.log")[5])
	var ra, rb detect.Request
	if err := a.Parse(line, testKeys(), &ra); err != nil || a.Parse(line, testKeys(), &ra) != b.Parse(line, testKeys(), &rb) || ra != rb {
		t.Errorf("Spec and CompileJSON read a Caddy line differently: %+v / %+v (%v)", viewOf(&ra), viewOf(&rb), err)
	}
	if ra.Host == "" || ra.Method == "" || ra.Time.IsZero() {
		t.Errorf("mapped Caddy line: %+v", viewOf(&ra))
	}
}
