#!/bin/bash
# hostd's VMs (packages/hostd/vms.c, docs/vms.md) on the build host: hostd --root with a fake vmm
# ($HOSTD_VMM, a script printing its arguments and a marker) and a fake /dev/kvm (a file): a
# definition made, listed, read back, refused with 400 naming the field (and not written), power-on
# with the console captured, the roles (read-only 403, operator may power), power-off, DELETE of a
# running VM 409, a guest reboot (vmm exit 2) booted again, autostart when hostd starts again,
# hostd's exit stops its VMs, no /dev/kvm -> 409 with the message. The real vmm under nested KVM is
# 49-vms.appliance.sh. cgroups are used on the live host only (hostd --root skips them).
# HOSTD_WRAP="valgrind --leak-check=full --error-exitcode=9" runs hostd under a checker.
. "$(dirname "$0")/common.sh"
HOSTD=$(realpath "$OUT/bin/hostd")
HOSTCFG=$OUT/bin/hostcfg
t=$(mktemp -d "${TMPDIR:-/tmp}/vms-host.XXXXXX")
pid=
ulimit -f 2097152 # KiB: a runaway log cannot fill the disk
trap '[ -n "$pid" ] && stop_bounded "$pid"; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$t"' EXIT
R=$t/root DS=$t/root/vmfs/volumes/datastore1
n=0
FAILED=0
step() { n=$((n + 1)); if "$@"; then echo "ok $n - $WHAT"; else echo "not ok $n - $WHAT"; FAILED=1; fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

mkdir -p "$R/run" "$R/etc" "$R/proc" "$R/dev" "$DS/images"
echo ok >"$R/run/health"
: >"$R/dev/kvm"
echo kernel >"$DS/images/bzImage"
echo initrd >"$DS/images/initrd.cpio"
echo "Op3rator-pw" | "$HOSTCFG" --root "$R" user add op operator >/dev/null 2>&1
echo "V1ewer-pw" | "$HOSTCFG" --root "$R" user add viewer read-only >/dev/null 2>&1
cat >"$t/vmm" <<'VMM'
#!/bin/sh
# A stand-in for vmm: its arguments, a marker, then up until SIGTERM (exit 3, as vmm); a guest
# "reboot" (exit 2) the first time when the command line says vmmtest=reboot.
echo "fake-vmm $*"
echo "VMMTEST marker pid=$$"
trap 'echo "vmm: stopped by a signal"; exit 3' TERM
case "$*" in *vmmtest=reboot*) [ -e "$0.rebooted" ] || { : >"$0.rebooted"; exit 2; } ;; esac
while :; do sleep 0.1; done
VMM
chmod +x "$t/vmm"
port=$(free_port)
start() {
	HOSTD_VMM=$t/vmm ${HOSTD_WRAP:-} "$HOSTD" --root "$R" --listen "127.0.0.1:$port" --socket "$t/hostd.sock" >>"$t/hostd.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do [ -S "$t/hostd.sock" ] && break; sleep 0.1; done
}
# call [CURL ARGS] PATH over the UNIX socket (root = administrator); status in $t/status, body $t/body.
call() {
	curl -sS --unix-socket "$t/hostd.sock" -o "$t/body" -w '%{http_code}' "${@:1:$#-1}" "http://localhost${*: -1}" \
		>"$t/status" 2>"$t/curl.err"
}
# as USER:PW [CURL ARGS] PATH over HTTPS.
as() {
	local who=$1; shift
	curl -sSk -u "$who" -o "$t/body" -w '%{http_code}' "${@:1:$#-1}" "https://127.0.0.1:$port${*: -1}" \
		>"$t/status" 2>"$t/curl.err"
}
status() { [ "$(cat "$t/status")" = "$1" ]; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' "$t/body" "$1"; }
wait_for() { for _ in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
start

call -X POST -H 'Content-Type: application/json' \
	-d '{"name":"web1","memory_mib":64,"cpus":2,"kernel":"images/bzImage","initrd":"images/initrd.cpio","cmdline":"console=ttyS0 quiet","disks":[],"nics":0,"autostart":false}' /api/vms
WHAT="POST /api/vms: 201"; step status 201
WHAT="the definition is on the datastore as web1/web1.json"; step grep -q '"memory_mib": 64' "$DS/web1/web1.json"
call /api/vms
WHAT="GET /api/vms lists it stopped with memory_mib, cpus, autostart"
step python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); sys.exit(a != [{"name":"web1","state":"stopped","memory_mib":64,"cpus":2,"autostart":False}])' "$t/body"
call -X POST -d '{"name":"web1","kernel":"images/bzImage"}' /api/vms
WHAT="the same name again: 409"; step status 409
for bad in '{"name":"x y","kernel":"k"}:name' '{"name":"b","kernel":"../etc/shadow"}:kernel' \
	'{"name":"b","kernel":"/etc/shadow"}:kernel' '{"name":"b","kernel":"k","memory_mib":8}:memory_mib' \
	'{"name":"b","kernel":"k","cpus":"2"}:cpus' '{"name":"b","kernel":"k","disks":["a/../../x"]}:disks' \
	'{"name":"b","kernel":"k","color":"red"}:color' '{"name":"b"}:kernel' '{"name":"b","kernel":"k","autostart":1}:autostart'; do
	call -X POST -d "${bad%:*}" /api/vms
	WHAT="400 naming '${bad##*:}' for ${bad%:*}"; step eval 'status 400 && [ "$(field field)" = "${bad##*:}" ]'
done
call -X POST -d '{"name":"b","kernel":' /api/vms
WHAT="malformed JSON: 400"; step status 400
WHAT="nothing written for the refused ones"; step test ! -e "$DS/b"

as viewer:V1ewer-pw -X POST /api/vms/web1/power-on
WHAT="read-only user: power-on 403"; step status 403
as viewer:V1ewer-pw /api/vms/web1
WHAT="read-only user: GET works"; step status 200
as op:Op3rator-pw -X POST /api/vms/web1/power-on
WHAT="operator: power-on 200 running"; step eval 'status 200 && [ "$(field state)" = running ]'
as op:Op3rator-pw -X DELETE /api/vms/web1
WHAT="operator: DELETE 403"; step status 403
wait_for "$DS/web1/console.log" "VMMTEST marker"
call /api/vms/web1/console
WHAT="GET console: the guest's marker"; step grep -q "VMMTEST marker" "$t/body"
WHAT="vmm got the definition: kernel and initrd from the datastore, 64M, 2 CPUs, the command line"
step grep -q "fake-vmm --kernel $DS/images/bzImage --initrd $DS/images/initrd.cpio --cmdline console=ttyS0 quiet --mem 64M --cpus 2 --console stdio" "$t/body"
call /api/vms/web1
WHAT="GET: running with its pid"; step eval '[ "$(field state)" = running ] && kill -0 "$(field pid)"'
vmpid=$(field pid)
call -X POST /api/vms/web1/power-on
WHAT="power-on again: 409"; step status 409
call -X DELETE /api/vms/web1
WHAT="DELETE while running: 409"; step status 409
call -X POST /api/vms/web1/reset
WHAT="reset: running again with a new pid"; step eval 'status 200 && [ "$(field pid)" != "$vmpid" ] && ! kill -0 "$vmpid" 2>/dev/null'
call -X POST /api/vms/web1/power-off
WHAT="power-off: 200 stopped"; step eval 'status 200 && [ "$(field state)" = stopped ]'
WHAT="the console says vmm was stopped"; step grep -q "vmm ended: stopped" "$DS/web1/console.log"

call -X POST -d '{"name":"rb","kernel":"images/bzImage","cmdline":"vmmtest=reboot"}' /api/vms
call -X POST /api/vms/rb/power-on
sleep 1
call /api/vms/rb
WHAT="a guest reboot (vmm exit 2): booted again, running"; step eval '[ "$(field state)" = running ] && [ -e "$t/vmm.rebooted" ]'
call -X PATCH -d '{"autostart":true}' /api/vms/web1
WHAT="PATCH autostart: 200"; step eval 'status 200 && [ "$(field autostart)" = True ]'
call -X PATCH -d '{"name":"other"}' /api/vms/web1
WHAT="PATCH renaming: 400 name"; step eval 'status 400 && [ "$(field field)" = name ]'
rbpid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$t/body" 2>/dev/null)
call /api/vms/rb; rbpid=$(field pid)
kill "$pid"; wait "$pid"; pid=
WHAT="hostd's exit stops its VMs"; step eval '! kill -0 "$rbpid" 2>/dev/null'
start
call /api/vms
WHAT="hostd started again: the autostart VM runs, the other does not"
step python3 -c 'import json,sys; s={v["name"]: v["state"] for v in json.load(open(sys.argv[1]))}; sys.exit(s != {"rb":"stopped","web1":"running"})' "$t/body"
call -X POST -d '{"name":"nok","kernel":"images/missing"}' /api/vms
call -X POST /api/vms/nok/power-on
WHAT="power-on with the kernel file missing: 409 naming kernel"; step eval 'status 409 && [ "$(field field)" = kernel ]'
ln -s /etc/passwd "$DS/images/escape"
call -X PATCH -d '{"kernel":"images/escape"}' /api/vms/nok
call -X POST /api/vms/nok/power-on
WHAT="power-on with a kernel that is a symlink out of the datastore: 400 naming kernel"
step eval 'status 400 && [ "$(field field)" = kernel ] && ! grep -q "fake-vmm" "$DS/nok/console.log" 2>/dev/null'
# NICs (packages/hostd/vmnet.c): taps in the bridge vSwitch0 are made only on a live host; the
# test tree has no bridge, then no /dev/net/tun: power-on is refused with the reason, nothing runs.
call -X POST -d '{"name":"n1","kernel":"images/bzImage","nics":9}' /api/vms
WHAT="nics 9: 400 naming nics"; step eval 'status 400 && [ "$(field field)" = nics ]'
call -X POST -d '{"name":"n1","kernel":"images/bzImage","nics":2}' /api/vms
WHAT="a VM with 2 NICs: 201"; step status 201
call /api/vms/n1
WHAT="GET shows each NIC's tap and MAC (network_adapters): locally administered, unicast, each its own, kept in the definition"
step python3 -c 'import json,re,sys; a=json.load(open(sys.argv[1]))["network_adapters"]; kept=json.load(open(sys.argv[2]))["macs"]; m=[x["mac"] for x in a]; sys.exit(not ([x["tap"] for x in a] == ["vm-n1-0","vm-n1-1"] and all(re.fullmatch("[0-9a-f]{2}(:[0-9a-f]{2}){5}", x) and int(x[:2], 16) & 3 == 2 for x in m) and m[0] != m[1] and m == kept))' "$t/body" "$DS/n1/n1.json"
call -X POST /api/vms/n1/power-on
WHAT="power-on without the bridge vSwitch0: 409 naming nics and the bridge, still stopped, vmm not run"
step eval 'status 409 && [ "$(field field)" = nics ] && field error | grep -q "virtual switch vSwitch0 is missing" &&
	call /api/vms/n1 && [ "$(field state)" = stopped ] && ! grep -q fake-vmm "$DS/n1/console.log" 2>/dev/null'
mkdir -p "$R/sys/class/net/vSwitch0/bridge"
call -X POST /api/vms/n1/power-on
WHAT="with a bridge but no /dev/net/tun: 500 naming nics and $R/dev/net/tun, still stopped, vmm not run"
step eval 'status 500 && [ "$(field field)" = nics ] && field error | grep -qF "$R/dev/net/tun: No such file or directory" &&
	call /api/vms/n1 && [ "$(field state)" = stopped ] && ! grep -q fake-vmm "$DS/n1/console.log" 2>/dev/null'
rm "$R/dev/kvm"
call -X POST /api/vms/rb/power-on
WHAT="no /dev/kvm: 409 saying /dev/kvm is missing"; step eval 'status 409 && field error | grep -q "^/dev/kvm is missing: "'
call -X POST /api/vms/rb/power-off
WHAT="power-off of a stopped VM: 409"; step status 409
call -X DELETE /api/vms/rb
WHAT="DELETE a stopped VM: 200, its folder gone"; step eval 'status 200 && [ ! -e "$DS/rb" ]'
call /api/vms/rb
WHAT="then GET: 404"; step status 404
call -X PUT /api/vms/web1
WHAT="PUT on a VM: 405"; step status 405
WHAT="every change audited with who and the result"
step grep -qF "op (operator) from 127.0.0.1: POST /api/vms/*/power-on web1: done" "$t/hostd.log"
call /api/vms/web1; webpid=$(field pid)
kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=
sleep 0.5
WHAT="hostd killed (SIGKILL): its VMs end too (parent-death signal), none left running unowned"
# (gone, or a zombie: its new parent may not reap it here)
step eval '[ -n "$webpid" ] && { ! kill -0 "$webpid" 2>/dev/null || grep -q "^State:.*zombie" "/proc/$webpid/status"; }'

# The real taps (vmnet.c's ioctls) in a network namespace of their own, never the build host's
# network: hostd runs there (as root) with a bridge vSwitch0, the tree's sys, proc/sys and
# dev/net the namespace's own. A stale tap of the VM's name is replaced; both NICs are taps in
# vSwitch0, up, without IPv6; power-off removes them.
ns() { nsenter -t "$pid" -n -m "$@"; }
if [ "$(id -u)" != 0 ] || ! unshare -n -m true 2>/dev/null || [ ! -c /dev/net/tun ]; then
	for w in "a stale tap replaced" "2 NICs: taps in vSwitch0, up, no IPv6" "vmm got --net TAP,mac=MAC" "power-off removes the taps"; do
		n=$((n + 1)); echo "ok $n - $w # SKIP needs root, unshare -n and /dev/net/tun (a network namespace)"
	done
else
	: >"$R/dev/kvm"
	rm -rf "$R/sys" "$R/dev/net" "$R/proc/sys"
	ln -s /sys "$R/sys"; ln -s /dev/net "$R/dev/net"; ln -s /proc/sys "$R/proc/sys"
	rm -f "$t/hostd.sock"
	HOSTD_VMM=$t/vmm unshare -n -m sh -c 'mount -t sysfs sysfs /sys && ip link set lo up &&
		ip link add vSwitch0 type bridge && ip addr add 192.0.2.1/24 dev vSwitch0 && ip link set vSwitch0 up &&
		exec "$@"' sh ${HOSTD_WRAP:-} "$HOSTD" --root "$R" --listen "127.0.0.1:$port" --socket "$t/hostd.sock" >>"$t/hostd.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do [ -S "$t/hostd.sock" ] && break; sleep 0.1; done
	ns ip tuntap add dev vm-n1-0 mode tap
	call -X POST /api/vms/n1/power-on
	WHAT="a stale tap of the VM's name (a killed hostd's) is replaced: power-on 200 running"
	step eval 'status 200 && [ "$(field state)" = running ]'
	WHAT="2 NICs: taps vm-n1-0 and vm-n1-1 in vSwitch0, up, IPv6 off"
	step eval 'for i in 0 1; do ns sh -c "readlink /sys/class/net/vm-n1-\$0/master | grep -q /vSwitch0\$ &&
		ip link show vm-n1-\$0 | grep -q \",UP\" && [ \$(cat /proc/sys/net/ipv6/conf/vm-n1-\$0/disable_ipv6) = 1 ]" $i || exit 1; done'
	wait_for "$DS/n1/console.log" "fake-vmm"
	call /api/vms/n1
	WHAT="vmm got --net vm-n1-0,mac=MAC0 --net vm-n1-1,mac=MAC1, the MACs GET shows"
	step python3 -c 'import json,re,sys; a=json.load(open(sys.argv[1]))["network_adapters"]; c=open(sys.argv[2]).read(); sys.exit(not all(" --net %s,mac=%s " % (x["tap"], x["mac"]) in c for x in a))' "$t/body" "$DS/n1/console.log"
	call -X POST /api/vms/n1/power-off
	WHAT="power-off: stopped, both taps removed, the bridge kept"
	step eval 'status 200 && [ "$(field state)" = stopped ] && ! ns ip link show vm-n1-0 2>/dev/null &&
		! ns ip link show vm-n1-1 2>/dev/null && ns ip link show vSwitch0 >/dev/null'
	stop_bounded "$pid"; wait "$pid" 2>/dev/null; pid=
fi
echo "1..$n"
[ "${FAILED:-0}" = 0 ]
