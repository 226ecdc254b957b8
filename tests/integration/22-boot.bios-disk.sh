#!/bin/bash
# The ISO boots on BIOS written raw to a USB stick or disk, under QEMU (TCG), to BOOT-OK.
. "$(dirname "$0")/common.sh"
expect_boot_ok bios disk
