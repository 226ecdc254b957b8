#!/bin/sh
# `make run`: boot an image in QEMU with its serial console on this terminal.
#   run-qemu.sh IMAGE            FIRMWARE=bios|uefi (default bios), MEDIA=cd|disk (default cd)
# Quit with Ctrl-A X. QEMU runs under TCG: QEMU with KVM does not boot on the build machines.
set -eu
img=${1:?usage: run-qemu.sh IMAGE}
fw=${FIRMWARE:-bios}
media=${MEDIA:-cd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set -- -accel tcg -m "${MEM:-512}" -nographic -nic none
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
echo "run-qemu: booting $img ($fw, $media); quit with Ctrl-A X" >&2
exec qemu-system-x86_64 "$@"
