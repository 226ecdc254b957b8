/* Verifying (host and appliance): the keyring, and detached CMS signatures. See signing.h. */
#define _GNU_SOURCE
#include "signing.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

struct keyring {
	STACK_OF(X509) *anchors, *learned;
	struct strv revoked; /* lower-case hex fingerprints */
};

struct keyring *signing_keyring_new(void)
{
	struct keyring *k = xcalloc(1, sizeof(*k));

	k->anchors = sk_X509_new_null();
	k->learned = sk_X509_new_null();
	return k;
}

void signing_keyring_free(struct keyring *k)
{
	if (!k)
		return;
	sk_X509_pop_free(k->anchors, X509_free);
	sk_X509_pop_free(k->learned, X509_free);
	strv_free(&k->revoked);
	free(k);
}

static void fingerprint(X509 *c, char out[SIGNING_FP_LEN])
{
	unsigned char md[32];
	unsigned n = 0;

	X509_digest(c, EVP_sha256(), md, &n);
	for (unsigned i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

int signing_keyring_add_pem(struct keyring *k, const char *pem, size_t len, bool anchor, const char *name,
			    struct diag *d)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *c;
	int n = 0;

	while (b && (c = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		sk_X509_push(anchor ? k->anchors : k->learned, c);
		n++;
	}
	ERR_clear_error();
	BIO_free(b);
	if (n == 0 && len > 0 && strspn(pem, " \t\r\n") < len)
		return diag_set(d, name, 0, "no PEM certificate in it; the keyring is damaged");
	return 0;
}

int signing_keyring_revoke(struct keyring *k, const char *fp)
{
	char norm[SIGNING_FP_LEN];
	size_t n = 0;

	for (const char *p = fp; *p && n < 64; p++) {
		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p))
			return -EINVAL;
		norm[n++] = (char)tolower((unsigned char)*p);
	}
	if (n != 64 || fp[strspn(fp, "0123456789abcdefABCDEF:")] != '\0')
		return -EINVAL;
	norm[64] = '\0';
	if (!strv_contains(&k->revoked, norm))
		strv_push(&k->revoked, norm);
	return 0;
}

int signing_keyring_revoke_list(struct keyring *k, const char *text, const char *name, struct diag *d)
{
	char *copy = xstrdup(text ? text : ""), *save = NULL;
	int r = 0;

	for (char *l = strtok_r(copy, "\n", &save); l && r == 0; l = strtok_r(NULL, "\n", &save))
		if (*l != '#' && signing_keyring_revoke(k, l) < 0)
			r = diag_set(d, name, 0, "'%s' is not a SHA-256 fingerprint; the revocation list is damaged", l);
	free(copy);
	return r < 0 ? -EINVAL : 0;
}

void signing_keyring_counts(const struct keyring *k, size_t *anchors, size_t *learned, size_t *revoked)
{
	*anchors = (size_t)sk_X509_num(k->anchors);
	*learned = (size_t)sk_X509_num(k->learned);
	*revoked = k->revoked.n;
}

void signing_keyring_revoked_text(const struct keyring *k, struct buf *out)
{
	for (size_t i = 0; i < k->revoked.n; i++)
		buf_printf(out, "%s\n", k->revoked.v[i]);
}

int signing_cert_fingerprint(const char *pem, size_t len, char out[SIGNING_FP_LEN])
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	if (!c)
		return -EINVAL;
	fingerprint(c, out);
	X509_free(c);
	return 0;
}

static CMS_ContentInfo *cms_parse(const void *sig, size_t len)
{
	const unsigned char *p = sig;

	return d2i_CMS_ContentInfo(NULL, &p, (long)len);
}

/* The certificate of the (one) SignerInfo, among those the signature carries. */
static X509 *signer_cert(CMS_ContentInfo *cms, STACK_OF(X509) *certs)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	CMS_SignerInfo *si = sis && sk_CMS_SignerInfo_num(sis) == 1 ? sk_CMS_SignerInfo_value(sis, 0) : NULL;

	for (int i = 0; si && certs && i < sk_X509_num(certs); i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0)
			return sk_X509_value(certs, i);
	return NULL;
}

static long long signing_time(CMS_ContentInfo *cms)
{
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	int at = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	ASN1_TYPE *v = at >= 0 ? X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, at), 0) : NULL;
	struct tm tm;

	if (!v || (v->type != V_ASN1_UTCTIME && v->type != V_ASN1_GENERALIZEDTIME) ||
	    ASN1_TIME_to_tm(v->value.utctime, &tm) != 1)
		return 0;
	return (long long)timegm(&tm);
}

static void subject_of(X509 *c, char *out, size_t size)
{
	X509_NAME_oneline(X509_get_subject_name(c), out, (int)size);
}

static int chain_error(int err, X509 *signer, const char *name, struct diag *d)
{
	char subj[256], when[64] = "?";
	const ASN1_TIME *t = err == X509_V_ERR_CERT_HAS_EXPIRED ? X509_get0_notAfter(signer) : X509_get0_notBefore(signer);
	BIO *b = BIO_new(BIO_s_mem());

	subject_of(signer, subj, sizeof(subj));
	if (b && ASN1_TIME_print(b, t) > 0)
		when[BIO_read(b, when, sizeof(when) - 1) > 0 ? strcspn(when, "\n") : 0] = '\0';
	BIO_free(b);
	if (err == X509_V_ERR_CERT_HAS_EXPIRED)
		return diag_set(d, name, 0, "signed by '%s', whose certificate expired on %s; refusing it, get a bundle "
				"signed with a current key", subj, when);
	if (err == X509_V_ERR_CERT_NOT_YET_VALID)
		return diag_set(d, name, 0, "signed by '%s', whose certificate is valid only from %s; check the clock",
				subj, when);
	if (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	    err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN || err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)
		return diag_set(d, name, 0, "signed by an unknown key '%s'; refusing it: this host trusts only its "
				"keyring's keys and keys they certified", subj);
	return diag_set(d, name, 0, "the signer '%s' is not trusted: %s; refusing it", subj,
			X509_verify_cert_error_string(err));
}

static bool stack_has(STACK_OF(X509) *s, X509 *c)
{
	for (int i = 0; i < sk_X509_num(s); i++)
		if (X509_cmp(sk_X509_value(s, i), c) == 0)
			return true;
	return false;
}

/* Whether a certificate on the chain, up to the first one the keyring trusts, is revoked. */
static bool revoked(const struct keyring *k, STACK_OF(X509) *chain, char *which, size_t size)
{
	char fp[SIGNING_FP_LEN];

	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);
		fingerprint(c, fp);
		if (strv_contains(&k->revoked, fp)) {
			subject_of(c, which, size);
			return true;
		}
		if (stack_has(k->anchors, c) || stack_has(k->learned, c))
			break;
	}
	return false;
}

/* What a verified chain teaches: whether the signer is an anchor itself, and the certificates
 * on the chain the keyring did not hold (a rotated key, to be trusted from now on). */
static void learn(const struct keyring *k, STACK_OF(X509) *chain, struct signing_info *info)
{
	info->chained = !stack_has(k->anchors, sk_X509_value(chain, 0));
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);
		char *pem = NULL;
		if (stack_has(k->anchors, c) || stack_has(k->learned, c))
			continue;
		BIO *b = BIO_new(BIO_s_mem());
		PEM_write_bio_X509(b, c);
		long n = BIO_get_mem_data(b, &pem);
		buf_add(&info->new_certs, pem, (size_t)n);
		BIO_free(b);
	}
}

/* The signer's chain to an anchor, through the signature's and the learned certificates. */
static int check_chain(const struct keyring *k, X509 *signer, STACK_OF(X509) *carried, const char *name,
		       struct signing_info *info, struct diag *d)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null(), *chain = NULL;
	char which[256];
	int r = 0;

	/* Learned keys are trusted in their own right: a host that took a rotated key keeps it when
	 * the key that certified it is retired or revoked. */
	for (int i = 0; i < sk_X509_num(k->anchors); i++)
		X509_STORE_add_cert(store, sk_X509_value(k->anchors, i));
	for (int i = 0; i < sk_X509_num(k->learned); i++)
		X509_STORE_add_cert(store, sk_X509_value(k->learned, i));
	for (int i = 0; carried && i < sk_X509_num(carried); i++)
		sk_X509_push(untrusted, sk_X509_value(carried, i));
	/* An anchor need not be self-signed: a rotated key's certificate is one once an image carries it. */
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
	if (!X509_STORE_CTX_init(ctx, store, signer, untrusted) || X509_verify_cert(ctx) != 1)
		r = chain_error(X509_STORE_CTX_get_error(ctx), signer, name, d);
	if (r == 0 && (chain = X509_STORE_CTX_get1_chain(ctx)) && revoked(k, chain, which, sizeof(which)))
		r = diag_set(d, name, 0, "signed by a revoked key: '%s' is on this host's revocation list; refusing it",
			     which);
	if (r == 0)
		learn(k, chain, info);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

/* The signature itself over data (the chain was checked already). */
static int check_signature(CMS_ContentInfo *cms, const void *data, size_t len, const char *name, struct diag *d)
{
	BIO *in = BIO_new_mem_buf(data, (int)len);
	X509_STORE *store = X509_STORE_new();
	int ok = in && store && CMS_verify(cms, NULL, store, in, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1;

	BIO_free(in);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok ? 0 : diag_set(d, name, 0, "the signature does not match the signed content; it was altered, "
				 "refusing it");
}

int signing_verify(const struct keyring *k, const void *data, size_t len, const void *sig, size_t sig_len,
		   const char *name, struct signing_info *ret, struct diag *d)
{
	CMS_ContentInfo *cms = cms_parse(sig, sig_len);
	STACK_OF(X509) *certs = cms ? CMS_get1_certs(cms) : NULL;
	X509 *signer = cms ? signer_cert(cms, certs) : NULL;
	struct signing_info info = {0};
	int r = 0;

	if (!cms)
		r = diag_set(d, name, 0, "the signature is not a CMS signature; it is damaged, refusing it");
	else if (!signer)
		r = diag_set(d, name, 0, "the signature names no signer certificate it carries; refusing it");
	if (r == 0)
		r = check_chain(k, signer, certs, name, &info, d);
	if (r == 0)
		r = check_signature(cms, data, len, name, d);
	if (r == 0) {
		subject_of(signer, info.subject, sizeof(info.subject));
		fingerprint(signer, info.fingerprint);
		info.signed_at = signing_time(cms);
		*ret = info;
	} else
		buf_free(&info.new_certs);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r < 0 ? -EBADMSG : 0;
}

int signing_show(const void *sig, size_t sig_len, const char *name, struct buf *out, struct diag *d)
{
	CMS_ContentInfo *cms = cms_parse(sig, sig_len);
	STACK_OF(X509) *certs = cms ? CMS_get1_certs(cms) : NULL;
	X509 *signer = cms ? signer_cert(cms, certs) : NULL;
	char subj[256], fp[SIGNING_FP_LEN];

	if (!signer) {
		sk_X509_pop_free(certs, X509_free);
		CMS_ContentInfo_free(cms);
		return diag_set(d, name, 0, "not a CMS signature with its signer's certificate");
	}
	subject_of(signer, subj, sizeof(subj));
	fingerprint(signer, fp);
	buf_printf(out, "signer: %s\nfingerprint: %s\n", subj, fp);
	X509_NAME_oneline(X509_get_issuer_name(signer), subj, sizeof(subj));
	buf_printf(out, "issuer: %s\nsigned-at: %lld\n", subj, signing_time(cms));
	for (int i = 0; i < sk_X509_num(certs); i++) {
		subject_of(sk_X509_value(certs, i), subj, sizeof(subj));
		fingerprint(sk_X509_value(certs, i), fp);
		buf_printf(out, "carries: %s %s\n", fp, subj);
	}
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	return 0;
}
