#!/usr/bin/python3
"""A bad network between two interfaces: forwards Ethernet frames between
IF_A and IF_B (AF_PACKET, both directions) and loses, delays and reorders
IP frames on the way, like `tc qdisc ... netem loss 5% reorder 25% delay
10ms` on kernels without netem. The endpoints' real TCP stacks then
retransmit, send duplicate ACKs, and see segments out of order.

With --mirror DEV every forwarded frame is also copied to DEV the way a
switch's monitor session delivers it: --mirror-mode qinq adds an 802.1ad
and an 802.1Q tag (a trunk port); gre wraps the frame in IPv4/GRE
(transparent Ethernet bridging, a remote SPAN session); ipip sends the IP
packet in IPv4 (protocol 4, or 41 for IPv6: 6in4).

    relay.py IF_A IF_B [--loss 0.05] [--reorder 0.25] [--delay-ms 10]
             [--seed 1] [--mirror DEV --mirror-mode qinq|gre|ipip]

Runs until SIGTERM/SIGINT. Only frames from the wire are forwarded (not
the ones this host sends), so nothing loops.
"""
import argparse
import heapq
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def open_if(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((name, 0))
    s.setblocking(False)
    return s


def ip_checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4_header(proto, payload_len, ident):
    src, dst = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident & 0xFFFF, 0x4000, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", ip_checksum(h)) + h[12:]


MIRROR_MAC = bytes([0x02, 0, 0, 0, 0x4D, 0x01]) + bytes([0x02, 0, 0, 0, 0x4D, 0x02])


def mirror_frame(mode, frame, ident):
    if mode == "qinq":
        # dst+src MAC, 802.1ad tag (VLAN 100), 802.1Q tag (VLAN 200), the rest.
        return frame[:12] + struct.pack("!HHHH", 0x88A8, 100, 0x8100, 200) + frame[12:]
    if mode == "gre":
        gre = struct.pack("!HH", 0, 0x6558)  # transparent Ethernet bridging
        inner = gre + frame
        return MIRROR_MAC + struct.pack("!H", 0x0800) + ipv4_header(47, len(inner), ident) + inner
    if mode == "ipip":
        et = struct.unpack("!H", frame[12:14])[0]
        proto = {0x0800: 4, 0x86DD: 41}.get(et)
        if proto is None:
            return None
        inner = frame[14:]
        return MIRROR_MAC + struct.pack("!H", 0x0800) + ipv4_header(proto, len(inner), ident) + inner
    raise ValueError(mode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--loss", type=float, default=0.0)
    ap.add_argument("--reorder", type=float, default=0.0)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mirror")
    ap.add_argument("--mirror-mode", choices=["qinq", "gre", "ipip"], default="qinq")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    sa, sb = open_if(args.a), open_if(args.b)
    mirror = open_if(args.mirror) if args.mirror else None
    other = {sa: sb, sb: sa}
    queue = []  # (due, n, socket, frame)
    n = 0
    stats = {"forwarded": 0, "lost": 0, "reordered": 0}
    running = [True]

    def stop(*_):
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    delay = args.delay_ms / 1000.0
    while running[0]:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, frame = heapq.heappop(queue)
            try:
                out.send(frame)
                if mirror is not None:
                    m = mirror_frame(args.mirror_mode, frame, n)
                    if m is not None:
                        mirror.send(m)
            except OSError as e:
                print(f"relay.py: send: {e}", file=sys.stderr)
            stats["forwarded"] += 1
        timeout = max(0.0, queue[0][0] - now) if queue else 0.2
        try:
            ready, _, _ = select.select([sa, sb], [], [], timeout)
        except InterruptedError:
            continue
        for s in ready:
            while True:
                try:
                    frame, addr = s.recvfrom(65535)
                except BlockingIOError:
                    break
                except OSError:
                    running[0] = False  # the namespace is going away
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                et = struct.unpack("!H", frame[12:14])[0] if len(frame) >= 14 else 0
                is_ip = et in (0x0800, 0x86DD)
                d = delay
                if is_ip and rng.random() < args.loss:
                    stats["lost"] += 1
                    continue
                if is_ip and rng.random() < args.reorder:
                    # Held back: the frames sent after it overtake it.
                    d += delay + 0.004
                    stats["reordered"] += 1
                n += 1
                heapq.heappush(queue, (time.monotonic() + d, n, other[s], frame))
    print("relay.py: %(forwarded)d frames forwarded, %(lost)d lost, %(reordered)d held back" % stats, file=sys.stderr)


if __name__ == "__main__":
    main()
