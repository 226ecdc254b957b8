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
# the download cache, the signing key and the package cache of the main build, so that nothing is fetched or
# rebuilt twice. Sets IMGBUILD to run the builder there. With `own-packages` every package is
# built again, except the kernels built from source (kernel*, guest-kernel: 20 minutes and more
# each), whose packages come from the main build's cache (same key, same bytes: the kernel build
# is reproducible, kernel/README.md); SCRATCH_KERNELS=build builds them too.
scratch_repo() {
	local top
	top=$(pwd)
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/imgbuild-test.XXXXXX")
	trap 'rm -rf "$SCRATCH"' EXIT
	local f
	for f in *; do
		[ "$f" = out ] || cp -a "$f" "$SCRATCH/"
	done
	mkdir -p "$SCRATCH/out"
	ln -s "$top/$OUT/dl" "$SCRATCH/out/dl"
	# The same signing keys (out/keys: the development keys, made by the main build): the
	# installed disk's GRUB must accept what a scratch build stages, and two builds compare equal.
	[ -d "$top/$OUT/keys" ] && cp -a "$top/$OUT/keys" "$SCRATCH/out/keys"
	# own-packages: a package store of its own, built from nothing but the kernels (a from-source
	# kernel takes many minutes: hard links to the machine store's, unless SCRATCH_KERNELS=build);
	# otherwise the machine's store, which the main build filled.
	local store= machine
	if [ "${1:-}" = own-packages ]; then
		store="--store $SCRATCH/store"
		mkdir -p "$SCRATCH/store"
		machine=$(dirname "$("$top/$OUT/bin/imgbuild" -C "$top" -o "$OUT" list | awk 'NR == 1 { print $5 }')")
		if [ "${SCRATCH_KERNELS:-}" != build ]; then
			for f in "$machine"/kernel*.pkg.tar.zst "$machine"/guest-kernel-*.pkg.tar.zst; do
				[ -f "$f" ] && cp -l "$f" "$SCRATCH/store/" 2>/dev/null || { [ -f "$f" ] && cp "$f" "$SCRATCH/store/"; }
			done
		fi
	else
		# The unpacked kernel package too (hard links: instant, and only read from); not its
		# build tree.
		if [ -d "$top/$OUT/build/kernel/dest" ]; then
			mkdir -p "$SCRATCH/out/build/kernel"
			cp -al "$top/$OUT/build/kernel/dest" "$top/$OUT/build/kernel/dest.key" "$SCRATCH/out/build/kernel/"
		fi
	fi
	IMGBUILD="$top/$OUT/bin/imgbuild -C $SCRATCH -o out $store"
}

# check N TEXT CMD...: print a TAP line for whether CMD succeeds.
check() {
	local n=$1 text=$2
	shift 2
	if "$@"; then echo "ok $n - $text"; else echo "not ok $n - $text"; FAILED=1; fi
}
FAILED=0

VARIANTS=$OUT/test/variants
BANKCTL=$OUT/bin/bankctl
DISK_IMG=$OUT/$NAME-$VERSION.img

# fresh_disk PATH: a private, writable copy of the preinstalled disk image.
fresh_disk() {
	cp --sparse=always "$DISK_IMG" "$1"
}

# bank_field DISK BANK FIELD: a field of `bankctl status --json` for bank A or B.
bank_field() {
	"$BANKCTL" --disk "$1" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); \
print([b for b in d['banks'] if b['bank']=='$2'][0]['$3'])"
}

# next_bank DISK: the bank bankctl says GRUB boots next.
next_bank() {
	"$BANKCTL" --disk "$1" status --json | python3 -c "import json,sys; print(json.load(sys.stdin)['next'])"
}

# boot_expect N DISK FIRMWARE PATTERN TEXT: boot the disk once; TAP line for PATTERN on the console.
boot_expect() {
	local n=$1 disk=$2 fw=$3 pattern=$4 text=$5
	export QEMU_BOOT_NAME=$NAME_PREFIX-$n
	if qemu_boot "$disk" "$fw" disk-rw "$pattern" "${BOOT_TIMEOUT:-150}" >/dev/null 2>&1; then
		echo "ok $n - $text"
	else
		echo "not ok $n - $text (serial log: $LOG_DIR/$QEMU_BOOT_NAME.log)"
		tr -d '\r' <"$LOG_DIR/$QEMU_BOOT_NAME.log" | grep -a 'boot state\|BOOT\|init:\|panic' | tail -8 | sed 's/^/#   /'
		FAILED=1
	fi
}

# stop_bounded PID: SIGTERM, then SIGKILL if PID has not ended within 5 s (a daemon that hangs
# or spins in its shutdown must not outlive its test); 0 when it ended by itself.
stop_bounded() {
	local p=$1
	kill "$p" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$p" 2>/dev/null
	return 1
}
