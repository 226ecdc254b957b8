#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "signing.h"
#include "util.h"
#include "tap.h"

static char *dir;

/* A key in dir: self-signed, or certified by issuer; valid from..to (days from now). */
static char *key(const char *name, const char *issuer, int from, int to)
{
	char *out = xasprintf("%s/%s", dir, name), *ik = issuer ? xasprintf("%s/%s.key", dir, issuer) : NULL;
	char *ic = issuer ? xasprintf("%s/%s.crt", dir, issuer) : NULL;
	long long now = (long long)time(NULL);
	struct keygen_opts o = {out, name, now + from * 86400LL, now + to * 86400LL, ik, ic};
	struct diag d = {{0}, 0};

	if (signing_keygen(&o, &d) < 0)
		printf("# keygen %s: %s\n", name, d.msg);
	free(ik), free(ic);
	return out;
}

static void sign(const char *keypath, const char *chain, const char *text, struct buf *sig)
{
	struct signer *s = NULL;
	struct diag d = {{0}, 0};

	if (signing_signer_load(keypath, NULL, chain, &s, &d) < 0 || signing_sign(s, text, strlen(text), 1700000000, sig, &d) < 0)
		printf("# sign: %s\n", d.msg);
	signing_signer_free(s);
}

static struct keyring *ring(const char *anchor)
{
	struct keyring *k = signing_keyring_new();
	char *p = xasprintf("%s.crt", anchor), *pem = NULL;
	size_t len = 0;
	struct diag d = {{0}, 0};

	if (util_read_file(p, &pem, &len) < 0 || signing_keyring_add_pem(k, pem, len, true, p, &d) < 0)
		printf("# keyring: %s\n", d.msg);
	free(p), free(pem);
	return k;
}

static int verify(struct keyring *k, const char *text, const struct buf *sig, struct signing_info *in, struct diag *d)
{
	*in = (struct signing_info){0};
	return signing_verify(k, text, strlen(text), sig->data, sig->len, "x.sig", in, d);
}

static void test_round_trip_and_tamper(char *root)
{
	struct keyring *k = ring(root);
	struct buf sig = {0}, again = {0};
	struct signing_info in;
	struct diag d = {{0}, 0};

	sign(root, NULL, "manifest text\n", &sig);
	sign(root, NULL, "manifest text\n", &again);
	ok(verify(k, "manifest text\n", &sig, &in, &d) == 0 && strstr(in.subject, "CN=root") && in.signed_at == 1700000000 &&
	   !in.chained, "signing: a signature verifies, names its signer and the signing time (%s)", d.msg);
	buf_free(&in.new_certs);
	ok(sig.len == again.len && memcmp(sig.data, again.data, sig.len) == 0, "signing: signing twice gives the same bytes");
	ok(verify(k, "manifest texT\n", &sig, &in, &d) < 0 && strstr(d.msg, "does not match the signed content"),
	   "signing: altered content is refused (%s)", d.msg);
	sig.data[sig.len / 2] ^= 1;
	ok(verify(k, "manifest text\n", &sig, &in, &d) < 0, "signing: an altered signature is refused (%s)", d.msg);
	buf_free(&sig), buf_free(&again);
	signing_keyring_free(k);
}

static void test_untrusted_keys(char *root)
{
	char *stranger = key("stranger", NULL, -1, 10), *old = key("old", "root", -20, -1);
	struct keyring *k = ring(root);
	struct buf sig = {0}, sig2 = {0};
	struct signing_info in;
	struct diag d = {{0}, 0};

	sign(stranger, NULL, "m", &sig);
	ok(verify(k, "m", &sig, &in, &d) < 0 && strstr(d.msg, "unknown key '/CN=stranger'"), "signing: an unknown key (%s)",
	   d.msg);
	sign(old, NULL, "m", &sig2);
	ok(verify(k, "m", &sig2, &in, &d) < 0 && strstr(d.msg, "expired"), "signing: an expired key (%s)", d.msg);
	buf_free(&sig), buf_free(&sig2);
	signing_keyring_free(k);
	free(stranger), free(old);
}

static void test_rotation_and_revocation(char *root)
{
	char *next = key("next", "root", -1, 10), *crt = xasprintf("%s.crt", next), *rootcrt = xasprintf("%s.crt", root);
	char fp[SIGNING_FP_LEN], rootfp[SIGNING_FP_LEN], *pem = NULL, *rpem = NULL;
	struct keyring *k = ring(root);
	struct buf sig = {0};
	struct signing_info in;
	struct diag d = {{0}, 0};
	size_t len = 0, rlen = 0;

	sign(next, NULL, "m", &sig);
	ok(verify(k, "m", &sig, &in, &d) == 0 && in.chained && strstr(in.new_certs.data ? in.new_certs.data : "", "BEGIN CERT"),
	   "signing: a new key certified by a trusted one is accepted and offered to learn (%s)", d.msg);
	if (in.new_certs.len)
		signing_keyring_add_pem(k, in.new_certs.data, in.new_certs.len, false, "learned", &d);
	buf_free(&in.new_certs);
	util_read_file(rootcrt, &rpem, &rlen);
	signing_cert_fingerprint(rpem, rlen, rootfp);
	ok(signing_keyring_revoke(k, rootfp) == 0 && verify(k, "m", &sig, &in, &d) == 0 && in.new_certs.len == 0,
	   "signing: once learned, the new key is trusted even with the old one revoked (%s)", d.msg);
	buf_free(&in.new_certs);
	util_read_file(crt, &pem, &len);
	signing_cert_fingerprint(pem, len, fp);
	ok(signing_keyring_revoke(k, fp) == 0 && verify(k, "m", &sig, &in, &d) < 0 && strstr(d.msg, "revoked key: '/CN=next'"),
	   "signing: a revoked key is refused (%s)", d.msg);
	ok(signing_keyring_revoke(k, "xyz") < 0, "signing: a malformed fingerprint is rejected");
	buf_free(&sig);
	signing_keyring_free(k);
	free(next), free(crt), free(rootcrt), free(pem), free(rpem);
}

int main(void)
{
	dir = mkdtemp(xstrdup("/tmp/test-signing.XXXXXX"));
	char *root = key("root", NULL, -1, 3650);

	test_round_trip_and_tamper(root);
	test_untrusted_keys(root);
	test_rotation_and_revocation(root);
	util_rm_rf(dir);
	free(dir), free(root);
	return tap_done();
}
