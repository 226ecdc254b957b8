#!/bin/bash
# Production keys: a key on a PKCS#11 token (SoftHSM, through OpenSSL's pkcs11 engine and
# p11-kit) signs a whole build; its bundle verifies with the token key's certificate; and a key
# given by path is used where it is, never copied into out/.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t" "${SCRATCH:-}"' EXIT
export SOFTHSM2_CONF=$t/softhsm2.conf
mkdir -p "$t/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$t/tokens" >"$SOFTHSM2_CONF"
IMGSIGN=$OUT/bin/imgsign
uri="pkcs11:token=hvtest;object=signing;type=private;pin-value=1234"
"$IMGSIGN" keygen --cn "token signing key" "$t/tk" >/dev/null
softhsm2-util --init-token --free --label hvtest --pin 1234 --so-pin 1234 >/dev/null &&
	openssl pkcs8 -topk8 -nocrypt -in "$t/tk.key" -outform DER -out "$t/tk.der" &&
	pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --login --pin 1234 --token-label hvtest \
		--write-object "$t/tk.der" --type privkey --id 01 --label signing >/dev/null 2>&1
check 1 "the key is on the token (SoftHSM)" test $? = 0
rm -f "$t/tk.key" "$t/tk.der"

scratch_repo
$IMGBUILD --signing-key "$uri" --signing-cert "$t/tk.crt" --image-version 5.0.0 build >"$t/log" 2>&1
check 2 "imgbuild signs a build with the token's key" test $? = 0
check 3 "its bundle verifies with the token key's certificate" \
	"$IMGSIGN" verify --keyring "$t/tk.crt" "$SCRATCH/out/$NAME-5.0.0.bundle"
check 4 "and not with the development key's" bash -c "! '$IMGSIGN' verify --keyring '$OUT/keys/dev-signing.crt' '$SCRATCH/out/$NAME-5.0.0.bundle' 2>/dev/null"

# A production key by path: used in place; out/ holds its certificate, never the key.
"$IMGSIGN" keygen --cn "production key" "$t/prod" >/dev/null
$IMGBUILD --signing-key "$t/prod" --image-version 5.0.1 build >"$t/log" 2>&1
check 5 "imgbuild signs with a key given by path" "$IMGSIGN" verify --keyring "$t/prod.crt" "$SCRATCH/out/$NAME-5.0.1.bundle"
line=$(sed -n 2p "$t/prod.key")
check 6 "no file under out/ holds the private key" bash -c "! grep -rqF -- '$line' '$SCRATCH/out/'"
exit $FAILED
