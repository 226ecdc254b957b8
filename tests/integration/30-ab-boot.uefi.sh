#!/bin/bash
# The A/B update cycle on an installed disk, UEFI: see ab-boot.sh.
FW=uefi
. "$(dirname "$0")/ab-boot.sh"
