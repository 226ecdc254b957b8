/* hostd's self-signed certificate (cert.h), with OpenSSL. */
#define _GNU_SOURCE
#include "cert.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <stdbool.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define CERT_DAYS 3650

static int name_add(X509 *x, const char *hostname)
{
	X509_NAME *n = X509_get_subject_name(x);
	X509_EXTENSION *ext;
	char *san = xasprintf("DNS:%s", hostname);
	X509V3_CTX ctx;
	int ok;

	ok = X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)hostname, -1, -1, 0) &&
	     X509_set_issuer_name(x, n);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = ok ? X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san) : NULL;
	ok = ext && X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	free(san);
	return ok ? 0 : -1;
}

static X509 *cert_make(EVP_PKEY *k, const char *hostname)
{
	X509 *x = X509_new();
	ASN1_INTEGER *serial = X509_get_serialNumber(x);
	unsigned char rnd[8];
	BIGNUM *bn = NULL;
	int ok;

	ok = RAND_bytes(rnd, sizeof(rnd)) == 1 && (bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) &&
	     BN_to_ASN1_INTEGER(bn, serial) && X509_set_version(x, 2) && X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0, NULL) && X509_set_pubkey(x, k) &&
	     name_add(x, hostname) == 0 && X509_sign(x, k, EVP_sha256()) > 0;
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Write PEM through fn to path.tmp (mode), then rename it over path. */
static int pem_write(const char *path, mode_t mode, int (*fn)(FILE *f, void *obj), void *obj)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode), r = 0;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f)
		r = -errno;
	else if (!fn(f, obj) || fflush(f) != 0 || fsync(fileno(f)) < 0)
		r = -EIO;
	if (f && fclose(f) != 0 && r == 0)
		r = -EIO;
	else if (!f && fd >= 0)
		close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

static int key_pem(FILE *f, void *k)
{
	return PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
}

static int cert_pem(FILE *f, void *x)
{
	return PEM_write_X509(f, x);
}

int cert_ensure(const char *cert, const char *key, const char *hostname, struct diag *d)
{
	EVP_PKEY *k;
	X509 *x = NULL;
	char *dir;
	int r;

	if (access(cert, F_OK) == 0 && access(key, F_OK) == 0)
		return 0;
	dir = xstrndup(cert, (size_t)(strrchr(cert, '/') ? strrchr(cert, '/') - cert : 0));
	r = *dir ? util_mkdir_p(dir, 0755) : 0;
	free(dir);
	k = EVP_EC_gen("P-256");
	if (!k || !(x = cert_make(k, hostname)))
		r = diag_set(d, cert, 0, "cannot make a certificate (OpenSSL); report this");
	else if (r < 0 || (r = pem_write(key, 0600, key_pem, k)) < 0 || (r = pem_write(cert, 0644, cert_pem, x)) < 0)
		diag_set_errno(d, -r, cert, 0, "cannot write the certificate or its key; check that /etc/hostcfg is writable");
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

/* The PEM blocks of text named "CERTIFICATE" and "... PRIVATE KEY", re-encoded; the chain first. */
static int pem_split(const char *text, size_t len, X509 **leaf, STACK_OF(X509) **chain, EVP_PKEY **key,
		     struct diag *d)
{
	BIO *b = BIO_new_mem_buf(text, (int)len);
	X509 *x;

	*leaf = NULL, *chain = sk_X509_new_null(), *key = NULL;
	while (b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		if (!*leaf)
			*leaf = x;
		else
			sk_X509_push(*chain, x);
	BIO_free(b);
	b = BIO_new_mem_buf(text, (int)len);
	*key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	if (!*leaf)
		return diag_set(d, "body", 0, "no PEM certificate in the body; send the certificate chain, then the key");
	if (!*key)
		return diag_set(d, "body", 0, "no PEM private key (unencrypted) in the body");
	if (X509_check_private_key(*leaf, *key) != 1) {
		ERR_clear_error();
		return diag_set(d, "body", 0, "the private key is not the certificate's");
	}
	if (X509_cmp_current_time(X509_get0_notAfter(*leaf)) <= 0)
		return diag_set(d, "body", 0, "the certificate has expired");
	return 0;
}

static int chain_pem(FILE *f, void *arg)
{
	void **a = arg;
	STACK_OF(X509) *chain = a[1];
	int ok = PEM_write_X509(f, a[0]);

	for (int i = 0; ok && i < sk_X509_num(chain); i++)
		ok = PEM_write_X509(f, sk_X509_value(chain, i));
	return ok;
}

static void asn1_time_text(const ASN1_TIME *t, char *out, size_t size)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(out, size, "?");
}

int cert_replace(const char *cert, const char *key, const char *text, size_t len, struct cert_info *info, struct diag *d)
{
	X509 *leaf;
	STACK_OF(X509) *chain;
	EVP_PKEY *k;
	void *both[2];
	int r = pem_split(text, len, &leaf, &chain, &k, d);

	if (r == 0) {
		both[0] = leaf, both[1] = chain;
		X509_NAME_oneline(X509_get_subject_name(leaf), info->subject, sizeof(info->subject));
		asn1_time_text(X509_get0_notAfter(leaf), info->not_after, sizeof(info->not_after));
		/* The key first: a crash between leaves the old certificate with a key that does not
		 * match, which hostd refuses at start and then makes both again. */
		if (pem_write(key, 0600, key_pem, k) < 0 || pem_write(cert, 0644, chain_pem, both) < 0)
			r = diag_set_errno(d, errno, cert, 0, "cannot write the certificate or its key");
	}
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(k);
	return r;
}

int cert_renew(const char *cert, const char *key, const char *old_hostname, const char *hostname, struct diag *d)
{
	FILE *f = fopen(cert, "re");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	char cn[256] = "";
	bool ours;

	if (f)
		fclose(f);
	if (x)
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	/* Only hostd's own certificate (self-signed, for the old name) follows the host name. */
	ours = x && X509_check_issued(x, x) == X509_V_OK && strcmp(cn, old_hostname) == 0;
	X509_free(x);
	if (!ours)
		return 0;
	unlink(cert);
	return cert_ensure(cert, key, hostname, d) < 0 ? -1 : 1;
}
