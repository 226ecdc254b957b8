/*
 * The signing chain's library (OpenSSL libcrypto): keys, signatures and the keyring.
 *
 * A signing key is an RSA-3072 key (PEM, PKCS#8) with an X.509 certificate (PEM). Signatures
 * are RSA PKCS#1 v1.5 over SHA-256, which is deterministic: a build signed twice with the same
 * key is bit-identical. (OpenSSL 3.0, Debian 12's, cannot make CMS signatures with Ed25519.)
 * A signature is a detached CMS SignedData (DER, RFC 5652 / RFC 8419) over the signed bytes,
 * holding the signer's certificate, any chain certificates given, and a signingTime set to the
 * build's SOURCE_DATE_EPOCH: `openssl cms -verify -binary -inform DER -in SIG -content FILE
 * -CAfile TRUSTED.pem -purpose any` verifies it.
 *
 * Trust: a keyring's anchors are the certificates the running image carries, and the ones the
 * host learned; a signer is accepted when its certificate is an anchor or chains to one
 * through certificates the signature carries (a new key certified by a trusted one: key
 * rotation; the host then learns the new key and trusts it in its own right), is inside its
 * validity period, and neither it nor any certificate on its chain is revoked (listed by
 * SHA-256 fingerprint, the form `openssl x509 -fingerprint -sha256` prints without colons).
 *
 * Library functions return 0 or a negative errno and fill a diag; they never print or exit.
 */
#ifndef SIGNING_H
#define SIGNING_H

#include <stdbool.h>
#include <stddef.h>

#include "kv.h"
#include "util.h"

#define SIGNING_FP_LEN 65 /* a SHA-256 fingerprint in lower-case hex, and its NUL */

struct keygen_opts {
	const char *out;           /* writes <out>.key and <out>.crt */
	const char *cn;            /* the certificate's common name */
	long long not_before, not_after; /* validity, Unix seconds */
	const char *issuer_key, *issuer_cert; /* certify with this key (rotation); NULL: self-signed CA */
};

/* Make a key and its certificate. 0 or -errno with d. */
int signing_keygen(const struct keygen_opts *o, struct diag *d);

struct signer;
/* Load a signing key: PATH.key and PATH.crt, or a PKCS#11 URI ("pkcs11:...", through OpenSSL's
 * pkcs11 engine) with the certificate in cert_path. chain (may be NULL) is a PEM file of
 * certificates to include. *ret owned by the caller: signing_signer_free(). */
int signing_signer_load(const char *key, const char *cert_path, const char *chain, struct signer **ret,
			struct diag *d);
/* A signer without a key that replays given signatures (DER): signing_sign() returns the one
 * whose signed content is the data (checked, the signer not trusted), for rebuilding a release
 * from its public parts (imgbuild verify). When none is, it returns no bytes and counts a miss. */
struct signer *signing_signer_replay(const struct buf *sigs, size_t n);
/* How many times a replaying signer had no signature of the data. */
size_t signing_signer_misses(const struct signer *s);
void signing_signer_free(struct signer *s);
/* The signer certificate's PEM text (for the image's keyring). Owned by the signer. */
const char *signing_signer_cert_pem(const struct signer *s);
/* A detached CMS signature of data, signingTime = epoch, DER into *ret. */
int signing_sign(const struct signer *s, const void *data, size_t len, long long epoch, struct buf *ret,
		 struct diag *d);

/* Who signed, as verification found it. */
struct signing_info {
	char subject[256];          /* the signer certificate's subject, one line */
	char fingerprint[SIGNING_FP_LEN];
	long long signed_at;        /* signingTime, Unix seconds (0 if absent) */
	bool chained;               /* trusted through a certificate that is not an anchor */
	struct buf new_certs;       /* PEM of chain certificates the keyring did not hold (to learn) */
};

struct keyring;
/* An empty keyring. Free with signing_keyring_free(). */
struct keyring *signing_keyring_new(void);
void signing_keyring_free(struct keyring *k);
/* Add the certificates of PEM text: the image's anchors, or learned ones (trusted as well; kept
 * apart to tell which are new). name labels messages. */
int signing_keyring_add_pem(struct keyring *k, const char *pem, size_t len, bool anchor, const char *name,
			    struct diag *d);
/* Revoke a fingerprint (64 hex digits; upper case and colons accepted). -EINVAL if malformed. */
int signing_keyring_revoke(struct keyring *k, const char *fingerprint);
/* Revoke every fingerprint of a revocation list: one per line, '#' lines are comments. name
 * labels messages. -EINVAL with d at the first malformed line. */
int signing_keyring_revoke_list(struct keyring *k, const char *text, const char *name, struct diag *d);
/* How many anchors, learned certificates and revocations it holds. */
void signing_keyring_counts(const struct keyring *k, size_t *anchors, size_t *learned, size_t *revoked);
/* The revoked fingerprints, one per line (for saving). */
void signing_keyring_revoked_text(const struct keyring *k, struct buf *out);

/* Verify a detached CMS signature (DER) of data against the keyring, now. name labels messages
 * ("x.bundle: ..."). On success fills *ret (free its new_certs with buf_free). -EBADMSG with d
 * for a bad, unknown, expired or revoked signature. */
int signing_verify(const struct keyring *k, const void *data, size_t len, const void *sig, size_t sig_len,
		   const char *name, struct signing_info *ret, struct diag *d);
/* Describe a signature without trusting it: signer, signingTime, certificates carried. */
int signing_show(const void *sig, size_t sig_len, const char *name, struct buf *out, struct diag *d);
/* The SHA-256 fingerprint of the first certificate in PEM text. */
int signing_cert_fingerprint(const char *pem, size_t len, char out[SIGNING_FP_LEN]);

#endif
