#!/bin/bash
# The system payload is whole: every dynamically linked program and library in it finds each
# library it needs (its DT_NEEDED entries) in the payload's /usr/lib/x86_64-linux-gnu or /lib64,
# where init links them at boot. The initramfs carries init and no shell: busybox is the
# payload's /bin, which init links at /bin.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d "${TMPDIR:-/tmp}/payload-libs.XXXXXX")
trap 'rm -rf "$t"' EXIT
echo "1..4"
sys=$OUT/images/$NAME/system
initramfs=$OUT/images/$NAME/initramfs

# missing ROOT: one line "FILE needs LIB" for each library a dynamic ELF under ROOT cannot find.
missing() {
	local root=$1 f n
	find "$root" -type f \( -perm -u+x -o -name '*.so*' \) | sort | while read -r f; do
		readelf -h "$f" >/dev/null 2>&1 || continue
		for n in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
			[ -e "$root/usr/lib/x86_64-linux-gnu/$n" ] || [ -e "$root/lib64/$n" ] || echo "${f#"$root"/} needs $n"
		done
	done
}

m=$(missing "$sys")
check 1 "every dynamic program and library of the payload finds its libraries in it${m:+ (missing: $(echo $m))}" \
	test -z "$m" -a -x "$sys/usr/sbin/hostd"
# The check itself: without jansson, hostd and hostctl are named.
cp -a "$sys" "$t/sys"
rm -f "$t/sys/usr/lib/x86_64-linux-gnu/libjansson.so.4"
m2=$(missing "$t/sys")
check 2 "the same check names hostctl and hostd when libjansson.so.4 is taken out of a copy (got: $(echo $m2))" \
	test "$(echo $m2)" = "usr/bin/hostctl needs libjansson.so.4 usr/sbin/hostd needs libjansson.so.4"
check 3 "the payload's /bin/sh is busybox" \
	bash -c '[ "$(readlink "$1/bin/sh")" = busybox ] && [ -x "$1/bin/busybox" ]' _ "$sys"
check 4 "the initramfs carries no shell (no /bin): init is all it runs before the payload" \
	bash -c '[ -x "$1/init" ] && [ ! -e "$1/bin" ]' _ "$initramfs"
exit "$FAILED"
