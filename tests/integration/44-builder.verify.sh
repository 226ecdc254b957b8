#!/bin/bash
# `imgbuild verify`: a copy of the tree with no private key at all (no out/keys) rebuilds the main
# build's release (its .iso, .img and .bundle) and says "identical" for each; one byte changed
# inside the ISO's /boot/system.cpio, or inside the bundle's bank image, is named with its offset.
. "$(dirname "$0")/common.sh"
echo "1..11"
release=$OUT/$NAME-$VERSION
scratch_repo
rm -rf "$SCRATCH/out/keys"
top=$(pwd)
abs() { echo "$top/$1"; }

$IMGBUILD verify "$(abs "$release.iso")" "$(abs "$release.img")" "$(abs "$release.bundle")" \
	>"$SCRATCH/out.txt" 2>"$SCRATCH/err.txt"
st=$?
check 1 "verify of the .iso, .img and .bundle exits 0 (got $st)" test "$st" = 0
n=1
for ext in iso img bundle; do
	n=$((n + 1))
	check $n "it says the .$ext is identical" grep -q "^$(abs "$release.$ext"): identical ($NAME $VERSION, build " "$SCRATCH/out.txt"
done
check 5 "without any private key: the copy has no out/keys afterwards" test ! -e "$SCRATCH/out/keys"

# flip FILE OFFSET-OF(PATTERN-FILE) PLUS: change one byte, PLUS bytes into where the first 4 KiB of
# PATTERN-FILE sit in FILE (a file stored in one piece).
flip() {
	python3 - "$1" "$2" "$3" <<'EOF'
import sys
path, pattern, plus = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = bytearray(open(path, 'rb').read())
head = open(pattern, 'rb').read()[:4096]
at = data.find(head)
assert at >= 0 and data.find(head, at + 1) < 0, 'the pattern is not in the file exactly once'
data[at + plus] ^= 0x01
open(path, 'wb').write(data)
EOF
}
payload=$OUT/images/$NAME/iso/boot/system.cpio
mkdir -p "$SCRATCH/t"
cp "$release.iso" "$SCRATCH/t/$NAME-$VERSION.iso"
flip "$SCRATCH/t/$NAME-$VERSION.iso" "$payload" 100000
$IMGBUILD verify "$SCRATCH/t/$NAME-$VERSION.iso" >"$SCRATCH/out.txt" 2>"$SCRATCH/err.txt"
st=$?
check 6 "a changed byte in the ISO's system.cpio: exit 1 (got $st)" test "$st" = 1
check 7 "and it names the file and the offset" grep -q "$NAME-$VERSION.iso: /boot/system.cpio differs at byte offset 100000 (both $(stat -c %s "$payload") bytes)" "$SCRATCH/err.txt"

cp "$release.bundle" "$SCRATCH/t/$NAME-$VERSION.bundle"
flip "$SCRATCH/t/$NAME-$VERSION.bundle" "$payload" 4242
$IMGBUILD verify "$(abs "$release.iso")" "$SCRATCH/t/$NAME-$VERSION.bundle" >"$SCRATCH/out.txt" 2>"$SCRATCH/err.txt"
st=$?
check 8 "a changed byte in the bundle's bank image: exit 1 (got $st)" test "$st" = 1
check 9 "and it names the file inside the bank image" grep -q "$NAME-$VERSION.bundle: bank.img:/boot/system.cpio differs at byte offset 4242" "$SCRATCH/err.txt"
check 10 "while the ISO given with it is identical" grep -q "$NAME-$VERSION.iso: identical" "$SCRATCH/out.txt"

$IMGBUILD verify "$(abs "$release.bundle")" >"$SCRATCH/out.txt" 2>"$SCRATCH/err.txt"
st=$?
check 11 "a bundle alone: exit 1, asking for the release's ISO" \
	grep -q "is verified together with its release's ISO.*give it too: imgbuild verify $NAME-VERSION.iso" "$SCRATCH/err.txt"
[ "$FAILED" = 0 ] || sed 's/^/#   /' "$SCRATCH/out.txt" "$SCRATCH/err.txt"
exit $FAILED
