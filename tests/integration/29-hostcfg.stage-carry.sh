#!/bin/bash
# hostcfg's state archive through an update (no QEMU): saved into bank A of the build's disk image,
# `bankctl --disk stage` carries it into bank B byte for byte, and `hostcfg restore` of bank B's
# copy gives the same configuration; bank A keeps its own copy for a rollback.
. "$(dirname "$0")/common.sh"
export MTOOLS_SKIP_CHECK=1
HOSTCFG=$OUT/bin/hostcfg
BUNDLE=$OUT/$NAME-$VERSION.bundle
t=$(mktemp -d "${TMPDIR:-/tmp}/hostcfg-carry.XXXXXX")
trap 'rm -rf "$t"' EXIT
BANK_A=$((69632 * 512)) BANK_B=$((274432 * 512))
echo "1..4"
cp --sparse=always "$DISK_IMG" "$t/disk.img"
mkdir -p "$t/a/bootbank" "$t/b/bootbank"
"$HOSTCFG" --root "$t/a" set hostname=carry-01 "ntp-servers=pool.ntp.org" >/dev/null &&
	echo 'Pass-word-123' | "$HOSTCFG" --root "$t/a" user add ops operator >/dev/null
check 1 "a configuration saved by hostcfg goes into bank A's state.tgz" \
	mcopy -i "$t/disk.img@@$BANK_A" "$t/a/bootbank/state.tgz" ::/state.tgz
check 2 "bankctl --disk stage carries it into bank B" \
	bash -c "'$BANKCTL' --disk '$t/disk.img' stage '$BUNDLE' 2>&1 | grep -q 'saved configuration carried over' &&
	mtype -i '$t/disk.img@@$BANK_B' ::/state.tgz >'$t/b/bootbank/state.tgz' && cmp -s '$t/b/bootbank/state.tgz' '$t/a/bootbank/state.tgz'"
check 3 "hostcfg restore of bank B's copy gives the same files" \
	bash -c "'$HOSTCFG' --root '$t/b' restore >/dev/null && diff -r '$t/a/etc' '$t/b/etc'"
check 4 "bank A keeps its copy (a rollback restores it)" \
	bash -c "mtype -i '$t/disk.img@@$BANK_A' ::/state.tgz | cmp -s - '$t/a/bootbank/state.tgz'"
exit $FAILED
