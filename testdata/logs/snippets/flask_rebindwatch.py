# rebindwatch: an access log for a Flask app that shows the Host and Origin
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
