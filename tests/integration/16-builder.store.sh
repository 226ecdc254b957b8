#!/bin/bash
# Issue 10: the package store is shared by every checkout on a machine: a second checkout builds
# nothing the first built, and two builds of the same packages at once into one store each finish,
# with every package built once and whole.
. "$(dirname "$0")/common.sh"
echo "1..6"
FAILED=0
top=$(pwd)
t=$(mktemp -d "${TMPDIR:-/tmp}/store-test.XXXXXX")
trap 'rm -rf "$t"' EXIT
# Two checkouts (copies of the tree, as two clones would be) and a small profile in each (Debian's
# kernel: unpacking its .deb takes seconds, compiling ours many minutes, twice here).
for c in a b; do
	mkdir -p "$t/$c/out"
	for f in *; do [ "$f" = out ] || cp -a "$f" "$t/$c/"; done
	ln -s "$top/$OUT/dl" "$t/$c/out/dl"
	printf 'name = small\nkernel = kernel-debian\ninitramfs = init busybox\nsystem = base-files\n' >"$t/$c/recipes/images/small.image"
done
ib() { "$top/$OUT/bin/imgbuild" -C "$t/$1" -o out --store "$2" packages recipes/images/small.image; }
n=$("$top/$OUT/bin/imgbuild" -C "$t/a" -o out --store "$t/store0" list recipes/images/small.image | wc -l)

ib a "$t/store1" >"$t/a.log" 2>&1
check 1 "checkout a builds its $n packages into the store" test "$(grep -c ' built ' "$t/a.log")" = "$n"
ib b "$t/store1" >"$t/b.log" 2>&1
check 2 "checkout b, sharing the store, builds none of them" test "$(grep -c ' built ' "$t/b.log")" = 0
check 3 "and lists them all as cached" bash -c "! '$top/$OUT/bin/imgbuild' -C '$t/b' -o out --store '$t/store1' list recipes/images/small.image | grep -q to-build"

# At once, into an empty store: one build takes the lock of each package, the other waits and
# takes the finished package.
ib a "$t/store2" >"$t/a2.log" 2>&1 & pa=$!
ib b "$t/store2" >"$t/b2.log" 2>&1 & pb=$!
wait $pa; sa=$?
wait $pb; sb=$?
check 4 "two concurrent builds into one store both succeed" test "$sa$sb" = 00
built=$(cat "$t/a2.log" "$t/b2.log" | grep -c ' built ')
check 5 "each package was built once ($built built, $n packages)" test "$built" = "$n"
whole() { for p in "$t"/store2/*.pkg.tar.zst; do tar --zstd -tf "$p" .PKGINFO >/dev/null || return 1; done; }
check 6 "every package in the store is whole (and no half-written file is left)" \
	bash -c "$(declare -f whole); t='$t'; whole && [ -z \"\$(ls '$t/store2' | grep -v -e '\\.pkg\\.tar\\.zst\$' -e '\\.lock\$')\" ]"
[ "$FAILED" = 0 ] || sed 's/^/#   /' "$t"/*.log
exit $FAILED
