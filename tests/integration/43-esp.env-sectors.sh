#!/bin/bash
# The two boot-state copies lie in different sectors of the ESP, directory entries included
# (docs/disk-layout.md): on the disk image imgbuild makes (which the installer writes as it is),
# envA's data, envB's data, envA's directory entries and envB's directory entries are four sets
# of sectors that do not meet, and neither copy's entries share a sector with grub.cfg's. Read
# from the FAT itself (tests/crash/fatsectors.py), the data clusters checked against mshowfat.
. "$(dirname "$0")/common.sh"
export MTOOLS_SKIP_CHECK=1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
esp=$((4096 * 512))
echo "1..5"

# sectors DISK PATH KIND: the sectors (one a line) of PATH's data or entry on DISK's ESP.
sectors() {
	python3 tests/crash/fatsectors.py "$1" "$esp" "$2" | sed -n "s/.* $3=\([0-9,]*\).*/\1/p" | tr , '\n' | sort -n
}
# apart DISK PATH KIND PATH KIND: no sector in common.
apart() {
	[ -z "$(comm -12 <(sectors "$1" "$2" "$3") <(sectors "$1" "$4" "$5"))" ]
}
# mshowfat_sector DISK PATH: the first sector of PATH's data as mshowfat's cluster says.
mshowfat_sector() {
	local c
	c=$(mshowfat -i "$1@@$esp" "::$2" | sed 's/.*<\([0-9]*\).*/\1/')
	echo $((4096 + 164 + (c - 2) * 4))
}

disk=$DISK_IMG
a=/grub/a/envA b=/grub/b/envB
check 1 "envA's and envB's data lie in different sectors, where mshowfat's clusters say" \
	eval 'apart "$disk" $a data $b data && [ "$(sectors "$disk" $a data | head -1)" = "$(mshowfat_sector "$disk" $a)" ] &&
		[ "$(sectors "$disk" $b data | head -1)" = "$(mshowfat_sector "$disk" $b)" ]'
check 2 "envA's directory entries and envB's lie in different sectors ($(sectors "$disk" $a entry | tr '\n' ' ')vs $(sectors "$disk" $b entry | tr '\n' ' '))" \
	apart "$disk" $a entry $b entry
check 3 "neither copy's directory entry shares a sector with the other copy's data" \
	eval 'apart "$disk" $a entry $b data && apart "$disk" $b entry $a data'
check 4 "neither copy's directory entry shares a sector with grub.cfg's or grub.cfg.sig's" \
	eval 'apart "$disk" $a entry /grub/grub.cfg entry && apart "$disk" $b entry /grub/grub.cfg entry &&
		apart "$disk" $a entry /grub/grub.cfg.sig entry && apart "$disk" $b entry /grub/grub.cfg.sig entry'

# The check can fail: the layout before the folders (both copies in /grub) shares a sector.
fresh_disk "$t/old.img"
mmove -i "$t/old.img@@$esp" ::/grub/a/envA ::/grub/envA
mmove -i "$t/old.img@@$esp" ::/grub/b/envB ::/grub/envB
check 5 "the check sees the old layout's /grub/envA and /grub/envB entries in one sector" \
	eval '! apart "$t/old.img" /grub/envA entry /grub/envB entry'
exit $FAILED
