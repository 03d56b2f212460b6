#!/usr/bin/python3
"""The victim side of a DNS rebinding attack, for testdata/rebind/record.sh.

It does what a rebinding page's script does in a browser, with only the
standard library: resolve attacker.rebind.test at the test DNS server
(127.0.0.153:53), and while the answer is the public-looking address, wait
out the 1-second TTL and ask again; once the name resolves to 127.0.0.1,
send the local API an HTTP request that still carries the attacker's name in
Host. It never connects to the public address (it is only DNS data).

Before that it makes three ordinary queries so the recording also holds a
CNAME chain (UDP), an AAAA answer over TCP and an NXDOMAIN.

All its packets leave from 127.0.0.66.
"""

import socket
import struct
import sys
import time

DNS = ("127.0.0.153", 53)
ME = "127.0.0.66"
NAME = "attacker.rebind.test"
API = ("127.0.0.1", 8080)
TYPE_A, TYPE_AAAA, TYPE_CNAME = 1, 28, 5


def query(qid, name, qtype):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)  # RD
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", qtype, 1)


def read_name(msg, off):
    labels, jumps, end = [], 0, None
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            jumps += 1
            if jumps > 20:
                raise ValueError("compression loop")
            continue
        off += 1
        if n == 0:
            return ".".join(labels), (end if end is not None else off)
        labels.append(msg[off:off + n].decode())
        off += n


def parse(msg):
    """Returns (rcode, [(type, ttl, data)])."""
    _, flags, qd, an, _, _ = struct.unpack(">HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        _, off = read_name(msg, off)
        off += 4
    out = []
    for _ in range(an):
        _, off = read_name(msg, off)
        t, _, ttl, ln = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        rd = msg[off:off + ln]
        if t == TYPE_A:
            out.append((t, ttl, socket.inet_ntop(socket.AF_INET, rd)))
        elif t == TYPE_AAAA:
            out.append((t, ttl, socket.inet_ntop(socket.AF_INET6, rd)))
        elif t == TYPE_CNAME:
            out.append((t, ttl, read_name(msg, off)[0]))
        off += ln
    return flags & 0xF, out


def udp(qid, name, qtype):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ME, 0))
    s.settimeout(2)
    s.sendto(query(qid, name, qtype), DNS)
    msg, _ = s.recvfrom(4096)
    s.close()
    return parse(msg)


def tcp(qid, name, qtype):
    s = socket.create_connection(DNS, timeout=2, source_address=(ME, 0))
    q = query(qid, name, qtype)
    s.sendall(struct.pack(">H", len(q)) + q)
    ln = struct.unpack(">H", s.recv(2))[0]
    msg = b""
    while len(msg) < ln:
        chunk = s.recv(ln - len(msg))
        if not chunk:
            break
        msg += chunk
    s.close()
    return parse(msg)


def main():
    print("www A (udp):", udp(0x1001, "www.rebind.test", TYPE_A))
    print("www AAAA (tcp):", tcp(0x1002, "www.rebind.test", TYPE_AAAA))
    print("missing A (udp):", udp(0x1003, "missing.rebind.test", TYPE_A))
    for attempt in range(10):
        rcode, answers = udp(0x2000 + attempt, NAME, TYPE_A)
        addrs = [(ttl, a) for t, ttl, a in answers if t == TYPE_A]
        print("attempt", attempt, "rcode", rcode, addrs)
        if addrs and addrs[0][1] == API[0]:
            break
        time.sleep((addrs[0][0] if addrs else 1) + 0.1)  # wait out the TTL
    else:
        sys.exit("never rebound")
    s = socket.create_connection(API, timeout=5, source_address=(ME, 0))
    s.sendall(("GET /api/data HTTP/1.1\r\nHost: %s:8080\r\n"
               "User-Agent: Mozilla/5.0 (X11; Linux x86_64) rebind-test\r\n"
               "Accept: */*\r\nConnection: close\r\n\r\n" % NAME).encode())
    resp = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        resp += chunk
    s.close()
    print(resp.split(b"\r\n", 1)[0].decode())


if __name__ == "__main__":
    main()
