/* Signing (host side): keys and certificates, and detached CMS signatures. See signing.h. */
#define _GNU_SOURCE
#define OPENSSL_SUPPRESS_DEPRECATED /* the pkcs11 engine: OpenSSL 3.0 has no other way to a token */
#include "signing.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/cms.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct signer {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *chain;
	char *cert_pem;
	struct buf *replay;   /* signing_signer_replay(): the signatures it hands back */
	size_t nreplay;
	size_t *misses;       /* counted through const signers: signing_sign() takes one */
};

/* OpenSSL's last error, for messages. */
static const char *ssl_error(void)
{
	static char text[256];
	unsigned long e = ERR_get_error();

	if (!e)
		return "no detail";
	ERR_error_string_n(e, text, sizeof(text));
	ERR_clear_error();
	return text;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return 0;
}

/* A v3 certificate for key, issued by issuer (NULL: itself), signed by ikey. Every key can
 * certify another (CA:TRUE): that is how a key is rotated. */
static X509 *make_cert(EVP_PKEY *key, const struct keygen_opts *o, X509 *issuer, EVP_PKEY *ikey)
{
	X509 *c = X509_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int ok = c && RAND_bytes(serial, sizeof(serial)) == 1 && (bn = BN_bin2bn(serial, sizeof(serial), NULL));

	serial[0] &= 0x7f;
	ok = ok && X509_set_version(c, X509_VERSION_3) && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) &&
	     ASN1_TIME_set(X509_getm_notBefore(c), (time_t)o->not_before) &&
	     ASN1_TIME_set(X509_getm_notAfter(c), (time_t)o->not_after) && X509_set_pubkey(c, key) &&
	     X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_UTF8, (const unsigned char *)o->cn, -1,
					-1, 0) &&
	     X509_set_issuer_name(c, X509_get_subject_name(issuer ? issuer : c));
	ok = ok && add_ext(c, issuer ? issuer : c, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
	     add_ext(c, issuer ? issuer : c, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign") == 0 &&
	     add_ext(c, issuer ? issuer : c, NID_subject_key_identifier, "hash") == 0 &&
	     add_ext(c, issuer ? issuer : c, NID_authority_key_identifier, "keyid:always") == 0 &&
	     X509_sign(c, ikey ? ikey : key, EVP_sha256()) > 0;
	BN_free(bn);
	if (!ok) {
		X509_free(c);
		return NULL;
	}
	return c;
}

static EVP_PKEY *read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return k;
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return c;
}

/* Write <out>.key (0600, never world-readable) and <out>.crt. */
static int write_pair(const char *out, EVP_PKEY *key, X509 *cert, struct diag *d)
{
	char *kp = xasprintf("%s.key", out), *cp = xasprintf("%s.crt", out);
	int fd = open(kp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), r = 0;
	FILE *kf = fd >= 0 ? fdopen(fd, "w") : NULL, *cf = NULL;

	if (!kf)
		r = diag_set(d, kp, 0, "cannot create the key: %s; keys are never overwritten, remove it first",
			     strerror(errno));
	else if (!PEM_write_PrivateKey(kf, key, NULL, NULL, 0, NULL, NULL) || fflush(kf) != 0)
		r = diag_set(d, kp, 0, "cannot write the key: %s", ssl_error());
	if (kf)
		fclose(kf);
	else if (fd >= 0)
		close(fd);
	if (r == 0 && (!(cf = fopen(cp, "w")) || !PEM_write_X509(cf, cert) || fflush(cf) != 0))
		r = diag_set(d, cp, 0, "cannot write the certificate: %s", strerror(errno));
	if (cf)
		fclose(cf);
	free(kp), free(cp);
	return r;
}

int signing_keygen(const struct keygen_opts *o, struct diag *d)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072), *ikey = NULL;
	X509 *issuer = NULL, *cert = NULL;
	int r = 0;

	if (!key)
		r = diag_set(d, o->out, 0, "cannot make an RSA key: %s", ssl_error());
	if (r == 0 && o->issuer_key && (!(ikey = read_key(o->issuer_key)) || !(issuer = read_cert(o->issuer_cert))))
		r = diag_set(d, ikey ? o->issuer_cert : o->issuer_key, 0, "cannot read the certifying key or certificate: "
			     "%s; give a PEM key and its PEM certificate", ssl_error());
	if (r == 0 && !(cert = make_cert(key, o, issuer, ikey)))
		r = diag_set(d, o->out, 0, "cannot make the certificate: %s", ssl_error());
	if (r == 0 && issuer && X509_check_private_key(issuer, ikey) != 1)
		r = diag_set(d, o->issuer_key, 0, "the certifying key does not match %s; give the pair", o->issuer_cert);
	if (r == 0)
		r = write_pair(o->out, key, cert, d);
	EVP_PKEY_free(key), EVP_PKEY_free(ikey);
	X509_free(issuer), X509_free(cert);
	return r;
}

/* A key on a hardware token, through OpenSSL's pkcs11 engine (Debian: libengine-pkcs11-openssl). */
static EVP_PKEY *token_key(const char *uri)
{
	ENGINE *e;
	EVP_PKEY *k = NULL;

	ENGINE_load_builtin_engines();
	e = ENGINE_by_id("pkcs11");
	if (e && ENGINE_init(e)) {
		k = ENGINE_load_private_key(e, uri, NULL, NULL);
		ENGINE_finish(e);
	}
	ENGINE_free(e);
	return k;
}

static int load_chain(struct signer *s, const char *chain, struct diag *d)
{
	FILE *f = fopen(chain, "r");
	X509 *c;

	s->chain = sk_X509_new_null();
	if (!f)
		return diag_set(d, chain, 0, "cannot read the chain certificates: %s", strerror(errno));
	while ((c = PEM_read_X509(f, NULL, NULL, NULL)))
		sk_X509_push(s->chain, c);
	ERR_clear_error();
	fclose(f);
	return sk_X509_num(s->chain) > 0 ? 0 : diag_set(d, chain, 0, "no PEM certificate in it");
}

static char *cert_pem(X509 *c)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *text;
	long n;

	PEM_write_bio_X509(b, c);
	n = BIO_get_mem_data(b, &p);
	text = xstrndup(p, (size_t)n);
	BIO_free(b);
	return text;
}

int signing_signer_load(const char *key, const char *cert_path, const char *chain, struct signer **ret,
			struct diag *d)
{
	struct signer *s = xcalloc(1, sizeof(*s));
	bool token = strncmp(key, "pkcs11:", 7) == 0;
	char *kp = token ? NULL : xasprintf("%s.key", key);
	char *cp = cert_path ? xstrdup(cert_path) : xasprintf("%s.crt", key);
	int r = 0;

	s->key = token ? token_key(key) : read_key(kp);
	if (!s->key)
		r = diag_set(d, token ? key : kp, 0, token ? "cannot load the key from the token: %s; install "
			     "libengine-pkcs11-openssl and check the URI" : "cannot read the signing key: %s; make one with "
			     "'imgsign keygen'", ssl_error());
	if (r == 0 && !(s->cert = read_cert(cp)))
		r = diag_set(d, cp, 0, "cannot read the signing certificate: %s", ssl_error());
	if (r == 0 && X509_check_private_key(s->cert, s->key) != 1)
		r = diag_set(d, cp, 0, "the certificate is not the signing key's; give the key's own certificate");
	if (r == 0 && chain)
		r = load_chain(s, chain, d);
	if (r == 0)
		s->cert_pem = cert_pem(s->cert);
	free(kp), free(cp);
	if (r < 0) {
		signing_signer_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

struct signer *signing_signer_replay(const struct buf *sigs, size_t n)
{
	struct signer *s = xcalloc(1, sizeof(*s));

	s->replay = xcalloc(n + 1, sizeof(*s->replay));
	s->misses = xcalloc(1, sizeof(*s->misses));
	for (size_t i = 0; i < n; i++)
		buf_add(&s->replay[s->nreplay++], sigs[i].data, sigs[i].len);
	return s;
}

size_t signing_signer_misses(const struct signer *s)
{
	return s->misses ? *s->misses : 0;
}

/* Whether sig (DER) is a signature of data by the certificate it carries, trusting no one. */
static bool signs(const struct buf *sig, const void *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)sig->data;
	CMS_ContentInfo *cms = sig->len ? d2i_CMS_ContentInfo(NULL, &p, (long)sig->len) : NULL;
	BIO *in = BIO_new_mem_buf(data, (int)len);
	unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY;
	bool ok = cms && in && CMS_verify(cms, NULL, NULL, in, NULL, flags) == 1;

	ERR_clear_error();
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return ok;
}

static void replay(const struct signer *s, const void *data, size_t len, struct buf *ret)
{
	for (size_t i = 0; i < s->nreplay; i++)
		if (signs(&s->replay[i], data, len)) {
			buf_add(ret, s->replay[i].data, s->replay[i].len);
			return;
		}
	(*s->misses)++;
	buf_add(ret, "", 0);
}

void signing_signer_free(struct signer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nreplay; i++)
		buf_free(&s->replay[i]);
	free(s->replay);
	free(s->misses);
	EVP_PKEY_free(s->key);
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	free(s->cert_pem);
	free(s);
}

const char *signing_signer_cert_pem(const struct signer *s)
{
	return s->cert_pem ? s->cert_pem : "";
}

/* The SignerInfo with signingTime = epoch (not the clock: builds repeat), then the signature. */
static CMS_ContentInfo *cms_make(const struct signer *s, BIO *in, long long epoch)
{
	unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	CMS_SignerInfo *si = cms ? CMS_add1_signer(cms, s->cert, s->key, EVP_sha256(), flags) : NULL;
	ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)epoch);
	int ok = si && t && CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type, t, -1);

	for (int i = 0; ok && s->chain && i < sk_X509_num(s->chain); i++)
		ok = CMS_add1_cert(cms, sk_X509_value(s->chain, i));
	ok = ok && CMS_final(cms, in, NULL, flags);
	ASN1_TIME_free(t);
	if (!ok) {
		CMS_ContentInfo_free(cms);
		return NULL;
	}
	return cms;
}

int signing_sign(const struct signer *s, const void *data, size_t len, long long epoch, struct buf *ret,
		 struct diag *d)
{
	if (s->replay) {
		replay(s, data, len, ret);
		return 0;
	}
	BIO *in = BIO_new_mem_buf(data, (int)len);
	CMS_ContentInfo *cms = in ? cms_make(s, in, epoch) : NULL;
	unsigned char *der = NULL;
	int n = cms ? i2d_CMS_ContentInfo(cms, &der) : -1, r = 0;

	if (n <= 0)
		r = diag_set(d, "imgsign", 0, "cannot sign: %s", ssl_error());
	else
		buf_add(ret, der, (size_t)n);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return r;
}
