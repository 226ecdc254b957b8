#!/bin/bash
# GRUB enforces signatures on an installed disk (docs/signing.md): the build's files verify; v2 staged into bank B, then B's
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

# Without booting: what the build signed verifies with the public key GRUB gets, and the EFI GRUB
# and the kernel with the db certificate.
tree=$OUT/images/$NAME/iso
sigs_ok() {
	local f
	for f in boot.cfg boot/vmlinuz boot/initrd.img boot/system.cpio boot/install.cpio boot/grub/grub.cfg; do
		gpgv --keyring "$(realpath "$OUT/keys/public/grub.gpg")" "$tree/$f.sig" "$tree/$f" 2>/dev/null || return 1
	done
	mcopy -i "$disk@@$((4096 * 512))" ::/grub/grub.cfg ::/grub/grub.cfg.sig "$t/" &&
		gpgv --keyring "$(realpath "$OUT/keys/public/grub.gpg")" "$t/grub.cfg.sig" "$t/grub.cfg" 2>/dev/null
}
check 1 "every file GRUB reads (ISO tree, the disk's ESP grub.cfg) has a good OpenPGP signature" sigs_ok
efi_ok() {
	mcopy -i "$disk@@$((4096 * 512))" ::/EFI/BOOT/BOOTX64.EFI "$t/grub.efi" &&
		sbverify --cert "$OUT/keys/public/db.crt" "$t/grub.efi" >/dev/null 2>&1 &&
		sbverify --cert "$OUT/keys/public/db.crt" "$tree/boot/vmlinuz" >/dev/null 2>&1
}
check 2 "the disk's BOOTX64.EFI and the kernel are signed with the Secure Boot db key" efi_ok

alter /boot/vmlinuz
boot_expect 3 "$disk" bios "$(ok_line A "$VERSION")" "B's kernel altered: GRUB falls back, BOOT-OK bank=A (BIOS)"
refused 4 "GRUB refused B's kernel: bad signature"

alter /boot/initrd.img
boot_expect 5 "$disk" bios "$(ok_line A "$VERSION")" "B's initrd altered: GRUB falls back, BOOT-OK bank=A (BIOS)"
refused 6 "GRUB refused B's initrd: bad signature"

alter /boot.cfg
boot_expect 7 "$disk" uefi "$(ok_line A "$VERSION")" "B's boot.cfg altered: B is passed over, BOOT-OK bank=A (UEFI)"
refused 8 "GRUB refused B's boot.cfg: bad signature"

# A signed payload from another build (bank A's, with its valid signature) in bank B.
"$BANKCTL" --disk "$disk" stage "$VARIANTS/v2.bundle" >/dev/null
mcopy -o -i "$disk@@$a_off" ::/boot/system.cpio ::/boot/system.cpio.sig "$t/"
mcopy -o -i "$disk@@$b_off" "$t/system.cpio" "$t/system.cpio.sig" ::/boot/
boot_expect 9 "$disk" bios "BOOT-FAILED reason=payload-tampered" \
	"B with a signed payload of another build: init says BOOT-FAILED reason=payload-tampered"
check 10 "and GRUB had accepted it (B's kernel started)" grep -aq "Loading bank B" "$LOG_DIR/$NAME_PREFIX-9.log"
exit $FAILED
