#!/usr/bin/python3
"""Drives the recorded traffic against nginx on 127.0.0.1:8080.

    /usr/bin/python3 client.py normal|scenarios|short|demo MANIFEST

Requests are made by real clients: curl (one process per request, bound to a
127.0.0.N source address with --interface) and Python's http.client
(keep-alive connections bound with source_address), plus raw sockets for what
those two will not do (two pipelined requests in one write, a request with no
Host header at all).

MANIFEST receives one JSON object a line: {"phase": ...} marks and one line
per request sent (client, method, Host as sent or null, target, Origin,
Referer, the key's ROLE name, never the key). check.py compares it with what
tshark finds in the capture.

testdata/record.sh runs this; it is not meant to be run against anything but
the throw-away nginx + Flask that script starts.
"""

import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testkeys  # noqa: E402

SERVER_IP = "127.0.0.1"
PORT = 8080
APP_ORIGIN = "https://app.rebind.test"
UA_PY = "Python-http.client/%d.%d" % sys.version_info[:2]
UA_RAW = "rebind-recorder-raw/1"
TIMEOUT = 10  # seconds; every network call is bounded


class Manifest:
    """Thread-safe JSON-lines writer of what was sent."""

    def __init__(self, path):
        self._f = open(path, "w", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, obj):
        obj = {"t": round(time.time(), 6), **obj}
        with self._lock:
            self._f.write(json.dumps(obj, sort_keys=True) + "\n")
            self._f.flush()

    def phase(self, name):
        self.write({"phase": name})

    def close(self):
        self._f.close()


def with_query_key(path, key):
    return path + ("&" if "?" in path else "?") + "api_key=" + key


def key_headers(key_role, key_in):
    """Headers carrying the key, and whether it goes in the query instead."""
    if key_role is None:
        return [], False
    key = testkeys.ALL[key_role]
    if key_in == "x-api-key":
        return [("X-API-Key", key)], False
    if key_in == "bearer":
        return [("Authorization", "Bearer " + key)], False
    if key_in == "query":
        return [], True
    raise ValueError("key_in " + key_in)


def curl(m, phase, src, path, *, method="GET", host=None, resolve=None,
         key=None, key_in="x-api-key", origin=None, referer=None,
         json_body=None, chunked=False):
    """One request with curl from source address src.

    resolve=NAME makes curl connect to http://NAME:8080/ with --resolve, so it
    sends "Host: NAME:8080" as a browser on a rebound name would. host=H
    overrides the Host header instead (curl -H "Host: H").
    """
    url_host = resolve or SERVER_IP
    hdrs, in_query = key_headers(key, key_in)
    target = with_query_key(path, testkeys.ALL[key]) if in_query else path
    args = ["curl", "-sS", "--noproxy", "*", "--max-time", str(TIMEOUT),
            "--interface", src, "-o", "/dev/null", "-w", "%{http_code}"]
    if resolve:
        args += ["--resolve", "%s:%d:%s" % (resolve, PORT, SERVER_IP)]
    sent_host = "%s:%d" % (url_host, PORT)
    if host is not None:
        args += ["-H", "Host: " + host]
        sent_host = host
    for k, v in hdrs:
        args += ["-H", "%s: %s" % (k, v)]
    if origin is not None:
        args += ["-H", "Origin: " + origin]
    if referer is not None:
        args += ["-H", "Referer: " + referer]
    if method == "HEAD":
        args += ["-I"]
    elif method != "GET":
        args += ["-X", method]
    if json_body is not None:
        args += ["-H", "Content-Type: application/json",
                 "--data-binary", json.dumps(json_body)]
        if chunked:
            # curl then sends Transfer-Encoding: chunked and, for a chunked
            # upload, "Expect: 100-continue": nginx answers 100 first.
            args += ["-H", "Transfer-Encoding: chunked"]
    args.append("http://%s:%d%s" % (url_host, PORT, target))
    out = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT + 5)
    status = int(out.stdout.strip() or 0)
    m.write({"phase": phase, "via": "curl", "client": src, "method": method,
             "host": sent_host, "target": redact(target), "origin": origin,
             "referer": referer, "key": key, "key_in": key_in if key else None,
             "status": status})
    return status


def redact(target):
    """The manifest names key roles, never keys."""
    for role, key in testkeys.ALL.items():
        target = target.replace(key, "{" + role + "}")
    return target


class Session:
    """A keep-alive http.client connection from one source address."""

    def __init__(self, m, phase, src, host, key=None, key_in="x-api-key"):
        self.m, self.phase, self.src, self.host = m, phase, src, host
        self.key, self.key_in = key, key_in
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(
            SERVER_IP, PORT, timeout=TIMEOUT, source_address=(self.src, 0))

    def req(self, method, path, *, origin=None, referer=None, json_body=None,
            chunked=False):
        hdrs, in_query = key_headers(self.key, self.key_in)
        target = with_query_key(path, testkeys.ALL[self.key]) if in_query else path
        headers = {"Host": self.host, "User-Agent": UA_PY, "Accept": "application/json"}
        headers.update(hdrs)
        if origin is not None:
            headers["Origin"] = origin
        if referer is not None:
            headers["Referer"] = referer
        body = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body).encode()
            if chunked:
                # An iterable body with encode_chunked: http.client sends
                # Transfer-Encoding: chunked, one chunk per item.
                body = iter([data[: len(data) // 2], data[len(data) // 2:]])
                headers["Transfer-Encoding"] = "chunked"
            else:
                body = data  # http.client adds Content-Length
        for attempt in (1, 2):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, target, body=body, headers=headers,
                                  encode_chunked=chunked)
                r = self.conn.getresponse()
                r.read()
                status = r.status
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # nginx closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                self.conn = None
                if attempt == 2 or chunked:
                    raise
        self.m.write({"phase": self.phase, "via": "python", "client": self.src,
                      "method": method, "host": self.host, "target": redact(target),
                      "origin": origin, "referer": referer, "key": self.key,
                      "key_in": self.key_in if self.key else None, "status": status})
        return status

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def raw(m, phase, src, reqs):
    """Send reqs pipelined in ONE write on one connection, read to EOF.

    Each req is a dict: method, target, version ("HTTP/1.1"), host (None for
    no Host header at all), headers (list of pairs), key role, key_in. The
    last request carries Connection: close so the server ends the exchange.
    """
    data = b""
    for i, r in enumerate(reqs):
        hdrs, in_query = key_headers(r.get("key"), r.get("key_in", "x-api-key"))
        target = r["target"]
        if in_query:
            target = with_query_key(target, testkeys.ALL[r["key"]])
        r["_target"] = target
        lines = ["%s %s %s" % (r["method"], target, r["version"])]
        if r.get("host") is not None:
            lines.append("Host: " + r["host"])
        lines.append("User-Agent: " + UA_RAW)
        lines += ["%s: %s" % kv for kv in hdrs + r.get("headers", [])]
        if i == len(reqs) - 1 and r["version"] == "HTTP/1.1":
            lines.append("Connection: close")
        data += ("\r\n".join(lines) + "\r\n\r\n").encode()
    s = socket.create_connection((SERVER_IP, PORT), timeout=TIMEOUT, source_address=(src, 0))
    try:
        s.sendall(data)
        resp = b""
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            resp += chunk
    finally:
        s.close()
    statuses = [int(x) for x in re.findall(rb"(?:^|\n)HTTP/1\.[01] (\d{3}) ", resp)]
    for i, r in enumerate(reqs):
        hdrs = dict(r.get("headers", []))
        m.write({"phase": phase, "via": "raw", "client": src, "method": r["method"],
                 "host": r.get("host"), "target": redact(r["_target"]),
                 "version": r["version"], "origin": hdrs.get("Origin"),
                 "referer": hdrs.get("Referer"), "key": r.get("key"),
                 "key_in": r.get("key_in", "x-api-key") if r.get("key") else None,
                 "status": statuses[i] if i < len(statuses) else None})
    return statuses


# ---------------------------------------------------------------- normal ---

def run_normal(m):
    """Ordinary API use: no request here may raise an alert."""
    m.phase("normal")
    dash = APP_ORIGIN + "/dashboard"
    # normal_1: a browser-backed app on 127.0.0.2 through keep-alive; X-API-Key.
    s1 = Session(m, "normal", "127.0.0.2", "api.rebind.test", key="normal_1")
    s1.req("GET", "/v1/items", origin=APP_ORIGIN, referer=dash)
    s1.req("GET", "/v1/items/1", referer=dash)
    s1.req("POST", "/v1/items", origin=APP_ORIGIN, referer=dash, json_body={"name": "hammer"})
    s1.req("GET", "/v1/admin/users", origin=APP_ORIGIN, referer=dash)
    # normal_2: curl with a Bearer token from two addresses, Host with and
    # without the port (2 Host values), one chunked POST.
    curl(m, "normal", "127.0.0.3", "/v1/items", host="api.rebind.test", key="normal_2", key_in="bearer")
    curl(m, "normal", "127.0.0.3", "/v1/items/2", resolve="api.rebind.test", key="normal_2", key_in="bearer")
    curl(m, "normal", "127.0.0.4", "/v1/items", method="POST", resolve="api.rebind.test", key="normal_2",
         key_in="bearer", json_body={"name": "chisel", "note": "sent chunked by curl"}, chunked=True)
    curl(m, "normal", "127.0.0.4", "/v1/items/3", host="api.rebind.test", key="normal_2", key_in="bearer")
    # normal_3: key in the query string (curl), one client.
    curl(m, "normal", "127.0.0.5", "/v1/items", host="api.rebind.test", key="normal_3", key_in="query")
    curl(m, "normal", "127.0.0.5", "/v1/items/1?fields=name", host="api.rebind.test", key="normal_3",
         key_in="query", origin=APP_ORIGIN)
    time.sleep(0.5)
    # normal_4: two pipelined requests in one write, then a chunked POST from
    # http.client on a keep-alive connection.
    raw(m, "normal", "127.0.0.6", [
        {"method": "GET", "target": "/v1/items/1", "version": "HTTP/1.1", "host": "api.rebind.test",
         "key": "normal_4"},
        {"method": "GET", "target": "/v1/items/2", "version": "HTTP/1.1", "host": "api.rebind.test",
         "key": "normal_4", "headers": [("Origin", APP_ORIGIN)]},
    ])
    s4 = Session(m, "normal", "127.0.0.6", "api.rebind.test", key="normal_4")
    s4.req("POST", "/v1/items", json_body={"name": "file", "note": "chunked by http.client"}, chunked=True)
    s4.req("GET", "/v1/items", origin=APP_ORIGIN)
    s4.close()
    # 401s: a well-formed key the app does not know, and no key at all.
    curl(m, "normal", "127.0.0.7", "/v1/items", host="api.rebind.test", key="bad_1")
    curl(m, "normal", "127.0.0.7", "/v1/admin/users", host="api.rebind.test", key="bad_1")
    s1.key = None
    s1.req("GET", "/v1/items", origin=APP_ORIGIN, referer=dash)
    s1.key = "normal_1"
    # Key-less health checks, a HEAD, and a CORS preflight from the app.
    curl(m, "normal", "127.0.0.8", "/health", host="api.rebind.test")
    curl(m, "normal", "127.0.0.8", "/health", method="HEAD", resolve="api.rebind.test")
    curl(m, "normal", "127.0.0.2", "/v1/items", method="OPTIONS", host="api.rebind.test", origin=APP_ORIGIN,
         referer=dash)
    time.sleep(0.5)
    s1.req("GET", "/v1/items/3", origin=APP_ORIGIN, referer=dash)
    s1.req("GET", "/v1/items", origin=APP_ORIGIN, referer=dash)
    s1.close()
    m.phase("end")


# ------------------------------------------------------------- scenarios ---

def run_scenarios(m):
    """One scenario per detector, each with its own key and client address."""
    # a. unexpected_host
    m.phase("unexpected_host")
    src = "127.0.0.10"
    curl(m, "unexpected_host", src, "/v1/admin/users", resolve="evil.rebind.test", key="host")
    curl(m, "unexpected_host", src, "/v1/items", host="EVIL.Rebind.Test.:8080", key="host")
    curl(m, "unexpected_host", src, "/v1/items", host="localhost")
    curl(m, "unexpected_host", src, "/v1/items/1", key="bad_2")  # Host: 127.0.0.1:8080, 401
    raw(m, "unexpected_host", src, [
        {"method": "GET", "target": "/v1/items", "version": "HTTP/1.1", "host": None}])
    # Negatives: HTTP/1.0 may omit Host; allowed names with a trailing dot,
    # with a port, and under the wildcard.
    raw(m, "unexpected_host", src, [
        {"method": "GET", "target": "/health", "version": "HTTP/1.0", "host": None}])
    curl(m, "unexpected_host", src, "/health", host="api.rebind.test.")
    curl(m, "unexpected_host", src, "/health", resolve="eu.api.rebind.test")
    time.sleep(1)

    # b. foreign_origin (Host is allowed throughout)
    m.phase("foreign_origin")
    src = "127.0.0.11"
    kw = {"host": "api.rebind.test", "key": "origin"}
    curl(m, "foreign_origin", src, "/v1/items", method="POST", origin="http://evil.rebind.test",
         json_body={"name": "exfil"}, **kw)
    curl(m, "foreign_origin", src, "/v1/items", origin="null", **kw)
    curl(m, "foreign_origin", src, "/v1/items/2", referer="http://evil.rebind.test/page", **kw)
    curl(m, "foreign_origin", src, "/v1/items/3", referer="http://evil.rebind.test:8080/steal?x=1", **kw)
    # Negatives: the app's own origin (also with its default port spelled
    # out and in upper case), and a foreign Referer that must be ignored
    # because an allowed Origin is present.
    curl(m, "foreign_origin", src, "/v1/items", origin=APP_ORIGIN, referer=APP_ORIGIN + "/settings", **kw)
    curl(m, "foreign_origin", src, "/v1/items/1", origin="https://APP.rebind.test:443", **kw)
    time.sleep(1)

    # c. key_burst: 150 requests on one keep-alive connection in ~3 s.
    m.phase("key_burst")
    burst(m, "key_burst", "127.0.0.12", n=150, seconds=3.0)
    time.sleep(1)

    # d1. key_spread by host: one key under 4 allowed names.
    m.phase("key_spread_host")
    spread_host(m, "key_spread_host", "127.0.0.13")
    time.sleep(1)

    # d2. key_spread by client: one key (in the query) from 25 addresses.
    m.phase("key_spread_client")
    spread_client(m, "key_spread_client", first=20, n=25, pause=0.02)
    m.phase("end")


def burst(m, phase, src, n, seconds):
    s = Session(m, phase, src, "api.rebind.test", key="burst", key_in="bearer")
    t0 = time.time()
    for i in range(n):
        due = t0 + seconds * i / n
        time.sleep(max(0.0, due - time.time()))
        s.req("GET", "/v1/items" if i % 2 == 0 else "/v1/items/%d" % (1 + i % 3))
    s.close()


def spread_host(m, phase, src):
    for name in ("api.rebind.test", "eu.api.rebind.test", "us.api.rebind.test", "ap.api.rebind.test"):
        curl(m, phase, src, "/v1/items", resolve=name, key="spread_host")
        curl(m, phase, src, "/v1/items/1", resolve=name, key="spread_host")


def spread_client(m, phase, first, n, pause):
    for i in range(n):
        curl(m, phase, "127.0.0.%d" % (first + i), "/v1/items", host="api.rebind.test",
             key="spread_client", key_in="query")
        time.sleep(pause)


# ----------------------------------------------------------------- short ---

def run_short(m):
    """A few requests for the link-type variants (any/SLL, SLL2, nanosecond)."""
    m.phase("short")
    src = "127.0.0.30"
    s = Session(m, "short", src, "api.rebind.test", key="short")
    s.req("GET", "/v1/items", origin=APP_ORIGIN)
    s.req("POST", "/v1/items", origin=APP_ORIGIN, json_body={"name": "saw"})
    s.req("GET", "/v1/items/2")
    s.close()
    curl(m, "short", src, "/v1/admin/users", resolve="evil.rebind.test", key="short")
    curl(m, "short", src, "/v1/items", host="api.rebind.test", key="short", origin="http://evil.rebind.test")
    raw(m, "short", src, [
        {"method": "GET", "target": "/v1/items/1", "version": "HTTP/1.1", "host": "api.rebind.test",
         "key": "short"},
        {"method": "GET", "target": "/health", "version": "HTTP/1.1", "host": "api.rebind.test"},
    ])
    m.phase("end")


# ------------------------------------------------------------------ demo ---

# Background keys of the demo: role, client address(es), Host, where the key goes.
DEMO_BG = [
    ("normal_1", ["127.0.0.2"], "api.rebind.test", "x-api-key"),
    ("normal_2", ["127.0.0.3", "127.0.0.4"], "api.rebind.test:8080", "bearer"),
    ("normal_3", ["127.0.0.5"], "api.rebind.test", "query"),
    ("normal_4", ["127.0.0.6"], "api.rebind.test", "x-api-key"),
    ("bg_5", ["127.0.0.7"], "eu.api.rebind.test", "x-api-key"),
    ("bg_6", ["127.0.0.8", "127.0.0.9"], "api.rebind.test", "bearer"),
]
DEMO_PATHS = ["/v1/items", "/v1/items/1", "/v1/items/2", "/v1/items/3", "/v1/items", "/health"]


def demo_background(m, idx, role, srcs, host, key_in, t_end, stop):
    rnd = random.Random(1000 + idx)  # same pacing on every run
    sessions = [Session(m, "background", s, host, key=role, key_in=key_in) for s in srcs]
    time.sleep(rnd.uniform(0, 2.0))
    n = 0
    while time.time() < t_end and not stop.is_set():
        s = sessions[n % len(sessions)]
        path = DEMO_PATHS[rnd.randrange(len(DEMO_PATHS))]
        origin = APP_ORIGIN if rnd.random() < 0.4 else None
        if n % 17 == 5:
            s.req("POST", "/v1/items", origin=origin, json_body={"name": "item%d" % n})
        else:
            s.req("GET", path, origin=origin)
        n += 1
        time.sleep(rnd.uniform(1.4, 2.6))
    for s in sessions:
        s.close()


def run_demo(m, length=60.0):
    """~60 s in real time: background use with the four attacks on top."""
    m.phase("background")
    t0 = time.time()
    stop = threading.Event()
    threads = [threading.Thread(target=demo_background, args=(m, i, *bg, t0 + length, stop), daemon=True)
               for i, bg in enumerate(DEMO_BG)]
    for t in threads:
        t.start()

    def at(offset):
        time.sleep(max(0.0, t0 + offset - time.time()))

    try:
        at(8)
        m.phase("unexpected_host")
        curl(m, "unexpected_host", "127.0.0.10", "/v1/admin/users", resolve="evil.rebind.test", key="host")
        at(9.5)
        curl(m, "unexpected_host", "127.0.0.10", "/v1/admin/users", resolve="localhost", key="host")
        at(18)
        m.phase("foreign_origin")
        curl(m, "foreign_origin", "127.0.0.11", "/v1/items", method="POST", host="api.rebind.test",
             key="origin", origin="http://evil.rebind.test", json_body={"name": "exfil"})
        at(19.5)
        curl(m, "foreign_origin", "127.0.0.11", "/v1/admin/users", host="api.rebind.test", key="origin",
             origin="null")
        at(28)
        m.phase("key_burst")
        burst(m, "key_burst", "127.0.0.12", n=150, seconds=3.0)
        at(40)
        m.phase("key_spread_client")
        spread_client(m, "key_spread_client", first=20, n=25, pause=0.12)
        at(45)
        m.phase("key_spread_host")
        spread_host(m, "key_spread_host", "127.0.0.13")
        at(length)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=TIMEOUT + 5)
    m.phase("end")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("normal", "scenarios", "short", "demo"):
        sys.exit("usage: client.py normal|scenarios|short|demo MANIFEST")
    m = Manifest(sys.argv[2])
    try:
        {"normal": run_normal, "scenarios": run_scenarios, "short": run_short, "demo": run_demo}[sys.argv[1]](m)
    finally:
        m.close()


if __name__ == "__main__":
    main()
