#!/usr/bin/env python3
"""The folders' include graph against the layering of docs/building.md ("Layout"): every quoted
#include of a folder's C files must resolve to the folder itself or one below it. Prints one line
per violation ("builder/x.c: includes altbootbank/stage.h; altbootbank/ is not below builder/")
and exits 1 when there is any."""
import os
import re
import sys

# Each folder and the folders it may include from (itself always).
BELOW = {
    "lib": [],
    "signing": ["lib"],
    "bootbank": ["lib"],
    "image": ["lib", "signing"],
    "altbootbank": ["image", "bootbank", "signing", "lib"],
    "builder": ["image", "bootbank", "signing", "lib"],
    "packages/init": ["bootbank", "lib"],
    "packages/installer": ["image", "bootbank", "lib"],
    "packages/hostcfg": ["lib"],
    "packages/logd": ["lib"],
    "packages/auth": [],
    "packages/login": ["packages/auth"],
    "packages/hostd": ["packages/hostcfg", "packages/auth", "lib"],
    "packages/hostctl": [],
    "packages/dcui": ["packages/hostcfg", "packages/auth", "lib"],
    "vmm": [],
}


def headers():
    """Header base name -> the folder that owns it."""
    owner = {}
    for folder in BELOW:
        for root, _, files in os.walk(folder):
            for f in files:
                if f.endswith(".h"):
                    rel = os.path.relpath(os.path.join(root, f), folder)
                    owner.setdefault(rel, folder)
    return owner


def main():
    owner = headers()
    bad = 0
    for folder, below in BELOW.items():
        for root, _, files in os.walk(folder):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(root, f)
                for inc in re.findall(r'^#include "([^"]+)"', open(path).read(), re.M):
                    rel = os.path.normpath(os.path.join(os.path.relpath(root, folder), inc))
                    to = owner.get(rel) or owner.get(inc)
                    if to is None or to == folder:
                        continue
                    if to not in below:
                        print(f"{path}: includes {to}/{inc}; {to}/ is not below {folder}/")
                        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
