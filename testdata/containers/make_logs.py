#!/usr/bin/env python3
"""Writes flask.stdout and flask.stderr: what `docker logs --timestamps
flask` prints on its stdout and its stderr for a container running Flask's
development server that restarted once. No container engine runs where
these tests run, so this is written from the documented format, not
recorded: each line is the time the engine received it (RFC 3339, UTC,
nanoseconds, as docker's jsonmessage.RFC3339NanoFixed writes it), a space
and the line as the container wrote it; the container's stdout goes to
stdout and its stderr to stderr
(https://docs.docker.com/reference/cli/docker/container/logs/). The lines
themselves are werkzeug's, taken from testdata/logs/werkzeug_color.log
(recorded from the real server) without the colours a terminal gets: in a
container without a TTY werkzeug writes none.

Run: python3 testdata/containers/make_logs.py
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    with open(os.path.join(HERE, "..", "logs", "werkzeug_color.log"), "rb") as f:
        raw = [re.sub(rb"\x1b\[[0-9;]*m", b"", l).rstrip(b"\r") for l in f.read().split(b"\n") if l]
    banner = [l for l in raw if b"HTTP/1" not in l]
    access = [l for l in raw if b"HTTP/1" in l]
    out, err = [], []
    ns = 0

    def at():
        nonlocal ns
        ns += 250_000_000
        s, frac = divmod(ns, 1_000_000_000)
        return b"2026-11-26T22:%02d:%02d.%09dZ " % (58 + (29 + s) // 60, (29 + s) % 60, frac)

    for half in (access[:8], access[8:]):  # the container restarts between the halves
        out.append(at() + b"loading config from /app/config.py")
        for l in banner:
            err.append(at() + l)
        for l in half:
            err.append(at() + l)
    for name, lines in (("flask.stdout", out), ("flask.stderr", err)):
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(b"\n".join(lines) + b"\n")


if __name__ == "__main__":
    main()
