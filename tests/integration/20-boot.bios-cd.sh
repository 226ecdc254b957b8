#!/bin/bash
# The ISO boots on BIOS as a CD, under QEMU (TCG), to BOOT-OK.
. "$(dirname "$0")/common.sh"
expect_boot_ok bios cd
