#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "util.h"
#include "tap.h"

static const char *const files[] = {"boot.cfg", "boot/vmlinuz"};

static char *make_bundle(char **ret_dir)
{
	char *dir = mkdtemp(xstrdup("/tmp/test-bundle.XXXXXX")), *p, *out;
	struct diag d = {{0}};

	p = xasprintf("%s/root/boot", dir);
	util_mkdir_p(p, 0755);
	free(p);
	p = xasprintf("%s/root/boot.cfg", dir);
	util_write_file_atomic(p, "version=\"2.0.0\"\n", 16, 0644);
	free(p);
	p = xasprintf("%s/root/boot/vmlinuz", dir);
	util_write_file_atomic(p, "kernel bytes", 12, 0644);
	free(p);
	p = xasprintf("%s/root", dir);
	out = xasprintf("%s/b.bundle", dir);
	if (bundle_write(out, p, files, 2, "hypervisor", "2.0.0", "abc123", 1700000000, &d) < 0)
		printf("# %s\n", d.msg);
	free(p);
	*ret_dir = dir;
	return out;
}

static int open_extract(const char *path, const char *dir, struct diag *d)
{
	struct bundle_reader *b = NULL;
	char *x = xasprintf("%s/x", dir);
	int r = bundle_open(path, &b, d);

	if (r == 0)
		r = bundle_extract(b, x, NULL, NULL, d);
	bundle_close(b);
	free(x);
	return r;
}

static void test_bundle_round_trips(void)
{
	char *dir, *path = make_bundle(&dir), *got = NULL, *x = xasprintf("%s/x/boot/vmlinuz", dir);
	struct bundle_reader *b = NULL;
	struct diag d = {{0}};

	ok(bundle_open(path, &b, &d) == 0, "bundle: opens (%s)", d.msg);
	ok(b && strcmp(bundle_get_manifest(b)->product, "hypervisor") == 0 && bundle_get_manifest(b)->nfiles == 2 &&
	   bundle_get_manifest(b)->payload_size == 28, "bundle: the manifest names the product and both files");
	bundle_close(b);
	ok(open_extract(path, dir, &d) == 0 && util_read_file(x, &got, NULL) == 0 && strcmp(got, "kernel bytes") == 0,
	   "bundle: extracts the payload checked against the manifest (%s)", d.msg);
	free(got);
	util_rm_rf(dir);
	free(dir), free(path), free(x);
}

/* Cut the file at off, or flip one bit of the first byte of text in it. */
static void damage(const char *path, long off, const char *text)
{
	char *data = NULL, *at;
	size_t len = 0;

	if (!text) {
		if (truncate(path, (off_t)off) < 0)
			printf("# cannot truncate\n");
		return;
	}
	if (util_read_file(path, &data, &len) == 0 && (at = memmem(data, len, text, strlen(text)))) {
		*at ^= 0x20;
		util_write_file_atomic(path, data, len, 0644);
	}
	free(data);
}

/* The tar has 512-byte headers: the manifest, then each payload file. */
static void test_bundle_refuses_damage(void)
{
	char *dir, *path = make_bundle(&dir);
	struct diag d = {{0}};

	damage(path, 512 * 4 + 5, NULL);
	ok(open_extract(path, dir, &d) < 0 && strstr(d.msg, "truncated"), "bundle: a truncated bundle is refused (%s)", d.msg);
	free(path), util_rm_rf(dir), free(dir);

	path = make_bundle(&dir);
	damage(path, 0, "kernel bytes");
	ok(open_extract(path, dir, &d) < 0 && strstr(d.msg, "does not match its sha256"),
	   "bundle: one flipped payload byte is refused (%s)", d.msg);
	free(path), util_rm_rf(dir), free(dir);

	dir = mkdtemp(xstrdup("/tmp/test-bundle.XXXXXX"));
	path = xasprintf("%s/not.bundle", dir);
	util_write_file_atomic(path, "hello\n", 6, 0644);
	ok(open_extract(path, dir, &d) < 0 && strstr(d.msg, "not an update bundle"), "bundle: a text file is refused (%s)",
	   d.msg);
	free(path), util_rm_rf(dir), free(dir);
}

static void expect(const char *text, const char *want, const char *what)
{
	struct bundle_manifest m;
	struct diag d = {{0}};
	int r = bundle_manifest_parse("bundle.manifest", text, strlen(text), &m, &d);

	ok(r < 0 && strstr(d.msg, want), "manifest: %s (%s)", what, d.msg);
	if (r == 0)
		bundle_manifest_free(&m);
}

static void test_manifest_rejects_bad_input(void)
{
	const char *head = "format = 1\nproduct = p\nversion = 1\nbuild-id = x\n";
	char *t;

	t = xasprintf("%sfile = %064d 5 ../etc/passwd\n", head, 0);
	expect(t, "unsafe payload path '../etc/passwd'", "a path leaving the bank");
	free(t);
	t = xasprintf("%sfile = %064d -5 a\n", head, 0);
	expect(t, "expected 'file = <sha256> <size> <path>'", "a negative size");
	free(t);
	expect("format = 2\n", "bundle format 2 is not known here", "a newer format");
	expect(head, "lists no payload files", "no files");
	expect("product = p\nversoin = 1\n", "bundle.manifest:2: unknown key 'versoin'; did you mean 'version'?",
	       "an unknown key");
}

static void test_version_compare(void)
{
	ok(bundle_version_cmp("1.10.0", "1.9.2") > 0, "version: 1.10.0 > 1.9.2");
	ok(bundle_version_cmp("2.0.0", "2.0.0") == 0, "version: equal");
	ok(bundle_version_cmp("1.0", "1.0.1") < 0, "version: 1.0 < 1.0.1");
}

int main(void)
{
	test_bundle_round_trips();
	test_bundle_refuses_damage();
	test_manifest_rejects_bad_input();
	test_version_compare();
	return tap_done();
}
