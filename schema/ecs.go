package schema

import (
	"net/netip"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// ECSVersion is the Elastic Common Schema version the ECS lines follow:
// their fields are checked against its published field list
// (testdata/ecs).
const ECSVersion = "8.12.0"

// ecs writes request and alert lines in the Elastic Common Schema: the
// standard fields where ECS has one, rebindwatch's own under rebindwatch.*
// (ECS leaves custom fields to the producer's own namespace).
type ecs struct{ o EncoderOptions }

// appendRequest writes a request as an ECS event: event.kind event,
// categories network and web, type access.
func (e ecs) appendRequest(b []byte, r *detect.Request) []byte {
	o := obj{b: b}
	head(&o, r.Time, "event", "access", "rebindwatch.request")
	o.close()
	e.traffic(&o, r, r.Client.Addr(), r.Client.Port(), "")
	o.open("rebindwatch")
	e.ours(&o, r)
	o.close()
	o.close()
	return o.b
}

// head opens an ECS line: @timestamp, ecs.version, and the event object
// (kind, categories network and web, type, module, dataset), left open for
// more of its fields.
func head(o *obj, t time.Time, kind, typ, dataset string) {
	o.open("")
	o.key("@timestamp")
	o.b = appendTime(o.b, t)
	o.open("ecs")
	o.str("version", ECSVersion)
	o.close()
	o.open("event")
	o.str("kind", kind)
	o.strs("category", "network", "web")
	o.strs("type", typ)
	o.str("module", "rebindwatch")
	o.str("dataset", dataset)
}

// traffic writes the request's network, URL, HTTP and host fields; the
// client is given apart (an alert names it as text: address, when it is
// not an IP).
func (e ecs) traffic(o *obj, r *detect.Request, client netip.Addr, port uint16, address string) {
	if client.IsValid() {
		o.endpoint("source", client, port)
		o.str("address", client.Unmap().String())
		o.close()
	} else if address != "" {
		o.open("source")
		o.str("address", address)
		o.close()
	}
	name := hostName(r)
	if r.Server.IsValid() || name != "" {
		o.endpoint("destination", r.Server.Addr(), r.Server.Port())
		if r.Server.IsValid() {
			o.str("address", r.Server.Addr().Unmap().String())
		}
		o.str("domain", name)
		o.close()
	}
	if r.Target != "" || name != "" {
		o.open("url")
		o.str("original", r.Target)
		o.str("domain", name)
		o.close()
	}
	if r.Method != "" || r.Referer != "" || r.Status != 0 || r.Proto != "" {
		o.open("http")
		if r.Method != "" || r.Referer != "" {
			o.open("request")
			o.str("method", r.Method)
			o.str("referrer", r.Referer)
			o.close()
		}
		if r.Status != 0 {
			o.open("response")
			o.num("status_code", int64(r.Status))
			o.close()
		}
		o.str("version", httpVersion(r.Proto))
		o.close()
	}
	if r.UserAgent != "" {
		o.open("user_agent")
		o.str("original", r.UserAgent)
		o.close()
	}
	if node := e.node(r); node != "" {
		o.open("host")
		o.str("name", node)
		o.close()
	}
}

// node is the producing host of a request.
func (e ecs) node(r *detect.Request) string {
	if e.o.SourceIsHost && r != nil {
		return r.Source
	}
	return e.o.Node
}

// ours writes a request's fields that ECS has no place for.
func (e ecs) ours(o *obj, r *detect.Request) {
	o.str("source", r.Source)
	o.str("host", r.Host)
	o.str("origin", r.Origin)
	o.str("key", r.Key)
}

// severities are ECS event.severity values for rebindwatch's severities:
// low 1 to critical 4.
func ecsSeverity(s detect.Severity) int64 { return int64(s) + 1 }

// appendAlert writes an alert as an ECS alert: event.kind alert, the
// detector as rule.name, the request that raised it as source,
// destination, url, http and user_agent.
func (e ecs) appendAlert(b []byte, a *detect.Alert) []byte {
	o := obj{b: b}
	head(&o, a.Time, "alert", "info", "rebindwatch.alert")
	o.str("id", AlertID(a))
	o.num("severity", ecsSeverity(a.Severity))
	o.time("start", a.Time)
	o.time("end", a.LastSeen)
	o.close()
	o.str("message", a.Message)
	o.open("rule")
	o.str("id", a.Detector)
	o.str("name", a.Detector)
	o.str("ruleset", "rebindwatch")
	o.close()
	r := trigger(a)
	client, _ := netip.ParseAddr(a.Client)
	if r == nil {
		r = &detect.Request{Host: a.Host, HasHost: a.Host != "", Target: a.Target, Origin: a.Origin, Status: a.Status}
	}
	alertReq := *r
	alertReq.Status = max(alertReq.Status, a.Status)
	e.traffic(&o, &alertReq, client, r.Client.Port(), a.Client)
	o.open("rebindwatch")
	ourAlert(&o, a)
	o.close()
	o.close()
	return o.b
}
