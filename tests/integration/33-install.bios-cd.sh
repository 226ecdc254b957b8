#!/bin/bash
# Unattended install from the ISO as a CD on BIOS: see install.sh.
FW=bios MEDIA=cd
. "$(dirname "$0")/install.sh"
