package schema

import (
	"net/netip"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// OCSF Detection Finding: class 2004 of category Findings (2); its
// attributes and objects are checked against the schema's files
// (testdata/ocsf).
const (
	OCSFVersion      = "1.9.0"
	ocsfCategory     = 2
	ocsfClass        = 2004
	ocsfCreate       = 1 // activity_id Create: the finding was first generated
	ocsfStatusNew    = 1
	ocsfSeverityBase = 2 // severity_id: 2 Low, 3 Medium, 4 High, 5 Critical
)

var ocsfSeverityNames = [...]string{"Low", "Medium", "High", "Critical"}

// ocsf writes alerts as OCSF Detection Findings; rebindwatch's own fields
// go under unmapped.rebindwatch, as OCSF wants for what it does not model.
type ocsf struct{ o EncoderOptions }

// ms is an OCSF timestamp: milliseconds since the epoch.
func ms(t time.Time) int64 { return t.UnixMilli() }

func (e ocsf) appendAlert(b []byte, a *detect.Alert) []byte {
	o := obj{b: b}
	o.open("")
	o.num("activity_id", ocsfCreate)
	o.str("activity_name", "Create")
	o.num("category_uid", ocsfCategory)
	o.str("category_name", "Findings")
	o.num("class_uid", ocsfClass)
	o.str("class_name", "Detection Finding")
	o.num("type_uid", ocsfClass*100+ocsfCreate)
	o.str("type_name", "Detection Finding: Create")
	o.num("time", ms(a.Time))
	sev := int(a.Severity)
	if sev < 0 || sev >= len(ocsfSeverityNames) {
		sev = 0
	}
	o.num("severity_id", int64(ocsfSeverityBase+sev))
	o.str("severity", ocsfSeverityNames[sev])
	o.num("status_id", ocsfStatusNew)
	o.str("status", "New")
	o.boolean("is_alert", true)
	o.str("message", a.Message)
	o.num("count", int64(max(a.Count, 1)))
	o.num("start_time", ms(a.Time))
	if !a.LastSeen.IsZero() {
		o.num("end_time", ms(a.LastSeen))
	}

	o.open("metadata")
	o.str("version", OCSFVersion)
	o.open("product")
	o.str("name", "rebindwatch")
	o.str("vendor_name", "rebindwatch")
	o.str("version", e.o.Version)
	o.close()
	o.str("correlation_uid", a.Incident)
	o.close()

	o.open("finding_info")
	o.str("uid", AlertID(a))
	o.str("title", a.Detector+": "+a.Subject)
	o.str("desc", a.Message)
	o.strs("types", a.Detector)
	o.num("first_seen_time", ms(a.Time))
	if !a.LastSeen.IsZero() {
		o.num("last_seen_time", ms(a.LastSeen))
	}
	o.close()

	o.key("evidences")
	o.b = append(o.b, '[')
	switch r := trigger(a); {
	case r != nil:
		e.evidence(&o, r, a)
	case a.Target != "":
		e.evidence(&o, &detect.Request{Host: a.Host, HasHost: a.Host != "", Target: a.Target, Status: a.Status}, a)
	default:
		// No request behind it (a DNS answer, a TLS server name): the
		// name is the evidence.
		o.open("")
		o.str("name", a.Detector)
		o.open("dst_endpoint")
		o.str("hostname", a.Subject)
		o.close()
		o.close()
	}
	o.b = append(o.b, ']')

	o.open("unmapped")
	o.open("rebindwatch")
	ourAlert(&o, a)
	o.close()
	o.close()
	o.close()
	return o.b
}

// url writes a request's target as an OCSF url.
func (e ocsf) url(o *obj, r *detect.Request) {
	o.open("url")
	// OCSF keeps a path out of url_string: an origin-form target is a
	// path and a query string; an absolute-form one is a URL.
	if strings.Contains(r.Target, "://") {
		o.str("url_string", r.Target)
	} else {
		path, query, _ := strings.Cut(r.Target, "?")
		o.str("path", path)
		o.str("query_string", query)
	}
	if name := hostName(r); name != "" {
		o.str("hostname", name)
	}
	o.close()
}

// evidence writes the request that raised an alert as one evidence
// artifact: the HTTP request and response, and its two endpoints.
func (e ocsf) evidence(o *obj, r *detect.Request, a *detect.Alert) {
	o.open("")
	o.str("name", "http_request")
	o.open("http_request")
	o.str("http_method", r.Method)
	if r.Target != "" {
		e.url(o, r)
	}
	o.str("user_agent", r.UserAgent)
	o.str("referrer", r.Referer)
	o.str("version", r.Proto)
	o.close()
	if status := max(r.Status, a.Status); status != 0 {
		o.open("http_response")
		o.num("code", int64(status))
		o.close()
	}
	client := r.Client.Addr()
	if !client.IsValid() {
		client, _ = netip.ParseAddr(a.Client)
	}
	if client.IsValid() {
		o.endpoint("src_endpoint", client, r.Client.Port())
		o.close()
	}
	name := hostName(r)
	if r.Server.IsValid() || name != "" {
		o.endpoint("dst_endpoint", r.Server.Addr(), r.Server.Port())
		o.str("hostname", name)
		o.close()
	}
	o.close()
}
