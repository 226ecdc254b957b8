#!/usr/bin/env python3
"""A one-purpose NTP server for test 46: answers every NTP client request on 127.0.0.1:123 (which
QEMU's user network shows the guest as 10.0.2.2:123) with this machine's time plus OFFSET
seconds, stratum 1. Usage: ntp-serve.py OFFSET. Prints "listening" once bound."""
import socket
import struct
import sys
import time

NTP_EPOCH = 2208988800  # 1900-01-01 to 1970-01-01
offset = float(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 123))
print("listening", flush=True)


def stamp(t):
    sec = int(t)
    return struct.pack("!II", sec, int((t - sec) * 2**32))


while True:
    data, peer = s.recvfrom(512)
    if len(data) < 48:
        continue
    now = time.time() + offset + NTP_EPOCH
    # LI 0, version 4, mode 4 (server); stratum 1; the client's poll; precision 2^-20; no root
    # delay or dispersion; reference id "TEST"; the client's transmit time as the origin.
    head = struct.pack("!BBbbII4s", (4 << 3) | 4, 1, data[2], -20, 0, 0, b"TEST")
    s.sendto(head + stamp(now) + data[40:48] + stamp(now) + stamp(now), peer)
