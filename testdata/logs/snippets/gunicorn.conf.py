# rebindwatch: a gunicorn access log that shows the Host and Origin as sent
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
