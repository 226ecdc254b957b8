#define _GNU_SOURCE
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kv.h"
#include "run.h"
#include "util.h"

#define DEV_UID "Hypervisor development signing key (INSECURE, not for shipping)"
#define DEV_SB_SUBJECT "/CN=Hypervisor development Secure Boot db key (INSECURE)/"

/* gpg with --batch and the key's home prepended to args (NULL-terminated, at most 16). */
static int gpg_run(const struct sign_keys *k, const char *const *args, const char *log, struct buf *out,
		   const char *what, struct diag *d)
{
	char *argv[24];
	size_t n = 0;
	int st;

	argv[n++] = "gpg";
	argv[n++] = "--batch";
	if (k->gnupghome) {
		argv[n++] = "--homedir";
		argv[n++] = k->gnupghome;
	}
	for (size_t i = 0; args[i] && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	st = run_argv(argv, NULL, NULL, out ? NULL : log, out);
	if (st == 0)
		return 0;
	if (out)
		return diag_set(d, k->gnupghome ? k->gnupghome : "gpg", 0, "%s failed (gpg exit %d): %.300s", what, st,
				out->data ? out->data : "");
	return diag_set(d, log, 0, "%s failed (gpg exit %d); see this log", what, st);
}

/* The fingerprint of the first secret key in the development home, or NULL. */
static char *dev_fingerprint(const struct sign_keys *k)
{
	static const char *const args[] = {"--with-colons", "--list-secret-keys", NULL};
	struct buf out = {0};
	struct diag d;
	char *fpr = NULL, *p;

	if (gpg_run(k, args, NULL, &out, "listing the secret keys", &d) == 0 && (p = strstr(out.data, "\nfpr:"))) {
		/* "fpr:::::::::<fingerprint>:": the tenth field */
		for (int colons = 0; colons < 9 && p; colons++)
			p = strchr(p + 1, ':');
		if (p && strspn(p + 1, "0123456789ABCDEF") >= 40)
			fpr = xstrndup(p + 1, 40);
	}
	buf_free(&out);
	return fpr;
}

/* The development OpenPGP key: RSA (what GRUB 2.06 verifies), sign-only, no passphrase, made once. */
static int dev_gpg_key(struct sign_keys *k, const char *log, const struct progress *progress, struct diag *d)
{
	/* Dated 2000-01-01, before any SOURCE_DATE_EPOCH, so that gpg --verify takes its signatures. */
	static const char *const gen[] = {"--passphrase", "", "--faked-system-time", "946684800!", "--quick-gen-key",
					  DEV_UID, "rsa3072", "sign", "never", NULL};
	/* The fingerprint is kept beside the home: listing secret keys would start gpg-agent. */
	char *idfile = xasprintf("%s.id", k->gnupghome), *id = NULL;
	size_t len = 0;
	int cached = util_read_file(idfile, &id, &len) == 0 && len >= 40 && strspn(id, "0123456789ABCDEF") == 40;
	int r = 0;

	util_mkdir_p(k->gnupghome, 0700);
	chmod(k->gnupghome, 0700);
	k->gpg_key = cached ? xstrndup(id, 40) : dev_fingerprint(k);
	free(id);
	if (!k->gpg_key) {
		progress_note(progress, "making a development signing key in %s (not for shipping; see docs/signing.md)",
			      k->gnupghome);
		r = gpg_run(k, gen, log, NULL, "making the development GnuPG key", d);
		if (r == 0 && !(k->gpg_key = dev_fingerprint(k)))
			r = diag_set(d, k->gnupghome, 0, "gpg made no secret key here; remove this folder and build again");
	}
	if (r == 0 && !cached)
		util_write_file_atomic(idfile, k->gpg_key, 40, 0644);
	free(idfile);
	return r;
}

/* The development db key for Secure Boot: a self-signed RSA-2048 certificate, made once. */
static int dev_sb_key(struct sign_keys *k, const char *dir, const char *log, struct diag *d)
{
	char *argv[] = {"openssl", "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "36500",
			"-subj", DEV_SB_SUBJECT, "-keyout", k->sb_key, "-out", k->sb_cert, NULL};

	if (access(k->sb_key, R_OK) == 0 && access(k->sb_cert, R_OK) == 0)
		return 0;
	util_mkdir_p(dir, 0700);
	return run_tool(argv, log, "making the development Secure Boot db key", d);
}

/* The db certificate as PEM and DER (what firmware enrolls), its DER added to h. */
static int cert_export(const char *cert, const char *pem, const char *der, struct hasher *h, struct diag *d)
{
	FILE *f = fopen(cert, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	unsigned char *bytes = NULL;
	int n = x ? i2d_X509(x, &bytes) : -1, r = 0;

	if (f)
		fclose(f);
	if (n <= 0)
		r = diag_set(d, cert, 0, "not a PEM X.509 certificate; SB_DB_CERT must name the db key's certificate");
	if (r == 0 && util_write_file_atomic(der, bytes, (size_t)n, 0644) < 0)
		r = diag_set(d, der, 0, "cannot write the db certificate here: %s", strerror(errno));
	if (r == 0 && (!(f = fopen(pem, "w")) || !PEM_write_X509(f, x) || fclose(f) != 0))
		r = diag_set(d, pem, 0, "cannot write the db certificate here: %s", strerror(errno));
	if (r == 0)
		hasher_add(h, bytes, (size_t)n);
	OPENSSL_free(bytes);
	X509_free(x);
	return r;
}

/* The newest creation time among the key and its subkeys ("pub:" and "sub:" lines, field 6): gpg
 * takes no key as usable at a time before it was made, so signatures are dated no earlier. */
static int key_created(struct sign_keys *k, const char *log, struct diag *d)
{
	const char *args[] = {"--with-colons", "--list-keys", k->gpg_key, NULL};
	struct buf out = {0};
	int r = gpg_run(k, args, log, &out, "reading the signing key", d);

	for (const char *p = out.data; r == 0 && p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *f = p;
		if (strncmp(p, "pub:", 4) != 0 && strncmp(p, "sub:", 4) != 0)
			continue;
		for (int colons = 0; colons < 5 && f; colons++)
			f = strchr(f + 1, ':');
		if (f && atoll(f + 1) > k->not_before)
			k->not_before = atoll(f + 1);
	}
	buf_free(&out);
	return r;
}

/* What the tests and the firmware set-up need: the public halves, in out/keys/public/. */
static int export_public(struct sign_keys *k, const char *pub, const char *log, struct diag *d)
{
	const char *args[] = {"--yes", "--export", "--export-options", "export-minimal", "-o", NULL, k->gpg_key, NULL};
	char *der = xasprintf("%s/db.der", pub), *pem = xasprintf("%s/db.crt", pub), *data = NULL;
	size_t len = 0;
	struct hasher h;
	int r, e;

	k->pubkey = xasprintf("%s/grub.gpg", pub);
	k->db_der = xstrdup(der);
	args[5] = k->pubkey;
	r = key_created(k, log, d);
	if (r == 0)
		r = gpg_run(k, args, log, NULL, "exporting the GRUB signing key", d);
	if (r == 0 && (util_read_file(k->pubkey, &data, &len) < 0 || len == 0))
		r = diag_set(d, k->pubkey, 0, "gpg exported no key %s; check GRUB_SIGNING_KEY and GNUPGHOME", k->gpg_key);
	hasher_init(&h);
	if (r == 0) {
		hasher_add(&h, data, len);
		r = cert_export(k->sb_cert, pem, der, &h, d);
	}
	if ((e = hasher_end(&h, k->id)) < 0 && r == 0)
		r = diag_set_errno(d, -e, k->pubkey, 0, "cannot hash the public keys (SHA-256); free some memory and "
				   "build again");
	free(data), free(der), free(pem);
	return r;
}

int sign_keys_init(struct sign_keys *k, const char *out, const struct progress *progress, struct diag *d)
{
	const char *gk = getenv("GRUB_SIGNING_KEY"), *sk = getenv("SB_DB_KEY"), *sc = getenv("SB_DB_CERT");
	char *keys = xasprintf("%s/keys", out), *pub = xasprintf("%s/public", keys), *sb = xasprintf("%s/sb", keys);
	char *log = xasprintf("%s/keys.log", keys);
	int r = 0;

	memset(k, 0, sizeof(*k));
	util_mkdir_p(pub, 0755);
	if (gk && *gk) {
		k->gpg_key = xstrdup(gk);
	} else {
		k->dev = 1;
		k->gnupghome = xasprintf("%s/gpg", keys);
		r = dev_gpg_key(k, log, progress, d);
	}
	if (r == 0 && (!sk || !*sk) != (!sc || !*sc))
		r = diag_set(d, sk && *sk ? sk : sc, 0, "SB_DB_KEY and SB_DB_CERT go together; set both, or neither for "
			     "the development db key");
	if (r == 0 && sk && *sk) {
		k->sb_key = xstrdup(sk);
		k->sb_cert = xstrdup(sc);
	} else if (r == 0) {
		k->sb_key = xasprintf("%s/db.key", sb);
		k->sb_cert = xasprintf("%s/db.crt", sb);
		r = dev_sb_key(k, sb, log, d);
	}
	if (r == 0)
		r = export_public(k, pub, log, d);
	free(keys), free(pub), free(sb), free(log);
	return r;
}

/* sha256 of the GRUB public key and the db certificate (DER): the image key's share of the keys. */
static int keys_id(struct sign_keys *k, struct diag *d)
{
	char *gpg = NULL, *der = NULL;
	size_t glen = 0, dlen = 0;
	struct hasher h;
	int r = 0, e;

	if (util_read_file(k->pubkey, &gpg, &glen) < 0 || util_read_file(k->db_der, &der, &dlen) < 0)
		r = diag_set(d, gpg ? k->db_der : k->pubkey, 0, "the release carries no such public key; it was "
			     "built by an imgbuild that did not put its keys in the image, and cannot be verified");
	hasher_init(&h);
	if (r == 0) {
		hasher_add(&h, gpg, glen);
		hasher_add(&h, der, dlen);
	}
	if ((e = hasher_end(&h, k->id)) < 0 && r == 0)
		r = diag_set_errno(d, -e, k->pubkey, 0, "cannot hash the public keys (SHA-256); free some memory");
	free(gpg), free(der);
	return r;
}

int sign_keys_init_release(struct sign_keys *k, const char *release, struct diag *d)
{
	memset(k, 0, sizeof(*k));
	k->release = xstrdup(release);
	k->pubkey = xasprintf("%s/tree/keys/grub.gpg", release);
	k->db_der = xasprintf("%s/tree/keys/db.der", release);
	return keys_id(k, d);
}

void sign_agent_stop(const struct sign_keys *k)
{
	if (k->dev && k->gnupghome) {
		char *argv[] = {"gpgconf", "--homedir", k->gnupghome, "--kill", "gpg-agent", NULL};
		run_argv(argv, NULL, NULL, NULL, NULL);
	}
}

void sign_keys_free(struct sign_keys *k)
{
	free(k->gnupghome), free(k->gpg_key), free(k->pubkey), free(k->sb_key), free(k->sb_cert);
	free(k->db_der), free(k->release);
	strv_free(&k->notes);
	memset(k, 0, sizeof(*k));
}

/* Copy the release's from into to; 0, or -errno (-ENOENT when the release lacks it). */
static int copy_file(const char *from, const char *to, long long epoch)
{
	struct timespec ts[2] = {{.tv_sec = (time_t)epoch}, {.tv_sec = (time_t)epoch}};
	char *data = NULL;
	size_t len = 0;
	int r = util_read_file(from, &data, &len);

	if (r == 0)
		r = util_write_file_atomic(to, data, len, 0644);
	if (r == 0)
		utimensat(AT_FDCWD, to, ts, 0);
	free(data);
	return r;
}

/* Verifying: FILE.sig is the release's; without one, an empty FILE.sig and a note. */
static int take_gpg(struct sign_keys *k, const char *file, const char *name, long long epoch, struct diag *d)
{
	char *from = xasprintf("%s/%s.sig", k->release, name), *sig = xasprintf("%s.sig", file);
	int r = copy_file(from, sig, epoch);

	if (r == -ENOENT) {
		strv_push_take(&k->notes, xasprintf("%s.sig: not in the release files given", name));
		r = copy_file("/dev/null", sig, epoch);
	}
	if (r < 0)
		r = diag_set(d, sig, 0, "cannot copy the release's signature here: %s", strerror(-r));
	free(from), free(sig);
	return r;
}

int sign_gpg(struct sign_keys *k, const char *file, const char *name, long long epoch, const char *log,
	     struct diag *d)
{
	if (k->release)
		return take_gpg(k, file, name, epoch, d);
	char *sig = xasprintf("%s.sig", file), *when = xasprintf("%lld!", epoch > k->not_before ? epoch : k->not_before);
	/* A fixed signature time makes the signature a function of the file and the key (RSA
	 * PKCS#1 v1.5 has no randomness): builds repeat. */
	const char *args[] = {"--yes", "--local-user", k->gpg_key, "--digest-algo", "SHA256", "--ignore-time-conflict",
			      "--faked-system-time", when, "--detach-sign", "-o", sig, file, NULL};
	struct timespec ts[2] = {{.tv_sec = (time_t)epoch}, {.tv_sec = (time_t)epoch}};
	int r = gpg_run(k, args, log, NULL, "signing for GRUB", d);

	if (r == 0)
		utimensat(AT_FDCWD, sig, ts, 0);
	free(sig), free(when);
	return r;
}

/* Zero a PE file's CheckSum (optional header, offset 64): sbsign sets it, grub-mkimage leaves it
 * 0, and the Authenticode hash the signature covers leaves it out. */
static void pe_no_checksum(char *pe, size_t len)
{
	const unsigned char *u = (const unsigned char *)pe;
	size_t at = len >= 0x40 ? (size_t)(u[0x3c] | u[0x3d] << 8 | u[0x3e] << 16 | (unsigned)u[0x3f] << 24) + 24 + 64 : len;

	if (at + 4 <= len)
		memset(pe + at, 0, 4);
}

/* The first byte at which the programs a and b differ, their PE checksums aside; -1 if nowhere. */
static long long pe_difference(const char *a, const char *b)
{
	char *x = NULL, *y = NULL;
	size_t xl = 0, yl = 0, i = 0;
	long long at = -1;

	if (util_read_file(a, &x, &xl) < 0 || util_read_file(b, &y, &yl) < 0)
		at = 0;
	pe_no_checksum(x, xl);
	pe_no_checksum(y, yl);
	while (at < 0 && i < xl && i < yl && x[i] == y[i])
		i++;
	if (at < 0 && (i < xl || i < yl))
		at = (long long)i;
	free(x), free(y);
	return at;
}

/* Verifying: the release's signed program replaces the rebuilt one (already without a
 * signature) when it is that program plus a signature. */
static int take_efi(struct sign_keys *k, const char *file, const char *name, long long epoch, const char *log,
		    struct diag *d)
{
	char *from = xasprintf("%s/%s", k->release, name), *bare = xasprintf("%s.release", file);
	char *strip[] = {"sbattach", "--remove", bare, NULL};
	int r = copy_file(from, bare, epoch);
	long long at = -1;

	if (r == -ENOENT)
		strv_push_take(&k->notes, xasprintf("%s: not in the release files given; left unsigned", name));
	else if (r < 0)
		r = diag_set(d, bare, 0, "cannot copy the release's %s here: %s", name, strerror(-r));
	if (r == 0) {
		run_argv(strip, NULL, NULL, log, NULL);
		at = pe_difference(bare, file);
	}
	if (at >= 0)
		strv_push_take(&k->notes, xasprintf("%s: the release's differs from the rebuilt one, its Secure Boot "
						    "signature and PE checksum aside, first at byte %lld; left unsigned", name, at));
	if (r == 0 && at < 0 && (r = copy_file(from, file, epoch)) < 0)
		r = diag_set(d, file, 0, "cannot copy the release's %s here: %s", name, strerror(-r));
	unlink(bare);
	free(from), free(bare);
	return r == -ENOENT ? 0 : r;
}

/* Debian's faketime package puts the library here. */
#define FAKETIME_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

int sign_efi(struct sign_keys *k, const char *file, const char *name, long long epoch, const char *log,
	     struct diag *d)
{
	char *tmp = xasprintf("%s.signed", file), when[48];
	time_t t = (time_t)epoch;
	struct tm tm;
	int r;

	/* sbsign dates its signature: libfaketime's frozen clock keeps it to the epoch. Preloaded
	 * directly rather than through the faketime wrapper (one process and one semaphore fewer per
	 * call; sbsign failed once under the wrapper in a clean-clone run, for a reason its lost log
	 * did not keep). The signature is the same either way. */
	gmtime_r(&t, &tm);
	strftime(when + 9, sizeof(when) - 9, "%Y-%m-%d %H:%M:%S", &tm);
	memcpy(when, "FAKETIME=", 9);
	char *strip[] = {"sbattach", "--remove", (char *)file, NULL};
	char *argv[] = {"sbsign", "--key", k->sb_key, "--cert", k->sb_cert, "--output", tmp, (char *)file, NULL};
	char *env[] = {"TZ=UTC", "LD_PRELOAD=" FAKETIME_LIB, when, NULL};
	/* A vendor's signature (Debian's, on its kernel) goes: the image is signed by db alone. */
	run_argv(strip, NULL, NULL, log, NULL);
	if (k->release) {
		free(tmp);
		return take_efi(k, file, name, epoch, log, d);
	}
	if (access(FAKETIME_LIB, R_OK) < 0)
		r = diag_set(d, FAKETIME_LIB, 0, "missing; install faketime (builder/host-packages), which dates sbsign's "
			     "signatures");
	else
		r = run_argv(argv, NULL, env, log, NULL) == 0 ? 0
			: diag_set(d, log, 0, "signing %s for Secure Boot failed (sbsign); see this log", file);
	if (r == 0 && rename(tmp, file) < 0)
		r = diag_set(d, file, 0, "cannot replace with its signed copy: %s", strerror(errno));
	unlink(tmp);
	free(tmp);
	return r;
}
