#!/bin/bash
# A second build with nothing changed rebuilds nothing; a change to one component rebuilds that
# component and the image only.
. "$(dirname "$0")/common.sh"
scratch_repo

$IMGBUILD build >"$SCRATCH/log1" 2>&1
check 1 "first build of the scratch copy succeeds" test -f "$SCRATCH/out/$NAME-$(cat VERSION).iso"
iso=$SCRATCH/out/$NAME-$(cat VERSION).iso
before=$(stat -c %Y.%s "$iso")
sum1=$(sha256sum <"$iso")

$IMGBUILD build >"$SCRATCH/log2" 2>&1
check 2 "no-op build says the image is up to date" grep -q "is up to date" "$SCRATCH/log2"
check 3 "no-op build builds no package" bash -c "! grep -q ' built ' '$SCRATCH/log2'"
check 4 "no-op build leaves the ISO untouched" test "$before" = "$(stat -c %Y.%s "$iso")"

# A fresh change each run: the package cache is shared with the main build.
echo "changed by the incremental test $$ $(date +%s.%N)" >>"$SCRATCH/packages/base-files/etc/motd"
$IMGBUILD build >"$SCRATCH/log3" 2>&1
check 5 "after a change to base-files, base-files is rebuilt" grep -q "built base-files" "$SCRATCH/log3"
check 6 "and nothing else is" test "$(grep -c ' built ' "$SCRATCH/log3")" = 1
check 7 "and the image is made again" test "$sum1" != "$(sha256sum <"$iso")"
[ "$FAILED" = 0 ] || sed 's/^/#   /' "$SCRATCH"/log*
exit $FAILED
