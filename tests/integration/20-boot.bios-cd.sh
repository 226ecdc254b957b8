#!/bin/bash
# The ISO boots on BIOS as a CD, under QEMU (TCG), to BOOT-OK. GRUB loads only the kernel and the
# initramfs: init finds the CD itself and copies the system payload from it (payload=medium); a
# boot that says payload=medium with no such medium stops with a reason and changes nothing.
. "$(dirname "$0")/common.sh"
echo "1..3"
expect_boot_ok bios cd || exit 1
log=$LOG_DIR/boot-bios-cd.log
if tr -d '\r' <"$log" | grep -aq '^init: payload read from the boot medium /dev/sr[0-9]$'; then
	echo "ok 2 - bios cd: init read the system payload from the CD (\"$(tr -d '\r' <"$log" | grep -a 'payload read')\")"
else
	echo "not ok 2 - bios cd: no 'init: payload read from the boot medium /dev/srN' line (serial log: $log)"
fi

# The ISO's kernel and initramfs with payload=medium, and no ISO attached (one empty disk).
t=$(mktemp -d "${TMPDIR:-/tmp}/nomedium.XXXXXX")
trap 'rm -rf "$t"' EXIT
xorriso -osirrox on -indev "$ISO" -extract /boot/vmlinuz "$t/vmlinuz" -extract /boot/initrd.img "$t/initrd.img" \
	>"$t/xorriso.log" 2>&1
truncate -s 64M "$t/empty.img"
export QEMU_BOOT_NAME=boot-no-medium
if qemu_boot "$t/empty.img" bios disk 'BOOT-OK|BOOT-FAILED' 120 -kernel "$t/vmlinuz" -initrd "$t/initrd.img" \
	-append "console=ttyS0,115200 quiet panic=5 bootbank=live payload=medium" >/dev/null &&
	tr -d '\r' <"$LOG_DIR/boot-no-medium.log" | grep -aqx 'BOOT-FAILED reason=no-boot-medium' &&
	tr -d '\r' <"$LOG_DIR/boot-no-medium.log" | grep -aq 'cannot find the boot medium (the ISO 9660 volume HYPERVISOR)'; then
	echo "ok 3 - payload=medium with no ISO attached: BOOT-FAILED reason=no-boot-medium, the medium named"
else
	echo "not ok 3 - payload=medium with no ISO attached: expected BOOT-FAILED reason=no-boot-medium (serial log: $LOG_DIR/boot-no-medium.log)"
fi
