package logsrc

import (
	"fmt"
	"strings"
)

// PrintLogConfig returns a ready-to-paste snippet that makes server's access
// log show what rebindwatch needs: the client address, the time with its
// zone, the request, the status, the Host and the Origin as sent, and the
// API key's last 8 characters (never the whole key; keys of 8 characters or
// fewer are not logged). Every snippet writes the same line shape, which
// auto-detection recognises ("format: rebindwatch (auto)"), so no
// --log-format is needed. server is nginx, apache (apache2, httpd),
// gunicorn, or flask (werkzeug). Each snippet was run against the real
// server (testdata/logs/record_logs.sh).
//
// Keys sent in the query string are in the request line, as in any access
// log; the snippets do not add them anywhere else.
func PrintLogConfig(server string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(server)) {
	case "nginx":
		return nginxSnippet, nil
	case "apache", "apache2", "httpd":
		return apacheSnippet, nil
	case "gunicorn":
		return gunicornSnippet, nil
	case "flask", "werkzeug":
		return flaskSnippet, nil
	case "aws-alb", "elb":
		return albSnippet, nil
	case "azure", "frontdoor":
		return azureSnippet, nil
	}
	if s, ok := sensorSnippets[strings.ToLower(strings.TrimSpace(server))]; ok {
		return s, nil
	}
	return "", fmt.Errorf("no log configuration for %q; want nginx, apache, gunicorn or flask, "+
		"or zeek, suricata, alb, cloudfront, gcp, cloudflare or azure-frontdoor", short(server))
}

const nginxSnippet = `# rebindwatch: an nginx access log that shows the Host and Origin as sent
# and which key each request used. Paste into the http { } block.
#
# $api_key_suffix is the key's last 8 characters, never the whole key (keys
# of 8 characters or fewer are not logged), taken in rebindwatch's default
# order: X-API-Key, then Authorization: Bearer, then ?api_key=. Each map
# falls back to the next through its default.
map $arg_api_key $rw_key_from_arg {
    default "";
    "~.(.{8})$" $1;
}
map $http_authorization $rw_key_from_bearer {
    default $rw_key_from_arg;
    "~*^bearer\s+\S+(\S{8})\s*$" $1;
}
map $http_x_api_key $api_key_suffix {
    default $rw_key_from_bearer;
    "~.(.{8})$" $1;
}
log_format rebindwatch '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                       '"$http_referer" "$http_user_agent" host="$http_host" origin="$http_origin" key="$api_key_suffix"';

# Then, in the server { } block of the API:
#     access_log /var/log/nginx/api.access.log rebindwatch;
# and follow it:  rebindwatch /var/log/nginx/api.access.log
`

const apacheSnippet = `# rebindwatch: an Apache httpd 2.4 access log that shows the Host and Origin
# as sent and which key each request used. Paste into the server config or
# the API's <VirtualHost>. Needs mod_setenvif (enabled by default).
#
# API_KEY_SUFFIX is the key's last 8 characters, never the whole key (keys
# of 8 characters or fewer are not logged). A later match wins, so the lines
# go from the lowest priority (?api_key=) to the highest (X-API-Key), as in
# rebindwatch's default order.
SetEnvIfExpr "%{QUERY_STRING} =~ /(?:^|&)api_key=[^&]+?([^&]{8})(?:&|$)/" API_KEY_SUFFIX=$1
SetEnvIfNoCase Authorization "^bearer\s+\S+(\S{8})\s*$" API_KEY_SUFFIX=$1
SetEnvIf X-API-Key ".(.{8})$" API_KEY_SUFFIX=$1
LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" host=\"%{Host}i\" origin=\"%{Origin}i\" key=\"%{API_KEY_SUFFIX}e\"" rebindwatch
CustomLog ${APACHE_LOG_DIR}/api_access.log rebindwatch

# Follow it:  rebindwatch /var/log/apache2/api_access.log
`

const gunicornSnippet = `# rebindwatch: a gunicorn access log that shows the Host and Origin as sent
# and which key each request used. Put this in gunicorn.conf.py (or pass it
# with -c). gunicorn's access_log_format cannot compute a key suffix, so a
# small logger class adds the atom {api_key_suffix}e: the key's last 8
# characters, never the whole key (keys of 8 characters or fewer are not
# logged), taken in rebindwatch's default order: X-API-Key, then
# Authorization: Bearer, then ?api_key=.
from gunicorn.glogging import Logger


def _rw_suffix(value):
    value = (value or "").strip()
    return value[-8:] if len(value) > 8 else ""


def _rw_query_key(query):
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name == "api_key":
            return value
    return ""


class RebindwatchLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        key = _rw_suffix(environ.get("HTTP_X_API_KEY"))
        if not key:
            scheme, _, cred = environ.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
            if scheme.lower() == "bearer":
                key = _rw_suffix(cred)
        if not key:
            key = _rw_suffix(_rw_query_key(environ.get("QUERY_STRING", "")))
        atoms["{api_key_suffix}e"] = key or "-"
        return atoms


logger_class = RebindwatchLogger
accesslog = "/var/log/gunicorn/api.access.log"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" host="%({host}i)s" origin="%({origin}i)s" key="%({api_key_suffix}e)s"'

# Follow it:  rebindwatch /var/log/gunicorn/api.access.log
`

const flaskSnippet = `# rebindwatch: an access log for a Flask app that shows the Host and Origin
# as sent and which key each request used. werkzeug's own request lines have
# neither, nor a time zone; this WSGI middleware writes one more line per
# request, in the shape rebindwatch reads without flags. It works under the
# development server and any WSGI server. The key is logged as its last 8
# characters, never whole (keys of 8 characters or fewer are not logged),
# in rebindwatch's default order: X-API-Key, Authorization: Bearer, ?api_key=.
#
#     app.wsgi_app = RebindwatchLog(app.wsgi_app, "/var/log/api/access.log")
import threading
import time


def _rw_esc(value):
    # WSGI gives header bytes as latin-1 text: log the UTF-8 they were.
    value = value.encode("latin-1", "replace").decode("utf-8", "backslashreplace")
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out) or "-"


def _rw_suffix(value):
    value = (value or "").strip()
    return value[-8:] if len(value) > 8 else ""


def _rw_key(environ):
    key = _rw_suffix(environ.get("HTTP_X_API_KEY"))
    if not key:
        scheme, _, cred = environ.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
        if scheme.lower() == "bearer":
            key = _rw_suffix(cred)
    if not key:
        for pair in environ.get("QUERY_STRING", "").split("&"):
            name, _, value = pair.partition("=")
            if name == "api_key":
                key = _rw_suffix(value)
                break
    return key


_RW_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class RebindwatchLog:
    def __init__(self, app, path):
        self.app = app
        self.lock = threading.Lock()
        self.out = open(path, "a", buffering=1, encoding="utf-8", errors="backslashreplace")

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            self.log(environ, status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        return self.app(environ, start)

    def log(self, environ, status):
        now = time.localtime()
        off = now.tm_gmtoff // 60
        when = "%02d/%s/%04d:%02d:%02d:%02d %s%02d%02d" % (
            now.tm_mday, _RW_MONTHS[now.tm_mon - 1], now.tm_year, now.tm_hour, now.tm_min, now.tm_sec,
            "-" if off < 0 else "+", abs(off) // 60, abs(off) % 60)
        target = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        if not target:
            target = environ.get("PATH_INFO", "") + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
        request = "%s %s %s" % (environ.get("REQUEST_METHOD", "-"), target, environ.get("SERVER_PROTOCOL", "-"))
        line = '%s - - [%s] "%s" %s - "%s" "%s" host="%s" origin="%s" key="%s"\n' % (
            environ.get("REMOTE_ADDR", "-"), when, _rw_esc(request), status,
            _rw_esc(environ.get("HTTP_REFERER", "")), _rw_esc(environ.get("HTTP_USER_AGENT", "")),
            _rw_esc(environ.get("HTTP_HOST", "")), _rw_esc(environ.get("HTTP_ORIGIN", "")), _rw_esc(_rw_key(environ)))
        with self.lock:
            self.out.write(line)

# Follow it:  rebindwatch /var/log/api/access.log
`
