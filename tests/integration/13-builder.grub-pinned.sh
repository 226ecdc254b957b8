#!/bin/bash
# GRUB is a pinned recipe (recipes/grub): the build host's GRUB plays no part. A scratch build
# with the host's GRUB hidden (empty tmpfs over /usr/lib/grub and /usr/share/grub, grub-mkimage
# replaced by /dev/null, in a private mount namespace) rebuilds the grub package and makes the
# same ISO and disk image, byte for byte, as a build with the host's GRUB in place.
. "$(dirname "$0")/common.sh"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
if ! unshare -m true 2>/dev/null; then
	echo "unshare -m is not permitted here (needs root): cannot hide the host's GRUB"
	exit 77
fi
scratch_repo
a=$SCRATCH
$IMGBUILD build >"$a/log" 2>&1
trap - EXIT
scratch_repo
b=$SCRATCH
trap 'rm -rf "$a" "$b"' EXIT
# The main build's packages, but not grub's: it is built again with the host's GRUB hidden.
mkdir "$b/store"
"$OUT/bin/imgbuild" -o "$OUT" list recipes/images/hypervisor.image | awk '$1 != "grub" { print $5 }' |
	while read -r f; do ln -s "$f" "$b/store/"; done
IMGBUILD="$IMGBUILD --store $b/store"
# shellcheck disable=SC2016
hide='for d in /usr/lib/grub /usr/share/grub; do [ ! -d "$d" ] || mount -t tmpfs -o ro hidden "$d" || exit 1; done
for f in /usr/bin/grub-mkimage /usr/sbin/grub-mkimage; do [ ! -e "$f" ] || mount --bind /dev/null "$f" || exit 1; done
[ -z "$(ls -A /usr/lib/grub 2>/dev/null)" ] || exit 1
exec "$@"'
unshare -m --propagation private sh -c "$hide" sh $IMGBUILD build >"$b/log" 2>&1
iso=$NAME-$(cat VERSION).iso
check 1 "with the host's GRUB hidden, the build makes $iso" test -f "$b/out/$iso"
check 2 "and it built the grub package there (from the pinned .debs)" grep -q "built grub " "$b/log"
check 3 "the ISO is bit-identical to the one built with the host's GRUB in place" cmp "$a/out/$iso" "$b/out/$iso"
check 4 "and so is the disk image" cmp "$a/out/${iso%.iso}.img" "$b/out/${iso%.iso}.img"
check 5 "the builder's sources name no GRUB file of the host" \
	sh -c "! grep -qE '\"/usr/(lib|share)/grub|\"grub-mkimage\"' builder/*.c builder/*.h"
# On a failure, the builds' logs and the tails of the tools' logs they name.
if [ "$FAILED" != 0 ]; then
	sed 's/^/#   /' "$a/log" "$b/log"
	for l in "$a" "$b"; do
		for f in "$l"/out/images/"$NAME"/disk/disk.log "$l"/out/images/"$NAME"/work/*.log; do
			[ -f "$f" ] && { echo "# --- $f"; tail -n 15 "$f" | sed 's/^/#   /'; }
		done
	done
fi
exit $FAILED
