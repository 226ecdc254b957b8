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
# shim, tests/crash/crashshim.c, runs the change at the first write to the disk). bankctl reads
# the file in place (mapped): a byte flipped then is caught by the read-back's hash, and a file
# cut short is found before its lost pages are written (where bankctl itself reads them, they
# raise SIGBUS, which it reports too); either way bank B stays empty, bank A boots.
changed() {
	local what=$1 change=$2 want=$3 st
	n=$((n + 1))
	fresh_disk "$t/changed.img"
	cp "$VARIANTS/v2.bundle" "$t/changed.bundle"
	: >"$t/counter"
	LD_PRELOAD=$OUT/test/crash/crashshim.so CRASH_FILES=$t/changed.img CRASH_COUNTER=$t/counter CRASH_AT=1 \
		CRASH_MODE=run CRASH_RUN=$change "$BANKCTL" --disk "$t/changed.img" stage "$t/changed.bundle" >"$t/out" 2>&1
	st=$?
	if [ $st -eq 1 ] && grep -qF -- "$want" "$t/out" && [ "$(bank_field "$t/changed.img" B state)" = empty ] &&
		[ "$(next_bank "$t/changed.img")" = A ]; then
		echo "ok $n - $what: exit 1, bank B empty, bank A boots next: $(grep bankctl: "$t/out" | tail -n 1)"
	else
		echo "not ok $n - $what: exit $st, expected '$want', bank B empty and bank A next; got:"
		sed 's/^/#   /' "$t/out"
		"$BANKCTL" --disk "$t/changed.img" status | sed 's/^/#   /'
		FAILED=1
	fi
}
changed "a bundle file with a byte flipped after its verify pass" \
	"printf '\\125' | dd of=$t/changed.bundle bs=1 seek=5000000 conv=notrunc status=none" "as read back from bank B does not match"
changed "a bundle file cut short after its verify pass" "truncate -s 5000000 $t/changed.bundle" \
	"was cut short while it was being staged"

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
