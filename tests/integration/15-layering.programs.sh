#!/bin/bash
# Issue 9: one object list per program, each linking only what it uses; no folder includes one
# above it (tests/layering.py); the recipes build the appliance's programs with the Makefile's
# lists instead of naming source files themselves.
. "$(dirname "$0")/common.sh"
SCRATCH_OUT=$(mktemp -d "${TMPDIR:-/tmp}/layering.XXXXXX")
trap 'rm -rf "$SCRATCH_OUT"' EXIT
echo "1..14"
FAILED=0

# has PROGRAM SYMBOL: the host program defines SYMBOL (nm: a text symbol).
has() { nm --defined-only "$OUT/bin/$1" | grep -qE " [Tt] $2\$"; }
lacks() { ! has "$@"; }
lacks_all() { local p=$1; shift; for s; do lacks "$p" "$s" || { echo "# $p contains $s"; return 1; }; done; }

check 1 "bankctl contains no image builder (image_build, recipe_load, fetch_source, bundle_write)" \
	lacks_all bankctl image_build recipe_load fetch_source bundle_write
check 2 "bankctl has the staging and the boot-state commit it uses" \
	bash -c "nm '$OUT/bin/bankctl' | grep -q ' T stage_run$' && nm '$OUT/bin/bankctl' | grep -q ' T bootstate_commit$'"
check 3 "imgbuild contains no staging, trust or kickstart parser (stage_run, trust_load, ks_parse)" \
	lacks_all imgbuild stage_run trust_load ks_parse bootstate_commit
check 4 "imgsign contains neither the builder nor the staging" lacks_all imgsign image_build stage_run ks_parse
check 5 "vmm links none of the bank or image code" lacks_all vmm bank_env_parse hvimg_parse stage_run

# The target programs are stripped: check their object lists instead.
list() { make -s --no-print-directory "print-$1"; }
excludes() { local l; l=$(list "$1"); shift; for f; do case " $l " in *" $f"*) echo "# $1 links $f"; return 1 ;; esac; done; }
check 6 "init's object list: its own files, bootbank's boot state and GPT helpers, lib's libc-only part" \
	excludes init_SRC image/ altbootbank/ builder/ signing/ packages/installer/ lib/util.c
check 7 "the installer's object list has no builder, staging or signing" \
	excludes installer_SRC altbootbank/ builder/ signing/ packages/init/ lib/util.c
check 8 "the appliance's bankctl is built from bankctl_SRC (the same list as out/bin/bankctl)" \
	grep -q 'target/bankctl' recipes/bankctl/bankctl.recipe
# No recipe names a C file of this repository: they call the Makefile.
check 9 "no recipe copies a hand-made list of C files" bash -c "! grep -nE '\\.c\\b' recipes/*/*.recipe"
check 10 "no folder includes a folder above it (tests/layering.py)" python3 tests/layering.py
# Every program's list compiles on its own (nothing missing from a list).
check 11 "the static programs build from their lists (init, installer)" \
	bash -c "make -s OUT='$SCRATCH_OUT' '$SCRATCH_OUT/target/init' '$SCRATCH_OUT/target/installer' >/dev/null"
check 12 "the host programs build from their lists (imgbuild, bankctl, imgsign)" \
	bash -c "make -s OUT='$SCRATCH_OUT' '$SCRATCH_OUT/bin/imgbuild' '$SCRATCH_OUT/bin/bankctl' '$SCRATCH_OUT/bin/imgsign' >/dev/null"
check 13 "hostcfg's object list: its own folder and lib/ (no bank, image, builder or signing code)" \
	excludes hostcfg_SRC bootbank/ image/ altbootbank/ builder/ signing/ packages/init/ packages/installer/
check 14 "hostcfg builds from its list, as a host tool and static for the appliance" \
	bash -c "make -s OUT='$SCRATCH_OUT' '$SCRATCH_OUT/bin/hostcfg' '$SCRATCH_OUT/target/hostcfg' >/dev/null"
exit $FAILED
