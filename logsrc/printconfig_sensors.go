package logsrc

// The --print-log-config texts for other sensors and the cloud: what to
// turn on so that the log shows what rebindwatch needs, or, where nothing
// can be turned on, what the log cannot show. None of them was run against
// the real product here (Zeek and Suricata are not Debian packages on this
// machine; the clouds are the providers'): they follow the products'
// documentation, which the README cites.

// sensorSnippets are keyed by the names --print-log-config accepts.
var sensorSnippets = map[string]string{
	"zeek":            zeekSnippet,
	"suricata":        suricataSnippet,
	"alb":             albSnippet,
	"cloudfront":      cloudFrontSnippet,
	"gcp":             gcpSnippet,
	"cloudflare":      cloudflareSnippet,
	"azure-frontdoor": azureSnippet,
}

const zeekSnippet = `# rebindwatch: Zeek's http.log already has the Host (host) and the Origin
# (origin) as sent, and the key when it is in the query (uri); dns.log and
# ssl.log give the DNS answers and the TLS server names. This script adds
# api_key_suffix, the last 8 characters of the key a request carried in
# X-API-Key or Authorization: Bearer (never the whole key; keys of 8
# characters or fewer are not logged). Save it as rebindwatch.zeek and load
# it (zeek -i eth0 rebindwatch.zeek, or @load it from local.zeek).

redef record HTTP::Info += {
	api_key_suffix: string &log &optional;
};

event http_header(c: connection, is_orig: bool, original_name: string, name: string, value: string)
	{
	if ( ! is_orig || ! c?$http || |value| <= 8 )
		return;
	if ( name == "X-API-KEY" )
		c$http$api_key_suffix = sub_bytes(value, |value| - 7, 8);
	else if ( name == "AUTHORIZATION" && /^[Bb][Ee][Aa][Rr][Ee][Rr] +[^ ]{9,}$/ in value && ! c$http?$api_key_suffix )
		c$http$api_key_suffix = sub_bytes(value, |value| - 7, 8);
	}

# Then read the log directory as one source:
#     rebindwatch zeek:/opt/zeek/logs/current/
# (JSON logs, redef LogAscii::use_json = T, are read the same way.)
`

const suricataSnippet = `# rebindwatch: Suricata's EVE log with what rebindwatch reads. In
# suricata.yaml, under outputs: - eve-log: types:
#
#   - http:
#       extended: yes        # the method, the status and the Referer
#       custom: [origin]     # the Origin header, as sent
#   - dns                    # the answers (dns_private_answer, dns_rebind)
#   - tls                    # the ClientHellos' server names (unexpected_sni)
#
# Keys are read from the URL's query. Suricata cannot log a part of a
# header: "custom: [authorization]" or "dump-all-headers: request" would put
# whole keys in eve.json; rebindwatch reads them (as fingerprints only), but
# weigh that before turning them on.
#
# Then follow it:  rebindwatch /var/log/suricata/eve.json
`

const albSnippet = `# rebindwatch: AWS Application Load Balancer access logs have a fixed
# format; nothing can be added to them. They show the Host (in the
# request's URL, which the load balancer builds from the Host header) and
# the key when it is in the query string. They cannot show the Origin or a
# key header: foreign_origin and key detection from headers are off for
# them. Enable access logs on the load balancer (attribute
# access_logs.s3.enabled), then read the delivered files, gzip as they are:
#     rebindwatch --no-follow 'logs/AWSLogs/*/elasticloadbalancing/*/*/*/*/*.log.gz'
`

const cloudFrontSnippet = `# rebindwatch: CloudFront standard logs (W3C, tab-separated) show the Host
# the viewer sent (x-host-header; cs(Host) is the distribution's own name)
# and the key when it is in the query (cs-uri-query). Keep those two fields
# if you choose the fields (standard logging v2). They cannot show the
# Origin or a key header. Read the delivered files, gzip as they are:
#     rebindwatch --no-follow 'cf-logs/*.gz'
`

const gcpSnippet = `# rebindwatch: Google Cloud external Application Load Balancer request
# logs show the Host (the authority of httpRequest.requestUrl) and the key
# when it is in the query. Logging cannot add request headers: the Origin
# and key headers are not visible. Enable logging on the backend service
# (gcloud compute backend-services update NAME --enable-logging
# --logging-sample-rate=1.0), export the requests log (a sink to Cloud
# Storage writes one JSON entry a line), and read it:
#     rebindwatch --no-follow requests/*.json
`

const cloudflareSnippet = `# rebindwatch: a Cloudflare Logpush job of the http_requests dataset with
# these fields shows everything but key headers:
#     EdgeStartTimestamp, ClientIP, ClientSrcPort, ClientRequestHost,
#     ClientRequestMethod, ClientRequestURI, ClientRequestProtocol,
#     ClientRequestUserAgent, ClientRequestReferer, EdgeResponseStatus
# plus the Origin through a Logpush custom field (Rules > Custom fields:
# request header "origin"), which adds RequestHeaders to each line. Any
# timestamp_format works (rfc3339, unix, unixnano). A custom field logs a
# header whole: adding x-api-key puts whole keys in the logs; rebindwatch
# reads them (as fingerprints only), but weigh that first. Then:
#     rebindwatch --no-follow 'logpush/*.log.gz'
`

const azureSnippet = `# rebindwatch: Azure Front Door access logs (diagnostic setting, category
# FrontDoorAccessLog, archived to a storage account: one JSON record a
# line) show the Host (hostName, or the authority of requestUri) and the
# key when it is in the query. They cannot log request headers: the Origin
# and key headers are not visible. Then:
#     rebindwatch --no-follow 'insights-logs-frontdooraccesslog/**/PT1H.json'
`
