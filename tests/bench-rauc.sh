#!/bin/bash
# bench-rauc.sh SIZE_BYTES WORKDIR: how long Debian's `rauc install` (1.8) takes to put a plain
# bundle holding a raw image of SIZE_BYTES random bytes into a file-backed slot.
# Prints one line, rauc_install_seconds=<float> (the median of BENCH_RAUC_RUNS installs, default
# 1), on stdout; exit 0. On failure a one-line reason
# goes to stderr and the exit status is 1. Runs as root; installs rauc, dbus, openssl and
# squashfs-tools when missing. Logs are left in WORKDIR.
#
# The rauc service runs in a private mount namespace (unshare -m) where a file holding
# `rauc.slot=A` is bind-mounted over /proc/cmdline, and it talks to the client over a private
# dbus-daemon (DBUS_SYSTEM_BUS_ADDRESS). bootloader=custom with a small shell backend, so no
# bootloader is touched. Slots A and B are files in WORKDIR; A is "booted", so B is written.
# Only `rauc install BUNDLE` is timed; the bundle is built and the service is up beforehand.
set -u
export LC_ALL=C

die() {
	echo "bench-rauc: $*" >&2
	exit 1
}
# last LOG: the last non-empty line of LOG, for a one-line reason.
# shellcheck disable=SC2016 # a sed script, not an expansion
last() { sed -n '/[^[:space:]]/h; ${x;p}' "$1" 2>/dev/null | tr -d '\r' | cut -c1-300; }

[ $# -eq 2 ] || die "usage: bench-rauc.sh SIZE_BYTES WORKDIR"
size=$1
[[ $size =~ ^[1-9][0-9]*$ ]] || die "SIZE_BYTES must be a positive integer, not '$size'"
[ "$(id -u)" -eq 0 ] || die "must run as root (unshare -m, mount --bind, loop devices)"
mkdir -p -- "$2" || die "cannot create WORKDIR $2"
work=$(cd -- "$2" && pwd -P) || die "cannot enter WORKDIR $2"

# Packages. squashfs-tools is not a dependency of Debian's rauc but `rauc bundle` needs mksquashfs.
need=()
command -v rauc >/dev/null || need+=(rauc)
command -v dbus-daemon >/dev/null && command -v dbus-send >/dev/null || need+=(dbus)
command -v openssl >/dev/null || need+=(openssl)
command -v mksquashfs >/dev/null || need+=(squashfs-tools)
if [ ${#need[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	if ! timeout 900 apt-get install -y --no-install-recommends rauc dbus openssl squashfs-tools \
		>"$work/apt.log" 2>&1; then
		timeout 300 apt-get update >>"$work/apt.log" 2>&1
		timeout 900 apt-get install -y --no-install-recommends rauc dbus openssl squashfs-tools \
			>>"$work/apt.log" 2>&1 || die "apt-get install failed: $(last "$work/apt.log")"
	fi
fi
command -v unshare >/dev/null || die "unshare (util-linux) is missing"
ver=$(rauc --version 2>/dev/null) || die "rauc --version failed"
case $ver in "rauc 1.8"*) ;; *) echo "bench-rauc: warning: expected rauc 1.8, found '$ver'" >&2 ;; esac

# Everything the script makes lives under these names in WORKDIR; stale copies go first.
conf=$work/system.conf backend=$work/bootloader-custom.sh cmdline=$work/cmdline
busconf=$work/dbus.conf image=$work/image.img bundle=$work/bundle.raucb indir=$work/bundle-in
cert=$work/cert.pem key=$work/key.pem slota=$work/slotA.img slotb=$work/slotB.img
rm -rf -- "$indir" "${work:?}/mnt" "$work/data" "$work/bootstate" "$bundle" \
	"$work"/{openssl,bundle,dbus,service,install}.log ||
	die "cannot clean WORKDIR $work"

# A unix socket path is at most 107 bytes, and the bus address and the XML config want plain
# characters: an awkward WORKDIR gets its socket in a private directory under /tmp.
sockdir=
sock=$work/bus.sock
if [ ${#sock} -gt 100 ] || [[ $sock =~ [^A-Za-z0-9_./-] ]]; then
	sockdir=$(mktemp -d /tmp/bench-rauc.XXXXXX) || die "mktemp failed"
	sock=$sockdir/bus.sock
fi
rm -f -- "$sock"

bus_pid='' svc_pid=''
# stop PID: TERM, up to 5 s to go, then KILL; reaps it. Only ever given our own children.
# shellcheck disable=SC2317 # stop and cleanup run from the EXIT trap
stop() {
	local pid=$1 i
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
# shellcheck disable=SC2317
cleanup() {
	stop "$svc_pid"
	svc_pid=
	stop "$bus_pid"
	bus_pid=
	rm -f -- "$sock"
	[ -n "$sockdir" ] && rm -rf -- "$sockdir"
	return 0
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Image and slots. The slots are fully written files, like partitions, not sparse ones.
head -c "$size" /dev/urandom >"$image" || die "cannot write $size random bytes to $image"
[ "$(stat -c %s "$image")" -eq "$size" ] || die "$image is not $size bytes long"
for s in "$slota" "$slotb"; do
	head -c "$size" /dev/zero >"$s" || die "cannot create slot file $s"
done

# Signing: a self-signed certificate is both the signer and the keyring.
timeout 60 openssl req -x509 -newkey rsa:2048 -nodes -keyout "$key" -out "$cert" -days 3650 \
	-subj /CN=bench-rauc >"$work/openssl.log" 2>&1 || die "openssl req failed: $(last "$work/openssl.log")"

# The bundle: compatible=bench, plain format, one raw image for the rootfs class.
mkdir -p "$indir" || die "cannot create $indir"
ln "$image" "$indir/rootfs.img" 2>/dev/null || cp "$image" "$indir/rootfs.img" || die "cannot copy image into $indir"
cat >"$indir/manifest.raucm" <<-EOF || die "cannot write the manifest"
	[update]
	compatible=bench
	version=1

	[bundle]
	format=plain

	[image.rootfs]
	filename=rootfs.img
EOF
timeout 600 rauc bundle --cert="$cert" --key="$key" --keyring="$cert" "$indir" "$bundle" \
	>"$work/bundle.log" 2>&1 || die "rauc bundle failed: $(last "$work/bundle.log")"

# Custom bootloader backend (RAUC 1.8 calls get-primary, set-primary BOOTNAME, get-state BOOTNAME,
# set-state BOOTNAME good|bad; later versions also get-current). State is kept in files.
mkdir -p "$work/bootstate" "$work/mnt" "$work/data" || die "cannot create directories in $work"
cat >"$backend" <<-'EOF' || die "cannot write $backend"
	#!/bin/sh
	# bootloader=custom backend for bench-rauc.sh; state in bootstate/ next to this script.
	d=$(dirname "$0")/bootstate
	case $1 in
	get-primary) cat "$d/primary" 2>/dev/null || echo A ;;
	set-primary) [ -n "${2:-}" ] && echo "$2" >"$d/primary" && echo good >"$d/state.$2" ;;
	get-state) cat "$d/state.${2:?}" 2>/dev/null || echo good ;;
	set-state) [ -n "${2:-}" ] && [ -n "${3:-}" ] && echo "$3" >"$d/state.$2" ;;
	get-current) sed -n 's/.*rauc\.slot=\([^ ]*\).*/\1/p' /proc/cmdline ;;
	*) echo "unknown command: $*" >&2; exit 1 ;;
	esac
EOF
chmod 0755 "$backend" || die "cannot chmod $backend"

cat >"$conf" <<-EOF || die "cannot write $conf"
	[system]
	compatible=bench
	bootloader=custom
	mountprefix=$work/mnt
	data-directory=$work/data
	bundle-formats=plain

	[handlers]
	bootloader-custom-backend=$backend

	[keyring]
	path=$cert

	[slot.rootfs.0]
	device=$slota
	type=raw
	bootname=A

	[slot.rootfs.1]
	device=$slotb
	type=raw
	bootname=B
EOF
echo "rauc.slot=A" >"$cmdline" || die "cannot write $cmdline"

cat >"$busconf" <<-EOF || die "cannot write $busconf"
	<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
	 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
	<busconfig>
	  <type>system</type>
	  <listen>unix:path=$sock</listen>
	  <auth>EXTERNAL</auth>
	  <policy context="default">
	    <allow user="*"/>
	    <allow own="*"/>
	    <allow send_destination="*" eavesdrop="true"/>
	    <allow receive_sender="*"/>
	  </policy>
	</busconfig>
EOF

# The bus. timeout is a backstop should this script be killed before its trap runs.
timeout -k 5 3600 dbus-daemon --config-file="$busconf" --nofork --nopidfile >"$work/dbus.log" 2>&1 &
bus_pid=$!
for ((i = 0; i < 100; i++)); do
	[ -S "$sock" ] && break
	kill -0 "$bus_pid" 2>/dev/null || die "dbus-daemon exited: $(last "$work/dbus.log")"
	sleep 0.1
done
[ -S "$sock" ] || die "dbus-daemon did not create $sock within 10 s"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$sock
unset DBUS_SESSION_BUS_ADDRESS DBUS_STARTER_BUS_TYPE DBUS_STARTER_ADDRESS

# The service, in its own mount namespace with the fake command line.
# shellcheck disable=SC2016 # $1 and $2 are the inner shell's
timeout -k 5 3600 unshare -m --propagation private -- /bin/sh -c \
	'mount --bind "$1" /proc/cmdline && exec rauc --conf="$2" service' sh "$cmdline" "$conf" \
	>"$work/service.log" 2>&1 &
svc_pid=$!
up=
for ((i = 0; i < 150; i++)); do
	if timeout 5 dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:de.pengutronix.rauc 2>/dev/null | grep -q 'boolean true'; then
		up=1
		break
	fi
	kill -0 "$svc_pid" 2>/dev/null || die "rauc service exited: $(last "$work/service.log")"
	sleep 0.1
done
[ -n "$up" ] || die "rauc service did not claim de.pengutronix.rauc within 15 s: $(last "$work/service.log")"

# The measurement, RUNS times (BENCH_RAUC_RUNS, default 1; the median is printed). The setup's
# dirty pages (image, slots, bundle) are written back first so that RAUC's fsync of the slot
# does not pay for them; the bundle stays in the page cache. Each run installs into slot B again.
times=()
for ((run = 0; run < ${BENCH_RAUC_RUNS:-1}; run++)); do
	timeout 300 sync -f "$work" || die "sync of $work failed"
	t0=$EPOCHREALTIME
	timeout 900 rauc install "$bundle" >"$work/install.log" 2>&1
	rc=$?
	t1=$EPOCHREALTIME
	if [ "$rc" -ne 0 ]; then
		why=$(sed -n 's/^LastError: //p' "$work/install.log" | tail -n 1)
		die "rauc install failed (exit $rc): ${why:-$(last "$work/install.log")}"
	fi
	times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
done

# The install must have really happened: slot B holds the image, slot A is untouched.
cmp -s "$image" "$slotb" || die "after rauc install, $slotb does not hold the image"
cmp -s -n "$size" /dev/zero "$slota" || die "rauc install changed the booted slot $slota"

printf 'rauc_install_seconds=%s\n' "$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
exit 0
