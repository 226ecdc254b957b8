#!/bin/bash
# init supervises the services (issue 11, point 1). One BIOS CD boot of an ISO whose system payload
# also has three test-only service files (a scratch build of the recipes with them added to
# packages/base-files/usr/lib/services): crasher fails at every start, broken has an unknown key,
# saver has a stop command. On that boot: BOOT-OK comes only after logd (essential) is ready,
# on the console and in /run/boot.log; crasher is given up within its restart-limit and
# /run/health says degraded, naming it and broken's file and line; the services' output reaches
# syslog; logd killed is restarted and the restart logged; poweroff runs saver's stop command,
# stops the services in the reverse of their start order and the machine is off within the bound.
. "$(dirname "$0")/common.sh"
trap 'qemu_kill 2>/dev/null; rm -rf "${SCRATCH:-}"' EXIT
echo "1..16"

# The fixture: the same image with three more service files.
scratch_repo
cat >"$SCRATCH/packages/base-files/usr/lib/services/crasher" <<'EOF'
# Test only (tests/integration/25-boot.services.sh): fails at every start.
description = A service that always fails
command = /bin/ls /no/such/file
restart = always
restart-limit = 2 60
EOF
cat >"$SCRATCH/packages/base-files/usr/lib/services/broken" <<'EOF'
# Test only: a file with a mistake.
command = /bin/sleep 100000
restrat = always
EOF
cat >"$SCRATCH/packages/base-files/usr/lib/services/saver" <<'EOF'
# Test only: a service with a stop command (as a configuration daemon saving its state).
description = A service that says when it saves
command = /bin/sleep 100000
after = logd
stop = /bin/echo saver: saving-config-42
EOF
build_log=$LOG_DIR/services-fixture.log
mkdir -p "$LOG_DIR"
if ! (cd "$SCRATCH" && timeout 900 nice $IMGBUILD --image-version "$VERSION" build) >"$build_log" 2>&1; then
	echo "not ok 1 - the fixture image with the crasher service builds (log: $build_log)"
	tail -n 20 "$build_log" | sed 's/^/#   /'
	exit 1
fi
iso=$SCRATCH/out/$NAME-$VERSION.iso

fail_log() { echo "# console:"; qemu_log | tail -n 30 | sed 's/^/#   /'; }
# run CMD: type CMD at the console shell; its output (between two markers) into $out.
run() {
	qemu_mark
	# The markers are typed quoted apart, so the echoed command line never matches them.
	qemu_send "echo @@\"\"begin; $1; echo @@\"\"end"
	qemu_wait '^@@end' 30 || return 1
	out=$(tail -c +"$((QEMU_MARK + 1))" "$QEMU_DIR/serial.log" | tr -d '\r' | sed -n '/^@@begin$/,/^@@end$/p')
}

# A virtio NIC on QEMU's user network: the network service's DHCP (check 13).
QEMU_BOOT_NAME=boot-services QEMU_MAX_S=300 qemu_start "$iso" bios cd -nic user,model=virtio-net-pci
start=$SECONDS
qemu_wait 'BOOT-OK|BOOT-FAILED' "${BOOT_TIMEOUT:-150}"
boot_s=$((SECONDS - start))
check 1 "the ISO boots to exactly one 'BOOT-OK bank=live version=$VERSION' (${boot_s} s)" \
	test "$(qemu_log | grep -c 'BOOT-OK')/$(qemu_log | grep -cx "BOOT-OK bank=live version=$VERSION")" = 1/1
[ "$FAILED" = 0 ] || fail_log

# On the console: "init: [  1.93] logd ready" before the BOOT-OK line; in /run/boot.log:
# logd ready, then the services step done, then the boot reported healthy.
console_order=$(qemu_log | grep -oE 'init: \[ *[0-9.]+\] logd ready$|^BOOT-OK .*' | head -n 2 | sed 's/^init: \[ *[0-9.]*\] //')
check 2 "the console shows 'logd ready' before BOOT-OK (got: $(echo $console_order))" \
	test "$(echo $console_order)" = "logd ready BOOT-OK bank=live version=$VERSION"
# After BOOT-OK the console is the operator's: init's routine lines and the services' output go
# to syslog and /run/boot.log only (docs/logd.md), so the checks below read /run/boot.log.
qemu_login
run 'cat /run/boot.log'
order=$(echo "$out" | sed -n 's/^\[ *[0-9.]*\] //p' | sed 's/ (pid [0-9]*)$//' |
	grep -xE 'logd started|logd ready|step services done|boot reported healthy' | head -n 4 | tr '\n' ',')
check 3 "/run/boot.log: logd started, logd ready, step services done, boot reported healthy, in this order (got: $order)" \
	test "$order" = "logd started,logd ready,step services done,boot reported healthy,"
# The essential logd starts alone; the others (network, the saver, crasher ...) once it is ready,
# still before the services step ends and BOOT-OK.
early=$(echo "$out" | sed -n 's/^\[ *[0-9.]*\] //p' | sed 's/ (pid [0-9]*)$//' |
	sed -n '/^logd started$/,/^step services done$/p' | grep -xE 'logd ready|(network|hostcfg-saver|crasher|saver) started' | tr '\n' ',')
check 16 "/run/boot.log: network, hostcfg-saver, crasher and saver start after 'logd ready' and before the step's end (got: $early)" \
	bash -c '[ "${1%%,*}" = "logd ready" ] && [ "$(tr , "\n" <<<"$1" | grep -c " started$")" = 4 ]' _ "$early"

# crasher: started at boot, restarted twice (1 s, then 2 s later), given up at its third failure.
qemu_wait 'init: service crasher: given up' 60
run 'cat /run/health'
health=$out
check 4 "crasher is given up and /run/health says degraded, naming it (got: $(echo "$health" | sed -n 2,4p | tr '\n' '|'))" \
	bash -c '[ "$(sed -n 2p <<<"$1")" = degraded ] && grep -q "^service crasher: given up: it exited with status 1, beyond its restart-limit of 2 in 60 s; see its output in /var/log/messages, fix it and reboot$" <<<"$1"' _ "$health"
check 5 "the broken service file is named with its line in /run/health and on the console" \
	bash -c 'grep -qx "service broken: /usr/lib/services/broken:3: unknown key .restrat.; the keys are .*" <<<"$1" &&
		tr -d "\r" <"$2" | grep -q "^init: service broken not started: /usr/lib/services/broken:3: unknown key"' _ "$health" "$QEMU_DIR/serial.log"
run 'cat /run/boot.log'
check 6 "crasher was restarted exactly twice before it was given up (/run/boot.log)" \
	test "$(grep -c '^\[ *[0-9.]*\] crasher exited with status 1; restarting it in [12] s$' <<<"$out")" = 2
# Its second restart comes a second or more into the console session: it stays off the console.
quiet=$(qemu_log | grep -c 'init: \[ *[0-9.]*\] crasher exited with status 1; restarting it in 2 s$')
check 15 "in the console session, crasher's second restart is in /run/boot.log, not on the console (console lines: $quiet)" \
	test "$quiet" = 0

# init sends each service's output lines to syslog (through /dev/log) once logd is up.
run 'echo "n=$(cat /var/log/messages | grep -c "daemon.info crasher: ls: /no/such/file")"'
counts=$(echo "$out" | grep -oE '^n=[0-9]+$')
check 7 "crasher's output, carried by init, is in the system log (/var/log/messages) (got: $counts)" \
	bash -c '[[ $1 =~ ^n=[1-9] ]]' _ "$counts"

# logd killed (SIGKILL, a crash): restarted after 1 s, the restart in /run/boot.log (and on the
# console while no syslog takes init's lines) and the log usable again
run 'kill -KILL $(pidof logd); for i in $(seq 150); do [ "$(grep -c "\] logd ready$" /run/boot.log)" -ge 2 ] && break; sleep 0.2; done; sed -n "/\] logd was killed/,\$p" /run/boot.log'
restart=$(sed -n 's/^\[ *[0-9.]*\] logd //p' <<<"$out" | sed 's/ (pid [0-9]*)$//' | tr '\n' ',')
check 8 "logd killed: restarted and logged (got: $restart)" \
	test "$restart" = "was killed by signal 9; restarting it in 1 s,started,ready,"
run 'logger -t svctest after-restart-42; echo "n=$(cat /var/log/messages | grep -c "svctest: after-restart-42")"'
counts=$(echo "$out" | grep -oE '^n=[0-9]+$')
check 9 "the restarted logd logs again (logger, then /var/log/messages) (got: $counts)" test "$counts" = n=1

# The network service's default, DHCP (busybox udhcpc), on the virtual switch vSwitch0 whose
# uplink is the virtio NIC eth0 (docs/network.md): QEMU's user network leases 10.0.2.15/24 with
# the gateway 10.0.2.2 and the name server 10.0.2.3.
run 'for i in $(seq 100); do [ -e /run/network/up ] && break; sleep 0.2; done; ip -4 addr show vSwitch0; ip route; cat /etc/resolv.conf; echo "port=$(basename "$(readlink /sys/class/net/eth0/master)")"'
check 13 "DHCP by default: vSwitch0 (uplink eth0) leased 10.0.2.15/24, default route via 10.0.2.2, nameserver 10.0.2.3 (got: $(echo "$out" | grep -oE 'inet [0-9./]+|default via [0-9.]+|nameserver [0-9.]+|port=.*' | tr '\n' ' '))" \
	bash -c 'grep -q "inet 10.0.2.15/24" <<<"$1" && grep -q "default via 10.0.2.2" <<<"$1" && grep -q "^nameserver 10.0.2.3" <<<"$1" && grep -qx "port=vSwitch0" <<<"$1"' _ "$out"

# The payload's modules and drivers (the profile's system-modules and system-drivers): the virtio
# NIC's driver, KVM and the bridge were loaded from /system, and the kernel looks for firmware in
# the payload's /lib/firmware.
run 'echo "fw=$(cat /sys/module/firmware_class/parameters/path)"; for m in virtio_net kvm bridge tun; do [ -d /sys/module/$m ] && echo "mod=$m"; done; ls /system/lib/modules/*/kernel/drivers/net/virtio_net.ko'
check 14 "the payload's modules are loaded from it (virtio_net kvm bridge tun) and its firmware folder is the kernel's (got: $(echo "$out" | grep -E '^(fw|mod)=' | tr '\n' ' '))" \
	bash -c 'grep -qx "fw=/system/lib/firmware" <<<"$1" && [ "$(grep -c "^mod=" <<<"$1")" = 4 ] && grep -q "virtio_net.ko$" <<<"$1"' _ "$out"

run 'cat /run/boot.log'
bootlog=$out
# poweroff: the stop commands first, then the services stopped in the reverse of their start order
# (hostcfg-saver, crasher, logd, network, then saver once logd is ready and hostd once the datastore
# is done, then the sessions after BOOT-OK).
qemu_mark
qemu_send 'poweroff'
off_start=$SECONDS
while kill -0 "$QEMU_PID" 2>/dev/null && [ $((SECONDS - off_start)) -lt 45 ]; do sleep 0.2; done
off_s=$((SECONDS - off_start))
# ntpd starts when the DHCP lease comes, before or after the sessions: it is left out.
stops=$(tail -c +"$((QEMU_MARK + 1))" "$QEMU_DIR/serial.log" | tr -d '\r' | sed -n 's/.*init: \[ *[0-9.]*\] stopping \(.*\)$/\1/p' |
	grep -vx ntpd)
# The order they first started in, from /run/boot.log (hostd waits for the datastore, which may end
# before or after the sessions start): the stops must be its reverse, and name these seven.
firsts=$(sed -n 's/^\[ *[0-9.]*\] \([a-z0-9-]*\) started (pid [0-9]*)$/\1/p' <<<"$bootlog" | awk '!seen[$0]++' |
	grep -xE 'tty1|console|saver|hostd|network|logd|hostcfg-saver' | tac)
check 10 "poweroff stops the services in the reverse of their first start: $(echo $firsts) (got: $(echo $stops))" \
	bash -c '[ "$1" = "$2" ] && [ "$(tr " " "\n" <<<"$1" | sort | tr "\n" " ")" = "console hostcfg-saver hostd logd network saver tty1 " ]' _ "$(echo $stops)" "$(echo $firsts)"
saved=$(tail -c +"$((QEMU_MARK + 1))" "$QEMU_DIR/serial.log" | tr -d '\r' | grep -oE 'saving-config-42$|stopping saver$' | tr '\n' ,)
check 11 "saver's stop command ran before saver was signalled (got: $saved)" test "$saved" = "saving-config-42,stopping saver,"
check 12 "the machine is off within 40 s of poweroff (${off_s} s; 'power-off now' logged)" \
	bash -c '[ "$1" -le 40 ] && ! kill -0 "$2" 2>/dev/null && tr -d "\r" <"$3" | grep -q "power-off now"' _ "$off_s" "$QEMU_PID" "$QEMU_DIR/serial.log"
[ "$FAILED" = 0 ] || fail_log
exit "$FAILED"
