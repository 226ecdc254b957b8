#!/bin/bash
# Shared by the integration tests: where the build put things, and checks that boot the ISO.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT=${OUT:-out}
VERSION=${VERSION:-$(cat VERSION)}
NAME=$(sed -n 's/^name *= *//p' recipes/images/hypervisor.image)
ISO=${ISO:-$OUT/$NAME-$VERSION.iso}
export LOG_DIR=${LOG_DIR:-$OUT/test/logs}

# expect_boot_ok FIRMWARE MEDIA: the ISO boots to exactly one BOOT-OK line for this version.
expect_boot_ok() {
	local fw=$1 media=$2 log
	export QEMU_BOOT_NAME="boot-$fw-$media"
	log=$LOG_DIR/$QEMU_BOOT_NAME.log
	if ! qemu_boot "$ISO" "$fw" "$media" 'BOOT-OK|BOOT-FAILED' "${BOOT_TIMEOUT:-150}"; then
		echo "not ok 1 - $fw $media: no BOOT-OK within ${BOOT_TIMEOUT:-150} s (serial log: $log)"
		return 1
	fi
	if grep -aq 'BOOT-FAILED' "$log"; then
		echo "not ok 1 - $fw $media: $(grep -a 'BOOT-FAILED' "$log" | tr -d '\r')"
		return 1
	fi
	# Exactly one BOOT-OK line, and it names this version (the serial log has CRLF endings).
	if [ "$(tr -d '\r' <"$log" | grep -ac 'BOOT-OK')" != 1 ] ||
		! tr -d '\r' <"$log" | grep -aqx "BOOT-OK bank=live version=$VERSION"; then
		echo "not ok 1 - $fw $media: expected one 'BOOT-OK bank=live version=$VERSION', got: $(grep -a BOOT-OK "$log")"
		return 1
	fi
	echo "ok 1 - $fw $media: BOOT-OK bank=live version=$VERSION"
}

# scratch_repo: a private copy of the recipes and sources in $SCRATCH (removed on exit), sharing
# the download cache and the package cache of the main build, so that nothing is fetched or
# rebuilt twice. Sets IMGBUILD to run the builder there.
scratch_repo() {
	local top
	top=$(pwd)
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/imgbuild-test.XXXXXX")
	trap 'rm -rf "$SCRATCH"' EXIT
	cp -a recipes packages VERSION "$SCRATCH/"
	mkdir -p "$SCRATCH/out"
	ln -s "$top/$OUT/dl" "$SCRATCH/out/dl"
	[ "${1:-}" = own-packages ] || ln -s "$top/$OUT/pkgs" "$SCRATCH/out/pkgs"
	IMGBUILD="$top/$OUT/bin/imgbuild -C $SCRATCH -o out"
}

# check N TEXT CMD...: print a TAP line for whether CMD succeeds.
check() {
	local n=$1 text=$2
	shift 2
	if "$@"; then echo "ok $n - $text"; else echo "not ok $n - $text"; FAILED=1; fi
}
FAILED=0
