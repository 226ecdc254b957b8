#!/bin/bash
# The A/B cycle on an installed disk, booted for real under QEMU (sourced by 30-ab-boot.<fw>.sh
# with FW set): bank A boots; v2 staged into B boots as a trial and is kept; rollback goes back
# to A; a v3 whose init panics uses up its tries and the host falls back to A with v3 marked bad;
# a bank whose kernel is corrupted on disk is passed over.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
NAME_PREFIX=ab-$FW
disk=$t/disk.img
fresh_disk "$disk"
ok_line() { echo "BOOT-OK bank=$1 version=$2"; }

boot_expect 1 "$disk" "$FW" "$(ok_line A "$VERSION")" "first boot: BOOT-OK bank=A version=$VERSION"

"$BANKCTL" --disk "$disk" stage "$VARIANTS/v2.bundle" >/dev/null
boot_expect 2 "$disk" "$FW" "$(ok_line B 2.0.0)" "after staging v2: BOOT-OK bank=B version=2.0.0"
check 3 "bank B is marked good by the booted system" test "$(bank_field "$disk" B state)" = good
boot_expect 4 "$disk" "$FW" "$(ok_line B 2.0.0)" "the next boot stays on B"

"$BANKCTL" --disk "$disk" rollback >/dev/null
boot_expect 5 "$disk" "$FW" "$(ok_line A "$VERSION")" "after rollback: BOOT-OK bank=A version=$VERSION"

"$BANKCTL" --disk "$disk" stage "$VARIANTS/v3-panics.bundle" >/dev/null
for try in 1 2 3; do
	boot_expect $((5 + try)) "$disk" "$FW" "Kernel panic" "v3 trial boot $try: its init exits and the kernel panics"
done
check 9 "v3 has no tries left" test "$(bank_field "$disk" B tries)" = 0
boot_expect 10 "$disk" "$FW" "$(ok_line A "$VERSION")" "after three failed tries: BOOT-OK bank=A version=$VERSION"
check 11 "v3's bank is marked bad" test "$(bank_field "$disk" B state)" = bad

# A kernel damaged on disk after staging: GRUB cannot load it and boots the other bank.
"$BANKCTL" --disk "$disk" stage "$VARIANTS/v2.bundle" >/dev/null
head -c 4096 /dev/urandom >"$t/junk"
b_off=$(( (4096 + 65536 + 204800) * 512 ))
MTOOLS_SKIP_CHECK=1 mcopy -o -i "$disk@@$b_off" "$t/junk" ::/boot/vmlinuz
check 12 "bankctl still predicts B (its files are present)" test "$(next_bank "$disk")" = B
boot_expect 13 "$disk" "$FW" "$(ok_line A "$VERSION")" "bank B's kernel corrupted: GRUB falls back, BOOT-OK bank=A"
exit $FAILED
