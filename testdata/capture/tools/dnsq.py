#!/usr/bin/python3
"""Asks a DNS server one question over UDP with an EDNS0 buffer of 4096
bytes (RFC 6891), so an answer larger than the path MTU comes back in IP
fragments, and checks that an answer came.

    dnsq.py SERVER NAME TYPE      (TYPE: A or AAAA)
"""
import socket
import struct
import sys


def main():
    server, name, qtype = sys.argv[1:4]
    qid = 0x5157
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", {"A": 1, "AAAA": 28}[qtype], 1)
    q += b"\0" + struct.pack("!HHIH", 41, 4096, 0, 0)  # OPT: 4096-byte UDP payload
    s = socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(q, (server, 53))
    data, _ = s.recvfrom(65535)
    rid, flags, _, an = struct.unpack("!HHHH", data[:8])
    if rid != qid or flags & 0x8000 == 0 or an == 0:
        sys.exit(f"dnsq.py: no answer for {name} (flags {flags:#x}, {an} answers)")
    print(f"dnsq.py: {name} {qtype}: {an} answers, {len(data)} bytes")


if __name__ == "__main__":
    main()
