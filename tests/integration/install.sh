#!/bin/bash
# Unattended install from the ISO (sourced by 33-install.<fw>.sh with FW and MEDIA set): an
# answer file on a FAT volume labelled KS installs to the first local disk without a prompt,
# never onto the medium it booted from, and the installed disk boots to BOOT-OK bank=A.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
NAME_PREFIX=install-$FW-$MEDIA

# ks_volume FILE TEXT: a FAT image labelled KS holding ks.cfg.
ks_volume() {
	printf "$2" >"$t/ks.cfg"
	mkfs.fat -C -n KS "$1" 2048 >/dev/null && MTOOLS_SKIP_CHECK=1 mcopy -i "$1" "$t/ks.cfg" ::/ks.cfg
}
ks_volume "$t/ks.img" 'vmaccepteula\nrootpw VMware1!\ninstall --firstdisk --overwritevmfs\nnetwork --bootproto=dhcp\npoweroff\n'
truncate -s 1G "$t/target.img"
blank=$(sha256sum <"$t/target.img")
# On a USB stick (MEDIA=disk) the ISO is the first disk: --firstdisk must pass over it.
drives=(-drive "file=$t/target.img,format=raw,if=virtio" -drive "file=$t/ks.img,format=raw,if=virtio")
target=vda
[ "$MEDIA" = disk ] && target=vdb

export QEMU_BOOT_NAME=$NAME_PREFIX-1
if qemu_boot "$ISO" "$FW" "$MEDIA" 'INSTALL-OK|INSTALL-FAILED' "${BOOT_TIMEOUT:-200}" "${drives[@]}" >/dev/null 2>&1 &&
	tr -d '\r' <"$LOG_DIR/$QEMU_BOOT_NAME.log" | grep -aq "^INSTALL-OK disk=$target version=$VERSION"; then
	echo "ok 1 - ks.cfg on a KS volume: unattended install onto $target (the boot medium left alone)"
else
	echo "not ok 1 - unattended install (serial log: $LOG_DIR/$QEMU_BOOT_NAME.log)"
	tr -d '\r' <"$LOG_DIR/$QEMU_BOOT_NAME.log" | grep -a 'INSTALL\|init:\|BOOT' | sed 's/^/#   /'
	FAILED=1
fi
boot_expect 2 "$t/target.img" "$FW" "BOOT-OK bank=A version=$VERSION" "the installed disk boots: BOOT-OK bank=A version=$VERSION"
check 3 "ks.cfg's settings are kept on the persist partition" \
	bash -c "MTOOLS_SKIP_CHECK=1 mtype -i '$t/target.img@@$((479232 * 512))' ::/state/install.conf | grep -q '^rootpw=\\\$6\\\$'"
check 5 "the GPT fits the 1 GiB disk: backup at its end, sfdisk --verify finds no error" \
	bash -c "sfdisk --verify '$t/target.img' 2>&1 | grep -q 'No errors detected' && ! sfdisk --verify '$t/target.img' 2>&1 | grep -q 'not on the end'"

if [ "$FW" = bios ]; then
	ks_volume "$t/bad-ks.img" 'vmaccepteula\nrootpw x\ninstall --firstdisk\nclearpart --alldrives\npoweroff\n'
	truncate -s 0 "$t/target.img" && truncate -s 1G "$t/target.img"
	export QEMU_BOOT_NAME=$NAME_PREFIX-4
	qemu_boot "$ISO" "$FW" "$MEDIA" 'INSTALL-OK|INSTALL-FAILED' "${BOOT_TIMEOUT:-200}" \
		-drive "file=$t/target.img,format=raw,if=virtio" -drive "file=$t/bad-ks.img,format=raw,if=virtio" >/dev/null 2>&1
	log=$(tr -d '\r' <"$LOG_DIR/$QEMU_BOOT_NAME.log")
	if grep -q "ks.cfg:4: unknown command 'clearpart'" <<<"$log" && grep -q "^INSTALL-FAILED reason=ks-invalid" <<<"$log" &&
		[ "$(sha256sum <"$t/target.img")" = "$blank" ]; then
		echo "ok 4 - an unknown ks.cfg command stops the install with its line on the console; the disk is untouched"
	else
		echo "not ok 4 - a bad ks.cfg"; grep -a 'INSTALL\|init:' <<<"$log" | sed 's/^/#   /'; FAILED=1
	fi
fi
exit $FAILED
