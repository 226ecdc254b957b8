#!/bin/bash
# The interactive installer (BIOS, ISO as a CD, no answer file): "Install to local disk" picked
# in GRUB's menu (Esc during its countdown) lists the local disks with size and model, never the CD it booted from, asks
# which and for a typed YES, installs, and the chosen disk then boots to BOOT-OK bank=A.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'qemu_kill 2>/dev/null; rm -rf "$t"' EXIT
n=0
step() { n=$((n + 1)); if "$@"; then echo "ok $n - $WHAT"; else echo "not ok $n - $WHAT"; qemu_log | tail -n 15 | sed 's/^/#   /'; FAILED=1; fi; }
truncate -s 1G "$t/small.img"
truncate -s 2G "$t/big.img"
blank=$(sha256sum <"$t/small.img")

# A virtio disk (no model) and a SATA disk with a model string, as a server's would have.
QEMU_BOOT_NAME=install-interactive qemu_start "$ISO" bios cd \
	-drive "file=$t/small.img,format=raw,if=virtio" -device ahci,id=ahci \
	-drive "file=$t/big.img,format=raw,if=none,id=big" -device ide-hd,drive=big,bus=ahci.0,model=TESTDISK-2G
# GRUB counts down 1 s under one line that names its keys; Esc stops it and shows the menu.
WHAT="GRUB's countdown says how to reach the menu and the installer"
step qemu_wait 'Esc: the menu; i: install to local disk' 60
qemu_keys '\e'
WHAT="Esc shows GRUB's menu, which offers \"Install to local disk\""
step qemu_wait 'Install to local disk' 30
qemu_keys '\e[B'; sleep 0.5; qemu_keys '\r'
WHAT="the installer lists both disks with their sizes, and not the CD it booted from"
step qemu_wait 'Install on which disk\? \[1-2\]' 150
listing=$(qemu_log | sed -n '/Disks you can install to:/,/Install on which disk/p')
WHAT="  ... vda 1.0 GiB, sda 2.0 GiB TESTDISK-2G listed, sr0 absent"
step eval 'grep -qE "[12]\) vda +1\.0 GiB" <<<"$listing" && grep -qE "[12]\) sda +2\.0 GiB +TESTDISK-2G" <<<"$listing" &&
	! grep -q sr0 <<<"$listing"'
qemu_mark; qemu_send "$(grep -oE '[12]\) sda' <<<"$listing" | cut -c1)"
WHAT="it asks for a typed YES before it erases sda"
step qemu_wait 'This erases everything on sda. Type YES to continue:' 30
qemu_mark; qemu_send YES
WHAT="INSTALL-OK disk=sda version=$VERSION"
step qemu_wait "^INSTALL-OK disk=sda version=$VERSION" 150
qemu_kill
WHAT="the disk not chosen is untouched"
step test "$(sha256sum <"$t/small.img")" = "$blank"
NAME_PREFIX=install-interactive
boot_expect $((n + 1)) "$t/big.img" bios "BOOT-OK bank=A version=$VERSION" "the chosen disk boots: BOOT-OK bank=A version=$VERSION"
exit $FAILED
