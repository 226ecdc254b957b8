#!/bin/bash
# GRUB's choice and bankctl's prediction are one model (issue 13): the real bootbank/grub.cfg runs
# in grub-emu on every case tests/bootmodel enumerates (bank states x tries x generations x files
# present, missing or altered after signing x each env copy valid, torn or garbage x seq wrap),
# and what it boots and writes must equal what bootbank/bank.c predicts, byte for byte. The
# table in docs/ab-boot.md must be the one the model prints.
# BOOTMODEL_JOBS grub-emu runs at a time (default 4: grub-emu mostly waits).
set -u
OUT=${OUT:-out}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
bin=$OUT/test/bootmodel
mkdir -p "$(dirname "$bin")"
if ! gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror -Ibootbank -o "$bin" tests/bootmodel/*.c bootbank/bank.c; then
	echo "not ok 1 - tests/bootmodel builds"
	exit 1
fi

"$bin" table >"$t/table.md"
sed -n '/^<!-- BEGIN bootmodel table/,/^<!-- END bootmodel table/p' docs/ab-boot.md | sed '1d;$d' >"$t/doc.md"
if [ -s "$t/doc.md" ] && cmp -s "$t/table.md" "$t/doc.md"; then
	echo "ok 1 - docs/ab-boot.md's table is the one \`bootmodel table\` prints"
else
	echo "not ok 1 - docs/ab-boot.md's table differs from \`bootmodel table\` (put its output between the BEGIN/END lines):"
	diff "$t/doc.md" "$t/table.md" | sed 's/^/#   /' | head -n 40
fi

bash tests/bootmodel/setup.sh "$t/work" bootbank/grub.cfg >"$t/setup.log" 2>&1
st=$?
if [ $st -eq 77 ]; then
	echo "ok 2 - # SKIP grub.cfg in grub-emu: $(tail -n 1 "$t/setup.log")"
	echo "1..2"
	exit 0
elif [ $st -ne 0 ]; then
	echo "not ok 2 - tests/bootmodel/setup.sh failed:"
	sed 's/^/#   /' "$t/setup.log"
	echo "1..2"
	exit 1
fi
timeout 900 nice -n 10 "$bin" run "$t/work" -j "${BOOTMODEL_JOBS:-4}" >"$t/run.tap" 2>&1
st=$?
# bootmodel's own TAP lines (1..3) are renumbered after this test's first line
awk 'BEGIN{n=1} /^(not )?ok [0-9]+ /{n++; sub(/ok [0-9]+ /, "ok " n " ")} !/^1\.\./{print}' "$t/run.tap"
n=$((1 + $(grep -cE '^(not )?ok ' "$t/run.tap")))
if [ $st -ne 0 ] && [ "$(grep -c '^not ok' "$t/run.tap")" -eq 0 ]; then
	n=$((n + 1))
	echo "not ok $n - bootmodel run failed (exit $st)"
fi
[ $st -ne 0 ] && [ -f "$t/work/mismatches.txt" ] && cp "$t/work/mismatches.txt" "$OUT/test/bootmodel-mismatches.txt" &&
	echo "# every differing case: $OUT/test/bootmodel-mismatches.txt"
echo "1..$n"
