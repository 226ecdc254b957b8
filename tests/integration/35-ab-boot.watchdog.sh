#!/bin/bash
# A staged bank whose system hangs (v4: init stops in its health check, after arming the
# watchdog) is reset by the watchdog on each of its tries; then GRUB falls back to bank A and
# the hung bank is marked bad (BIOS, installed disk).
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
NAME_PREFIX=watchdog
disk=$t/disk.img
fresh_disk "$disk"
"$BANKCTL" --disk "$disk" stage "$VARIANTS/v4-hangs.bundle" >/dev/null
for try in 1 2 3; do
	BOOT_TIMEOUT=150 boot_expect "$try" "$disk" bios "softdog: Initiating system reboot" \
		"v4 trial boot $try: init hangs, the watchdog resets the machine"
done
check 4 "v4 has no tries left" test "$(bank_field "$disk" B tries)" = 0
boot_expect 5 "$disk" bios "BOOT-OK bank=A version=$VERSION" "after three hung tries: BOOT-OK bank=A version=$VERSION"
check 6 "v4's bank is marked bad" test "$(bank_field "$disk" B state)" = bad
exit $FAILED
