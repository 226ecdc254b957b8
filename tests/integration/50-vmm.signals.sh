#!/bin/bash
# SIGINT (Ctrl-C), SIGTERM and SIGHUP stop a running guest: vmm exits 3 within seconds, says so,
# and leaves no console socket behind. The host's /dev/kvm runs the guest far too slowly to boot
# Linux, but the vCPUs do run, which is all this needs.
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-out}
VMM=$OUT/bin/vmm
K=$OUT/test/guest-bzImage
[ -x "$VMM" ] && [ -f "$K" ] || { echo "no $VMM or $K: run make check"; exit 1; }
[ -c /dev/kvm ] || { echo "no /dev/kvm on this host"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/vmm-sig.XXXXXX")
trap 'rm -rf "$dir"' EXIT
n=0
for sig in INT TERM HUP; do
	n=$((n + 1))
	"$VMM" --kernel "$K" --mem 64M --cpus 2 --console "unix:$dir/con.sock" >"$dir/out" 2>&1 </dev/null &
	pid=$!
	sleep 1
	start=$(date +%s)
	kill -"$sig" "$pid"
	timeout 20 tail --pid="$pid" -f /dev/null
	wait "$pid"
	st=$?
	if [ "$st" -eq 3 ] && grep -q "^vmm: stopped by a signal$" "$dir/out" && [ ! -e "$dir/con.sock" ] &&
		[ $(($(date +%s) - start)) -le 5 ]; then
		echo "ok $n - SIG$sig stops the guest: exit 3, 'stopped by a signal', socket removed"
	else
		echo "not ok $n - SIG$sig: exit $st"; sed 's/^/#   /' "$dir/out"; kill -9 "$pid" 2>/dev/null
	fi
done
echo "1..$n"
