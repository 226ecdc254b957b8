#!/bin/bash
# tests/bench-kernel.sh - QEMU (TCG) start to an initramfs marker, for two or more kernels,
# alternating (A B A B ...) so that both see the same machine load. Used to pick the kernel's
# compression (kernel/README.md); not part of `make check`.
#
#   bash tests/bench-kernel.sh RUNS BZIMAGE...
#
# The initramfs is one static /init that prints KMARKER on the console and powers off. The
# command line is the appliance's (console=ttyS0 quiet). Prints one line per boot and, per
# kernel, the bzImage's size and the median and minimum times.
set -euo pipefail
runs=${1:?usage: bench-kernel.sh RUNS BZIMAGE...}
shift
[ $# -ge 1 ] || { echo "usage: bench-kernel.sh RUNS BZIMAGE..." >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-kernel.XXXXXX")
trap 'rm -rf "$dir"' EXIT

printf '%s\n' '#include <sys/reboot.h>' '#include <unistd.h>' \
	'int main(void) { write(1, "KMARKER\n", 8); sync(); reboot(RB_POWER_OFF); for (;;) pause(); }' >"$dir/init.c"
mkdir -p "$dir/root"
gcc -static -Os -s -o "$dir/root/init" "$dir/init.c"
(cd "$dir/root" && echo init | cpio -o -H newc --quiet) >"$dir/initrd.cpio"

# boot KERNEL: seconds from QEMU's start to KMARKER on the serial console.
boot() {
	local serial=$dir/serial.log pid start now
	: >"$serial"
	start=${EPOCHREALTIME/[.,]/}
	timeout -k 5 120 qemu-system-x86_64 -accel tcg -m 512 -display none -no-reboot -nic none \
		-monitor none -serial "file:$serial" -kernel "$1" -initrd "$dir/initrd.cpio" \
		-append "console=ttyS0 quiet panic=-1" </dev/null >/dev/null 2>&1 &
	pid=$!
	while ! grep -aq KMARKER "$serial"; do
		kill -0 "$pid" 2>/dev/null || { grep -aq KMARKER "$serial" && break; echo timeout; wait "$pid" || true; return; }
		sleep 0.02
	done
	now=${EPOCHREALTIME/[.,]/}
	wait "$pid" 2>/dev/null || true
	echo "$(( (now - start) / 1000000 )).$(printf '%02d' $(( (now - start) / 10000 % 100 )))"
}

declare -A times
for ((r = 1; r <= runs; r++)); do
	for k in "$@"; do
		t=$(boot "$k")
		echo "run $r $k: $t s"
		times[$k]="${times[$k]:-} $t"
	done
done
for k in "$@"; do
	sorted=$(tr ' ' '\n' <<<"${times[$k]}" | grep . | sort -n)
	n=$(wc -l <<<"$sorted")
	echo "$k: $(stat -c %s "$k") bytes, median $(sed -n "$(( (n + 1) / 2 ))p" <<<"$sorted") s, min $(head -n 1 <<<"$sorted") s over $n boots"
done
