#!/usr/bin/python3
"""Sends the hostile requests of testdata/hostile over raw sockets.

    /usr/bin/python3 client.py hostile PORT
    /usr/bin/python3 client.py markup PORT KEY

hostile: every value of corpus.py in every request field rebindwatch shows
(Host, Origin, User-Agent, the target, Referer, the Basic user name), one
request a connection, bytes exactly as in the corpus. curl and http.client
refuse to send most of them, hence raw sockets.

Then two requests aimed at logs written with escape=none, where nginx
writes a quote as is: a User-Agent that forges the rest of the line to
claim an allowed Host, and one that ends in a backslash; both with the
foreign Host evil.rebind.test.

markup: every value of MARKUP (markup.txt) in the Host, Origin,
User-Agent, target and Referer, the Host ones with the key KEY (so that
key_spread's evidence carries them too).

Only for the throw-away nginx that record.sh starts on loopback.
"""

import base64
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus import CORPUS, MARKUP  # noqa: E402

TIMEOUT = 5

# User-Agents that, in an escape=none log, end the quoted field early.
FORGED_UA = [
    b'x" host="api.rebind.test" origin="-" key="" rt=0.000',
    b"ua\\",
]


def send(port, head):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    try:
        s.sendall(head)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except OSError:
        pass  # nginx may reset a request it refuses; the capture has it
    finally:
        s.close()


def request(field, value, key=b""):
    host, target = b"api.rebind.test", b"/v1/items"
    hdrs = [b"X-API-Key: " + key] if key else []
    if field == "host":
        host = value
    elif field == "target":
        target = b"/v1/items?q=" + value
    elif field == "origin":
        hdrs.append(b"Origin: " + value)
    elif field == "user_agent":
        hdrs.append(b"User-Agent: " + value)
    elif field == "referer":
        hdrs.append(b"Referer: " + value)
    elif field == "remote_user":
        hdrs.append(b"Authorization: Basic " + base64.b64encode(value + b":pw"))
    if field != "user_agent":
        hdrs.append(b"User-Agent: rebind-hostile/1")
    return b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\n" + b"\r\n".join(hdrs) + b"\r\nConnection: close\r\n\r\n"


def main():
    what, port = sys.argv[1], int(sys.argv[2])
    if what == "markup":
        key = sys.argv[3].encode()
        for field in ["host", "origin", "user_agent", "target", "referer"]:
            for _name, value in MARKUP:
                send(port, request(field, value, key if field == "host" else b""))
        return
    if what != "hostile":
        sys.exit("client.py: unknown mode " + what)
    for field in ["host", "origin", "user_agent", "target", "referer", "remote_user"]:
        for _name, value in CORPUS:
            send(port, request(field, value))
    for ua in FORGED_UA:
        send(port, b"GET /v1/admin/users HTTP/1.1\r\nHost: evil.rebind.test\r\nUser-Agent: " + ua + b"\r\nConnection: close\r\n\r\n")


if __name__ == "__main__":
    main()
