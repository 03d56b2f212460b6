package schema

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// samples are requests and alerts of every shape the encoders meet: a
// capture's (addresses with ports, a server), a log's (client IP only),
// a fleet's (Source is the producing host), hostile strings, alerts with
// and without a request behind them.
func samples() ([]detect.Request, []detect.Alert) {
	t := time.Date(2026, 11, 26, 21, 1, 10, 123456000, time.UTC)
	capture := detect.Request{Time: t, Source: "pcap", Client: netip.MustParseAddrPort("10.0.0.7:51234"),
		Server: netip.MustParseAddrPort("[2001:db8::1]:8080"), Method: "GET", Host: "evil.rebind.test:8080", HasHost: true,
		Target: "/admin?api_key=REDACTED", Proto: "HTTP/1.1", Origin: "http://evil.rebind.test", HasOrigin: true,
		Referer: "http://evil.rebind.test/", UserAgent: "Mozilla/5.0 \u202e", Key: "3f2a9c1b7d4e", Status: 200}
	log := detect.Request{Time: t, Source: "web-03", Client: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), 0),
		Method: "POST", Target: "http://api.test/v1/x", URIHost: "api.test", Proto: "HTTP/1.0", Status: 401}
	bare := detect.Request{Time: t, Method: "GET", Target: "/", Blind: detect.BlindHost}
	alerts := []detect.Alert{
		{Time: t, LastSeen: t.Add(time.Minute), Detector: detect.DetUnexpectedHost, Severity: detect.SeverityCritical,
			Subject: "evil.rebind.test:8080", Key: capture.Key, Client: "10.0.0.7", Host: capture.Host, Origin: capture.Origin,
			Target: capture.Target, Status: 200, Message: "Host evil.rebind.test:8080 is not an allowed name; the server answered 200",
			Outcome: detect.OutcomeServed, Class: "rebinding", Count: 3, Incident: "inc-1", Evidence: []detect.Request{capture}},
		{Time: t, Detector: detect.DetKeySpread, Severity: detect.SeverityMedium, Subject: "3f2a9c1b7d4e", Dimension: "host",
			Key: "3f2a9c1b7d4e", Client: "192.0.2.1", Message: "key seen under 4 hosts", Count: 1, Evidence: []detect.Request{log}},
		{Time: t, Detector: detect.DetDNSRebind, Severity: detect.SeverityHigh, Subject: "7f000001.c0a80001.rbndr.us",
			Message: "rebinding", Tool: "rbndr", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}, Count: 1},
		{Time: t, Detector: detect.DetKeyStuffing, Severity: detect.SeverityLow, Subject: "not-an-ip\x1b[2J", Client: "not-an-ip\x1b[2J",
			Keys: 30, Rejected: 29, Count: 1},
	}
	return []detect.Request{capture, log, bare}, alerts
}

// ecsField is one row of ECS's fields.csv.
type ecsField struct{ typ, normalization string }

func loadECS(t *testing.T) map[string]ecsField {
	t.Helper()
	f, err := os.Open("testdata/ecs/fields.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0][:7], []string{"ECS_Version", "Indexed", "Field_Set", "Field", "Type", "Level", "Normalization"}) {
		t.Fatalf("not ECS's fields.csv header: %v", rows[0])
	}
	fields := map[string]ecsField{}
	for _, r := range rows[1:] {
		fields[r[3]] = ecsField{typ: r[4], normalization: r[6]}
	}
	return fields
}

// flatten turns a decoded JSON object into dotted leaves, as ECS names
// fields; rebindwatch's own namespace is one leaf.
func flatten(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok || prefix == "rebindwatch" {
		out[prefix] = v
		return
	}
	for k, sub := range m {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		flatten(name, sub, out)
	}
}

// checkECS checks a line field by field against ECS's definitions.
func checkECS(t *testing.T, fields map[string]ecsField, line []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(line, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, line)
	}
	leaves := map[string]any{}
	flatten("", v, leaves)
	for name, val := range leaves {
		if name == "rebindwatch" {
			continue // our own fields, in our own namespace
		}
		f, ok := fields[name]
		if !ok {
			t.Errorf("%s is not an ECS field\n%s", name, line)
			continue
		}
		vals := []any{val}
		if arr, isArr := val.([]any); isArr {
			if f.normalization != "array" {
				t.Errorf("%s is an array; ECS defines it as a single %s", name, f.typ)
			}
			vals = arr
		}
		for _, x := range vals {
			if why := ecsTypeMismatch(f.typ, x); why != "" {
				t.Errorf("%s = %v: %s (ECS type %s)", name, x, why, f.typ)
			}
		}
	}
	return leaves
}

func ecsTypeMismatch(typ string, v any) string {
	switch typ {
	case "keyword", "wildcard", "match_only_text", "constant_keyword":
		if _, ok := v.(string); !ok {
			return "not a string"
		}
	case "ip":
		s, ok := v.(string)
		if _, err := netip.ParseAddr(s); !ok || err != nil {
			return "not an IP address"
		}
	case "long":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			return "not an integer"
		}
	case "date":
		s, ok := v.(string)
		if _, err := time.Parse(time.RFC3339Nano, s); !ok || err != nil {
			return "not an RFC 3339 date"
		}
	default:
		return "a type rebindwatch does not write"
	}
	return ""
}

// Every ECS line rebindwatch writes uses only ECS fields with ECS types
// (its own under rebindwatch.*), and carries what a SIEM keys on.
func TestECSAgainstTheFieldDefinitions(t *testing.T) {
	fields := loadECS(t)
	if len(fields) < 150 || fields["rule.name"].typ != "keyword" || fields["source.ip"].typ != "ip" {
		t.Fatalf("the ECS field list did not load whole: %d fields", len(fields))
	}
	reqs, alerts := samples()
	for _, opts := range []EncoderOptions{{Node: "gw-1"}, {SourceIsHost: true}} {
		enc := NewEncoder(FormatECS, opts)
		for i := range reqs {
			l := checkECS(t, fields, enc.Request(nil, &reqs[i]))
			if l["event.kind"] != "event" || l["ecs.version"] != ECSVersion || l["@timestamp"] != "2026-11-26T21:01:10.123456Z" {
				t.Errorf("request %d: %v", i, l)
			}
		}
		for i := range alerts {
			a := &alerts[i]
			l := checkECS(t, fields, enc.Alert(nil, a))
			cats, _ := l["event.category"].([]any)
			if l["event.kind"] != "alert" || l["rule.name"] != a.Detector || len(cats) != 2 || cats[0] != "network" || cats[1] != "web" ||
				l["event.id"] != AlertID(a) || l["message"] != a.Message && a.Message != "" {
				t.Errorf("alert %s: %v", a.Detector, l)
			}
		}
	}
	// The first alert, field by field.
	enc := NewEncoder(FormatECS, EncoderOptions{SourceIsHost: true})
	l := checkECS(t, fields, enc.Alert(nil, &alerts[0]))
	want := map[string]any{"source.ip": "10.0.0.7", "source.port": float64(51234), "destination.ip": "2001:db8::1",
		"destination.port": float64(8080), "destination.domain": "evil.rebind.test", "url.original": "/admin?api_key=REDACTED",
		"url.domain": "evil.rebind.test", "http.request.method": "GET", "http.response.status_code": float64(200),
		"http.version": "1.1", "user_agent.original": "Mozilla/5.0 \u202e", "host.name": "pcap", "event.severity": float64(4),
		"rule.ruleset": "rebindwatch"}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("%s = %v, want %v", k, l[k], v)
		}
	}
	ours := l["rebindwatch"].(map[string]any)
	if ours["key"] != "3f2a9c1b7d4e" || ours["incident"] != "inc-1" || ours["outcome"] != "served" || ours["count"] != float64(3) {
		t.Errorf("rebindwatch.*: %v", ours)
	}
}

// ocsfSchema is testdata/ocsf/detection_finding.json.
type ocsfSchema struct {
	ClassUID int `json:"class_uid"`
	Objects  map[string]struct {
		Extends    string   `json:"extends"`
		Attributes []string `json:"attributes"`
	} `json:"objects"`
	Types    map[string]string   `json:"types"`
	Required map[string][]string `json:"required"`
}

func loadOCSF(t *testing.T) ocsfSchema {
	t.Helper()
	data, err := os.ReadFile("testdata/ocsf/detection_finding.json")
	if err != nil {
		t.Fatal(err)
	}
	var s ocsfSchema
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// attributes lists an object's attributes with those of what it extends.
func (s ocsfSchema) attributes(name string) []string {
	var out []string
	for name != "" {
		o, ok := s.Objects[name]
		if !ok {
			break
		}
		out = append(out, o.Attributes...)
		name = o.Extends
	}
	return out
}

// check checks one object of the finding against its schema object.
func (s ocsfSchema) check(t *testing.T, path, object string, v map[string]any) {
	t.Helper()
	attrs := s.attributes(object)
	if len(attrs) == 0 {
		t.Fatalf("%s: no schema object %s", path, object)
	}
	for name, val := range v {
		if !slices.Contains(attrs, name) {
			t.Errorf("%s.%s is not an attribute of OCSF %s", path, name, object)
			continue
		}
		if name == "unmapped" {
			continue // rebindwatch's own, where OCSF puts what it does not model
		}
		typ, ok := s.Types[object+"."+name]
		if !ok {
			if _, isObj := val.(map[string]any); isObj {
				t.Errorf("%s.%s: an object, but the schema data has no type for it", path, name)
			}
			continue
		}
		if elem, isArr := strings.CutSuffix(typ, "[]"); isArr {
			arr, _ := val.([]any)
			if len(arr) == 0 {
				t.Errorf("%s.%s: want a non-empty array of %s", path, name, elem)
			}
			for _, x := range arr {
				s.check(t, path+"."+name+"[]", elem, x.(map[string]any))
			}
			continue
		}
		s.check(t, path+"."+name, typ, val.(map[string]any))
	}
	for _, req := range s.Required[object] {
		if _, ok := v[req]; !ok {
			t.Errorf("%s: required %s missing", path, req)
		}
	}
}

// Every alert is an OCSF Detection Finding: class 2004, only attributes the
// schema defines for the class and its objects, the required ones present.
func TestOCSFAgainstTheDetectionFindingClass(t *testing.T) {
	s := loadOCSF(t)
	if s.ClassUID != 2004 || len(s.attributes("detection_finding")) < 50 {
		t.Fatalf("the OCSF schema data did not load: %+v", s.ClassUID)
	}
	enc := NewEncoder(FormatOCSF, EncoderOptions{Version: "0.1.0-test"})
	if enc.Request != nil {
		t.Error("OCSF has no request line here")
	}
	_, alerts := samples()
	for i := range alerts {
		a := &alerts[i]
		line := enc.Alert(nil, a)
		var v map[string]any
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("%v\n%s", err, line)
		}
		s.check(t, a.Detector, "detection_finding", v)
		if v["class_uid"] != float64(2004) || v["category_uid"] != float64(2) || v["type_uid"] != float64(200401) ||
			v["time"] != float64(a.Time.UnixMilli()) || v["is_alert"] != true {
			t.Errorf("%s: classification %v %v %v %v", a.Detector, v["class_uid"], v["category_uid"], v["type_uid"], v["time"])
		}
		if sev := v["severity_id"].(float64); sev != float64(int(a.Severity)+2) {
			t.Errorf("%s: severity_id %v for %v", a.Detector, sev, a.Severity)
		}
		fi := v["finding_info"].(map[string]any)
		if fi["uid"] != AlertID(a) || fi["types"].([]any)[0] != a.Detector {
			t.Errorf("%s: finding_info %v", a.Detector, fi)
		}
		ev := v["evidences"].([]any)[0].(map[string]any)
		if len(ev) < 2 {
			t.Errorf("%s: an evidence needs at least one artifact: %v", a.Detector, ev)
		}
	}
}

// An alert raised again from the same request (a partition read again by
// another process after a rebalance) has the same ID; another occurrence
// has another.
func TestAlertIDIsTheAlertAsRaised(t *testing.T) {
	_, alerts := samples()
	a, b := alerts[0], alerts[0]
	b.Count, b.Incident = 9, "inc-7" // another process's numbering
	if AlertID(&a) != AlertID(&b) {
		t.Error("the same alert from the same request must have the same ID")
	}
	b.Time = b.Time.Add(time.Millisecond)
	if AlertID(&a) == AlertID(&b) {
		t.Error("another occurrence must have another ID")
	}
}
