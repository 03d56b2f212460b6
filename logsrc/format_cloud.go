package logsrc

import (
	"bytes"
	"strings"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// Cloud load balancers' and CDNs' access logs, as their providers document
// them. None logs the Origin header, except Cloudflare with a Logpush
// custom field; none logs a key header, so keys come from the query string
// (and Cloudflare's custom fields).

const (
	nameALB        = "alb"
	nameCloudFront = "cloudfront"
	nameGCP        = "gcp"
	nameCloudflare = "cloudflare"
	nameAzure      = "azure-frontdoor"
)

// newALBParser reads AWS Application Load Balancer access logs
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html):
//
//	type time elb client:port target:port request_processing_time
//	target_processing_time response_processing_time elb_status_code
//	target_status_code received_bytes sent_bytes "request" "user_agent" ...
//
// The request's target is the URL the load balancer built from the Host
// header ("GET https://api.example.com:443/v1?x HTTP/1.1"): its authority
// is the Host (the listener's port dropped when it is the scheme's), its
// path the target. Fields AWS appends after the user agent are read past.
// The target is the backend, not the server the client reached: it is not
// the request's server.
func newALBParser() *Parser {
	f := func(name string, k fieldKind) item {
		return item{field: &field{name: name, display: name, kind: k}}
	}
	lit := func(s string) item { return item{lit: s} }
	p, err := assemble(nameALB, []item{
		f("type", kOpaque), lit(" "), f("time", kTimeISO), lit(" "), f("elb", kOpaque), lit(" "),
		f("client:port", kClientAddrPort), lit(" "), f("target:port", kOpaque), lit(" "),
		f("request_processing_time", kOpaque), lit(" "), f("target_processing_time", kOpaque), lit(" "),
		f("response_processing_time", kOpaque), lit(" "), f("elb_status_code", kStatus), lit(" "),
		f("target_status_code", kOpaque), lit(" "), f("received_bytes", kOpaque), lit(" "),
		f("sent_bytes", kOpaque), lit(` "`), f("request", kRequest), lit(`" "`), f("user_agent", kUserAgent), lit(`"`),
	}, escDefault, true)
	if err != nil {
		panic("logsrc: alb format does not compile: " + err.Error())
	}
	p.absTarget = true
	p.blind &^= detect.BlindHost // the Host is in the request's URL
	return p
}

// newGCPParser reads Google Cloud's external HTTP(S) load balancer request
// logs as Cloud Logging exports them, one LogEntry a line
// (https://cloud.google.com/load-balancing/docs/https/https-logging-monitoring):
// timestamp and httpRequest (requestMethod, requestUrl, status, userAgent,
// remoteIp, which may carry a port, referer, protocol). The Host is the
// authority of requestUrl.
func newGCPParser() *Parser {
	p, err := buildJSON(nameGCP, []jsonLeaf{
		{"timestamp", kTimeAny},
		{"httpRequest.requestMethod", kMethod},
		{"httpRequest.requestUrl", kURL},
		{"httpRequest.status", kStatus},
		{"httpRequest.userAgent", kUserAgent},
		{"httpRequest.remoteIp", kClientAddrPort},
		{"httpRequest.referer", kReferer},
		{"httpRequest.protocol", kProto},
	}, nil, "")
	if err != nil {
		panic("logsrc: gcp format does not compile: " + err.Error())
	}
	p.blind &^= detect.BlindHost
	return p
}

// newCloudflareParser reads Cloudflare Logpush's HTTP requests dataset
// (https://developers.cloudflare.com/logs/reference/log-fields/zone/http_requests/):
// EdgeStartTimestamp (RFC 3339, unix seconds or unix nanoseconds, as the
// job's timestamp_format says), ClientIP, ClientSrcPort, ClientRequestHost,
// ClientRequestMethod, ClientRequestURI, ClientRequestProtocol,
// EdgeResponseStatus, ClientRequestUserAgent, ClientRequestReferer, and
// RequestHeaders, the object of the request headers a Logpush custom field
// adds (origin, a key header): without it a line is blind to Origin.
func newCloudflareParser() *Parser {
	p, err := buildJSON(nameCloudflare, []jsonLeaf{
		{"EdgeStartTimestamp", kTimeAny},
		{"ClientIP", kRemoteAddr},
		{"ClientSrcPort", kClientPort},
		{"ClientRequestHost", kHTTPHost},
		{"ClientRequestMethod", kMethod},
		{"ClientRequestURI", kRequestURI},
		{"ClientRequestProtocol", kProto},
		{"EdgeResponseStatus", kStatus},
		{"ClientRequestUserAgent", kUserAgent},
		{"ClientRequestReferer", kReferer},
	}, []string{"RequestHeaders"}, "")
	if err != nil {
		panic("logsrc: cloudflare format does not compile: " + err.Error())
	}
	p.json.optionalHeaders = true
	return p
}

// newAzureParser reads Azure Front Door access logs (category
// FrontDoorAccessLog, and the classic FrontdoorAccessLog) as diagnostic
// settings archive them, one record a line
// (https://learn.microsoft.com/azure/frontdoor/monitor-front-door#access-log):
// time and properties (clientIp, clientPort, httpMethod, requestUri, the
// full URL, hostName, the Host the client sent, httpStatusCode,
// userAgent, referer).
func newAzureParser() *Parser {
	p, err := buildJSON(nameAzure, []jsonLeaf{
		{"time", kTimeAny},
		{"properties.clientIp", kRemoteAddr},
		{"properties.clientPort", kClientPort},
		{"properties.httpMethod", kMethod},
		{"properties.requestUri", kURL},
		{"properties.hostName", kHTTPHost},
		{"properties.httpStatusCode", kStatus},
		{"properties.userAgent", kUserAgent},
		{"properties.referer", kReferer},
	}, nil, "")
	if err != nil {
		panic("logsrc: azure format does not compile: " + err.Error())
	}
	p.blind &^= detect.BlindHost
	return p
}

// newCloudFrontParser reads W3C extended logs by their #Fields header:
// Amazon CloudFront's standard logs
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html),
// tab-separated, and others of the family (IIS, space-separated). The Host
// the viewer sent is x-host-header; cs(Host) is the distribution's own
// domain name, not a Host. Values are kept as CloudFront encodes them.
func newCloudFrontParser() *Parser {
	p := &Parser{name: nameCloudFront, escape: escNone, sensor: sensorW3C}
	p.tsv = &tsvFormat{w3c: true, sep: '\t', unset: []byte("-")}
	p.blind = detect.BlindHost | detect.BlindOrigin | detect.BlindReferer
	return p
}

// w3cField maps a W3C field name to a request kind or role.
func w3cField(name string) (fieldKind, colRole) {
	switch strings.ToLower(name) {
	case "date":
		return kOpaque, roleDate
	case "time":
		return kOpaque, roleTime
	case "c-ip":
		return kRemoteAddr, roleNone
	case "c-port":
		return kClientPort, roleNone
	case "cs-method":
		return kMethod, roleNone
	case "x-host-header", "cs-host":
		return kHTTPHost, roleNone
	case "cs(host)":
		return kServerName, roleNone // CloudFront: the distribution's domain
	case "cs-uri-stem":
		return kURI, roleNone
	case "cs-uri-query":
		return kArgs, roleNone
	case "sc-status":
		return kStatus, roleNone
	case "cs(referer)", "cs(referrer)":
		return kReferer, roleNone
	case "cs(user-agent)":
		return kUserAgent, roleNone
	case "cs(origin)":
		return kOrigin, roleNone
	case "cs-protocol-version", "cs-version":
		return kProto, roleNone
	}
	return kOpaque, roleNone
}

var errW3CTime = &parseError{reason: "the date and time fields are not a date (2006-01-02) and a time (15:04:05)"}

// parseW3C reads one line of a W3C extended log.
func (p *Parser) parseW3C(line []byte, keys *keys.Extractor, r *detect.Request) (eventKind, error) {
	if line[0] == '#' {
		return kindRequest, p.tsvDirective(line)
	}
	t := p.tsv
	if len(t.cols) == 0 {
		return kindRequest, errZeekNoHeader
	}
	// CloudFront separates values with tabs, IIS with spaces.
	t.sep = '\t'
	if bytes.IndexByte(line, '\t') < 0 {
		t.sep = ' '
	}
	return p.parseZeek(line, keys, r)
}

// w3cRequest builds a request from a W3C line's values.
func (p *Parser) w3cRequest(x *lineVals, z *zeekVals, keys *keys.Extractor, r *detect.Request) error {
	date, clock := z.vals[roleDate], z.vals[roleTime]
	if len(date) > 0 || len(clock) > 0 {
		start := len(p.buf)
		p.buf = append(append(append(append(p.buf, date...), 'T'), clock...), 'Z')
		if _, ok := parseISO(p.buf[start:]); !ok {
			return errW3CTime
		}
		x.vals[kTimeISO], x.seen = p.buf[start:], x.seen|1<<kTimeISO
	}
	r.Blind = p.blind
	return p.build(x, keys, r)
}
