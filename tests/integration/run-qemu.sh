#!/bin/sh
# `make run`: boot an image in QEMU with its serial console (the DCUI, docs/dcui.md) on this
# terminal and a NIC on QEMU's user network whose port 443 (hostd's API) is forwarded to this
# host's 127.0.0.1:API_PORT (default 8443); prints the URL and the login.
#   run-qemu.sh IMAGE            FIRMWARE=bios|uefi (default bios), MEDIA=cd|disk (default cd)
#   KERNEL=vmlinuz               the image's kernel, for the KVM probe (make run passes it)
# KVM is used when /dev/kvm really works: that kernel, booted with KVM, prints "Linux version"
# on its serial console within 10 s; else TCG (KVM=0 forces TCG, KVM=1 skips the probe). Quit with
# Ctrl-A X.
set -eu
img=${1:?usage: run-qemu.sh IMAGE}
fw=${FIRMWARE:-bios}
media=${MEDIA:-cd}
port=${API_PORT:-8443}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# kvm_works: the probe above; 0 when KVM booted the kernel.
kvm_works() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] && [ -r "${KERNEL:-}" ] || return 1
	: >"$tmp/probe.log"
	qemu-system-x86_64 -accel kvm -m 128 -display none -monitor none -nodefaults -no-reboot \
		-serial "file:$tmp/probe.log" -kernel "$KERNEL" -append "console=ttyS0 panic=-1" >/dev/null 2>&1 &
	pid=$! ok=1
	for _ in $(seq 50); do
		grep -aq "Linux version" "$tmp/probe.log" && { ok=0; break; }
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return "$ok"
}

accel=tcg
case ${KVM:-} in
1) accel=kvm ;;
0) ;;
*) if kvm_works; then accel=kvm; fi ;;
esac
set -- -accel "$accel" -m "${MEM:-1024}" -nographic -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:443"
[ "$accel" = kvm ] && set -- "$@" -cpu host
if [ "$fw" = uefi ]; then
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$tmp/vars.fd"
	set -- "$@" -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
		-drive "if=pflash,format=raw,unit=1,file=$tmp/vars.fd"
fi
if [ "$media" = cd ]; then
	set -- "$@" -drive "file=$img,format=raw,if=ide,media=cdrom,readonly=on" -boot order=d
else
	set -- "$@" -drive "file=$img,format=raw,if=virtio,snapshot=on"
fi
cat >&2 <<MSG
run-qemu: booting $img ($fw, $media, $accel); quit with Ctrl-A X
run-qemu: the API: https://127.0.0.1:$port/ (self-signed; curl -k https://127.0.0.1:$port/api/health)
run-qemu: the login: root, no password until one is set (the DCUI's F2 Configure Password, or
run-qemu: hostcfg passwd root after L on the DCUI); the console shows the DCUI once BOOT-OK is printed
MSG
exec qemu-system-x86_64 "$@"
