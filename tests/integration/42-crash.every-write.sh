#!/bin/bash
# Power cuts at every write (tests/crash/crash.sh): bankctl stage (onto an empty bank, and over a
# good one with a saved configuration, mtools writing too), mark-good, rollback, init's commit
# (with a valid state and with none) and the installer's first state, cut before and after each
# call that changes the disk and with each boot-state write torn after either sector; every disk
# left boots a good bank or a whole trial by the C model. `make crash` adds the installer's image
# write and boots 3 disks of each command in QEMU.
cd "$(dirname "$0")/../.." || exit 1
exec bash tests/crash/crash.sh
