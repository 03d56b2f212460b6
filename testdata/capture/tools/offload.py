#!/usr/bin/python3
"""Turn off a network device's checksum and segmentation offloads, as
`ethtool -K DEV tx off tso off gso off gro off` would (without ethtool):
frames then leave the device whole and with real checksums, so a
userspace relay can forward them and a capture shows wire-sized segments.

    offload.py DEV...
"""
import ctypes
import fcntl
import socket
import struct
import sys

SIOCETHTOOL = 0x8946
# Legacy ethtool commands (linux/ethtool.h) that still work everywhere.
ETHTOOL_STXCSUM = 0x17
ETHTOOL_SSG = 0x19
ETHTOOL_STSO = 0x1F
ETHTOOL_SGSO = 0x24
ETHTOOL_SGRO = 0x2C


def ethtool_set(sock, dev, cmd, value):
    ev = ctypes.create_string_buffer(struct.pack("II", cmd, value))
    ifr = struct.pack("16sP", dev.encode(), ctypes.addressof(ev))
    fcntl.ioctl(sock.fileno(), SIOCETHTOOL, ifr)


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for dev in sys.argv[1:]:
        for cmd in (ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO, ETHTOOL_SSG, ETHTOOL_STXCSUM):
            try:
                ethtool_set(s, dev, cmd, 0)
            except OSError as e:
                print(f"offload.py: {dev}: ethtool command {cmd:#x}: {e}", file=sys.stderr)


if __name__ == "__main__":
    main()
