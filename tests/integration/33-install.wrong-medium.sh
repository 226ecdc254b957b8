#!/bin/bash
# The installer writes bank A's files from the boot medium (issue 10, point 4), and only the
# files its signed image names: a copy of the ISO with one byte of /MANIFEST changed still boots
# (GRUB does not read MANIFEST), but installs nothing: INSTALL-FAILED reason=wrong-medium, the
# file named on the console, the disk untouched.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
FAILED=0

cp "$ISO" "$t/bad.iso"
python3 - "$t/bad.iso" <<'PY' || { echo "not ok 1 - cannot find /MANIFEST's text in the ISO once"; exit 1; }
import sys
path = sys.argv[1]
data = bytearray(open(path, 'rb').read())
needle = b'written by imgbuild.\nproduct = '
at = data.find(needle)
if at < 0 or data.find(needle, at + 1) >= 0:
	sys.exit(1)
data[at + len('written by imgbuil')] = ord('D')
open(path, 'wb').write(data)
PY
printf 'vmaccepteula\nrootpw VMware1!\ninstall --firstdisk\npoweroff\n' >"$t/ks.cfg"
mkfs.fat -C -n KS "$t/ks.img" 2048 >/dev/null && MTOOLS_SKIP_CHECK=1 mcopy -i "$t/ks.img" "$t/ks.cfg" ::/ks.cfg
truncate -s 1G "$t/target.img"
blank=$(sha256sum <"$t/target.img")

export QEMU_BOOT_NAME=install-wrong-medium
qemu_boot "$t/bad.iso" bios cd 'INSTALL-OK|INSTALL-FAILED' "${BOOT_TIMEOUT:-200}" \
	-drive "file=$t/target.img,format=raw,if=virtio" -drive "file=$t/ks.img,format=raw,if=virtio" >/dev/null 2>&1
log=$(tr -d '\r' <"$LOG_DIR/$QEMU_BOOT_NAME.log")
if grep -q '^INSTALL-FAILED reason=wrong-medium disk=-' <<<"$log" &&
	grep -q 'installer: /MANIFEST on the boot medium /dev/sr0 is not the file this installer was built with' <<<"$log"; then
	echo "ok 1 - a medium whose /MANIFEST differs from the one the installer's image names: INSTALL-FAILED reason=wrong-medium"
else
	echo "not ok 1 - a wrong medium is refused (serial log: $LOG_DIR/$QEMU_BOOT_NAME.log)"
	grep -a 'INSTALL\|installer:\|BOOT' <<<"$log" | sed 's/^/#   /'
	FAILED=1
fi
check 2 "nothing was written to the disk" test "$(sha256sum <"$t/target.img")" = "$blank"
exit $FAILED
