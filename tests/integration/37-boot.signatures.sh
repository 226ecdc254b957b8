#!/bin/bash
# GRUB enforces signatures on an installed disk (docs/signing.md): v2 staged into bank B, then B's
# kernel, its initrd, its boot.cfg altered on disk in turn: GRUB refuses each (bad signature) and
# bank A boots (BIOS; boot.cfg on UEFI). And init's own check: B given a correctly signed
# system.cpio of another build (bank A's), which GRUB accepts, stops at BOOT-FAILED
# reason=payload-tampered because it is not the payload B's initramfs was built with.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
NAME_PREFIX=signatures
disk=$t/disk.img
fresh_disk "$disk"
export MTOOLS_SKIP_CHECK=1
a_off=$((69632 * 512))
b_off=$((274432 * 512))
ok_line() { echo "BOOT-OK bank=$1 version=$2"; }

# alter FILE: stage v2 into B again (fresh tries), then flip one byte in B's FILE, size unchanged.
alter() {
	"$BANKCTL" --disk "$disk" stage "$VARIANTS/v2.bundle" >/dev/null &&
		mcopy -o -i "$disk@@$b_off" "::$1" "$t/f" &&
		python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); i=len(d)//2; d[i]^=0x55; open(p,'wb').write(d)" "$t/f" &&
		mcopy -o -i "$disk@@$b_off" "$t/f" "::$1"
}

# refused N WHAT: the last boot's log shows GRUB refusing a file for its signature.
refused() {
	check "$1" "$2" grep -aq 'bad signature' "$LOG_DIR/$NAME_PREFIX-$(($1 - 1)).log"
}

alter /boot/vmlinuz
boot_expect 1 "$disk" bios "$(ok_line A "$VERSION")" "B's kernel altered: GRUB falls back, BOOT-OK bank=A (BIOS)"
refused 2 "GRUB refused B's kernel: bad signature"

alter /boot/initrd.img
boot_expect 3 "$disk" bios "$(ok_line A "$VERSION")" "B's initrd altered: GRUB falls back, BOOT-OK bank=A (BIOS)"
refused 4 "GRUB refused B's initrd: bad signature"

alter /boot.cfg
boot_expect 5 "$disk" uefi "$(ok_line A "$VERSION")" "B's boot.cfg altered: B is passed over, BOOT-OK bank=A (UEFI)"
refused 6 "GRUB refused B's boot.cfg: bad signature"

# A signed payload from another build (bank A's, with its valid signature) in bank B.
"$BANKCTL" --disk "$disk" stage "$VARIANTS/v2.bundle" >/dev/null
mcopy -o -i "$disk@@$a_off" ::/boot/system.cpio ::/boot/system.cpio.sig "$t/"
mcopy -o -i "$disk@@$b_off" "$t/system.cpio" "$t/system.cpio.sig" ::/boot/
boot_expect 7 "$disk" bios "BOOT-FAILED reason=payload-tampered" \
	"B with a signed payload of another build: init says BOOT-FAILED reason=payload-tampered"
check 8 "and GRUB had accepted it (B's kernel started)" grep -aq "Loading bank B" "$LOG_DIR/$NAME_PREFIX-7.log"
exit $FAILED
