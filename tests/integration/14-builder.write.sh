#!/bin/bash
# imgbuild write: the disk image written to a target holds the same bytes, only the data blocks
# were written, and a target that is neither a block device nor a file is refused.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
"$OUT/bin/imgbuild" write "$DISK_IMG" "$t/stick.img" 2>"$t/log"
check 1 "the written file is byte-identical to the image" cmp "$DISK_IMG" "$t/stick.img"
check 2 "it reports the data written and verified" grep -q "flushed and verified" "$t/log"
check 3 "only the data blocks were written: the copy stays sparse" \
	test "$(du -k "$t/stick.img" | cut -f1)" -lt $(( $(stat -c %s "$DISK_IMG") / 1024 / 4 ))
"$OUT/bin/imgbuild" write "$DISK_IMG" /dev/null 2>"$t/log"
st=$?
check 4 "a character device is refused (exit $st): $(cat "$t/log")" bash -c "[ $st = 1 ] && grep -q 'not a block device or a file' '$t/log'"
"$OUT/bin/imgbuild" write "$DISK_IMG" 2>"$t/log"
st=$?
check 5 "a missing target is a usage error (exit $st)" test $st = 2

# bankctl install: the same write onto a larger disk, with the GPT fitted to it.
truncate -s 1G "$t/disk.img"
"$BANKCTL" --disk "$t/disk.img" install "$DISK_IMG" >"$t/out" 2>&1
check 6 "bankctl install onto a 1 GiB disk file: bank A good with this version, boots next" \
	bash -c "grep -q '^A  *good .*$VERSION' '$t/out' && grep -q 'next boot: bank A' '$t/out'"
check 7 "  ... the disk keeps its size and its backup GPT is at its end (sfdisk --verify: no errors)" \
	bash -c "[ \$(stat -c %s '$t/disk.img') = 1073741824 ] && sfdisk --verify '$t/disk.img' 2>&1 | grep -q 'No errors detected' &&
		! sfdisk --verify '$t/disk.img' 2>&1 | grep -q 'not on the end'"
"$BANKCTL" install "$DISK_IMG" >"$t/out" 2>&1
st=$?
check 8 "bankctl install without --disk is a usage error (exit $st): $(cat "$t/out")" test $st = 2
exit $FAILED
