#!/usr/bin/env python3
"""Writes apps.journal.gz: a small journal file, written by the real
systemd-journal-remote (Debian package systemd-journal-remote) from an
export-format stream (systemd's "Journal Export Format") made here of lines
that real gunicorn and Flask/werkzeug wrote (testdata/logs/, recorded by
testdata/logs/record_logs.sh), as journald would have stored them for two
services: gunicorn.service (its error log lines and access lines on one
stream) and flaskapp.service (werkzeug's banner and ANSI-coloured access
lines on stderr, and one multi-line traceback). The journal file is gzipped
(journal files are preallocated in 8 MiB; this one compresses to a few KiB);
the tests gunzip it and read it with journalctl --file.

Run: python3 testdata/journal/record.py   (rewrites apps.journal.gz)
"""
import gzip
import os
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "..", "logs")
BOOT = "0123456789abcdef0123456789abcdef"
JOURNAL_REMOTE = "/usr/lib/systemd/systemd-journal-remote"


def field(name, value):
    """One field in export format: text when it has no newline, else the
    binary form (name, newline, little-endian 64-bit length, bytes)."""
    if b"\n" in value:
        return name.encode() + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"
    return name.encode() + b"=" + value + b"\n"


def main():
    entries = []
    t = 1795730309000000  # 2026-11-26T22:58:29Z, in microseconds

    def entry(unit, ident, message, pid):
        nonlocal t
        t += 1000
        e = b"".join([
            field("__REALTIME_TIMESTAMP", str(t).encode()),
            field("__MONOTONIC_TIMESTAMP", str(t - 1795730000000000).encode()),
            field("_BOOT_ID", BOOT.encode()),
            field("_HOSTNAME", b"web-1"),
            field("_TRANSPORT", b"stdout"),
            field("_PID", str(pid).encode()),
            field("_SYSTEMD_UNIT", unit.encode()),
            field("SYSLOG_IDENTIFIER", ident.encode()),
            field("PRIORITY", b"6"),
            field("MESSAGE", message),
        ])
        entries.append(e + b"\n")

    # gunicorn: its error log's start lines, then the access lines.
    for m in [
        b"[2026-11-26 23:58:24 +0100] [21450] [INFO] Starting gunicorn 20.1.0",
        b"[2026-11-26 23:58:24 +0100] [21450] [INFO] Listening at: http://127.0.0.1:18520 (21450)",
        b"[2026-11-26 23:58:24 +0100] [21451] [INFO] Booting worker with pid: 21451",
    ]:
        entry("gunicorn.service", "gunicorn", m, 21450)
    with open(os.path.join(LOGS, "gunicorn_default.log"), "rb") as f:
        for line in f.read().splitlines():
            entry("gunicorn.service", "gunicorn", line, 21451)
    # Flask's development server: the banner, then the access lines, as
    # written to a terminal (colours, CR LF: journald keeps the CR).
    with open(os.path.join(LOGS, "werkzeug_color.log"), "rb") as f:
        for line in f.read().split(b"\n"):
            if line:
                entry("flaskapp.service", "flask", line, 21460)
    entry("flaskapp.service", "flask",
          b"Traceback (most recent call last):\n  File \"app.py\", line 9, in items\nKeyError: 'page'", 21460)

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "apps.journal")
        subprocess.run([JOURNAL_REMOTE, "--output=" + out, "--compress=no", "-"],
                       input=b"".join(entries), check=True)
        with open(out, "rb") as f, open(os.path.join(HERE, "apps.journal.gz"), "wb") as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as g:
            g.write(f.read())
    print("wrote apps.journal.gz:", len(entries), "entries")


if __name__ == "__main__":
    main()
