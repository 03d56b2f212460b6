#!/usr/bin/python3
"""Writes nginx extended-format log lines (testdata/rec/ext.fmt) with every
hostile value of corpus.py in every field that reaches the screen, the way
nginx writes them: with its default \\xHH escaping, and raw (escape=none).

    /usr/bin/python3 gen.py OUT_ESCAPED OUT_RAW

nginx itself refuses some of these values (a Host with control bytes gets a
400 and is logged as "-"), so record.sh also has nginx log what it accepts;
this file puts every value in every field, as a log from another server or a
proxy that passes them on would.
"""

import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus import CORPUS, FIELDS  # noqa: E402


def nginx_escape(b):
    """ngx_http_log_escape: ", \\ and bytes outside 0x20..0x7e become \\xHH."""
    out = bytearray()
    for c in b:
        if c in (0x22, 0x5C) or c < 0x20 or c > 0x7E:
            out += b"\\x%02X" % c
        else:
            out.append(c)
    return bytes(out)


def line(i, field, value, esc):
    v = {
        "remote_addr": b"127.0.0.%d" % (10 + i % 200),
        "remote_user": b"-",
        "time": b"2026-11-26T22:%02d:%02d+00:00" % (i // 60 % 60, i % 60),
        "method": b"GET",
        "target": b"/v1/items",
        "status": b"400" if field == "host" else b"200",
        "bytes": b"18",
        "referer": b"-",
        "user_agent": b"curl/7.88.1",
        "host": b"api.rebind.test",
        "origin": b"-",
        "key": b"",
    }
    if field == "target":
        v["target"] = b"/v1/items?q=" + value
    else:
        v[field] = value
    e = nginx_escape if esc else (lambda b: b)
    return b"".join([
        v["remote_addr"], b" - ", e(v["remote_user"]), b" [", v["time"], b'] "',
        e(v["method"] + b" " + v["target"] + b" HTTP/1.1"), b'" ', v["status"], b" ", v["bytes"],
        b' "', e(v["referer"]), b'" "', e(v["user_agent"]), b'" host="', e(v["host"]),
        b'" origin="', e(v["origin"]), b'" key="', e(v["key"]), b'" rt=0.001\n',
    ])


def main():
    esc_path, raw_path = sys.argv[1], sys.argv[2]
    with open(esc_path, "wb") as esc, open(raw_path, "wb") as raw:
        i = 0
        for field in FIELDS:
            for _name, value in CORPUS:
                esc.write(line(i, field, value, True))
                raw.write(line(i, field, value, False))
                i += 1


if __name__ == "__main__":
    main()
