#!/bin/bash
# Builds the update bundles the bank tests stage, each with the real builder from a scratch copy
# of the recipes (sharing the download and package caches), into $OUT/test/variants/:
#   v2.bundle            version 2.0.0
#   v3-panics.bundle     version 3.0.0 whose /init exits at once, so the kernel panics
#   v4-hangs.bundle      version 4.0.0 whose init hangs before its health check is done
#   v0.9.bundle          version 0.9.0 (a downgrade)
#   other.bundle         version 2.0.0 of another product
#   too-big.bundle       version 2.0.0 whose bank image (110 MiB) does not fit a bank
. "$(dirname "$0")/common.sh"
dest=$OUT/test/variants
mkdir -p "$dest"

# variant NAME VERSION [COMMAND]: build in a scratch copy after COMMAND edits it (run there).
variant() {
	local name=$1 version=$2 edit=${3:-true} log
	scratch_repo
	log=$dest/$name.log
	if (cd "$SCRATCH" && eval "$edit") && $IMGBUILD --image-version "$version" build >"$log" 2>&1; then
		cp "$SCRATCH"/out/*-"$version".bundle "$dest/$name.bundle"
		echo "ok - fixture $name: $(basename "$SCRATCH"/out/*-"$version".bundle)"
	else
		echo "not ok - fixture $name (log: $log)"
		sed 's/^/#   /' "$log" | tail -20
		FAILED=1
	fi
	rm -rf "$SCRATCH"
	trap - EXIT
}

variant v2 2.0.0
# (the grep makes the fixture fail when the recipe no longer has the line the sed replaces)
variant v3-panics 3.0.0 "sed -i 's|^build = make .*|build = mkdir -p o/target \\&\\& printf \"#!/bin/sh\\\\necho init: v3 exits on purpose\\\\nexit 1\\\\n\" >o/target/init|' recipes/init/init.recipe && grep -q 'v3 exits on purpose' recipes/init/init.recipe"
# v4-hangs: init hangs in its health check, after the watchdog is armed: softdog resets the VM.
variant v4-hangs 4.0.0 "sed -i -e 's|^#include <errno.h>|&\\n#include <unistd.h>|' -e '/^const char \\*health_check(/,/^{/ s|^{|{\\n\\tfor (;;)\\n\\t\\tpause();|' packages/init/health.c"
variant v0.9 0.9.0
variant other 2.0.0 "sed -i 's/^name = .*/name = otherappliance/' recipes/images/hypervisor.image"

# too-big: v2 whose bank image spans 110 MiB (a 1 MiB extent of data at its end), re-packed with
# its manifest entry updated and signed again with the development key (the builder itself
# refuses an image that does not fit a bank).
t=$(mktemp -d)
if tar -xf "$dest/v2.bundle" -C "$t" && python3 - "$t/bank.img" <<'PY' &&
import struct, sys, os
p = sys.argv[1]
data = open(p, "rb").read()
size, n = struct.unpack_from("<QQ", data, 8)
ext = [struct.unpack_from("<QQ", data, 24 + 16 * i) for i in range(n)]
body = data[24 + 16 * n:]
big = 110 << 20
ext.append((big - (1 << 20), 1 << 20))
head = b"HVIMG1\n\0" + struct.pack("<QQ", big, len(ext)) + b"".join(struct.pack("<QQ", o, l) for o, l in ext)
open(p, "wb").write(head + body + os.urandom(1 << 20))
PY
	sed -i "s/^image = .*/image = $(sha256sum <"$t/bank.img" | cut -c1-64) $(stat -c %s "$t/bank.img") bank.img/" \
		"$t/bundle.manifest" &&
	"$OUT/bin/imgsign" sign --key "$OUT/keys/dev-signing" -o "$t/bundle.manifest.sig" "$t/bundle.manifest" >/dev/null &&
	tar --format=pax -cf "$dest/too-big.bundle" -C "$t" bundle.manifest bundle.manifest.sig bank.img; then
	echo "ok - fixture too-big: v2 with a 110 MiB bank image"
else
	echo "not ok - fixture too-big"; FAILED=1
fi
rm -rf "$t"
exit $FAILED
