#!/bin/bash
# Two clean builds of the same inputs and SOURCE_DATE_EPOCH, with different parallelism, make
# bit-identical ISOs, disk images and bundles. Both sign with the same keys (scratch_repo copies
# out/keys): the signatures carry a fixed time, sbsign runs under faketime.
. "$(dirname "$0")/common.sh"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
scratch_repo own-packages
a=$SCRATCH
$IMGBUILD -j 1 build >"$a/log" 2>&1
trap - EXIT
scratch_repo own-packages
b=$SCRATCH
trap 'rm -rf "$a" "$b"' EXIT
$IMGBUILD -j 2 build >"$b/log" 2>&1
iso=$NAME-$(cat VERSION).iso
check 1 "first clean build made $iso" test -f "$a/out/$iso"
check 2 "second clean build made $iso" test -f "$b/out/$iso"
check 3 "the two ISOs are bit-identical" cmp "$a/out/$iso" "$b/out/$iso"
check 4 "and so are their initramfs and payload" cmp "$a/out/images/$NAME/iso/boot/initrd.img" "$b/out/images/$NAME/iso/boot/initrd.img"
check 5 "and their disk images" cmp "$a/out/${iso%.iso}.img" "$b/out/${iso%.iso}.img"
check 6 "and their update bundles" cmp "$a/out/${iso%.iso}.bundle" "$b/out/${iso%.iso}.bundle"
[ "$FAILED" = 0 ] || sed 's/^/#   /' "$a/log" "$b/log"
exit $FAILED
