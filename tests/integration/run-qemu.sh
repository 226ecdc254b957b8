#!/bin/sh
# `make run`: boot an image in QEMU with its serial console on this terminal, a NIC on QEMU's
# user network (the guest gets 10.0.2.15 by DHCP) and the management API's port 443 forwarded to
# https://127.0.0.1:$API_PORT/ on this build host.
#   run-qemu.sh IMAGE    FIRMWARE=bios|uefi (default bios), MEDIA=cd|disk (default cd),
#                        MEM=MiB (default 1024), API_PORT (default 8443), ACCEL=kvm|tcg (default: probed)
# KVM is used only where it really works: /dev/kvm usable, the CPU announcing VT-x or AMD-V (vmx
# or svm in /proc/cpuinfo; the build machines' /dev/kvm is an emulated one without them, on which
# QEMU does not boot: ../shared/BOOT-FACTS.md) and QEMU starting with -accel kvm. TCG otherwise.
# Quit with Ctrl-A X.
set -eu
img=${1:?usage: run-qemu.sh IMAGE}
fw=${FIRMWARE:-bios}
media=${MEDIA:-cd}
port=${API_PORT:-8443}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

kvm_works() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo &&
		echo quit | timeout 20 qemu-system-x86_64 -accel kvm -machine none -nodefaults -display none \
			-monitor stdio >/dev/null 2>&1
}
accel=${ACCEL:-}
if [ -z "$accel" ]; then
	if kvm_works; then accel=kvm; else accel=tcg; fi
fi
if [ "$accel" = kvm ]; then
	set -- -accel kvm -cpu host
else
	# -cpu max: the guest sees AMD SVM, so the appliance's own /dev/kvm runs its VMs (nested).
	set -- -accel tcg -cpu max
fi
set -- "$@" -m "${MEM:-1024}" -nographic \
	-nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:443"
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
run-qemu: booting $img ($fw, $media, $accel); quit with Ctrl-A X.
run-qemu: the management API is https://127.0.0.1:$port/ (the host's self-signed certificate:
  curl -k https://127.0.0.1:$port/api/health). This console shows the DCUI (docs/dcui.md): F2 and
  root (no password until one is set) open its menu, whose Configure Password sets one (L: a shell
  login, where 'hostcfg passwd root' does the same); then: curl -k -u root https://127.0.0.1:$port/api/host
MSG
exec qemu-system-x86_64 "$@"
