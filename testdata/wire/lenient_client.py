#!/usr/bin/python3
"""Sends request lines that are not textbook HTTP/1.1 to a server, one
connection each, as raw bytes (so every byte is the plan's), reads the
answer until the server closes or 3 s pass, and writes a manifest line per
request: the reason rebindwatch should give, the method, the Host sent and
the target. The lines are the classes of issue 13 part 1; the server
decides what it makes of them (nginx answers a line without a version as
HTTP/0.9: a bare body, then it closes).

    lenient_client.py HOST PORT MANIFEST
"""
import socket
import sys

# (reason, method, host, target, bytes sent)
PLAN = [
    ("no_version", "GET", "", "/v1/items", b"GET /v1/items\r\n"),
    ("no_version", "GET", "", "/admin", b"GET /admin\r\n"),
    ("no_version", "GET", "api.wire.test", "/v1/items?api_key=wire-key-alpha-0001",
     b"GET /v1/items?api_key=wire-key-alpha-0001\r\nHost: api.wire.test\r\n\r\n"),
    ("no_space_before_version", "GET", "evil.rebind.test", "/adminHTTP/1.1",
     b"GET /adminHTTP/1.1\r\nHost: evil.rebind.test\r\n\r\n"),
    ("no_target", "GET", "api.wire.test", "", b"GET HTTP/1.1\r\nHost: api.wire.test\r\n\r\n"),
    ("bad_version", "GET", "api.wire.test", "/v1/items", b"GET /v1/items HTTP/1.x\r\nHost: api.wire.test\r\n\r\n"),
    ("bad_version", "GET", "api.wire.test", "/", b"GET / http/1.1\r\nHost: api.wire.test\r\n\r\n"),
    ("bad_version", "GET", "api.wire.test", "/", b"GET / HTTP/2.0\r\nHost: api.wire.test\r\n\r\n"),
    ("space_in_target", "GET", "api.wire.test", "/a b", b"GET /a b HTTP/1.1\r\nHost: api.wire.test\r\n\r\n"),
    ("text_after_version", "GET", "api.wire.test", "/", b"GET / HTTP/1.1 extra\r\nHost: api.wire.test\r\n\r\n"),
    ("whitespace", "GET", "evil.rebind.test", "/v1/items",
     b"GET  /v1/items  HTTP/1.1\r\nHost: evil.rebind.test\r\nX-API-Key: wire-key-bravo-0002\r\n\r\n"),
    ("whitespace", "GET", "api.wire.test", "/tab", b"GET\t/tab\tHTTP/1.1\r\nHost: api.wire.test\r\n\r\n"),
    ("", "FOO-BAR", "api.wire.test", "/odd", b"FOO-BAR /odd HTTP/1.1\r\nHost: api.wire.test\r\n\r\n"),
    ("no_version", "CONNECT", "", "api.wire.test:443", b"CONNECT api.wire.test:443\r\n\r\n"),
    ("no_version", "POST", "", "/v1/items", b"POST /v1/items\r\n"),
    # Not requests: text and binary on the HTTP port.
    ("-", "", "", "", b"hello there\r\n\r\n"),
    ("-", "", "", "", b"\x00\x01\x02\x03GET / HTTP/1.1\r\n\r\n"),
]


def main():
    host, port, manifest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(manifest, "w") as m:
        for why, method, h, target, data in PLAN:
            s = socket.create_connection((host, port), timeout=3)
            s.sendall(data)
            try:
                while s.recv(65536):
                    pass
            except socket.timeout:
                pass
            s.close()
            m.write("\t".join([why, method, h, target]) + "\n")


if __name__ == "__main__":
    main()
