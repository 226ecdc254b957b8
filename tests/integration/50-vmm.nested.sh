#!/bin/bash
# vmm boots the small guest kernel under real (nested) KVM, inside a QEMU/TCG guest with -cpu max
# (vmm-lib.sh): a marker from the guest's initramfs, poweroff and reboot in the exit status,
# 2 vCPUs seen by the guest, a pattern written through virtio-blk and found in the file, a UDP
# exchange over virtio-net and a tap device, a configuration file, SIGTERM, and the console on a
# UNIX socket (output and input).
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-out}
. tests/integration/vmm-lib.sh
[ -f "$OUT/test/guest-bzImage" ] || { echo "no $OUT/test/guest-bzImage: run make check (or make vmm-guest-kernel)"; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/vmm-nested.XXXXXX")
trap 'rm -rf "$dir"' EXIT
vmm_nested_prepare "$dir" || exit 1
vmm_nested_run "$dir" tests/integration/vmm-nested-tests.sh 480
log=$dir/serial.log
mkdir -p "$OUT/test/logs" && cp "$log" "$OUT/test/logs/50-vmm.nested.serial.log"
n=0
check() { # DESCRIPTION COMMAND...
	n=$((n + 1))
	if "${@:2}" >/dev/null 2>&1; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi
}
has() { grep -q "^VMMHOST $1 [0-9.]* $2" "$log"; }
# The seconds from vmm's start to the guest's marker.
marker_time() {
	awk -v c="$1" '{ sub(/\r$/, "") } $2 == c && $4 == "START" { s = $3 } $2 == c && $4 == "VMMTEST" && $5 == "marker" { printf "%.2f", $3 - s; exit }' "$log"
}
grep -q "VMMHOST no /dev/kvm" "$log" && { echo "# the TCG guest has no /dev/kvm:"; grep VMMHOST "$log" | sed 's/^/# /'; }
check "boot: the guest's marker appears on the console (stdio)" has boot "VMMTEST marker cpus=1"
check "boot: guest poweroff ends vmm with status 0 and says so" has boot "vmm: the guest powered off"
check "boot: exit status 0" has boot "EXIT 0"
check "smp: --cpus 2: the guest sees 2 CPUs" has smp "VMMTEST marker cpus=2"
check "smp: exit status 0 after poweroff" has smp "EXIT 0"
check "reboot: guest reboot is reported" has reboot "vmm: the guest rebooted"
check "reboot: exit status 2" has reboot "EXIT 2"
check "disk: the guest wrote, flushed and read back 1 MiB on /dev/vda" has disk "VMMTEST disk-ok"
check "disk: the pattern is in the disk file afterwards" grep -q "^VMMHOST disk-bytes-ok" "$log"
check "disk: exit status 0" has disk "EXIT 0"
check "net: the tap side received the guest's UDP datagram" grep -q "^VMMHOST net-got hello-from-guest" "$log"
check "net: the guest received the reply over virtio-net" has net "VMMTEST net-rx hello-from-host"
check "config: a VM from a configuration file boots with its 2 CPUs" has config "VMMTEST marker cpus=2"
check "config: exit status 0" has config "EXIT 0"
check "sigterm: SIGTERM stops the running guest with status 3" has sigterm "EXIT 3"
check "sigterm: vmm says it was stopped" has sigterm "vmm: stopped by a signal"
check "socket: the console on a UNIX socket shows the guest's marker" has socket "VMMTEST marker"
check "socket: a line typed into the socket reaches the guest" has socket "VMMTEST got typed-into-socket"
check "socket: exit status 0" has socket "EXIT 0"
echo "# vmm start to guest marker (nested KVM under TCG): $(marker_time boot) s with 1 vCPU, $(marker_time smp) s with 2"
echo "1..$n"
