#!/bin/bash
# Staging a bundle that can be read only once (`bankctl stage -`, a FIFO): the same bank as from
# the file, byte for byte; a slow source too; refusals that come before the disk changes
# (another product, not a bundle) leave the disk byte-identical; a bundle found truncated or
# altered at its end leaves bank B marked empty and bank A booting, with the reason said.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
B=$VARIANTS/v2.bundle
fresh_disk "$t/file.img"
"$BANKCTL" --disk "$t/file.img" stage "$B" >"$t/file.out" 2>&1 || { echo "not ok 1 - staging from the file failed"; cat "$t/file.out"; exit 1; }

n=0
check() { n=$((n + 1)); WHAT=$1; shift; if "$@"; then echo "ok $n - $WHAT"; else echo "not ok $n - $WHAT"; sed 's/^/#   /' "$t/out"; FAILED=1; fi; }

fresh_disk "$t/pipe.img"
check "cat BUNDLE | bankctl stage -: staged into bank B as trial, the disk identical to staging the file" \
	eval 'cat "$B" | "$BANKCTL" --disk "$t/pipe.img" stage - >"$t/out" 2>&1 && grep -q "staging standard input into bank B" "$t/out" &&
	grep -q "staged hypervisor 2.0.0" "$t/out" && [ "$(bank_field "$t/pipe.img" B state)" = trial ] && cmp -s "$t/pipe.img" "$t/file.img"'

fresh_disk "$t/slow.img"
size=$(stat -c %s "$B")
check "a slow source (the bundle in three parts with pauses): the same disk" \
	eval '{ head -c 1000000 "$B"; sleep 1; tail -c +1000001 "$B" | head -c 5000000; sleep 1; tail -c +6000001 "$B"; } |
	"$BANKCTL" --disk "$t/slow.img" stage - >"$t/out" 2>&1 && cmp -s "$t/slow.img" "$t/file.img"'

fresh_disk "$t/fifo.img"
mkfifo "$t/fifo"
check "a FIFO named as the bundle: staged in one pass, the same disk" \
	eval '{ cat "$B" >"$t/fifo" & } ; "$BANKCTL" --disk "$t/fifo.img" stage "$t/fifo" >"$t/out" 2>&1 && wait && cmp -s "$t/fifo.img" "$t/file.img"'

fresh_disk "$t/d.img"
before=$(sha256sum <"$t/d.img")
check "another product on a pipe: refused before any write, the disk byte-identical" \
	eval '! cat "$VARIANTS/other.bundle" | "$BANKCTL" --disk "$t/d.img" stage - >"$t/out" 2>&1 &&
	grep -q "the bundle is for" "$t/out" && [ "$(sha256sum <"$t/d.img")" = "$before" ]'
check "not a bundle on a pipe: refused, the disk byte-identical" \
	eval '! echo "this is not a bundle" | "$BANKCTL" --disk "$t/d.img" stage - >"$t/out" 2>&1 &&
	grep -q "standard input: not an update bundle" "$t/out" && [ "$(sha256sum <"$t/d.img")" = "$before" ]'
check "a truncated bundle on a pipe: exit 1 saying so, bank B empty, bank A boots next" \
	eval '! head -c $((size - 3000000)) "$B" | "$BANKCTL" --disk "$t/d.img" stage - >"$t/out" 2>&1 &&
	grep -q "truncated" "$t/out" && [ "$(bank_field "$t/d.img" B state)" = empty ] && [ "$(next_bank "$t/d.img")" = A ]'
cp "$B" "$t/flipped.bundle"
printf '\x55' | dd of="$t/flipped.bundle" bs=1 seek=5000000 conv=notrunc status=none
check "one flipped byte on a pipe: exit 1, 'does not match its sha256', bank B empty, bank A boots next" \
	eval '! cat "$t/flipped.bundle" | "$BANKCTL" --disk "$t/d.img" stage - >"$t/out" 2>&1 &&
	grep -q "does not match its sha256" "$t/out" && [ "$(bank_field "$t/d.img" B state)" = empty ] && [ "$(next_bank "$t/d.img")" = A ]'
check "the same disk then stages the good bundle from a pipe" \
	eval 'cat "$B" | "$BANKCTL" --disk "$t/d.img" stage - >"$t/out" 2>&1 && [ "$(bank_field "$t/d.img" B version)" = 2.0.0 ]'
exit $FAILED
