#!/bin/bash
# The A/B update cycle on an installed disk, BIOS: see ab-boot.sh.
FW=bios
. "$(dirname "$0")/ab-boot.sh"
