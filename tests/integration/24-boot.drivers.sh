#!/bin/bash
# Driver families (issue 10, point 3): a VM with an e1000 NIC, a virtio-scsi disk, an NVMe disk
# and a network card the image has no driver for boots the ISO (BIOS, CD) to BOOT-OK, and init
# loads exactly the drivers that hardware needs, each logged with the device that needed it.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d "${TMPDIR:-/tmp}/drivers-test.XXXXXX")
trap 'rm -rf "$t"' EXIT
truncate -s 64M "$t/scsi.img" "$t/nvme.img"
export QEMU_BOOT_NAME=boot-drivers
log=$LOG_DIR/$QEMU_BOOT_NAME.log
# rtl8139: a network card of no family in the image, which init must name.
qemu_boot "$ISO" bios cd 'BOOT-OK|BOOT-FAILED' "${BOOT_TIMEOUT:-200}" \
	-netdev user,id=n0 -device e1000,netdev=n0 -netdev user,id=n1 -device rtl8139,netdev=n1 \
	-device virtio-scsi-pci,id=scsi0 -drive "file=$t/scsi.img,if=none,id=d1,format=raw" \
	-device scsi-hd,drive=d1,bus=scsi0.0 \
	-drive "file=$t/nvme.img,if=none,id=d2,format=raw" -device nvme,drive=d2,serial=nvme1 >/dev/null
tr -d '\r' <"$log" >"$t/log" 2>/dev/null || : >"$t/log"
check 1 "boots to BOOT-OK with an e1000, a virtio-scsi disk and an NVMe disk (serial log: $log)" \
	grep -qx "BOOT-OK bank=live version=$VERSION" "$t/log"

# "init: loaded MODULE for pci 0000:00:03.0 (8086:100e)": a driver and the device that needed it;
# "init: loaded MODULE for DRIVER": a module that driver needs.
sed -n 's/^init: loaded \([^ ]*\) for \([^ ]*\) .*/\1 \2/p' "$t/log" | sort >"$t/drivers"
sed -n 's/^init: loaded \([^ ]*\) for \([^ ]*\)$/\1 \2/p' "$t/log" | sort >"$t/deps"
# The drivers this hardware needs: the NIC, the virtio transport and SCSI controller, the NVMe
# controller, the disk driver for the virtio-scsi disk; and what the CD boot itself needs (the
# PIIX IDE controller of QEMU's PC and the CD-ROM driver).
# And KVM's module for the CPU: QEMU's default CPU (qemu64) has AMD-V (svm), so kvm_amd, matched
# by the CPU's modalias; never kvm_intel (no vmx).
# Those built into the kernel (ours has sd_mod and virtio_pci built in; Debian's has neither) are
# never loaded: they leave the list.
kpkg=$("$OUT/bin/imgbuild" -o "$OUT" list | awk '$1 == "kernel" { print $5 }')
builtin=$(tar --zstd -xOf "$kpkg" --wildcards '*/modules.builtin' 2>/dev/null | sed 's|.*/||; s|\.ko$||; s|-|_|g')
expected=$(printf '%s\n' "ata_piix pci" "e1000 pci" "kvm_amd cpu" "nvme pci" "sd_mod scsi" "sr_mod scsi" "virtio_pci pci" \
	"virtio_scsi virtio" | while read -r m bus; do grep -qx "$m" <<<"$builtin" || echo "$m $bus"; done)
check 2 "the drivers loaded, with their buses, are exactly: $(echo $expected | tr '\n' ' ') (got: $(tr '\n' ' ' <"$t/drivers"))" \
	test "$(cat "$t/drivers")" = "$expected"
check 3 "e1000 is logged with the device that needed it" \
	grep -qE '^init: loaded e1000 for pci [0-9a-f:.]+ \(8086:100e\)$' "$t/log"
# Each dependency was loaded for one of those drivers (or for another dependency), never alone.
bad=$(awk 'NR==FNR { ok[$1] = 1; next } !($2 in ok) { print }' <(cat "$t/drivers" "$t/deps") "$t/deps")
check 4 "every other module loaded was needed by one of them (stray: ${bad:-none}; loaded: $(cut -d' ' -f1 "$t/deps" | tr '\n' ' '))" \
	test -z "$bad"
check 5 "nvme's own dependency nvme_core was loaded for it" grep -qx 'init: loaded nvme_core for nvme' "$t/log"
unwanted=$(grep -oE '^init: loaded (kvm_intel|tg3|bnx2|bnxt_en|igb|e1000e|ixgbe|i40e|vmxnet3|virtio_net|virtio_blk|ahci|megaraid_sas|mpt3sas|aacraid|qla2xxx|lpfc|usb_storage|uas|xhci_pci) ' "$t/log" | tr '\n' ' ')
check 6 "no driver for hardware that is not there (kvm_intel, tg3, igb, megaraid_sas, qla2xxx, virtio_blk ...) was loaded${unwanted:+: $unwanted}" \
	test -z "$unwanted"
check 7 "the rtl8139 card, which no family in the image drives, is logged as such" \
	grep -qE '^init: no driver in the image for pci [0-9a-f:.]+ \(10ec:8139\), a network controller;' "$t/log"
# The families' firmware (Debian's non-free-firmware packages): every file a family names is in
# the ISO's initramfs or its system payload, and sizes.txt reports none missing.
xorriso -osirrox on -indev "$ISO" -extract /boot/initrd.img "$t/initrd.img" \
	-extract /boot/system.cpio "$t/system.cpio" >/dev/null 2>&1
(cd "$t" && cpio -id --quiet system.sqfs <system.cpio) 2>/dev/null
{
	zstd -dc "$t/initrd.img" 2>/dev/null | cpio -t 2>/dev/null | sed -n 's|^lib/firmware/||p'
	unsquashfs -lc "$t/system.sqfs" 2>/dev/null | sed -n 's|^squashfs-root/\(usr/\)\{0,1\}lib/firmware/||p'
} | sort -u >"$t/fw"
want=$(for r in recipes/*/*.recipe; do sed -n 's/^firmware = //p; s/^  *\([a-z0-9].*\)$/\1/p' "$r" | grep -v '=' ; done | tr ' \\' '\n\n' | grep . | sort -u)
missing=$(comm -23 <(echo "$want") "$t/fw" | tr '\n' ' ')
check 8 "the ISO's initramfs and payload hold every firmware file the families name ($(echo "$want" | wc -l) files: tg3, bnx2, qla2xxx)${missing:+; missing: $missing}" \
	eval '[ -z "$missing" ] && [ "$(echo "$want" | wc -l)" -ge 11 ] && ! grep -q "^# firmware-missing" "$OUT/images/$NAME/sizes.txt"'
echo "1..8"
exit "$FAILED"
