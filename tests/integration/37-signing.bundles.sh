#!/bin/bash
# The signing chain on the bundle side (no boot): imgsign's signatures are standard CMS that
# openssl verifies; bankctl refuses an unsigned, altered, unknown-key, expired-key or
# revoked-key bundle with a clear message and an unchanged disk; a rotated key certified by a
# trusted one is accepted and then trusted on its own; revocations travel in bundles.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
IMGSIGN=$OUT/bin/imgsign
DEV=$OUT/keys/dev-signing
disk=$t/disk.img
fresh_disk "$disk"
n=0
ok_if() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; sed 's/^/#   /' "$t/out" 2>/dev/null; FAILED=1; fi; }

tar -xf "$VARIANTS/v2.bundle" -C "$t" bundle.manifest bundle.manifest.sig
ok_if "openssl cms verifies the bundle's manifest signature with the development certificate" \
	'openssl cms -verify -binary -inform DER -in "$t/bundle.manifest.sig" -content "$t/bundle.manifest" -CAfile "$DEV.crt" -purpose any >"$t/out" 2>&1'
ok_if "openssl cms verifies the image's MANIFEST.sig" \
	'openssl cms -verify -binary -inform DER -in "$OUT/images/$NAME/iso/MANIFEST.sig" -content "$OUT/images/$NAME/iso/MANIFEST" -CAfile "$DEV.crt" -purpose any >"$t/out" 2>&1'
ok_if "imgsign verify checks a whole bundle and names its signer" \
	'"$IMGSIGN" verify --keyring "$DEV.crt" "$VARIANTS/v2.bundle" >"$t/out" 2>&1 && grep -q "good signature by .*development signing key" "$t/out"'

# repack SRC OUT [KEY [EDIT]]: SRC's bundle with its manifest edited by the sed EDIT and signed by
# KEY (no KEY: unsigned), in bundle order.
repack() {
	local w=$t/repack
	rm -rf "$w" && mkdir -p "$w" && tar -xf "$1" -C "$w" && rm -f "$w/bundle.manifest.sig"
	[ -n "${4:-}" ] && sed -i "$4" "$w/bundle.manifest"
	[ -n "${3:-}" ] && "$IMGSIGN" sign --key "$3" "$w/bundle.manifest" -o "$w/bundle.manifest.sig" >/dev/null
	(cd "$w" && tar --format=pax -cf "$2" bundle.manifest $( [ -n "${3:-}" ] && echo bundle.manifest.sig) bank.img)
}
# refused WHAT BUNDLE MESSAGE: exit 1, the message, and not one byte of the disk changed.
refused() {
	local before st
	before=$(sha256sum <"$disk")
	"$BANKCTL" --disk "$disk" stage "$2" >"$t/out" 2>&1
	st=$?
	ok_if "$1: refused (exit $st), disk unchanged: $(grep -o "bankctl: .*$3.*" "$t/out" | head -c 160)" \
		'[ $st = 1 ] && grep -qF -- "$3" "$t/out" && [ "$(sha256sum <"$disk")" = "$before" ]'
}
staged() {
	"$BANKCTL" --disk "$disk" stage "$2" >"$t/out" 2>&1
	ok_if "$1" "grep -q 'staged hypervisor' '$t/out' && grep -qF -- \"$3\" '$t/out'"
}

"$IMGSIGN" keygen --cn stranger "$t/stranger" >/dev/null
"$IMGSIGN" keygen --cn expired --certify-with "$DEV" --not-before $(( $(date +%s) - 864000 )) --not-after $(( $(date +%s) - 86400 )) "$t/expired" >/dev/null
"$IMGSIGN" keygen --cn rotated --certify-with "$DEV" "$t/rotated" >/dev/null
"$IMGSIGN" keygen --cn compromised --certify-with "$DEV" "$t/bad" >/dev/null
fp() { "$IMGSIGN" show "$1" | sed -n 's/^fingerprint: //p'; }

repack "$VARIANTS/v2.bundle" "$t/unsigned.bundle"
refused "an unsigned bundle" "$t/unsigned.bundle" "the bundle is not signed"
repack "$VARIANTS/v2.bundle" "$t/edited.bundle" "" 's/^version = .*/version = 9.9.9/'
cp "$t/edited.bundle" "$t/x" && tar -xf "$VARIANTS/v2.bundle" -C "$t" bundle.manifest.sig
(cd "$t/repack" && cp "$t/bundle.manifest.sig" . && tar --format=pax -cf "$t/edited.bundle" bundle.manifest bundle.manifest.sig bank.img)
refused "a manifest edited after signing (version changed)" "$t/edited.bundle" "does not match the signed content"
cp "$t/bundle.manifest.sig" "$t/flipped.sig"
printf '\x00' | dd of="$t/flipped.sig" bs=1 seek=$(( $(stat -c %s "$t/flipped.sig") - 20 )) conv=notrunc status=none
(cd "$t/repack" && cp "$t/flipped.sig" bundle.manifest.sig && cp "$t/bundle.manifest" . &&
	tar --format=pax -cf "$t/badsig.bundle" bundle.manifest bundle.manifest.sig bank.img)
refused "a signature with one byte changed" "$t/badsig.bundle" "refusing it"
repack "$VARIANTS/v2.bundle" "$t/stranger.bundle" "$t/stranger"
refused "a bundle signed by an unknown key" "$t/stranger.bundle" "signed by an unknown key '/CN=stranger'"
repack "$VARIANTS/v2.bundle" "$t/expired.bundle" "$t/expired"
refused "a bundle signed by an expired key" "$t/expired.bundle" "whose certificate expired"

# Revocation travels in a bundle: before it, the compromised key's bundle would stage.
"$IMGSIGN" sign --key "$t/bad" -o "$t/bad.sig" "$t/bundle.manifest" >/dev/null
repack "$VARIANTS/v2.bundle" "$t/revoking.bundle" "$DEV" "\$a revoke = $(fp "$t/bad.sig")"
staged "a bundle carrying a revocation stages" "$t/revoking.bundle" "signed by '/CN=hypervisor development signing key'"
repack "$VARIANTS/v2.bundle" "$t/bad.bundle" "$t/bad"
refused "then a bundle signed by the revoked key" "$t/bad.bundle" "signed by a revoked key: '/CN=compromised'"

# Rotation: a key certified by the trusted one is accepted and learned; it stays trusted after
# the old key is revoked, and the old key's bundles are then refused.
repack "$VARIANTS/v2.bundle" "$t/rotated.bundle" "$t/rotated"
staged "a bundle signed by a new key certified by a trusted one stages, named" "$t/rotated.bundle" "signed by '/CN=rotated'"
ok_if "  ... and the host learned the new key (persist partition keys/learned.pem)" \
	"MTOOLS_SKIP_CHECK=1 mtype -i '$disk@@$((479232 * 512))' ::/keys/learned.pem | grep -q 'BEGIN CERTIFICATE'"
"$IMGSIGN" sign --key "$DEV" -o "$t/dev.sig" "$t/bundle.manifest" >/dev/null
repack "$VARIANTS/v2.bundle" "$t/retire.bundle" "$t/rotated" "\$a revoke = $(fp "$t/dev.sig")"
staged "the new key's bundle revoking the old key stages" "$t/retire.bundle" "signed by '/CN=rotated'"
refused "then the old key's bundles are refused" "$VARIANTS/v2.bundle" "signed by a revoked key"
exit $FAILED
