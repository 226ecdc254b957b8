#!/bin/bash
# Unattended install from the ISO written to a USB stick, on UEFI: see install.sh.
FW=uefi MEDIA=disk
. "$(dirname "$0")/install.sh"
