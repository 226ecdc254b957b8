/* Staging (altbootbank/stage.c): a signed bundle made in the test's temp folder staged into bank B
 * of a tiny disk (tests/unit/disk-fixture.h); refusals leave the disk as it was. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "disk-fixture.h"
#include "extents.h"
#include "stage.h"
#include "trust.h"
#include "tap.h"

struct fixture {
	char *dir, *disk;
	int r;
};

static void fixture_make(struct fixture *f)
{
	struct disk_opts o = {.trusted = "ca.crt"};

	memset(f, 0, sizeof(*f));
	f->dir = mkdtemp(xstrdup("/tmp/test-stage.XXXXXX"));
	f->r = f->dir && fix_key(f->dir, "ca") == 0 && fix_key(f->dir, "rogue") == 0 && fix_disk(f->dir, &o, &f->disk) == 0
		       ? 0 : -1;
}

static void fixture_free(struct fixture *f)
{
	if (f->dir)
		util_rm_rf(f->dir);
	free(f->dir);
	free(f->disk);
}

/* dir/NAME.bundle: a 4 MiB FAT bank image holding boot.cfg (product, version), signed with
 * dir/KEY.key; the raw bank image stays in dir/NAME.raw. Its path (owned), NULL on failure. */
static char *make_bundle(const char *dir, const char *name, const char *product, const char *version, const char *key)
{
	static const char *const files[] = {"boot.cfg"};
	struct bundle_identity id = {product, version, "test", 1700000000};
	char *root = xasprintf("%s/%s.root", dir, name), *cfg, *script, *raw = xasprintf("%s/%s.raw", dir, name);
	char *packed = xasprintf("%s/%s.hvimg", dir, name), *out = xasprintf("%s/%s.bundle", dir, name);
	char *keypath = xasprintf("%s/%s", dir, key);
	struct signer *s = NULL;
	struct diag d = {{0}, 0};
	int r;

	util_mkdir_p(root, 0755);
	cfg = xasprintf("product=\"%s\"\nversion=\"%s\"\nbuild=\"test\"\n", product, version);
	script = xasprintf("printf '%%s' '%s' >%s.root/boot.cfg\nmkfs.fat -C %s.raw 4096 >/dev/null\n"
			   "mcopy -i %s.raw %s.root/boot.cfg ::/boot.cfg", cfg, name, name, name, name);
	r = fix_sh(dir, script);
	if (r == 0 && (r = extents_pack(raw, packed, &d)) == 0 && (r = signing_signer_load(keypath, NULL, NULL, &s, &d)) == 0)
		r = bundle_write(out, packed, root, files, 1, &id, NULL, s, &d);
	if (r < 0) {
		printf("# cannot make %s: %s\n", out, d.msg);
		free(out);
		out = NULL;
	}
	signing_signer_free(s);
	free(root), free(cfg), free(script), free(raw), free(packed), free(keypath);
	return out;
}

struct notes {
	char last[512];
};

static void note(void *ctx, const char *msg)
{
	snprintf(((struct notes *)ctx)->last, sizeof(((struct notes *)ctx)->last), "%s", msg);
}

/* Open the disk, load its state, what bank A holds and its keyring, and stage bundle into B. */
static int stage(const char *disk, const char *bundle, struct bootstate *ret_st, char *ret_note, struct diag *d)
{
	struct bootdisk bd = {0};
	struct bootstate_copies c;
	struct bankinfo keep = {0};
	struct keyring *k = NULL;
	struct trust_opts to = {.kept = 0};
	struct notes n = {""};
	struct progress p = {NULL, note, &n};
	int r = bootdisk_open(disk, 1, &bd, d);

	if (r == 0)
		r = bootdisk_state_load(&bd, &c, ret_st, d);
	if (r == 0)
		r = bankinfo_read(&bd, 0, &keep, d);
	if (r == 0)
		r = trust_load(&bd, &to, &k, d);
	if (r == 0) {
		struct stage_opts o = {.bundle = bundle, .target = 1, .progress = &p, .keep = &keep, .keyring = k};
		r = stage_run(&bd, &c, ret_st, &o, d);
	}
	snprintf(ret_note, 512, "%s", n.last);
	signing_keyring_free(k);
	bankinfo_free(&keep);
	if (bd.path)
		bootdisk_close(&bd);
	return r;
}

static int load(const char *disk, struct bootstate *st, char *uuid_b)
{
	struct bootdisk bd = {0};
	struct bootstate_copies c;
	struct diag d = {{0}, 0};
	int r = bootdisk_open(disk, 0, &bd, &d);

	if (r == 0)
		r = bootdisk_state_load(&bd, &c, st, &d);
	if (r == 0 && uuid_b)
		memcpy(uuid_b, bd.bank[1].uuid, sizeof(bd.bank[1].uuid));
	if (bd.path)
		bootdisk_close(&bd);
	return r;
}

static void test_stage_run_writes_bank_b_and_marks_it_trial_when_the_bundle_is_good(void)
{
	struct fixture f;
	struct bootstate st = {0}, again = {0};
	struct diag d = {{0}, 0};
	char *bundle = NULL, *raw = NULL, *disk = NULL, *rawpath = NULL, msg[512] = "", uuid[37] = "";
	size_t rawlen = 0, disklen = 0;
	int r = -1;

	fixture_make(&f);
	if (f.r == 0 && (bundle = make_bundle(f.dir, "v2", "hypervisor", "2.0.0", "ca")))
		r = stage(f.disk, bundle, &st, msg, &d);
	ok(r == 0 && strstr(msg, "staged hypervisor 2.0.0 (build test) into bank B"),
	   "stage_run: stages a good bundle into bank B when it is signed by bank A's key (%s) (%s)", d.msg, msg);
	ok(r == 0 && st.env.bank[1].state == BANK_TRIAL && st.env.bank[1].tries == BANK_TRIES &&
	   st.env.bank[1].gen == 2 && st.env.bank[0].state == BANK_GOOD && st.env.bank[0].gen == 1,
	   "stage_run: bank B is trial with %d tries and generation 2 (A's + 1), A stays good, when staged", BANK_TRIES);
	ok(r == 0 && load(f.disk, &again, uuid) == 0 && again.env.bank[1].state == BANK_TRIAL &&
	   again.env.bank[1].tries == BANK_TRIES && again.env.bank[1].gen == 2 && again.env.seq == st.env.seq,
	   "stage_run: the disk's boot state says the same when loaded again");

	if (r == 0) {
		rawpath = xasprintf("%s/v2.raw", f.dir);
		raw = fix_read(rawpath, &rawlen);
		disk = fix_read(f.disk, &disklen);
	}
	if (raw && rawlen >= 512 && disk && disklen == FIX_DISK_SIZE && rawlen <= FIX_BANK_SIZE) {
		/* The one change staging makes: the FAT serial is the partition UUID's first 8 hex digits. */
		unsigned long serial = strtoul((char[9]){uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6],
							 uuid[7], 0}, NULL, 16);
		size_t at = (raw[22] | raw[23]) ? 39 : 67;
		for (int i = 0; i < 4; i++)
			raw[at + (size_t)i] = (char)(serial >> (8 * i));
	}
	ok(raw && disk && rawlen > 0 && disklen == FIX_DISK_SIZE && memcmp(disk + FIX_BANK_B_AT, raw, rawlen) == 0,
	   "stage_run: bank B's bytes equal the bundle's bank image (FAT serial set from B's UUID %.8s) when staged", uuid);
	free(raw), free(disk), free(rawpath), free(bundle);
	fixture_free(&f);
}

/* Stage a bundle that must be refused; the whole disk must be unchanged. */
static void refused(const char *name, const char *product, const char *version, const char *key, const char *want,
		    const char *what)
{
	struct fixture f;
	struct bootstate st = {0};
	struct diag d = {{0}, 0};
	char *bundle = NULL, *before = NULL, *after = NULL, msg[512] = "";
	size_t n1 = 0, n2 = 0;
	int r = 0;

	fixture_make(&f);
	if (f.r == 0 && (bundle = make_bundle(f.dir, name, product, version, key))) {
		before = fix_read(f.disk, &n1);
		r = stage(f.disk, bundle, &st, msg, &d);
		after = fix_read(f.disk, &n2);
	}
	ok(r < 0 && strstr(d.msg, want) && before && after && n1 == n2 && memcmp(before, after, n1) == 0,
	   "stage_run: refused, disk unchanged, when %s (%s)", what, d.msg);
	free(before), free(after), free(bundle);
	fixture_free(&f);
}

static void test_stage_run_refuses_a_bundle_when_its_signature_does_not_chain(void)
{
	refused("rogue", "hypervisor", "2.0.0", "rogue", "signed by an unknown key", "the signature does not chain to bank A's keyring");
}

static void test_stage_run_refuses_a_bundle_when_it_is_older_or_for_another_product(void)
{
	refused("old", "hypervisor", "0.9.0", "ca", "refusing a downgrade", "the bundle is older than bank A");
	refused("other", "router", "2.0.0", "ca", "the bundle is for 'router'", "the bundle is for another product");
}

int main(void)
{
	const char *why = NULL;

	if (!fix_have_tools(&why)) {
		ok(1, "stage: every check # SKIP %s is not installed", why);
		return tap_done();
	}
	test_stage_run_writes_bank_b_and_marks_it_trial_when_the_bundle_is_good();
	test_stage_run_refuses_a_bundle_when_its_signature_does_not_chain();
	test_stage_run_refuses_a_bundle_when_it_is_older_or_for_another_product();
	return tap_done();
}
