#!/usr/bin/python3
"""Clients for the capture recordings: raw sockets, so every byte on the
wire is what the plan says (pipelining, absolute-form targets, duplicate
Host headers, obs-fold, Expect: 100-continue, chunked bodies, a websocket
upgrade, an HTTP/1.0 request without Host, a 20 KiB header, a connection
aborted with RST, one left open while the capture ends).

    client.py PLAN HOST PORT MANIFEST [HOLDFILE]

PLAN is "formats" (every shape once), "lossy" (many requests with large
bodies on keep-alive connections, for a lossy network) or "small". Each request sent
is appended to MANIFEST as "conn<TAB>method<TAB>host<TAB>target" (host
empty when the request has none), which the Go tests compare with what
the capture gives. With HOLDFILE, the last connection stays open until
that file exists (the capture is stopped first).
"""
import http.client
import os
import socket
import struct
import sys
import time

KEYS = ["rec-key-alpha-1", "rec-key-bravo-2", "rec-key-charlie-3"]


class Shared:
    """The connection's buffered reader, which a response must not close:
    the next response is read from the same buffer."""

    def __init__(self, f):
        self.f = f

    def __getattr__(self, name):
        return getattr(self.f, name)

    def close(self):
        pass


class Conn:
    """One client connection; responses are read with http.client."""

    def __init__(self, plan, name, host, port):
        self.plan, self.name = plan, name
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        self.s.settimeout(20)
        self.s.connect((host, port))
        self.f = self.s.makefile("rb")

    def makefile(self, *args, **kw):
        return Shared(self.f)

    def send(self, method, host, target, raw):
        self.plan.record(self.name, method, host, target)
        self.s.sendall(raw)

    def request(self, method, target, host, headers=(), body=b"", proto="HTTP/1.1"):
        lines = [f"{method} {target} {proto}"]
        if host is not None:
            lines.append(f"Host: {host}")
        lines += [f"{k}: {v}" for k, v in headers]
        if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        self.send(method, host or "", target, raw)

    def response(self, method="GET"):
        r = http.client.HTTPResponse(self, method=method)
        r.begin()
        r.read()
        return r.status

    def close(self, rst=False):
        if rst:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()


class Plan:
    def __init__(self, manifest):
        self.out = open(manifest, "a")

    def record(self, conn, method, host, target):
        self.out.write(f"{conn}\t{method}\t{host}\t{target}\n")
        self.out.flush()


def formats(plan, host, port, holdfile):
    hp = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    name = "v6" if ":" in host else "v4"
    c = Conn(plan, name + "-main", host, port)
    c.request("GET", f"/v1/items?api_key={KEYS[0]}&page=2", "api.rebind.test:%d" % port, [("User-Agent", "recorder/1")])
    c.response()
    c.request("GET", "/size/5000", hp, [("X-API-Key", KEYS[1]), ("Origin", "http://evil.rebind.test")])
    c.response()
    c.request("POST", "/echo", hp, [("Content-Type", "application/json"), ("Authorization", "Bearer " + KEYS[2])], b'{"a":"' + b"p" * 3000 + b'"}')
    c.response("POST")
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(x), x) for x in (b"alpha" * 200, b"beta" * 300)) + b"0\r\nX-Trailer: yes\r\n\r\n"
    c.request("POST", "/chunked-upload", hp, [("Transfer-Encoding", "chunked")], chunks)
    c.response("POST")
    # Expect: 100-continue: the body waits for the interim response.
    plan.record(c.name, "PUT", hp, "/expect")
    c.s.sendall(f"PUT /expect HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n".encode())
    line = c.f.readline()
    while c.f.readline() not in (b"\r\n", b""):
        pass
    assert b" 100 " in line, line
    c.s.sendall(b"e" * 2000)
    c.response("PUT")
    c.request("HEAD", "/size/100000", hp)
    c.response("HEAD")
    c.request("OPTIONS", "*", hp)
    c.response("OPTIONS")
    # Absolute form: the authority is the host a server uses.
    c.request("GET", "http://evil.rebind.test/absolute", "api.rebind.test")
    c.response()
    # Two Host headers: the first is kept, the second flagged.
    plan.record(c.name, "GET", "api.rebind.test", "/duphost")
    c.s.sendall(b"GET /duphost HTTP/1.1\r\nHost: api.rebind.test\r\nHost: evil.rebind.test\r\n\r\n")
    c.response()
    # obs-fold (RFC 9112 section 5.2): a value continued on the next line.
    plan.record(c.name, "GET", hp, "/fold")
    c.s.sendall(f"GET /fold HTTP/1.1\r\nHost: {hp}\r\nUser-Agent: folded\r\n  agent/1\r\n\r\n".encode())
    c.response()
    c.request("DELETE", "/nocontent", hp)
    c.response("DELETE")
    c.request("GET", "/notmod", hp, [("If-None-Match", '"v1"')])
    c.response()
    # Three pipelined requests in one write.
    raw = b""
    for i in range(3):
        t = f"/pipelined/{i}"
        plan.record(c.name, "GET", hp, t)
        raw += f"GET {t} HTTP/1.1\r\nHost: {hp}\r\n\r\n".encode()
    c.s.sendall(raw)
    for _ in range(3):
        c.response()
    c.request("GET", "/chunked/4000", hp)
    c.response()
    c.request("GET", "/close", hp)
    c.response()
    c.close()

    # HTTP/1.0 without a Host.
    c = Conn(plan, name + "-old", host, port)
    c.request("GET", "/http10", None, proto="HTTP/1.0")
    c.response()
    c.close()

    # A websocket upgrade: after 101 the bytes are not HTTP, even when
    # they look like it.
    c = Conn(plan, name + "-ws", host, port)
    c.request("GET", "/upgrade", hp, [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")])
    status = c.s.recv(4096)
    c.s.sendall(b"\x81\x8f\x00\x00\x00\x00GET /not-http HTTP/1.1\r\n\r\n")
    time.sleep(0.05)
    c.close()

    # A 20 KiB header block: the head spans many segments.
    c = Conn(plan, name + "-bighead", host, port)
    c.request("GET", "/bighead", hp, [("X-Pad", "p" * 20000)])
    c.response()
    c.close()

    # Aborted with RST after the request went out.
    c = Conn(plan, name + "-rst", host, port)
    c.request("GET", "/size/40000", hp)
    time.sleep(0.05)
    c.close(rst=True)

    if holdfile:
        # Left open: the capture ends before this connection does.
        c = Conn(plan, name + "-open", host, port)
        c.request("GET", "/still-open", hp, [("X-API-Key", KEYS[0])])
        c.response()
        print("HOLDING", flush=True)
        for _ in range(300):
            if os.path.exists(holdfile):
                break
            time.sleep(0.1)
        c.close()


def lossy(plan, host, port, holdfile):
    hp = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    conns = [Conn(plan, f"lossy-{i}", host, port) for i in range(3)]
    for r in range(6):
        for i, c in enumerate(conns):
            if r % 2 == 0:
                c.request("POST", f"/upload/{i}/{r}", hp, [("X-API-Key", KEYS[i % 3])], bytes([65 + r]) * (4000 + 1500 * i))
                c.response("POST")
            else:
                c.request("GET", f"/size/{8000 + 2000 * i}?r={r}", hp, [("X-API-Key", KEYS[i % 3])])
                c.response()
    for c in conns[:-1]:
        c.close()
    # One aborted mid-response with RST.
    c = Conn(plan, "lossy-rst", host, port)
    c.request("GET", "/size/60000", hp)
    c.f.read(1000)
    c.close(rst=True)
    last = conns[-1]
    last.request("GET", "/last", hp)
    last.response()
    if holdfile:
        print("HOLDING", flush=True)
        for _ in range(300):
            if os.path.exists(holdfile):
                break
            time.sleep(0.1)
    last.close()


def small(plan, host, port, holdfile):
    """A few requests, one with a 12 KiB head that spans segments."""
    hp = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    c = Conn(plan, "small-" + ("v6" if ":" in host else "v4"), host, port)
    c.request("GET", f"/small/1?api_key={KEYS[0]}", hp)
    c.response()
    c.request("POST", "/small/2", hp, [("X-API-Key", KEYS[1])], b"s" * 2000)
    c.response("POST")
    c.request("GET", "/size/3000", hp, [("Origin", "http://evil.rebind.test")])
    c.response()
    c.request("GET", "/small/bighead", hp, [("X-Pad", "q" * 12000)])
    c.response()
    c.request("GET", "/small/after", hp, [("X-API-Key", KEYS[2])])
    c.response()
    c.close()


def main():
    plan_name, host, port, manifest = sys.argv[1:5]
    holdfile = sys.argv[5] if len(sys.argv) > 5 else ""
    plan = Plan(manifest)
    {"formats": formats, "lossy": lossy, "small": small}[plan_name](plan, host, int(port), holdfile)


if __name__ == "__main__":
    main()
