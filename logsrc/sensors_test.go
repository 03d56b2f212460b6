package logsrc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
)

const sensorsDir = "../testdata/sensors/"

// Zeek's TSV headers, as its logs start (the columns of current Zeek).
var (
	zeekHTTPHeader = []string{`#separator \x09`, "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\thttp",
		"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\treferrer\tversion\tuser_agent\torigin\trequest_body_len\tresponse_body_len\tstatus_code\tstatus_msg\tapi_key_suffix"}
	zeekDNSHeader = []string{`#separator \x09`, "#set_separator\t,", "#unset_field\t-", "#path\tdns",
		"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\tqtype_name\trcode\tanswers\tTTLs"}
	cloudFrontHeader = []string{"#Version: 1.0",
		"#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port"}
)

// sensorCase is one line read, after header lines, with one spec.
type sensorCase struct {
	name, spec string
	header     []string
	line       string
	want       view // a request
	blind      detect.Blindness
	checkBlind bool
	dns        *detect.DNSAnswer // a DNS answer (compared without Source)
	tls        *detect.TLSHello
	err        string // substring of the error
	skip       bool   // recognised, not an event (ErrNotRequest)
}

func runSensorCases(t *testing.T, cases []sensorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustCompile(t, tc.spec)
			var r detect.Request
			for _, h := range tc.header {
				if _, err := p.parseEvent([]byte(h), testKeys(), &r); !quietSkip(err) {
					t.Fatalf("header line %q: %v", h, err)
				}
			}
			kind, err := p.parseEvent([]byte(tc.line), testKeys(), &r)
			switch {
			case tc.skip:
				if !errors.Is(err, ErrNotRequest) {
					t.Fatalf("err = %v, want a skipped line", err)
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
			ep := p.evParser()
			switch {
			case tc.dns != nil:
				if kind != kindDNS {
					t.Fatalf("kind %d, want a DNS answer", kind)
				}
				if got := fmt.Sprintf("%+v", ep.ev.dns); got != fmt.Sprintf("%+v", *tc.dns) {
					t.Errorf("\n got %s\nwant %+v", got, *tc.dns)
				}
			case tc.tls != nil:
				if kind != kindTLS {
					t.Fatalf("kind %d, want a ClientHello", kind)
				}
				if got := fmt.Sprintf("%+v", ep.ev.tls); got != fmt.Sprintf("%+v", *tc.tls) {
					t.Errorf("\n got %s\nwant %+v", got, *tc.tls)
				}
			default:
				if kind != kindRequest {
					t.Fatalf("kind %d, want a request", kind)
				}
				if got := viewOf(&r); got != tc.want.redacted() {
					t.Errorf("\n got %+v\nwant %+v", got, tc.want)
				}
				if tc.checkBlind && r.Blind != tc.blind {
					t.Errorf("Blind = %04b, want %04b", r.Blind, tc.blind)
				}
			}
		})
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
func ips(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}
func at(s string) time.Time { t, _ := time.Parse(time.RFC3339Nano, s); return t }

func TestZeekLines(t *testing.T) {
	tab := func(f ...string) string { return strings.Join(f, "\t") }
	req := view{Time: "2026-12-03T10:00:01Z", Client: "10.0.0.7", Method: "GET", Host: "api.example.com", HasHost: true,
		Target: "/v1/items", Proto: "HTTP/1.1", UserAgent: "curl/8.0", Status: 200}
	with := func(f func(*view)) view { v := req; f(&v); return v }
	runSensorCases(t, []sensorCase{
		{name: "tsv_http_with_origin_and_key_script", spec: "zeek", header: zeekHTTPHeader,
			line: tab("1796292001.000000", "C1", "10.0.0.7", "52000", "127.0.0.1", "8080", "1", "GET", "api.example.com", "/v1/items",
				"-", "1.1", "curl/8.0", "https://app.example.com", "0", "2", "200", "OK", "ab12cd34"),
			want:       with(func(v *view) { v.Origin, v.HasOrigin, v.Key = "https://app.example.com", true, fp("ab12cd34") }),
			checkBlind: true, blind: 0},
		{name: "tsv_escaped_tab_and_escape_sequence_in_host", spec: "zeek", header: zeekHTTPHeader,
			line: tab("1796292001.000000", "C1", "10.0.0.7", "52000", "127.0.0.1", "8080", "1", "GET", `evil\x09host\x1b[31m`, "/v1/items",
				"-", "1.1", "curl/8.0", "-", "0", "2", "200", "OK", "-"),
			want: with(func(v *view) { v.Host = "evil\thost\x1b[31m" })},
		{name: "tsv_query_key_and_empty_set", spec: "zeek", header: zeekHTTPHeader,
			line: tab("1796292001.000000", "C1", "10.0.0.7", "52000", "127.0.0.1", "8080", "1", "GET", "api.example.com", "/v1/items?api_key=zk-1",
				"-", "1.1", "curl/8.0", "(empty)", "0", "2", "200", "OK", "-"),
			want: with(func(v *view) { v.Target, v.Key = "/v1/items?api_key=zk-1", fp("zk-1") })},
		{name: "tsv_response_without_request", spec: "zeek", header: zeekHTTPHeader, skip: true,
			line: tab("1796292001.000000", "C1", "10.0.0.7", "52000", "127.0.0.1", "8080", "0", "-", "-", "-",
				"-", "-", "-", "-", "0", "925", "400", "Bad Request", "-")},
		{name: "tsv_line_before_any_header", spec: "zeek", err: "before any #fields",
			line: tab("1796292001.000000", "C1", "10.0.0.7")},
		{name: "tsv_more_columns_than_header", spec: "zeek", header: zeekHTTPHeader, err: "more columns",
			line: strings.Repeat("x\t", 30) + "x"},
		{name: "tsv_forged_header_line_mid_log", spec: "zeek", header: zeekHTTPHeader, err: "not a header line",
			line: "#fields are not a header when they lack the tab"},
		{name: "tsv_bad_time", spec: "zeek", header: zeekHTTPHeader, err: "is not a time",
			line: tab("yesterday", "C1", "10.0.0.7", "52000", "127.0.0.1", "8080", "1", "GET", "h", "/", "-", "1.1", "-", "-", "0", "2", "200", "OK", "-")},
		{name: "tsv_dns_answer_with_cname_chain", spec: "zeek", header: zeekDNSHeader,
			line: tab("1796292005.000000", "C2", "10.0.0.7", "51000", "10.0.0.53", "53", "udp", "1", "www.rebind.test", "A", "0",
				"rebind.test,127.0.0.1,10.1.2.3", "60.000000,1.000000,30.000000"),
			dns: &detect.DNSAnswer{Time: at("2026-12-03T10:00:05Z"), Client: ap("10.0.0.7:51000"), Server: ap("10.0.0.53:53"),
				Name: "www.rebind.test", CNAMEs: []string{"rebind.test"}, Addrs: ips("127.0.0.1", "10.1.2.3"), TTL: 1}},
		{name: "tsv_dns_ptr_answer_is_no_cname", spec: "zeek", header: zeekDNSHeader,
			line: tab("1796292005.000000", "C2", "10.0.0.7", "51000", "10.0.0.53", "53", "udp", "1", "1.0.0.127.in-addr.arpa", "PTR", "0",
				"localhost", "60.000000"),
			dns: &detect.DNSAnswer{Time: at("2026-12-03T10:00:05Z"), Client: ap("10.0.0.7:51000"), Server: ap("10.0.0.53:53"),
				Name: "1.0.0.127.in-addr.arpa"}},
		{name: "tsv_dns_query_without_response", spec: "zeek", header: zeekDNSHeader, skip: true,
			line: tab("1796292005.000000", "C2", "10.0.0.7", "51000", "10.0.0.53", "53", "udp", "1", "x.test", "A", "-", "-", "-")},
		{name: "json_http_docs", spec: "zeek", line: readLines(t, sensorsDir+"zeek-json/http.log")[0],
			want: view{Time: "2020-06-05T14:39:59.512593Z", Client: "192.168.4.76", Method: "GET", Host: "testmyids.com", HasHost: true,
				Target: "/", Proto: "HTTP/1.1", UserAgent: "curl/7.47.0", Status: 200},
			checkBlind: true, blind: detect.BlindOrigin | detect.BlindReferer},
		{name: "json_iso8601_timestamps_and_key_field", spec: "zeek",
			line: `{"ts":"2026-12-03T10:00:01.000000Z","uid":"C1","id.orig_h":"10.0.0.7","id.orig_p":52000,"id.resp_h":"127.0.0.1","id.resp_p":8080,` +
				`"method":"GET","host":"api.example.com","uri":"/v1/items","version":"1.1","user_agent":"curl/8.0","status_code":200,"api_key_suffix":"ab12cd34"}`,
			want: with(func(v *view) { v.Key = fp("ab12cd34") })},
		{name: "json_dns_docs", spec: "zeek", line: readLines(t, sensorsDir+"zeek-json/dns.log")[1],
			dns: &detect.DNSAnswer{Time: at("2020-06-05T14:39:59.305988Z"), Client: ap("192.168.4.76:36844"), Server: ap("192.168.4.1:53"),
				Name: "testmyids.com", Addrs: ips("31.3.245.133"), TTL: 3600}},
		{name: "json_escaped_query", spec: "zeek",
			line: `{"ts":1,"uid":"C","id.orig_h":"10.0.0.7","id.orig_p":1,"id.resp_h":"10.0.0.53","id.resp_p":53,"query":"a\u0000b\".test","qtype_name":"A","rcode":0,"answers":["127.0.0.1"],"TTLs":[5.0]}`,
			dns: &detect.DNSAnswer{Time: time.Unix(1, 0).UTC(), Client: ap("10.0.0.7:1"), Server: ap("10.0.0.53:53"),
				Name: "a\x00b\".test", Addrs: ips("127.0.0.1"), TTL: 5}},
		{name: "json_ssl", spec: "zeek",
			line: `{"ts":1796292003.0,"uid":"C3","id.orig_h":"10.0.0.7","id.orig_p":53000,"id.resp_h":"203.0.113.10","id.resp_p":443,"version":"TLSv13","server_name":"rebind.attacker.test","established":true}`,
			tls:  &detect.TLSHello{Time: at("2026-12-03T10:00:03Z"), Client: ap("10.0.0.7:53000"), Server: ap("203.0.113.10:443"), SNI: "rebind.attacker.test"}},
		{name: "json_conn_log_skipped", spec: "zeek", line: readLines(t, sensorsDir+"zeek-json/conn.log")[0], skip: true},
		{name: "json_path_says_other_log", spec: "zeek", skip: true,
			line: `{"_path":"files","ts":1,"method":"GET","uri":"/"}`},
		{name: "json_not_zeek", spec: "zeek", err: "Zeek JSON line", line: `{"time":"x","method":"GET"}`},
		{name: "json_duplicate_keys_first_wins", spec: "zeek",
			line: `{"ts":1796292001.0,"uid":"C","id.orig_h":"10.0.0.7","id.orig_p":52000,"id.resp_h":"127.0.0.1","id.resp_p":8080,"method":"GET","host":"api.example.com","host":"evil.test","uri":"/v1/items","version":"1.1","user_agent":"curl/8.0","status_code":200}`,
			want: req},
	})
}

func TestSuricataLines(t *testing.T) {
	eve := func(typ, obj string) string {
		return `{"timestamp":"2026-12-03T10:00:01.000000+0000","flow_id":1,"event_type":"` + typ + `","src_ip":"10.0.0.7","src_port":52000,"dest_ip":"10.0.0.80","dest_port":8080,"proto":"TCP",` + obj + `}`
	}
	req := view{Time: "2026-12-03T10:00:01Z", Client: "10.0.0.7", Method: "GET", Host: "api.example.com", HasHost: true,
		Target: "/v1/items", Proto: "HTTP/1.1", UserAgent: "curl/8.0", Status: 200}
	with := func(f func(*view)) view { v := req; f(&v); return v }
	const ext = `"hostname":"api.example.com","url":"/v1/items","http_user_agent":"curl/8.0","http_method":"GET","protocol":"HTTP/1.1","status":200`
	verify := readLines(t, sensorsDir+"suricata/verify-eve.json")
	runSensorCases(t, []sensorCase{
		{name: "http_extended", spec: "suricata", line: eve("http", `"http":{`+ext+`}`), want: req,
			checkBlind: true, blind: detect.BlindOrigin},
		{name: "http_dump_all_headers_origin_and_key", spec: "suricata",
			line:       eve("http", `"http":{`+ext+`,"request_headers":[{"name":"Origin","value":"http://evil.test"},{"name":"X-API-Key","value":"sk-eve-1"}]}`),
			want:       with(func(v *view) { v.Origin, v.HasOrigin, v.Key = "http://evil.test", true, fp("sk-eve-1") }),
			checkBlind: true, blind: 0},
		{name: "http_custom_origin_and_authorization", spec: "suricata",
			line: eve("http", `"http":{`+ext+`,"origin":"null","authorization":"Bearer sk-eve-2"}`),
			want: with(func(v *view) { v.Origin, v.HasOrigin, v.Key = "null", true, fp("sk-eve-2") })},
		{name: "http_port_joins_the_host", spec: "suricata", line: eve("http", `"http":{"http_port":8443,`+ext+`}`),
			want: with(func(v *view) { v.Host = "api.example.com:8443" })},
		{name: "http_without_extended_logging", spec: "suricata",
			line: eve("http", `"http":{"hostname":"api.example.com","url":"/v1/items?api_key=sk-eve-3","http_user_agent":"curl/8.0"}`),
			want: view{Time: "2026-12-03T10:00:01Z", Client: "10.0.0.7", Host: "api.example.com", HasHost: true,
				Target: "/v1/items?api_key=sk-eve-3", UserAgent: "curl/8.0", Key: fp("sk-eve-3")},
			checkBlind: true, blind: detect.BlindOrigin | detect.BlindReferer},
		{name: "http_without_url", spec: "suricata", line: eve("http", `"http":{"hostname":"h"}`), err: "no request"},
		{name: "alert_with_http_object_skipped", spec: "suricata", line: verify[len(verify)-1], skip: true},
		{name: "alert_event_type_with_forged_http", spec: "suricata", skip: true,
			line: `{"timestamp":"2026-12-03T10:00:01Z","event_type":"alert","http":{` + ext + `},"x":{"event_type":"http"}}`},
		{name: "event_type_http_without_its_object", spec: "suricata", line: eve("http", `"dns":{"type":"answer"}`), err: "without its object"},
		{name: "flow_skipped", spec: "suricata", line: verify[4], skip: true},
		{name: "no_timestamp", spec: "suricata", line: `{"event_type":"http","http":{"url":"/"}}`, err: "without event_type or timestamp"},
		{name: "timestamp_without_zone_is_utc", spec: "suricata",
			line: `{"timestamp":"2026-12-03T10:00:01","event_type":"http","src_ip":"10.0.0.7","http":{` + ext + `}}`,
			want: with(func(v *view) {})},
		{name: "dns_v1_answer_from_the_server", spec: "suricata", line: verify[1],
			dns: &detect.DNSAnswer{Time: at("2016-05-24T23:27:02.333141Z"), Client: ap("10.16.1.11:53679"), Server: ap("10.16.1.1:53"),
				Name: "client-cf.dropbox.com", Addrs: ips("52.85.112.21"), TTL: 47}},
		{name: "dns_v1_answer_in_flow_direction", spec: "suricata", line: verify[3],
			dns: &detect.DNSAnswer{Time: at("2017-01-26T20:16:58.27074Z"), Client: ap("10.16.1.11:38195"), Server: ap("8.8.4.4:53"),
				Name: "www.google.com", Addrs: ips("216.197.242.244"), TTL: 8}},
		{name: "dns_query_skipped", spec: "suricata", line: verify[0], skip: true},
		{name: "dns_v3_response_queries", spec: "suricata",
			line: eve("dns", `"dns":{"version":3,"type":"response","id":1,"rcode":"NOERROR","queries":[{"rrname":"rebind.test","rrtype":"A"}],"answers":[{"rrname":"rebind.test","rrtype":"A","ttl":1,"rdata":"127.0.0.1"}]}`),
			dns: &detect.DNSAnswer{Time: at("2026-12-03T10:00:01Z"), Client: ap("10.0.0.7:52000"), Server: ap("10.0.0.80:8080"),
				Name: "rebind.test", Addrs: ips("127.0.0.1"), TTL: 1}},
		{name: "dns_answer_without_rdata", spec: "suricata", // found by FuzzParseSensors
			line: eve("dns", `"dns":{"version":2,"type":"answer","rrname":"x.test","answers":[{"rrname":"x.test","rrtype":"A"}]}`),
			dns:  &detect.DNSAnswer{Time: at("2026-12-03T10:00:01Z"), Client: ap("10.0.0.7:52000"), Server: ap("10.0.0.80:8080"), Name: "x.test"}},
		{name: "dns_nxdomain", spec: "suricata",
			line: eve("dns", `"dns":{"version":2,"type":"answer","id":1,"rcode":"NXDOMAIN","rrname":"nope.test","rrtype":"A"}`),
			dns: &detect.DNSAnswer{Time: at("2026-12-03T10:00:01Z"), Client: ap("10.0.0.7:52000"), Server: ap("10.0.0.80:8080"),
				Name: "nope.test", Rcode: 3}},
		{name: "tls_sni", spec: "suricata", line: verify[5],
			tls: &detect.TLSHello{Time: at("2016-09-19T15:13:55.657295Z"), Client: ap("10.16.1.11:54684"), Server: ap("24.244.4.23:443"), SNI: "www.google.com"}},
	})
}

func TestCloudLines(t *testing.T) {
	alb := readLines(t, sensorsDir+"cloud/alb.log")
	cf := readLines(t, sensorsDir+"cloud/cloudfront.log")
	gcp := readLines(t, sensorsDir+"cloud/gcp.json")
	cfl := readLines(t, sensorsDir+"cloud/cloudflare.json")
	az := readLines(t, sensorsDir+"cloud/azure-frontdoor.json")
	albView := view{Time: "2018-07-02T22:23:00.186641Z", Client: "192.168.131.39", Method: "GET", Host: "www.example.com", HasHost: true,
		Target: "/", Proto: "HTTP/1.1", UserAgent: "curl/7.46.0", Status: 200}
	runSensorCases(t, []sensorCase{
		{name: "alb_http_docs", spec: "alb", line: alb[0], want: albView,
			checkBlind: true, blind: detect.BlindOrigin | detect.BlindReferer},
		{name: "alb_https_default_port_dropped", spec: "alb", line: alb[1], want: albView},
		{name: "alb_h2_listener_port_kept", spec: "alb", line: alb[2],
			want: view{Time: "2018-07-02T22:23:00.186641Z", Client: "10.0.1.252", Method: "GET", Host: "10.0.2.105:773", HasHost: true,
				Target: "/", Proto: "HTTP/2.0", UserAgent: "curl/7.46.0", Status: 200}},
		{name: "alb_query_key_and_no_path", spec: "alb",
			line: `https 2026-12-03T10:00:00.000000Z app/lb/1 203.0.113.5:4000 10.0.0.1:80 0.000 0.001 0.000 200 200 1 2 "GET https://api.example.com:443?api_key=alb-k-1 HTTP/1.1" "curl/8.0" - -`,
			want: view{Time: "2026-12-03T10:00:00Z", Client: "203.0.113.5", Method: "GET", Host: "api.example.com", HasHost: true,
				Target: "/?api_key=alb-k-1", Proto: "HTTP/1.1", UserAgent: "curl/8.0", Key: fp("alb-k-1"), Status: 200}},
		{name: "alb_malformed_request", spec: "alb", err: "request line is not HTTP",
			line: `http 2026-12-03T10:00:00.000000Z app/lb/1 203.0.113.5:4000 - -1 -1 -1 400 - 0 0 "- - - " "-" - -`},
		{name: "cloudfront_cs_host_is_not_the_host", spec: "cloudfront", header: cf[:2], line: cf[2],
			want: view{Time: "2019-12-04T21:02:31Z", Client: "192.0.2.100", Method: "GET", Host: "d111111abcdef8.cloudfront.net", HasHost: true,
				Target: "/index.html", Proto: "HTTP/2.0",
				UserAgent: "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36", Status: 200}},
		{name: "cloudfront_viewer_host_and_trailing_tab", spec: "cloudfront", header: cf[:2], line: cf[6] + "\t\t",
			want: view{Time: "2019-12-13T22:36:26Z", Client: "192.0.2.200", Method: "GET", Host: "www.example.com", HasHost: true,
				Target: "/", Proto: "HTTP/1.1",
				UserAgent: "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36", Status: 502}},
		{name: "cloudfront_query_key", spec: "cloudfront", header: cloudFrontHeader,
			line: "2026-12-03\t10:00:00\tLAX1\t1\t192.0.2.1\tGET\td1.cloudfront.net\t/v1\t200\t-\tcurl\tapi_key=cf-k-1\t-\tMiss\tid\tapi.example.com\thttps\t1\t0.1\t-\t-\t-\tMiss\tHTTP/1.1\t-\t-\t4000",
			want: view{Time: "2026-12-03T10:00:00Z", Client: "192.0.2.1", Method: "GET", Host: "api.example.com", HasHost: true,
				Target: "/v1?api_key=cf-k-1", Proto: "HTTP/1.1", UserAgent: "curl", Key: fp("cf-k-1"), Status: 200}},
		{name: "cloudfront_bad_date", spec: "cloudfront", header: cloudFrontHeader, err: "not a date",
			line: "yesterday\tnoon\tLAX1\t1\t192.0.2.1\tGET\td1\t/\t200"},
		{name: "gcp_docs_values", spec: "gcp", line: gcp[0],
			want: view{Time: "2026-12-03T10:00:00.123456Z", Client: "192.168.1.1", Method: "GET", Host: "example.com", HasHost: true,
				Target: "/some/info?color=red", Proto: "HTTP/1.1", UserAgent: "Mozilla/4.0 (compatible; MSIE 6.0; Windows 98; Q312461; .NET CLR 1.0.3705)", Status: 200},
			checkBlind: true, blind: detect.BlindOrigin},
		{name: "gcp_remote_ip_with_port_and_url_key", spec: "gcp", line: gcp[1],
			want: view{Time: "2026-12-03T10:00:01Z", Client: "10.0.0.1", Method: "POST", Host: "example.com", HasHost: true,
				Target: "/v1/items?api_key=gcp-demo-key-123456", Proto: "HTTP/2.0", Referer: "https://app.example.com/", UserAgent: "curl/8.0",
				Key: fp("gcp-demo-key-123456"), Status: 403}},
		{name: "gcp_ipv6_and_port_in_url", spec: "gcp", line: gcp[2],
			want: view{Time: "2026-12-03T10:00:02Z", Client: "fe80::202:b3ff:fe1e:8329", Method: "GET", Host: "evil.rebind.test:8080", HasHost: true,
				Target: "/admin", Status: 200}},
		{name: "cloudflare_rfc3339", spec: "cloudflare", line: cfl[0],
			want: view{Time: "2026-12-03T10:00:00Z", Client: "192.0.2.10", Method: "GET", Host: "api.example.com", HasHost: true,
				Target: "/v1/items?page=2", Proto: "HTTP/2", UserAgent: "curl/8.0", Status: 200},
			checkBlind: true, blind: detect.BlindOrigin},
		{name: "cloudflare_unix_and_custom_headers", spec: "cloudflare", line: cfl[1],
			want: view{Time: "2026-12-03T10:00:01Z", Client: "2001:db8::7", Method: "POST", Host: "evil.rebind.test", HasHost: true,
				Target: "/v1/items", Proto: "HTTP/1.1", Origin: "http://evil.rebind.test", HasOrigin: true, UserAgent: "Mozilla/5.0",
				Key: fp("cf-demo-key-abcdef"), Status: 403},
			checkBlind: true, blind: 0},
		{name: "cloudflare_unixnano", spec: "cloudflare", line: cfl[2],
			want: view{Time: "2026-12-03T10:00:02.123456789Z", Client: "192.0.2.11", Method: "GET", Host: "api.example.com", HasHost: true,
				Target: "/health", Proto: "HTTP/1.1", Status: 200}},
		{name: "azure_host_name_wins_over_url", spec: "azure-frontdoor", line: az[0],
			want: view{Time: "2026-12-03T10:00:00Z", Client: "203.0.113.5", Method: "GET", Host: "api.example.com", HasHost: true,
				Target: "/v1/items?x=1", UserAgent: "curl/8.0", Status: 200}},
		{name: "azure_classic_host_from_url", spec: "azure-frontdoor", line: az[1],
			want: view{Time: "2026-12-03T10:00:01.5Z", Client: "203.0.113.6", Method: "GET", Host: "evil.rebind.test", HasHost: true,
				Target: "/admin", UserAgent: "Mozilla/5.0", Status: 403}},
	})
}

// TestSensorFilesAutoDetected reads every sensor and cloud file as a user
// would, with auto-detection, and counts what each gives.
func TestSensorFilesAutoDetected(t *testing.T) {
	for _, tc := range []struct {
		file, format        string
		reqs, dns, tls, bad int
	}{
		{"zeek/http.log", "zeek", 6, 0, 0, 0},
		{"zeek/dns.log", "zeek", 0, 1, 0, 0},
		{"zeek/ssl.log", "zeek", 0, 0, 1, 0},
		{"zeek-json/http.log", "zeek", 1, 0, 0, 0},
		{"zeek-json/dns.log", "zeek", 0, 2, 0, 0},
		{"suricata/verify-eve.json", "suricata", 0, 3, 1, 0},
		{"suricata/doc-eve.json", "suricata", 4, 2, 0, 0},
		{"cloud/alb.log", "alb", 5, 0, 0, 0},
		{"cloud/alb.log.gz", "alb", 5, 0, 0, 0},
		{"cloud/cloudfront.log", "cloudfront", 6, 0, 0, 0},
		{"cloud/cloudfront.log.gz", "cloudfront", 6, 0, 0, 0},
		{"cloud/gcp.json", "gcp", 3, 0, 0, 0},
		{"cloud/cloudflare.json", "cloudflare", 3, 0, 0, 0},
		{"cloud/azure-frontdoor.json", "azure-frontdoor", 2, 0, 0, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var reqs, dns, tls, bad int
			note := ""
			for _, b := range collect(t, sensorsDir+tc.file, Options{Keys: testKeys()}) {
				reqs += len(b.Requests)
				dns += len(b.DNS)
				tls += len(b.TLS)
				bad += int(b.ParseErrors)
				if b.Note != "" {
					note = b.Note
				}
				for _, p := range b.Problems {
					t.Logf("problem: %s %s", p.Where, p.Text)
				}
			}
			if reqs != tc.reqs || dns != tc.dns || tls != tc.tls || bad != tc.bad {
				t.Errorf("requests %d, dns %d, tls %d, parse errors %d; want %d, %d, %d, %d", reqs, dns, tls, bad, tc.reqs, tc.dns, tc.tls, tc.bad)
			}
			if want := "format: " + tc.format + " (auto)"; note != want {
				t.Errorf("note %q, want %q", note, want)
			}
		})
	}
}

// collect runs a source to its end and returns its batches.
func collect(t *testing.T, path string, opts Options) []detect.Batch {
	t.Helper()
	return testkit.Batches(t, func(ctx context.Context, out chan<- detect.Batch) error { return Run(ctx, path, opts, out) })
}

// TestZeekDirInTimeOrder: a Zeek directory's three logs come out as one
// source, DNS answers, ClientHellos and requests interleaved by time.
func TestZeekDirInTimeOrder(t *testing.T) {
	type ev struct {
		t    time.Time
		what string
	}
	var got []ev
	sources := map[string]bool{}
	for _, b := range collect(t, ZeekPrefix+sensorsDir+"zeek-rebind", Options{Keys: testKeys()}) {
		sources[b.Source] = true
		for _, a := range b.DNS {
			got = append(got, ev{a.Time, "dns " + a.Addrs[0].String()})
		}
		for _, h := range b.TLS {
			got = append(got, ev{h.Time, "tls " + h.SNI})
		}
		for _, r := range b.Requests {
			got = append(got, ev{r.Time, "req " + r.Host})
		}
	}
	if len(sources) != 1 || !sources[ZeekPrefix+sensorsDir+"zeek-rebind"] {
		t.Errorf("sources %v, want the directory alone", sources)
	}
	// Batches carry DNS and TLS apart from requests; the engine interleaves
	// them by time within a batch. What matters: each kind in time order,
	// and every event there.
	want := []string{"dns 203.0.113.10", "req api.example.com:8080", "tls rebind.attacker.test", "dns 127.0.0.1", "req rebind.attacker.test:8080"}
	slices.SortStableFunc(got, func(a, b ev) int { return a.t.Compare(b.t) })
	var names []string
	for _, e := range got {
		names = append(names, e.what)
	}
	if !slices.Equal(names, want) {
		t.Errorf("got %q, want %q", names, want)
	}
}

func TestZeekDirRefused(t *testing.T) {
	out := make(chan detect.Batch, 8)
	go func() {
		for range out {
		}
	}()
	err := Run(context.Background(), ZeekPrefix+sensorsDir+"cloud", Options{}, out)
	if !errors.Is(err, ErrNoZeekLogs) || !strings.Contains(err.Error(), "zeek:") {
		t.Errorf("a directory without Zeek logs: %v", err)
	}
	err = Run(context.Background(), ZeekPrefix+sensorsDir+"zeek/http.log", Options{}, out)
	if !errors.Is(err, ErrNoZeekLogs) || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: %v", err)
	}
	close(out)
}
