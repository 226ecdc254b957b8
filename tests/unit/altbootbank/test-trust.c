/* The keyring bankctl checks bundles against (altbootbank/trust.c): anchors from a bank's keys/
 * or a --keyring file, learned certificates and revocations on the persist partition. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk-fixture.h"
#include "trust.h"
#include "tap.h"

#define FP_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define FP_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

struct fixture {
	char *dir, *disk;
	struct bootdisk bd;
	int r;
};

/* A temp folder with keys ca and other, and a disk whose bank-a trusts ca and revokes FP_A. */
static void fixture_make(struct fixture *f)
{
	struct disk_opts o = {.trusted = "ca.crt", .revoked = "# revoked\n" FP_A "\n", .format_bank_b = true};
	struct diag d = {{0}, 0};

	memset(f, 0, sizeof(*f));
	f->bd.fd = -1;
	f->dir = mkdtemp(xstrdup("/tmp/test-trust.XXXXXX"));
	f->r = f->dir && fix_key(f->dir, "ca") == 0 && fix_key(f->dir, "other") == 0 && fix_disk(f->dir, &o, &f->disk) == 0
		       ? 0 : -1;
	if (f->r == 0 && (f->r = bootdisk_open(f->disk, 1, &f->bd, &d)) < 0)
		printf("# %s\n", d.msg);
}

static void fixture_free(struct fixture *f)
{
	if (f->bd.path)
		bootdisk_close(&f->bd);
	if (f->dir)
		util_rm_rf(f->dir);
	free(f->dir);
	free(f->disk);
}

static bool counts(const struct keyring *k, size_t anchors, size_t learned, size_t revoked)
{
	size_t a = 99, l = 99, r = 99;

	if (k)
		signing_keyring_counts(k, &a, &l, &r);
	if (a != anchors || l != learned || r != revoked)
		printf("# anchors %zu, learned %zu, revoked %zu\n", a, l, r);
	return a == anchors && l == learned && r == revoked;
}

static void test_trust_load_reads_the_kept_bank_when_it_has_keys(void)
{
	struct fixture f;
	struct trust_opts o = {.kept = 0};
	struct keyring *k = NULL;
	struct diag d = {{0}, 0};
	int r;

	fixture_make(&f);
	r = f.r == 0 ? trust_load(&f.bd, &o, &k, &d) : -1;
	ok(r == 0 && counts(k, 1, 0, 1), "trust_load: one anchor and one revocation when bank-a's keys/ hold trusted.pem "
	   "and revoked (%s)", d.msg);
	signing_keyring_free(k);
	k = NULL;

	o.kept = 1;
	r = f.r == 0 ? trust_load(&f.bd, &o, &k, &d) : 0;
	ok(r < 0 && !k && strstr(d.msg, "no keyring; this image trusts no key"),
	   "trust_load: refused when the kept bank (B) has no keys/trusted.pem (%s)", d.msg);
	signing_keyring_free(k);
	fixture_free(&f);
}

static void test_trust_load_reads_the_keyring_file_when_one_is_given(void)
{
	struct fixture f;
	struct trust_opts o = {.kept = 0};
	struct keyring *k = NULL;
	struct diag d = {{0}, 0};
	char *both = NULL, *missing = NULL;
	int r = -1;

	fixture_make(&f);
	if (f.r == 0) {
		both = xasprintf("%s/both.pem", f.dir);
		missing = xasprintf("%s/missing.pem", f.dir);
		r = fix_sh(f.dir, "cat ca.crt other.crt >both.pem");
	}
	o.keyring = both;
	r = r == 0 ? trust_load(&f.bd, &o, &k, &d) : -1;
	/* With --keyring, bank-a's revocations are not read (trust.c); only persist's are. */
	ok(r == 0 && counts(k, 2, 0, 0), "trust_load: both anchors of the --keyring file, and not the bank's, when "
	   "--keyring is given (%s)", d.msg);
	signing_keyring_free(k);
	k = NULL;
	o.keyring = missing;
	r = f.r == 0 ? trust_load(&f.bd, &o, &k, &d) : 0;
	ok(r < 0 && !k && strstr(d.msg, "missing.pem") && strstr(d.msg, "no keyring"),
	   "trust_load: refused, naming the file, when the --keyring file is missing (%s)", d.msg);
	signing_keyring_free(k);
	free(both), free(missing);
	fixture_free(&f);
}

static void test_trust_save_keeps_what_a_bundle_taught_when_it_is_new(void)
{
	struct fixture f;
	struct trust_opts o = {.kept = 0};
	struct keyring *k = NULL;
	struct signing_info in = {0};
	struct bundle_manifest m = {0};
	struct diag d = {{0}, 0};
	char *pem = NULL, *before = NULL, *after = NULL, *path = NULL;
	size_t len = 0, n1 = 0, n2 = 0;
	int r;

	fixture_make(&f);
	if (f.r == 0) {
		path = xasprintf("%s/other.crt", f.dir);
		util_read_file(path, &pem, &len);
		before = fix_read(f.disk, &n1);
	}
	r = f.r == 0 ? trust_save(&f.bd, &in, &m, &d) : -1;
	after = fix_read(f.disk, &n2);
	ok(r == 0 && before && after && n1 == n2 && memcmp(before, after, n1) == 0,
	   "trust_save: writes nothing when the bundle brings no certificate and no revocation (%s)", d.msg);
	free(before), free(after);

	buf_add(&in.new_certs, pem ? pem : "", len);
	strv_push(&m.revoked, FP_B);
	r = f.r == 0 ? trust_save(&f.bd, &in, &m, &d) : -1;
	ok(r == 0, "trust_save: saves a new certificate and a revocation (%s)", d.msg);
	r = r == 0 ? trust_load(&f.bd, &o, &k, &d) : -1;
	ok(r == 0 && counts(k, 1, 1, 2), "trust_load: the learned certificate and the saved revocation count when "
	   "persist holds them (%s)", d.msg);
	signing_keyring_free(k);
	k = NULL;

	/* The same revocation again is nothing new: the disk stays as it is. */
	buf_free(&in.new_certs);
	before = fix_read(f.disk, &n1);
	r = f.r == 0 ? trust_save(&f.bd, &in, &m, &d) : -1;
	after = fix_read(f.disk, &n2);
	ok(r == 0 && before && after && n1 == n2 && memcmp(before, after, n1) == 0,
	   "trust_save: writes nothing when the revocation is saved already (%s)", d.msg);
	free(before), free(after);

	k = signing_keyring_new();
	trust_add_revocations(k, &m);
	ok(counts(k, 0, 0, 1), "trust_add_revocations: adds the manifest's revocations when it lists one");
	signing_keyring_free(k);
	strv_free(&m.revoked);
	buf_free(&in.new_certs);
	free(pem), free(path);
	fixture_free(&f);
}

int main(void)
{
	const char *why = NULL;

	if (!fix_have_tools(&why)) {
		ok(1, "trust: every check # SKIP %s is not installed", why);
		return tap_done();
	}
	test_trust_load_reads_the_kept_bank_when_it_has_keys();
	test_trust_load_reads_the_keyring_file_when_one_is_given();
	test_trust_save_keeps_what_a_bundle_taught_when_it_is_new();
	return tap_done();
}
