#!/bin/bash
# hostcfg on a directory tree (--root, no root needed): bad input is refused with
# "hostcfg: KEY: what is wrong; what to do" and changes nothing; good input is applied, saved
# into bootbank/state.tgz and restored; the saver coalesces changes; the first-boot files of the
# installer are applied once; passwords never appear but as sha512-crypt hashes busybox accepts.
. "$(dirname "$0")/common.sh"
HOSTCFG=$OUT/bin/hostcfg
t=$(mktemp -d "${TMPDIR:-/tmp}/hostcfg-cli.XXXXXX")
saver=
trap '[ -n "$saver" ] && kill "$saver" 2>/dev/null; rm -rf "$t"' EXIT
R=$t/root
mkdir -p "$R/bootbank"
PW='Tr0ub4dor-and-3'
n=0
step() { n=$((n + 1)); if "$@"; then echo "ok $n - $WHAT"; else echo "not ok $n - $WHAT"; FAILED=1; fi; }
hc() { "$HOSTCFG" --root "$R" "$@"; }
hc_quiet() { hc "$@" >/dev/null; }
# The tree's files and their contents, to see that a refusal changed nothing.
tree_sum() { (cd "$R" && find . -path ./run -prune -o -type f -print | sort | xargs -r sha256sum); }

# refused EXIT PATTERN ARGS...: hostcfg exits EXIT, prints PATTERN (fixed string) and changes nothing.
refused() {
	local want_st=$1 want=$2 before st
	shift 2
	before=$(tree_sum)
	hc "$@" </dev/null >"$t/out" 2>&1
	st=$?
	if [ $st -eq "$want_st" ] && grep -qF -- "$want" "$t/out" && [ "$(tree_sum)" = "$before" ]; then
		return 0
	fi
	echo "# exit $st (want $want_st), want '$want', got:"; sed 's/^/#   /' "$t/out"
	return 1
}

WHAT="--help lists the commands"
step bash -c "'$HOSTCFG' --help | grep -q 'restore-defaults'"
WHAT="a first set on an empty tree applies and saves into bootbank/state.tgz"
step bash -c "'$HOSTCFG' --root '$R' set hostname=esx-01 >'$t/out' 2>&1 && [ -s '$R/bootbank/state.tgz' ] &&
	[ \"\$(cat '$R/etc/hostname')\" = esx-01 ]"

WHAT="bad host name: refused, naming the key and RFC 1123, nothing changed"
step refused 1 "hostcfg: hostname: '-esx' is not a host name;" set hostname=-esx
WHAT="misspelt key: refused with a 'did you mean'"
step refused 1 "unknown key 'hostnme'; did you mean 'hostname'?" set hostnme=x
WHAT="static without an address: refused"
step refused 1 "hostcfg: network-mode: static needs network-address;" set network-mode=static
WHAT="a gateway outside the subnet: refused, and the address given with it is not kept (all or nothing)"
step refused 1 "10.0.0.1 is outside the subnet 192.0.2.0/24" set network-mode=static \
	network-address=192.0.2.10/24 network-gateway=10.0.0.1
WHAT="a prefix of 33: refused"
step refused 1 "prefix '33' is not 1 to 32" set network-address=192.0.2.10/33
WHAT="an http:// syslog URL: refused"
step refused 1 "is not a syslog URL; write udp://HOST:PORT" set syslog-servers=http://log:80
WHAT="four DNS servers: refused"
step refused 1 "4 DNS servers given, at most 3" set "dns-servers=1.1.1.1 8.8.8.8 9.9.9.9 1.0.0.1"
WHAT="set without '=': usage error (exit 2)"
step refused 2 "set takes KEY=VALUE pairs" set hostname
WHAT="an unknown command: exit 2"
step refused 2 "unknown command 'frobnicate'" frobnicate
WHAT="user add with an unknown role: refused"
step refused 1 "unknown role 'admin'" user add bob admin
WHAT="user add with a short password: refused, the password not shown"
step bash -c "! echo short1 | '$HOSTCFG' --root '$R' user add bob operator >'$t/out' 2>&1 &&
	grep -q '8 to 256 characters' '$t/out' && ! grep -q short1 '$t/out' && ! grep -q bob '$R/etc/passwd'"
WHAT="user del root: refused"
step refused 1 "root cannot be removed" user del root
WHAT="passwd of a missing user: refused"
step refused 1 "no user named 'nobody'" passwd nobody
WHAT="get of an unknown key: refused"
step refused 1 "unknown key 'ntp'" get ntp
cp "$R/etc/hostcfg/host.conf" "$t/good.conf"
echo "ntp-servers = not_a_host" >>"$R/etc/hostcfg/host.conf"
WHAT="a hand-broken host.conf: set refuses, naming the file and line"
step refused 1 "$R/etc/hostcfg/host.conf:$(wc -l <"$R/etc/hostcfg/host.conf"): ntp-servers is given twice" set hostname=x
cp "$t/good.conf" "$R/etc/hostcfg/host.conf"

mv "$R/etc/ntp.conf" "$t/ntp.keep" 2>/dev/null; mkdir -p "$R/etc/ntp.conf/blocker"
WHAT="a write that fails midway (etc/ntp.conf is a folder): exit 1, etc/hostname written before it is put back, host.conf unchanged"
step bash -c "before=\$(cat '$R/etc/hostcfg/host.conf'); ! '$HOSTCFG' --root '$R' set hostname=midway ntp-servers=192.0.2.9 >'$t/out' 2>&1 &&
	grep -q 'cannot write' '$t/out' && [ \"\$(cat '$R/etc/hostname')\" = esx-01 ] && [ \"\$(cat '$R/etc/hostcfg/host.conf')\" = \"\$before\" ]"
rm -rf "$R/etc/ntp.conf"; mv "$t/ntp.keep" "$R/etc/ntp.conf" 2>/dev/null

WHAT="a static configuration in one set, every key"
step hc_quiet set network-mode=static network-address=192.0.2.10/24 network-gateway=192.0.2.1 \
	"dns-servers=192.0.2.53 2001:db8::53" dns-search=lab.example.com ipv6-autoconf=off \
	"syslog-servers=udp://log.lab.example.com:514 tls://[2001:db8::5]:6514" "ntp-servers=pool.ntp.org 192.0.2.123"
WHAT="get network-address; show --json has every key"
step bash -c "[ \"\$('$HOSTCFG' --root '$R' get network-address)\" = 192.0.2.10/24 ] &&
	'$HOSTCFG' --root '$R' show --json | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"ipv6-autoconf\"]==\"off\" and len(j[\"users\"])==1'"
WHAT="the generated files: resolv.conf, ntp.conf, network.conf, logd.conf"
step bash -c "grep -qx 'nameserver 2001:db8::53' '$R/etc/resolv.conf' && grep -qx 'search lab.example.com' '$R/etc/resolv.conf' &&
	grep -qx 'server 192.0.2.123' '$R/etc/ntp.conf' && grep -qx 'PREFIX=24' '$R/etc/hostcfg/network.conf' &&
	grep -qx 'GATEWAY=192.0.2.1' '$R/etc/hostcfg/network.conf' && grep -qxF 'server = tls://[2001:db8::5]:6514' '$R/etc/logd.conf'"

WHAT="user add alice operator and passwd root, passwords on stdin"
step bash -c "echo '$PW' | '$HOSTCFG' --root '$R' user add alice operator >'$t/out1' 2>&1 &&
	echo '$PW-root' | '$HOSTCFG' --root '$R' passwd root >>'$t/out1' 2>&1"
hash=$(sed -n 's/^alice:\([^:]*\):.*/\1/p' "$R/etc/shadow")
salt=$(echo "$hash" | cut -d'$' -f3)
# busybox's own sha512-crypt (its login checks passwords with it), else openssl's.
bb=$(ls "$OUT"/images/*/system/bin/busybox "$OUT"/build/busybox/dest/bin/busybox 2>/dev/null | head -n 1)
if [ -n "$bb" ]; then again=$("$bb" mkpasswd -m sha512 -S "$salt" "$PW"); else again=$(openssl passwd -6 -salt "$salt" "$PW"); fi
WHAT="alice's shadow entry is sha512-crypt and $([ -n "$bb" ] && echo "busybox's" || echo "openssl's") crypt gives the same hash"
step test "${hash:0:3}" = '$6$' -a "$again" = "$hash"
WHAT="groups by role: alice in operator, root in administrator; passwd has alice"
step bash -c "grep -qx 'operator:x:991:alice' '$R/etc/group' && grep -qx 'administrator:x:990:root' '$R/etc/group' &&
	grep -q '^alice:x:1000:991:' '$R/etc/passwd'"
WHAT="the password is in no file, no output and not in the state archive"
step bash -c "! grep -rqF -- '$PW' '$R' '$t/out1' && ! tar -xzOf '$R/bootbank/state.tgz' | grep -qF -- '$PW'"
WHAT="show never prints a hash"
step bash -c "'$HOSTCFG' --root '$R' show | grep -q 'user alice: operator, uid 1000, password set' &&
	! '$HOSTCFG' --root '$R' show --json | grep -qF '\$6\$'"

WHAT="restore on a fresh tree from the saved archive gives the same files"
R2=$t/root2
step bash -c "mkdir -p '$R2/bootbank' && cp '$R/bootbank/state.tgz' '$R2/bootbank/' &&
	'$HOSTCFG' --root '$R2' restore >/dev/null && diff -r '$R/etc' '$R2/etc'"
WHAT="restore of a damaged archive: exit 1, reported, the defaults applied"
step bash -c "head -c 200 '$R/bootbank/state.tgz' >'$R2/bootbank/state.tgz' && rm -rf '$R2/etc' &&
	! '$HOSTCFG' --root '$R2' restore >'$t/out' 2>&1 && grep -q 'not a whole gzip stream' '$t/out' &&
	[ \"\$(cat '$R2/etc/hostname')\" = localhost ]"
WHAT="restore of backup.sh's archive (etc/hostname only): the host name is taken over"
step bash -c "mkdir -p '$t/old/etc' && echo edge-42 >'$t/old/etc/hostname' && (cd '$t/old' && tar -czf '$R2/bootbank/state.tgz' etc/hostname) &&
	'$HOSTCFG' --root '$R2' restore >/dev/null && grep -qx 'hostname = edge-42' '$R2/etc/hostcfg/host.conf'"
WHAT="restore with no state but bank A's first-boot files: applied, saved, files removed"
R3=$t/root3
mkdir -p "$R3/bootbank"
printf 'hostname = ks-host\nnetwork-mode = static\nnetwork-address = 198.51.100.7/24\nnetwork-gateway = 198.51.100.1\nuser = root administrator 0 %s\n' \
	"$hash" >"$R3/bootbank/firstboot.conf"
printf 'echo ran >>"%s/ran"\n' "$t" >"$R3/bootbank/firstboot.sh"
step bash -c "'$HOSTCFG' --root '$R3' restore >'$t/out' 2>&1 && grep -qx 'hostname = ks-host' '$R3/etc/hostcfg/host.conf' &&
	[ -s '$R3/bootbank/state.tgz' ] && [ ! -e '$R3/bootbank/firstboot.conf' ] && [ ! -e '$R3/bootbank/firstboot.sh' ] &&
	grep -q '^root:\\\$6\\\$' '$R3/etc/shadow'"
R4=$t/root4
mkdir -p "$R4/bootbank" "$R4/system/etc" && echo hypervisor >"$R4/system/etc/hostname"
printf 'network-mode = dhcp\nuser = root administrator 0 %s\n' "$hash" >"$R4/bootbank/firstboot.conf"
WHAT="a first-boot file without hostname: the image's name (system/etc/hostname) stays"
step bash -c "'$HOSTCFG' --root '$R4' restore >/dev/null && [ \"\$(cat '$R4/etc/hostname')\" = hypervisor ]"
WHAT="the %firstboot commands ran once (in the background), and not at the next restore"
step bash -c "'$HOSTCFG' --root '$R3' restore >/dev/null 2>&1 && for i in 1 2 3 4 5 6 7 8 9 10; do [ -e '$t/ran' ] && break; sleep 0.3; done &&
	sleep 0.5 && [ \"\$(cat '$t/ran')\" = ran ]"

mkdir -p "$R/usr/lib/hostcfg"
printf '#!/bin/sh\necho "$@" >>"%s/hook"\n' "$t" >"$R/usr/lib/hostcfg/reload"
chmod +x "$R/usr/lib/hostcfg/reload"
WHAT="the reload hook is told which areas changed (ntp)"
step bash -c "'$HOSTCFG' --root '$R' set ntp-servers=time.example.com >/dev/null && [ \"\$(cat '$t/hook')\" = ntp ]"

"$HOSTCFG" --root "$R" saver --delay 0.5 --interval 3600 >"$t/saver.log" 2>&1 &
saver=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$R/run/hostcfg/saver.pid" ] && break; sleep 0.2; done
WHAT="with the saver running, five quick sets are saved together, a moment later"
step bash -c "for h in a1 a2 a3 a4 a5; do '$HOSTCFG' --root '$R' set hostname=\$h >>'$t/set.log' 2>&1 || exit 1; done;
	! grep -q 'saved the configuration' '$t/set.log' && sleep 1.5 &&
	[ \"\$(tar -xzOf '$R/bootbank/state.tgz' etc/hostname)\" = a5 ] && [ \"\$(grep -c 'saved (changed)' '$t/saver.log')\" -le 2 ]"
WHAT="a second saver refuses to start while the first runs"
step bash -c "! '$HOSTCFG' --root '$R' saver >'$t/out' 2>&1 && grep -q 'a saver runs already (pid $saver)' '$t/out'"
WHAT="SIGTERM: the saver saves once more and removes its pidfile"
step bash -c "kill $saver && sleep 0.5 && grep -q 'saved (stopping)' '$t/saver.log' && [ ! -e '$R/run/hostcfg/saver.pid' ]"
saver=

sleep 30 &
sleeper=$!
echo "$sleeper" >"$R/run/hostcfg/saver.pid"
WHAT="a stale pidfile naming another program: it is not signalled, the set saves at once"
step bash -c "'$HOSTCFG' --root '$R' set hostname=stale-pid 2>&1 | grep -q 'saved the configuration' && kill -0 $sleeper &&
	[ \"\$(tar -xzOf '$R/bootbank/state.tgz' etc/hostname)\" = stale-pid ]"
kill "$sleeper" 2>/dev/null
rm -f "$R/run/hostcfg/saver.pid"

WHAT="restore-defaults removes the saved state and resets the configuration"
step bash -c "'$HOSTCFG' --root '$R' restore-defaults >/dev/null && [ ! -e '$R/bootbank/state.tgz' ] &&
	[ \"\$('$HOSTCFG' --root '$R' get hostname)\" = localhost ] && ! grep -q alice '$R/etc/passwd'"
echo "1..$n"
exit $FAILED
