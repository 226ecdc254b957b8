#!/usr/bin/env python3
"""A syslog server for the logd tests: TCP or TLS with octet-counted frames (RFC 6587, RFC 5425),
or UDP datagrams; appends each message as one line to OUT. Usage:
    logd-listen.py tcp|udp PORT OUT [CERT KEY]    (CERT and KEY: TLS)
    logd-listen.py stdio DOWNFLAG OUT             (one TCP connection on stdin, as QEMU's guestfwd
                                                   cmd: runs it; while DOWNFLAG exists the server
                                                   is "down": the connection is closed at once)
Prints "listening" once the socket is bound."""
import os
import socket
import ssl
import sys


def frames(read, out):
    buf = b""
    while True:
        d = read()
        if not d:
            return
        buf += d
        while b" " in buf:
            n, rest = buf.split(b" ", 1)
            if len(rest) < int(n):
                break
            out.write(rest[: int(n)] + b"\n")
            buf = rest[int(n):]


if sys.argv[1] == "stdio":
    if os.path.exists(sys.argv[2]):
        sys.exit(0)
    frames(lambda: os.read(0, 65536), open(sys.argv[3], "ab", buffering=0))
    sys.exit(0)
proto, port, out = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "ab", buffering=0)
if proto == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    print("listening", flush=True)
    while True:
        out.write(s.recv(65536) + b"\n")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(5)
ctx = None
if len(sys.argv) > 5:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
print("listening", flush=True)
while True:
    c, _ = s.accept()
    if ctx:
        try:
            c = ctx.wrap_socket(c, server_side=True)
        except (ssl.SSLError, OSError):
            continue

    def receive(c=c):
        try:
            return c.recv(65536)
        except (ssl.SSLError, OSError):
            return b""

    frames(receive, out)
