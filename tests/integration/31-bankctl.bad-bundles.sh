#!/bin/bash
# Bad bundles are refused with a clear message and a non-zero exit, and leave both banks and the
# boot state byte-identical; a good one stages.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
disk=$t/disk.img
fresh_disk "$disk"
before=$(sha256sum <"$disk")

head -c 4000000 "$VARIANTS/v2.bundle" >"$t/truncated.bundle"
cp "$VARIANTS/v2.bundle" "$t/flipped.bundle"
printf '\x55' | dd of="$t/flipped.bundle" bs=1 seek=5000000 conv=notrunc status=none
printf 'this is not a bundle\n' >"$t/text.bundle"

n=0
refused() {
	local what=$1 bundle=$2 want=$3 st
	n=$((n + 1))
	"$BANKCTL" --disk "$disk" stage "$bundle" >"$t/out" 2>&1
	st=$?
	if [ $st -eq 1 ] && grep -qF -- "$want" "$t/out" && [ "$(sha256sum <"$disk")" = "$before" ]; then
		echo "ok $n - $what: exit 1, disk unchanged: $(grep bankctl: "$t/out" | tail -n 1)"
	else
		echo "not ok $n - $what: exit $st, expected '$want' and an unchanged disk; got:"
		sed 's/^/#   /' "$t/out"
		FAILED=1
	fi
}
refused "truncated bundle" "$t/truncated.bundle" "truncated"
refused "one flipped byte" "$t/flipped.bundle" "does not match its sha256"
refused "another product" "$VARIANTS/other.bundle" "the bundle is for 'otherappliance', this host runs 'hypervisor'"
refused "a downgrade" "$VARIANTS/v0.9.bundle" "version 0.9.0 is older than the running $VERSION; refusing a downgrade"
refused "larger than the bank" "$VARIANTS/too-big.bundle" "does not fit bank B"
refused "not a bundle" "$t/text.bundle" "not an update bundle"
refused "a missing file" "$t/nothere.bundle" "not an update bundle"

# A bundle file changed by someone else while it is staged, after its verify pass (the crash
# shim, tests/crash/crashshim.c, runs the change at the first write to the disk). bankctl writes
# the copy of bank.img it verified, never the file again: the bank gets the signed bytes, the
# same as a staging of the unchanged bundle ($t/ref.img).
BANK_B_AT=$((274432 * 512)) BANK_LEN=$((100 * 1048576))
fresh_disk "$t/ref.img"
"$BANKCTL" --disk "$t/ref.img" stage "$VARIANTS/v2.bundle" >/dev/null 2>&1 || echo "# the reference staging failed"
same_bank_b() {
	cmp -s -n "$BANK_LEN" -i "$BANK_B_AT:$BANK_B_AT" "$1" "$t/ref.img"
}
# stage_shimmed N CHANGE: stage v2 onto $t/changed.img, CHANGE run at the disk's N-th change.
stage_shimmed() {
	: >"$t/counter"
	LD_PRELOAD=$OUT/test/crash/crashshim.so CRASH_FILES=$t/changed.img CRASH_COUNTER=$t/counter CRASH_AT=$1 \
		CRASH_MODE=run CRASH_RUN=$2 CRASH_LOG=$t/calls "$BANKCTL" --disk "$t/changed.img" stage \
		"$t/changed.bundle" >"$t/out" 2>&1
}
changed() {
	local what=$1 change=$2 st
	n=$((n + 1))
	fresh_disk "$t/changed.img"
	cp "$VARIANTS/v2.bundle" "$t/changed.bundle"
	stage_shimmed 1 "$change"
	st=$?
	if [ $st -eq 0 ] && grep -q "staged hypervisor 2.0.0" "$t/out" && [ "$(bank_field "$t/changed.img" B state)" = trial ] &&
		same_bank_b "$t/changed.img"; then
		echo "ok $n - $what: staged, and bank B holds the verified bytes (as staged from the unchanged bundle)"
	else
		echo "not ok $n - $what: exit $st, expected the bundle staged and bank B as staged from the unchanged bundle; got:"
		sed 's/^/#   /' "$t/out"
		"$BANKCTL" --disk "$t/changed.img" status | sed 's/^/#   /'
		FAILED=1
	fi
}
changed "a bundle file with a byte flipped after its verify pass" \
	"printf '\\125' | dd of=$t/changed.bundle bs=1 seek=5000000 conv=notrunc status=none"
changed "a bundle file cut short after its verify pass" "truncate -s 5000000 $t/changed.bundle"

# A disk that does not keep what was written: a byte of bank B changed on the disk after its
# piece was written (at the next call, that piece's sync_file_range). The read-back finds it.
n=$((n + 1))
fresh_disk "$t/changed.img"
cp "$VARIANTS/v2.bundle" "$t/changed.bundle"
stage_shimmed 0 true
read -r at piece_len call < <(awk '$2 == "pwrite" && ++k == 5 { print $3, $4, $1 }' "$t/calls")
flip_at=$((at + piece_len / 2))
byte=$(od -An -tu1 -j "$flip_at" -N1 "$t/ref.img" | tr -d ' ')
fresh_disk "$t/changed.img"
stage_shimmed $((call + 1)) "printf '\\$(printf %03o $(((byte + 1) % 256)))' | dd of=$t/changed.img bs=1 seek=$flip_at conv=notrunc status=none"
st=$?
want="as read back from bank B does not match what was written (at byte $((flip_at - BANK_B_AT)) of the bank)"
if [ $st -eq 1 ] && grep -qF -- "$want" "$t/out" && [ "$(bank_field "$t/changed.img" B state)" = empty ] &&
	[ "$(next_bank "$t/changed.img")" = A ]; then
	echo "ok $n - a disk that does not keep a byte of bank B: exit 1, bank B empty, bank A boots next: $(grep bankctl: "$t/out" | tail -n 1)"
else
	echo "not ok $n - a disk that does not keep a byte: exit $st, expected '$want', bank B empty and bank A next; got:"
	sed 's/^/#   /' "$t/out"
	FAILED=1
fi

n=$((n + 1))
if "$BANKCTL" --disk "$disk" stage "$VARIANTS/v0.9.bundle" --allow-downgrade >"$t/out" 2>&1; then
	echo "ok $n - --allow-downgrade stages the older version"
else
	echo "not ok $n - --allow-downgrade"; sed 's/^/#   /' "$t/out"; FAILED=1
fi
n=$((n + 1))
if "$BANKCTL" --disk "$disk" stage "$VARIANTS/v2.bundle" >"$t/out" 2>&1 && grep -q "staged hypervisor 2.0.0" "$t/out" &&
	[ "$(bank_field "$disk" B state)" = trial ] && [ "$(bank_field "$disk" B version)" = 2.0.0 ] &&
	[ "$(next_bank "$disk")" = B ]; then
	echo "ok $n - a good bundle stages into bank B, which boots next as a trial"
else
	echo "not ok $n - a good bundle stages"; sed 's/^/#   /' "$t/out"; "$BANKCTL" --disk "$disk" status | sed 's/^/#   /'; FAILED=1
fi
n=$((n + 1))
"$BANKCTL" --disk "$disk" bogus >"$t/out" 2>&1
st=$?
[ $st -eq 2 ] && grep -q "unknown command 'bogus'" "$t/out" && echo "ok $n - an unknown command is a usage error (exit 2)" ||
	{ echo "not ok $n - unknown command: exit $st"; FAILED=1; }
exit $FAILED
