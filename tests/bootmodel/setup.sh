#!/bin/bash
# tests/bootmodel/setup.sh DIR GRUB_CFG: make the work folder `bootmodel run DIR` needs.
#   DIR/pfx/          grub-emu's prefix: its modules, harness.cfg as grub.cfg, the test's key
#   DIR/disk.img      a GPT disk laid out like the installed one (gpt2 ESP with /grub/grub.cfg,
#                     its .sig, /grub/a/envA and /grub/b/envB; gpt3 bank-a; gpt4 bank-b, all FAT)
#   DIR/banks/X-KIND.fat  bank X's partition with its files ok, missing (the kernel),
#                     badcfg, badkernel or badinitrd (altered after signing)
#   DIR/layout        byte offsets of envA, envB, bank-a and bank-b in disk.img
# The signing key is made here (RSA 2048, no passphrase) and is only for this test.
set -euo pipefail
dir=$1 cfg=$2
here=$(cd "$(dirname "$0")" && pwd)
emu=/usr/lib/grub/x86_64-emu
for t in grub-emu faketime gpg gpgconf mkfs.fat mcopy mmd sfdisk; do
	command -v "$t" >/dev/null || { echo "setup.sh: $t not found; install the packages in builder/host-packages" >&2; exit 77; }
done
[ -d "$emu" ] || { echo "setup.sh: $emu not found; install grub-emu" >&2; exit 77; }
rm -rf "$dir"
mkdir -p "$dir/pfx" "$dir/banks" "$dir/tree/boot" "$dir/gpg"
chmod 700 "$dir/gpg"
export GNUPGHOME=$dir/gpg
trap 'gpgconf --kill gpg-agent 2>/dev/null || true' EXIT
gpg --batch -q --passphrase '' --quick-gen-key "bootmodel test key <bootmodel@test.invalid>" rsa2048 sign never
gpg --batch -q --export >"$dir/pfx/key.pub"
sign() { gpg --batch -q --yes --detach-sign -o "$1.sig" "$1"; }

# A bank's files, as imgbuild writes them (builder/image.c): boot.cfg naming a kernel and two initrds.
t=$dir/tree
printf 'product="hv"\nversion="1.0"\nbuild="1"\nkernel="/boot/vmlinuz"\ninitrd="/boot/initrd.img /boot/system.cpio"\ncmdline="quiet"\n' >"$t/boot.cfg"
echo kernel >"$t/boot/vmlinuz"
echo initrd >"$t/boot/initrd.img"
echo system >"$t/boot/system.cpio"
for f in boot.cfg boot/vmlinuz boot/initrd.img boot/system.cpio; do sign "$t/$f"; done

# bank_image LETTER SERIAL KIND: the bank's FAT partition, its files in the state KIND.
bank_image() {
	local img=$dir/banks/$1-$3.fat
	mkfs.fat -C -i "$2" -n BOOTBANK -S 512 "$img" 256 >/dev/null
	mmd -i "$img" ::/boot
	mcopy -i "$img" "$t/boot.cfg" "$t/boot.cfg.sig" ::/
	mcopy -i "$img" "$t/boot/initrd.img" "$t/boot/initrd.img.sig" "$t/boot/system.cpio.sig" "$t/boot/vmlinuz.sig" ::/boot/
	case $3 in
	ok | badcfg | badinitrd) mcopy -i "$img" "$t/boot/vmlinuz" ::/boot/ ;;
	badkernel) echo KERNEL | mcopy -i "$img" - ::/boot/vmlinuz ;;
	esac
	case $3 in
	badinitrd) echo SYSTEM | mcopy -i "$img" - ::/boot/system.cpio ;;
	*) mcopy -i "$img" "$t/boot/system.cpio" ::/boot/ ;;
	esac
	[ "$3" = badcfg ] && sed 's/build="1"/build="2"/' "$t/boot.cfg" | mcopy -o -i "$img" - ::/boot.cfg
	return 0
}
for k in ok missing badcfg badkernel badinitrd; do
	bank_image A AAAA0001 $k
	bank_image B BBBB0002 $k
done

# The ESP: grub.cfg filled in as builder/disk.c does (with these fs UUIDs), and signed.
sed -e 's/@UUID_A@/AAAA-0001/; s/@UUID_B@/BBBB-0002/; s/@TIMEOUT@/1/' "$cfg" >"$dir/grub.cfg"
sign "$dir/grub.cfg"
for c in A B; do
	{ printf '# GRUB Environment Block\nHARNESS-ENV%s\n' $c; head -c 1000 /dev/zero | tr '\0' '#'; } | head -c 1024 >"$dir/env$c"
done
mkfs.fat -C -i 11112222 -n ESP -S 512 "$dir/esp.fat" 512 >/dev/null
mmd -i "$dir/esp.fat" ::/grub ::/grub/a ::/grub/b
mcopy -i "$dir/esp.fat" "$dir/grub.cfg" "$dir/grub.cfg.sig" ::/grub/
mcopy -i "$dir/esp.fat" "$dir/envA" ::/grub/a/
mcopy -i "$dir/esp.fat" "$dir/envB" ::/grub/b/

d=$dir/disk.img
truncate -s $((2304 * 512)) "$d"
sfdisk -q "$d" <<'PARTS'
label: gpt
start=64, size=64, type=21686148-6449-6E6F-744E-656564454649
start=128, size=1024, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
start=1152, size=512, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
start=1664, size=512, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
PARTS
dd if="$dir/esp.fat" of="$d" bs=512 seek=128 conv=notrunc status=none
dd if="$dir/banks/A-ok.fat" of="$d" bs=512 seek=1152 conv=notrunc status=none
dd if="$dir/banks/B-ok.fat" of="$d" bs=512 seek=1664 conv=notrunc status=none
offset() { grep -obUa "$1" "$d" | head -n 1 | cut -d: -f1; }
a=$(offset HARNESS-ENVA) b=$(offset HARNESS-ENVB)
[ -n "$a" ] && [ -n "$b" ] || { echo "setup.sh: $d:1: envA/envB not found in the disk image" >&2; exit 1; }
echo "envA $((a - 25)) envB $((b - 25)) bankA $((1152 * 512)) bankB $((1664 * 512))" >"$dir/layout"

cp -r "$emu" "$dir/pfx/"
rm -f "$dir/pfx/x86_64-emu/command.lst"  # no autoloading: a command named linux would hide the stub
cp "$here/harness.cfg" "$dir/pfx/grub.cfg"
