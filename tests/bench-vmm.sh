#!/bin/bash
# vmm against QEMU (-accel kvm, -M microvm and -M q35), in one run inside the same QEMU/TCG guest
# with nested KVM (tests/integration/vmm-lib.sh): time from process start to the guest's marker,
# resident memory beyond guest RAM, and disk throughput inside the guest (O_DIRECT, 1 MiB).
# Each monitor runs twice; the table shows the better run. Prints a table with the targets.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-out}
. tests/integration/vmm-lib.sh
dir=$(mktemp -d "${TMPDIR:-/tmp}/vmm-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
vmm_nested_prepare "$dir" || exit 1
# QEMU, its libraries and firmware go into the TCG guest too.
q=$(command -v qemu-system-x86_64)
mkdir -p "$dir/root/qemu" "$dir/root/usr/bin"
cp "$q" "$dir/root/usr/bin/" && ln -sf /usr/bin/qemu-system-x86_64 "$dir/root/bin/qemu-system-x86_64"
ldd "$q" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
	mkdir -p "$dir/root$(dirname "$lib")" && cp -L "$lib" "$dir/root$lib"
done
mkdir -p "$dir/root/lib64" && cp -L /lib64/ld-linux-x86-64.so.2 "$dir/root/lib64/"
cp -L /usr/share/seabios/bios-256k.bin /usr/share/qemu/qboot.rom /usr/share/qemu/linuxboot_dma.bin \
	/usr/share/qemu/kvmvapic.bin /usr/share/qemu/pvh.bin "$dir/root/qemu/"
vmm_nested_run "$dir" tests/vmm-bench-guest.sh 1200
log=$dir/serial.log
cp "$log" "$OUT/vmm-bench.serial.log" 2>/dev/null
# best NAME KEY min|max: the better of the two runs.
best() {
	tr -d '\r' <"$log" | awk -v n="$1" -v k="$2" -v how="$3" '$1 == "VMMBENCH" && $2 == n && $3 == k {
		if (!seen || (how == "min" ? $4 < v : $4 > v)) v = $4; seen = 1 } END { if (seen) print v; else print "nan" }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.3f", a / b }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { if (v == "nan") print "n/a"; else if (op == "<=" ? v <= t : v >= t) print "met"; else print "missed" }'; }
printf '| %-52s | %9s | %-8s | %-7s |\n' figure value target result
printf '|%s|%s|%s|%s|\n' "------------------------------------------------------" "-----------" "----------" "---------"
row() { printf '| %-52s | %9s | %-8s | %-7s |\n' "$1" "$2" "$3" "$4"; }
for m in vmm microvm q35; do
	row "$m: start to guest marker (s)" "$(best $m marker-s min)" "" ""
done
for m in microvm q35; do
	r=$(ratio "$(best vmm marker-s min)" "$(best $m marker-s min)")
	row "vmm/$m time to marker" "$r" "< 1" "$(verdict "$r" "<=" 0.999)"
done
for m in vmm microvm q35; do
	row "$m: RSS beyond guest RAM (MiB)" "$(awk -v k="$(best $m rss-beyond-ram-KiB min)" 'BEGIN { printf "%.1f", k / 1024 }')" "" ""
done
v=$(awk -v k="$(best vmm rss-beyond-ram-KiB min)" 'BEGIN { printf "%.1f", k / 1024 }')
row "vmm RSS overhead (MiB)" "$v" "<= 5" "$(verdict "$v" "<=" 5)"
for m in microvm q35; do
	row "vmm/$m RSS beyond guest RAM" "$(ratio "$(best vmm rss-beyond-ram-KiB min)" "$(best $m rss-beyond-ram-KiB min)")" "" ""
done
for k in read-MBps write-MBps; do
	for m in vmm microvm q35; do row "$m: guest disk $k" "$(best $m $k max)" "" ""; done
	for m in microvm q35; do
		r=$(ratio "$(best vmm $k max)" "$(best $m $k max)")
		row "vmm/$m disk $k" "$r" ">= 0.8" "$(verdict "$r" ">=" 0.8)"
	done
done
grep -a "VMMBENCH .* failed" "$log" && exit 1
exit 0
