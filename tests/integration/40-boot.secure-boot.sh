#!/bin/bash
# UEFI Secure Boot on OVMF (docs/signing.md): the firmware with Secure Boot on and the build's db
# certificate enrolled (signing/ovmf-enroll-db.py over Debian's snakeoil-enrolled VARS) boots the
# ISO and the installed disk to BOOT-OK: it accepts the signed GRUB, which checks the kernel, initrds
# and configs by their OpenPGP signatures; without the build's certificate in db it refuses the
# same GRUB. One byte of BOOTX64.EFI altered on a disk image's ESP: the firmware refuses it.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
export MTOOLS_SKIP_CHECK=1
code=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
vars=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
if [ ! -r "$code" ] || [ ! -r "$vars" ]; then
	echo "ok 1 # SKIP no Secure Boot OVMF ($code, $vars): install ovmf"
	exit 0
fi
# qemu_boot takes OVMF_CODE_4M.fd and a copy of OVMF_VARS_4M.fd from OVMF_DIR.
mkdir "$t/ovmf"
ln -s "$code" "$t/ovmf/OVMF_CODE_4M.fd"
check 1 "the build's db certificate is enrolled into an OVMF VARS file" \
	python3 signing/ovmf-enroll-db.py "$vars" "$OUT/keys/public/db.der" "$t/ovmf/OVMF_VARS_4M.fd"
export OVMF_DIR=$t/ovmf
# The Secure Boot firmware needs SMM, so that only it writes the variable store.
sb=(-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on)

export QEMU_BOOT_NAME=secure-boot-iso
qemu_boot "$ISO" uefi cd 'BOOT-OK|BOOT-FAILED|Access Denied' "${BOOT_TIMEOUT:-150}" "${sb[@]}" >/dev/null 2>&1
log=$LOG_DIR/$QEMU_BOOT_NAME.log
check 2 "Secure Boot on: the ISO boots to BOOT-OK bank=live version=$VERSION" \
	grep -aq "BOOT-OK bank=live version=$VERSION" "$log"

# The same ISO on the same firmware with Debian's snakeoil db (the build's certificate not in it).
mkdir "$t/snakeoil"
ln -s "$code" "$t/snakeoil/OVMF_CODE_4M.fd"
ln -s "$vars" "$t/snakeoil/OVMF_VARS_4M.fd"
export QEMU_BOOT_NAME=secure-boot-not-enrolled
OVMF_DIR=$t/snakeoil qemu_boot "$ISO" uefi cd 'Access Denied|Welcome to GRUB|BOOT-OK' 90 "${sb[@]}" >/dev/null 2>&1
check 3 "the firmware refuses the same GRUB when db lacks the build's certificate (Access Denied)" \
	grep -aq "Access Denied" "$LOG_DIR/$QEMU_BOOT_NAME.log"

disk=$t/disk.img
fresh_disk "$disk"
export QEMU_BOOT_NAME=secure-boot-disk
qemu_boot "$disk" uefi disk 'BOOT-OK|BOOT-FAILED|Access Denied' "${BOOT_TIMEOUT:-150}" "${sb[@]}" >/dev/null 2>&1
check 4 "Secure Boot on: the installed disk boots to BOOT-OK bank=A (A/B grub.cfg under lockdown)" \
	grep -aq "BOOT-OK bank=A version=$VERSION" "$LOG_DIR/$QEMU_BOOT_NAME.log"

esp=$disk@@$((4096 * 512))
mcopy -i "$esp" ::/EFI/BOOT/BOOTX64.EFI "$t/grub.efi"
python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[len(d)//2]^=1; open(p,'wb').write(d)" "$t/grub.efi"
mcopy -o -i "$esp" "$t/grub.efi" ::/EFI/BOOT/BOOTX64.EFI
export QEMU_BOOT_NAME=secure-boot-altered
qemu_boot "$disk" uefi disk 'Access Denied|Welcome to GRUB|BOOT-OK' 90 "${sb[@]}" >/dev/null 2>&1
log=$LOG_DIR/$QEMU_BOOT_NAME.log
check 5 "one byte of the disk's BOOTX64.EFI altered: the firmware refuses it (Access Denied)" \
	grep -aq "Access Denied" "$log"
check 6 "and GRUB never ran" sh -c "! grep -aq 'Welcome to GRUB' '$log'"
[ "$FAILED" = 0 ] || tr -d '\r' <"$log" | grep -a 'BdsDxe\|GRUB\|BOOT' | tail -8 | sed 's/^/#   /'
exit $FAILED
