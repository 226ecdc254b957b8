#!/usr/bin/env python3
"""Drives a program on a pseudo-terminal, as a person at the console would: login-drive.py
SCRIPT -- COMMAND...  SCRIPT is a list of lines "expect TEXT" (wait up to 10 s for TEXT in the
output) and "send TEXT" (type TEXT and Enter). Prints everything the program wrote, exits 1 when
an expect times out (saying which)."""
import os
import pty
import select
import sys
import time

script, cmd = sys.argv[1], sys.argv[sys.argv.index("--") + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
seen = b""
pos = 0  # expect looks only at what came after the previous match
status = 0


def read_for(seconds, want):
    global seen, pos
    end = time.time() + seconds
    while time.time() < end:
        if want and want in seen[pos:]:
            pos = seen.index(want, pos) + len(want)
            return True
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            seen += data
    if want and want in seen[pos:]:
        pos = seen.index(want, pos) + len(want)
        return True
    return not want


for line in open(script):
    line = line.rstrip("\n")
    verb, _, text = line.partition(" ")
    if verb == "expect":
        if not read_for(10, text.encode()):
            print("login-drive: timed out waiting for %r" % text, file=sys.stderr)
            status = 1
            break
    elif verb == "send":
        os.write(fd, text.encode() + b"\r")
read_for(0.5, None)
sys.stdout.write(seen.decode(errors="replace"))
try:
    os.kill(pid, 9)
except OSError:
    pass
sys.exit(status)
