#!/bin/bash
# Bad input to the builder: each case exits non-zero with "file:line: what; what to do", and
# leaves no ISO behind.
. "$(dirname "$0")/common.sh"
scratch_repo

# fails_with N WHAT PATTERN: imgbuild fails, prints PATTERN (fixed string), and leaves no ISO.
fails_with() {
	local n=$1 what=$2 want=$3 st
	$IMGBUILD build >"$SCRATCH/log" 2>&1
	st=$?
	if [ $st -ne 0 ] && grep -qF -- "$want" "$SCRATCH/log" && ! ls "$SCRATCH"/out/*.iso >/dev/null 2>&1; then
		echo "ok $n - $what: exit $st, '$want'"
	else
		echo "not ok $n - $what: exit $st, expected '$want' and no ISO; got:"
		sed 's/^/#   /' "$SCRATCH/log"
		FAILED=1
	fi
}
restore() { rm -rf "$SCRATCH/recipes" && cp -a recipes "$SCRATCH/"; }

r=$SCRATCH/recipes
sed -i 's/^version = /verison = /' "$r/busybox/busybox.recipe"
fails_with 1 "unknown recipe key" \
	"imgbuild: recipes/busybox/busybox.recipe:$(grep -n '^verison' "$r/busybox/busybox.recipe" | cut -d: -f1): unknown key 'verison'; did you mean 'version'?"
restore

echo "source = file:nothere.c" >>"$r/init/init.recipe"
fails_with 2 "missing source file" "recipes/init/init.recipe:$(wc -l <"$r/init/init.recipe"): missing source file"
restore

printf 'data\n' >"$r/base-files/extra.tar"
echo "source = tar:extra.tar sha256=$(printf '%064d' 0)" >>"$r/base-files/base-files.recipe"
fails_with 3 "sha256 mismatch" "sha256 mismatch for recipes/base-files/extra.tar"
restore

echo "depends = base-files" >>"$r/busybox/busybox.recipe"
echo "depends = init" >>"$r/base-files/base-files.recipe"
echo "depends = busybox" >>"$r/init/init.recipe"
fails_with 4 "dependency cycle" "dependency cycle: "
restore

echo 'build = echo compiling motd; exit 3' >>"$r/base-files/base-files.recipe"
fails_with 5 "failing build command, with the log's tail" \
	"recipes/base-files/base-files.recipe:$(wc -l <"$r/base-files/base-files.recipe"): build step failed (exit 3)"
grep -q "compiling motd" "$SCRATCH/log" && echo "ok 6 - the failing step's output is shown" ||
	{ echo "not ok 6 - the failing step's output is shown"; FAILED=1; }
restore

sed -i 's/^source = deb:e2fsprogs=.*/source = deb:e2fsprogs=9.9.9-nosuch/' "$r/mke2fs/mke2fs.recipe"
fails_with 7 "Debian package version not in apt's index" "e2fsprogs=9.9.9-nosuch is not in apt's index"
restore

# A good build first: a failed rebuild must not leave that ISO looking current.
if $IMGBUILD build >"$SCRATCH/log" 2>&1 && ls "$SCRATCH"/out/*.iso >/dev/null; then
	echo "ok 8 - the scratch copy builds"
else
	echo "not ok 8 - the scratch copy builds"; sed 's/^/#   /' "$SCRATCH/log"; FAILED=1
fi
sed -i 's/^size-max = .*/size-max = 1M/' "$r/images/hypervisor.image"
fails_with 9 "image over its size budget" "recipes/images/hypervisor.image:$(grep -n size-max "$r/images/hypervisor.image" | cut -d: -f1): the image is"
restore

echo "imgbuild-no-such-package" >"$SCRATCH/host-packages"
chmod 755 "$SCRATCH"
setpriv --reuid=65534 --regid=65534 --clear-groups sh builder/setup.sh "$SCRATCH/host-packages" >"$SCRATCH/log" 2>&1
st=$?
if [ $st -ne 0 ] && grep -q "run as root: apt-get update && apt-get install -y --no-install-recommends imgbuild-no-such-package" "$SCRATCH/log"; then
	echo "ok 10 - a missing host package, not root: exit $st and the exact apt-get line"
else
	echo "not ok 10 - a missing host package, not root (exit $st):"; sed 's/^/#   /' "$SCRATCH/log"; FAILED=1
fi

# GRUB comes only from the profile's bootloader package (recipes/grub), never from the host.
sed -i '/^bootloader = /d' "$r/images/hypervisor.image"
fails_with 11 "a profile without a bootloader" \
	"imgbuild: recipes/images/hypervisor.image: missing 'bootloader'; name the recipe that provides GRUB"
restore
sed -i 's|cp -R x/usr/lib/grub/i386-pc |cp -R |' "$r/grub/grub.recipe"
fails_with 12 "a bootloader package without the BIOS modules" \
	"imgbuild: recipes/grub/grub.recipe: the bootloader package has no usr/lib/grub/i386-pc/boot.img; install it there"
restore
exit $FAILED
