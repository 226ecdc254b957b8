#!/bin/bash
# tests/crash/hostcfg.sh: power cuts at every write of `hostcfg save` and `hostcfg restore-defaults`.
#
# The calls that change the bank folder (write, fsync, rename, unlink, and the folder's own fsync;
# tests/crash/crashshim.so with CRASH_DIR) are counted once; then, for every N, the command runs
# again on a fresh copy and is killed (SIGKILL, its process group) before or after the N-th call,
# or with the N-th write torn after its first 512 bytes. `hostcfg restore` on a fresh root then
# judges the bank left: it must restore the previous configuration or the new one, whole
# (hostname and host.conf identical to one of them), never neither and never a mix.
#
# The bank here is a plain folder, not the vfat boot bank: mounting vfat needs a loop device and
# root, and a killed process leaves the page cache to the kernel anyway, so this checks the order
# of the save's steps (new file, fsync, rename over, fsync the folder; the restore's fallback to a
# whole state.tgz.new), not vfat's own behaviour on a power cut.
#
# Scenarios: save over a saved state (old -> new), the first save (none -> new), restore-defaults
# (old -> none). Prints TAP.
. "$(dirname "$0")/../integration/common.sh"
set -u
SHIM=$PWD/$OUT/test/crash/crashshim.so
HOSTCFG=$PWD/$OUT/bin/hostcfg
t=$(mktemp -d "${TMPDIR:-/tmp}/hostcfg-crash.XXXXXX")
trap 'rm -rf "$t"' EXIT
n=0
FAILED=0

# A configured root: name HOSTNAME into $t/NAME (etc/ and bootbank/state.tgz).
make_root() {
	mkdir -p "$t/$1/bootbank"
	"$HOSTCFG" --root "$t/$1" set "hostname=$2" network-mode=static network-address=192.0.2.$3/24 \
		network-gateway=192.0.2.1 "ntp-servers=ntp-$2.example.com" >/dev/null
}
make_root old old-host 10
make_root new new-host 20
mkdir -p "$t/none/bootbank"

# run_cut SCENARIO AT MODE: a fresh root for the scenario, the command run with the shim; the
# counter's last value is printed.
run_cut() {
	local sc=$1 at=$2 mode=$3 w=$t/w
	rm -rf "$w" && mkdir -p "$w/bootbank"
	case $sc in
	save) cp -a "$t/new/etc" "$w/" && cp "$t/old/bootbank/state.tgz" "$w/bootbank/" ;;
	first) cp -a "$t/new/etc" "$w/" ;;
	defaults) cp -a "$t/old/etc" "$w/" && cp "$t/old/bootbank/state.tgz" "$w/bootbank/" ;;
	esac
	: >"$t/counter"
	local cmd=save
	[ "$sc" = defaults ] && cmd=restore-defaults
	# In a subshell: the shell that sees the kill says nothing on the terminal.
	(CRASH_DIR=$w/bootbank CRASH_COUNTER=$t/counter CRASH_AT=$at CRASH_MODE=$mode LD_PRELOAD=$SHIM \
		setsid "$HOSTCFG" --root "$w" "$cmd"; :) >/dev/null 2>&1
	cat "$t/counter"
}

# judge SCENARIO: restore the bank left into a fresh root; which configuration came back
# (old, new or none), or "bad: ..." when it is neither or not whole.
judge() {
	local r=$t/judge want
	rm -rf "$r" && mkdir -p "$r" && cp -a "$t/w/bootbank" "$r/"
	if ! "$HOSTCFG" --root "$r" restore >"$t/restore.log" 2>&1; then
		echo "bad: restore failed: $(tr '\n' ' ' <"$t/restore.log")"
		return
	fi
	for want in old new; do
		cmp -s "$r/etc/hostcfg/host.conf" "$t/$want/etc/hostcfg/host.conf" && { echo "$want"; return; }
	done
	grep -qx 'hostname = localhost' "$r/etc/hostcfg/host.conf" && [ ! -e "$r/bootbank/state.tgz" ] && { echo none; return; }
	echo "bad: host.conf is neither: $(grep hostname "$r/etc/hostcfg/host.conf")"
}

# scenario NAME ALLOWED...: every crash point of NAME judged; ALLOWED the outcomes that may come back.
scenario() {
	local sc=$1 total got outcomes=""
	shift
	total=$(run_cut "$sc" 0 before)
	for mode in before after torn1; do
		for at in $(seq 1 "$total"); do
			run_cut "$sc" "$at" "$mode" >/dev/null
			got=$(judge)
			n=$((n + 1))
			case " $* " in
			*" $got "*) echo "ok $n - $sc: cut $mode call $at of $total: $got"; outcomes="$outcomes $got" ;;
			*) echo "not ok $n - $sc: cut $mode call $at of $total: $got (allowed: $*)"; FAILED=1 ;;
			esac
		done
	done
	# The complete run: the new configuration.
	run_cut "$sc" 0 before >/dev/null
	got=$(judge)
	n=$((n + 1))
	case $sc in save | first) want=new ;; defaults) want=none ;; esac
	if [ "$got" = "$want" ]; then echo "ok $n - $sc: uncut: $got"; else echo "not ok $n - $sc: uncut: $got, want $want"; FAILED=1; fi
	echo "# $sc: $total calls change the bank; outcomes:$(echo "$outcomes" | tr ' ' '\n' | grep . | sort | uniq -c | tr '\n' ' ')"
}

scenario save old new
scenario first none new
scenario defaults old none
echo "1..$n"
exit $FAILED
