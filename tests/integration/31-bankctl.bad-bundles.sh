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
