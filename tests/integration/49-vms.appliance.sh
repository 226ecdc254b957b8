#!/bin/bash
# VMs on the appliance (issue 12; packages/hostd/vms.c, docs/vms.md), BIOS, in QEMU/TCG with
# -cpu max, whose AMD SVM gives the appliance a working /dev/kvm (nested KVM): an unattended
# install makes the ext4 datastore partition, mounted at /vmfs/volumes/datastore1 at boot; the
# small guest kernel and an initramfs printing a marker (vmm-guest-init.c, as test 50) are put
# there (a tar on a second disk, unpacked on the host: the datastore's PUT is another helper's);
# a VM is created and powered on through the HTTPS API (port 443 forwarded), its console shows the
# guest's marker, its vmm runs in its cgroup with memory.max and cpu.max; marked autostart, it runs
# again after a reboot with its marker; with kvm_amd unloaded power-on is refused (409, "/dev/kvm
# is missing"); a reinstall without --overwritevmfs keeps the datastore and the VM. A VM with a NIC
# (nics 1): its tap in the bridge vSwitch0 whose uplink is the appliance's eth0, its guest (address
# 10.0.2.30, the appliance has 10.0.2.15) reaches QEMU's user network and through it a UDP peer on
# this build host's loopback (vmm-guest-init peer) and gets its answer; GET /api/host still lists
# the physical NIC with its driver. Prints the seconds from power-on to the guest's first console
# line (make bench).
. "$(dirname "$0")/common.sh"
[ -f "$OUT/test/guest-bzImage" ] || { echo "no $OUT/test/guest-bzImage: run make check (or make vmm-guest-kernel)"; exit 1; }
t=$(mktemp -d)
peer=
trap 'qemu_kill 2>/dev/null; [ -n "$peer" ] && kill "$peer" 2>/dev/null; rm -rf "$t"' EXIT
disk=$t/disk.img
n=0
FAILED=0
step() { n=$((n + 1)); if "$@"; then echo "ok $n - $WHAT"; else echo "not ok $n - $WHAT"; FAILED=1; fail_log; fi; }
fail_log() { echo "# console:"; [ -n "${QEMU_DIR:-}" ] && [ -d "$QEMU_DIR" ] && qemu_log | tail -n 25 | sed 's/^/#   /'; }
PW='S3cret-pw!x'
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
uport=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

run() {
	qemu_mark
	qemu_send "echo @@\"\"begin; $1; echo @@\"\"end"
	qemu_wait '^@@end' "${2:-30}" || return 1
	out=$(tail -c +"$((QEMU_MARK + 1))" "$QEMU_DIR/serial.log" | tr -d '\r' | sed -n '/^@@begin/,/^@@end/p' | sed '1d;$d')
}
# api [CURL ARGS] PATH: HTTPS as root through the forwarded port; status in $t/status, body in $t/body.
api() {
	curl -sSk -m 60 -u "root:$PW" -o "$t/body" -w '%{http_code}' "${@:1:$#-1}" "https://127.0.0.1:$port${*: -1}" \
		>"$t/status" 2>"$t/curl.err"
}
status() { [ "$(cat "$t/status")" = "$1" ]; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' "$t/body" "$1" 2>/dev/null; }
boot() {
	export QEMU_BOOT_NAME=vms-$1
	QEMU_BOOT_MEM=1024 qemu_start "$disk" bios disk-rw -cpu max -nic "user,model=e1000,hostfwd=tcp:127.0.0.1:$port-:443" \
		-drive "file=$t/guest.tar,format=raw,if=virtio,readonly=on"
	qemu_wait 'BOOT-OK|BOOT-FAILED' 150 && qemu_login root "$PW"
}
reboot_host() {
	qemu_send reboot
	for _ in $(seq 60); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.5; done
	qemu_kill
}
# console_has TEXT TIMEOUT_S [VM]: the VM's console (GET .../console) shows TEXT within the time.
console_has() {
	local deadline=$((SECONDS + $2))
	while [ "$SECONDS" -lt "$deadline" ]; do
		api "/api/vms/${3:-test1}/console" && grep -q "$1" "$t/body" && return 0
		sleep 1
	done
	return 1
}

# The guest: the small kernel and a one-file initramfs (vmm-guest-init.c prints the marker).
mkdir -p "$t/g/root/dev" "$t/g/root/proc" "$t/g/images"
musl-gcc -static -Os -s -Wall -Wextra -Werror -o "$t/g/root/init" tests/integration/vmm-guest-init.c || exit 1
(cd "$t/g/root" && find . | cpio -o -H newc --quiet) >"$t/g/images/initrd.cpio"
cp "$OUT/test/guest-bzImage" "$t/g/images/bzImage"
tar -cf "$t/guest.tar" -C "$t/g" images

printf 'vmaccepteula\nrootpw %s\ninstall --firstdisk --overwritevmfs\nnetwork --bootproto=dhcp --hostname=esx-vms\npoweroff\n' "$PW" >"$t/ks.cfg"
mkfs.fat -C -n KS "$t/ks.img" 2048 >/dev/null && MTOOLS_SKIP_CHECK=1 mcopy -i "$t/ks.img" "$t/ks.cfg" ::/ks.cfg
truncate -s 2G "$disk"
WHAT="unattended install: the rest of the disk formatted as the datastore (ext4)"
step eval 'QEMU_BOOT_NAME=vms-install qemu_boot "$ISO" bios cd "INSTALL-OK|INSTALL-FAILED" 300 \
	-drive "file=$disk,format=raw,if=virtio" -drive "file=$t/ks.img,format=raw,if=virtio" >/dev/null 2>&1 &&
	grep -aq "^INSTALL-OK" "$LOG_DIR/vms-install.log" && grep -aq "formatting /dev/vda[0-9]* as the datastore datastore1 (ext4)" "$LOG_DIR/vms-install.log"'
WHAT="the GPT lists datastore1 to the disk's end; sfdisk --verify finds no error"
step eval 'sfdisk -d "$disk" | grep -q "name=\"datastore1\"" && sfdisk --verify "$disk" 2>&1 | grep -q "No errors detected"'

WHAT="first boot with -cpu max: BOOT-OK, root logs in"
step boot first
WHAT="the datastore is mounted: ext4 at /vmfs/volumes/datastore1"
step eval 'run "grep \" /vmfs/volumes/datastore1 \" /proc/mounts" && grep -q "^/dev/vda[0-9]* /vmfs/volumes/datastore1 ext4 " <<<"$out"'
# hostd makes the vms group; it starts after logd and the datastore and need not be up at
# BOOT-OK (it is not essential): its API answering says it is.
for _ in $(seq 60); do api /api/vms && status 200 && break; sleep 1; done
WHAT="/dev/kvm is there (nested SVM) and cgroup2 is mounted with the vms group"
step eval 'run "ls /dev/kvm; cat /sys/fs/cgroup/vms/cgroup.subtree_control" && grep -q "^/dev/kvm$" <<<"$out" && grep -q memory <<<"$out" && grep -q cpu <<<"$out"'
run "mkdir -p /vmfs/volumes/datastore1 && tar -xf /dev/vdb -C /vmfs/volumes/datastore1 && ls /vmfs/volumes/datastore1/images" 60
WHAT="the guest's kernel and initramfs are on the datastore"
step eval 'grep -q bzImage <<<"$out" && grep -q initrd.cpio <<<"$out"'

for _ in $(seq 30); do api /api/vms && status 200 && break; sleep 1; done
api -X POST -H 'Content-Type: application/json' \
	-d '{"name":"test1","memory_mib":64,"cpus":1,"kernel":"images/bzImage","initrd":"images/initrd.cpio","cmdline":"console=ttyS0 quiet vmmtest=wait","disks":[],"nics":0,"autostart":false}' /api/vms
WHAT="POST /api/vms over HTTPS: 201"; step status 201
api -X POST -d '{"name":"bad","kernel":"../../etc/shadow"}' /api/vms
WHAT="a kernel path out of the datastore: 400 naming kernel"; step eval 'status 400 && [ "$(field field)" = kernel ]'
t0=$(date +%s.%N)
api -X POST /api/vms/test1/power-on
WHAT="power-on: 200 running"; step eval 'status 200 && [ "$(field state)" = running ]'
first=
for _ in $(seq 240); do
	api /api/vms/test1/console
	[ -z "$first" ] && [ -s "$t/body" ] && first=$(date +%s.%N)
	grep -q "VMMTEST marker" "$t/body" && break
	sleep 0.5
done
WHAT="GET console: the guest's marker (it booted under nested KVM)"; step grep -q "VMMTEST marker cpus=1" "$t/body"
# hostd's own figure (fork of vmm to its first output byte), for make bench (tests/bench.sh).
run "grep \"VM test1: first console output\" /var/log/messages | tail -n 1"
secs=$(sed -n 's/.*first console output \([0-9.]*\) s after power-on.*/\1/p' <<<"$out")
WHAT="hostd logs the time from power-on to the guest's first console output ($secs s)"; step test -n "$secs"
[ -n "$secs" ] && echo "$secs" >"$OUT/test/vms-first-line.s"
[ -n "$first" ] && echo "# seen through the API (polled every 0.5 s): $(awk -v a="$first" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s"
WHAT="vmm runs in /sys/fs/cgroup/vms/test1 with memory.max = 64+64 MiB and cpu.max = 1 CPU"
step eval 'run "cat /sys/fs/cgroup/vms/test1/memory.max /sys/fs/cgroup/vms/test1/cpu.max; cat /proc/\$(cat /sys/fs/cgroup/vms/test1/cgroup.procs | head -n 1)/comm" &&
	grep -qx 134217728 <<<"$out" && grep -qx "100000 100000" <<<"$out" && grep -qx vmm <<<"$out"'

# A VM on the network: its NIC a tap in vSwitch0 (uplink eth0, QEMU's user network), the guest at
# 10.0.2.30 sends a UDP datagram to 10.0.2.2:$uport, which QEMU hands to this host's 127.0.0.1,
# where the peer answers (the same vmm-guest-init, run here).
timeout 600 "$t/g/root/init" peer 127.0.0.1 "$uport" >"$t/peer.log" 2>&1 &
peer=$!
api -X POST -d "{\"name\":\"net1\",\"memory_mib\":64,\"kernel\":\"images/bzImage\",\"initrd\":\"images/initrd.cpio\",\"cmdline\":\"console=ttyS0 quiet vmmtest=net vmmip=10.0.2.30 vmmport=$uport\",\"nics\":1}" /api/vms
WHAT="POST a VM with nics 1: 201"; step status 201
api -X POST /api/vms/net1/power-on
WHAT="its power-on: 200 running"; step eval 'status 200 && [ "$(field state)" = running ]'
api /api/vms/net1
WHAT="GET shows its NIC: tap vm-net1-0 with its MAC (locally administered, unicast, the one kept in the definition)"
step python3 -c 'import json,re,sys; j=json.load(open(sys.argv[1])); a=j["network_adapters"]; m=a[0]["mac"] if a else ""; sys.exit(not (len(a) == 1 and a[0]["tap"] == "vm-net1-0" and re.fullmatch("[0-9a-f]{2}(:[0-9a-f]{2}){5}", m) and int(m[:2], 16) & 3 == 2 and j["macs"] == [m]))' "$t/body"
mac=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["network_adapters"][0]["mac"])' "$t/body" 2>/dev/null)
WHAT="the guest's console shows the peer's reply: it reached this host through tap, bridge, eth0 and QEMU"
step console_has "VMMTEST net-rx hello-from-host" 180 net1
WHAT="the peer on this host got the guest's datagram"; step grep -q "^VMMHOST net-got hello-from-guest" "$t/peer.log"
WHAT="hostd logged the NIC: tap vm-net1-0 with MAC $mac in vSwitch0"
step eval 'run "grep \"VM net1: NIC 0\" /var/log/messages" && grep -q "VM net1: NIC 0: tap vm-net1-0, MAC $mac, in vSwitch0" <<<"$out"'
for _ in $(seq 60); do api /api/vms/net1 && [ "$(field state)" = stopped ] && break; sleep 1; done
WHAT="the guest powered off after its check: the VM is stopped and its tap removed"
step eval '[ "$(field state)" = stopped ] && run "ls -1 /sys/class/net" && ! grep -q "vm-net1" <<<"$out" && grep -qx vSwitch0 <<<"$out"'
api /api/host
WHAT="GET /api/host lists eth0 with its driver (e1000) as the uplink of vSwitch0, and vSwitch0 with 10.0.2.15/24"
step python3 -c 'import json,sys; n={x["name"]: x for x in json.load(open(sys.argv[1]))["nics"]}; sys.exit(not (n["eth0"]["driver"] == "e1000" and n["eth0"].get("bridge") == "vSwitch0" and "10.0.2.15/24" in n["vSwitch0"]["addresses"]))' "$t/body"
api -X DELETE /api/vms/net1

api -X PATCH -d '{"autostart":true}' /api/vms/test1
WHAT="PATCH autostart: true"; step eval 'status 200 && [ "$(field autostart)" = True ]'
reboot_host
WHAT="after a reboot: the VM is running again (autostart)"
step eval 'boot second && for _ in $(seq 60); do api /api/vms/test1 && [ "$(field state)" = running ] && break; sleep 1; done; [ "$(field state)" = running ]'
WHAT="and its console shows the marker of this boot"; step console_has "VMMTEST marker" 180
api -X POST /api/vms/test1/power-off
WHAT="power-off: 200 stopped, vmm gone"; step eval 'status 200 && [ "$(field state)" = stopped ] && run "pidof vmm || echo none" && [ "$out" = none ]'
run "rmmod kvm_amd; ls /dev/kvm 2>&1"
api -X POST /api/vms/test1/power-on
WHAT="with kvm_amd unloaded: power-on 409 saying /dev/kvm is missing"
step eval 'status 409 && field error | grep -q "^/dev/kvm is missing: "'
qemu_kill

# A reinstall without --overwritevmfs keeps the datastore and the VMs on it.
sed -i 's/ --overwritevmfs//' "$t/ks.cfg"
MTOOLS_SKIP_CHECK=1 mcopy -o -i "$t/ks.img" "$t/ks.cfg" ::/ks.cfg
WHAT="a reinstall without --overwritevmfs keeps the datastore (the installer says so)"
step eval 'QEMU_BOOT_NAME=vms-reinstall qemu_boot "$ISO" bios cd "INSTALL-OK|INSTALL-FAILED" 300 \
	-drive "file=$disk,format=raw,if=virtio" -drive "file=$t/ks.img,format=raw,if=virtio" >/dev/null 2>&1 &&
	grep -aq "^INSTALL-OK" "$LOG_DIR/vms-reinstall.log" && grep -aq "keeping the datastore on /dev/vda[0-9]*" "$LOG_DIR/vms-reinstall.log" &&
	! grep -aq "formatting" "$LOG_DIR/vms-reinstall.log"'
WHAT="after the reinstall: the VM is still defined, and autostarts with its guest's marker"
step eval 'boot reinstalled && for _ in $(seq 60); do api /api/vms/test1 && [ "$(field state)" = running ] && break; sleep 1; done &&
	console_has "VMMTEST marker" 180'
qemu_kill
echo "1..$n"
exit "$FAILED"
