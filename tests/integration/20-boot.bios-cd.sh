#!/bin/bash
# The ISO boots on BIOS as a CD, under QEMU (TCG), to BOOT-OK. GRUB loads only the kernel and the
# initramfs: init finds the CD itself and copies the system payload from it (payload=medium); a
# boot that says payload=medium with no such medium stops with a reason and changes nothing, and
# one whose medium holds another payload (hashed by init as it copies it) stops too.
. "$(dirname "$0")/common.sh"
echo "1..4"
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
# fails_with NAME IMAGE MEDIA REASON LINE: the ISO's kernel and initramfs (payload=medium) booted
# with IMAGE attached as MEDIA stop with BOOT-FAILED reason=REASON, the console saying LINE (grep).
fails_with() {
	export QEMU_BOOT_NAME=$1
	qemu_boot "$2" bios "$3" 'BOOT-OK|BOOT-FAILED' 120 -kernel "$t/vmlinuz" -initrd "$t/initrd.img" \
		-append "console=ttyS0,115200 quiet panic=5 bootbank=live payload=medium" >/dev/null &&
		tr -d '\r' <"$LOG_DIR/$1.log" | grep -aqx "BOOT-FAILED reason=$4" &&
		tr -d '\r' <"$LOG_DIR/$1.log" | grep -aq -- "$5"
}
truncate -s 64M "$t/empty.img"
if fails_with boot-no-medium "$t/empty.img" disk no-boot-medium 'cannot find the boot medium (the ISO 9660 volume HYPERVISOR)'; then
	echo "ok 3 - payload=medium with no ISO attached: BOOT-FAILED reason=no-boot-medium, the medium named"
else
	echo "not ok 3 - payload=medium with no ISO attached: expected BOOT-FAILED reason=no-boot-medium (serial log: $LOG_DIR/boot-no-medium.log)"
fi

# The same kernel and initramfs, and a copy of the ISO whose payload has one byte changed: init
# hashes the payload as it copies it from the CD, and refuses it.
xorriso -osirrox on -indev "$ISO" -extract /boot/system.cpio "$t/system.cpio" >>"$t/xorriso.log" 2>&1
chmod u+w "$t/system.cpio"
printf '\x55' | dd of="$t/system.cpio" bs=1 seek=1048576 conv=notrunc status=none
xorriso -indev "$ISO" -outdev "$t/other.iso" -update "$t/system.cpio" /boot/system.cpio >>"$t/xorriso.log" 2>&1
if fails_with boot-other-payload "$t/other.iso" cd payload-tampered "has sha256 [0-9a-f]\{64\}, but this image's is"; then
	echo "ok 4 - a medium holding another payload: BOOT-FAILED reason=payload-tampered, both hashes named"
else
	echo "not ok 4 - a medium holding another payload: expected BOOT-FAILED reason=payload-tampered (serial log: $LOG_DIR/boot-other-payload.log)"
fi
