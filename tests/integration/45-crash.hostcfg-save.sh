#!/bin/bash
# Power cuts at every write of hostcfg's save into the boot bank and of restore-defaults
# (tests/crash/hostcfg.sh): the restore finds the previous configuration or the new one, whole.
# On a plain folder standing for the vfat bank (see there why). Needs `make crash-tools`.
cd "$(dirname "$0")/../.." || exit 1
exec bash tests/crash/hostcfg.sh
