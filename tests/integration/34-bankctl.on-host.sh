#!/bin/bash
# bankctl on the running host (BIOS, installed disk): the appliance stages a bundle from a second
# disk into its inactive bank. A power cut in the middle of the write (QEMU killed) leaves bank B
# empty and the host boots bank A; a complete staging boots bank B with v2 next, with the
# configuration hostcfg saved carried over; a rollback finds bank A's saved copy as it was.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'qemu_kill 2>/dev/null; rm -rf "$t"' EXIT
disk=$t/disk.img
fresh_disk "$disk"
bundle=(-drive "file=$VARIANTS/v2.bundle,format=raw,if=virtio,readonly=on")
n=0
step() { n=$((n + 1)); if "$@"; then echo "ok $n - $WHAT"; else echo "not ok $n - $WHAT"; FAILED=1; fi; }
fail_log() { echo "# console:"; qemu_log | tail -n 25 | sed 's/^/#   /'; }

# boot_shell NAME: boot the disk with the bundle attached; 0 once the shell answers.
boot_shell() {
	export QEMU_BOOT_NAME=on-host-$1 # qemu_kill keeps the console log under that name
	qemu_start "$disk" bios disk-rw "${bundle[@]}"
	qemu_wait 'BOOT-OK|BOOT-FAILED' 150 && qemu_login && qemu_mark && qemu_send 'echo shell-$((6*7))' &&
		qemu_wait 'shell-42' 30
}

WHAT="installed disk boots bank A and its shell runs bankctl (on the payload's PATH)"
step boot_shell cut
qemu_log | grep -q "BOOT-OK bank=A version=$VERSION" || { FAILED=1; fail_log; }
qemu_mark; qemu_send "bankctl status"
WHAT="bankctl status on the host: bank A running, next boot A"
step qemu_wait 'A +good .*\(running\)' 20

# Cut the power as soon as the write has begun.
qemu_mark; qemu_send "bankctl stage /dev/vdb"
WHAT="bankctl stage on the host verifies the bundle and starts writing bank B"
step qemu_wait 'writing bank' 120
qemu_kill
WHAT="after the power cut mid-write: bank B is empty, bank A good, GRUB boots A next"
step test "$(bank_field "$disk" B state)/$(bank_field "$disk" A state)/$(next_bank "$disk")" = empty/good/A

WHAT="the host boots bank A again after the cut: BOOT-OK bank=A version=$VERSION"
step boot_shell again
qemu_log | grep -q "BOOT-OK bank=A version=$VERSION" || { FAILED=1; fail_log; }
# hostcfg's save, not the saver's (which would come 2 s later, or at shutdown): the staging below
# must find it in /bootbank/state.tgz.
qemu_mark; qemu_send 'hostcfg set hostname=edge-42 && hostcfg save && echo "saved-$((6*7))"'
WHAT="hostcfg set and save: the configuration in /bootbank/state.tgz"
step qemu_wait 'saved-42' 60 || fail_log
qemu_mark; qemu_send "bankctl stage /dev/vdb && grep version= /altbootbank/boot.cfg"
WHAT="a complete staging on the host: v2 in bank B, and /altbootbank mounted again shows it"
step qemu_wait 'version="2.0.0"' 240 || fail_log
qemu_send "sync"; sleep 2
qemu_kill
WHAT="bankctl --disk on the build host agrees: bank B trial 2.0.0 boots next"
step test "$(bank_field "$disk" B state)/$(bank_field "$disk" B version)/$(next_bank "$disk")" = trial/2.0.0/B

WHAT="the next boot is bank B: BOOT-OK bank=B version=2.0.0"
step boot_shell staged
qemu_log | grep -q "BOOT-OK bank=B version=2.0.0" || { FAILED=1; fail_log; }
qemu_mark; qemu_send 'echo "name=$(hostname)"'
WHAT="bank B booted with the configuration carried over from bank A (hostname edge-42)"
step qemu_wait 'name=edge-42' 20 || fail_log
qemu_kill

# state.tgz of a bank of $disk, into $t/state-A or $t/state-B.
state_of() { mtype -i "$disk@@$(($1 * 512))" ::/state.tgz >"$t/state-$2" 2>/dev/null; }
WHAT="bankctl rollback on the build host: bank A boots next with its saved configuration as it was"
step eval '"$BANKCTL" --disk "$disk" rollback >/dev/null && [ "$(next_bank "$disk")" = A ] &&
	state_of 69632 A && state_of 274432 B && [ -s "$t/state-A" ] && cmp -s "$t/state-A" "$t/state-B"' 
exit $FAILED
