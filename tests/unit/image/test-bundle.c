#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include "bundle.h"
#include "extents.h"
#include "util.h"
#include "tap.h"

static const char *const files[] = {"boot.cfg", "boot/vmlinuz"};

/* A 1 MiB sparse "bank image" with data at 0 and at 512 KiB. */
static void make_image(const char *dir, char *ret_packed)
{
	char *img = xasprintf("%s/bank.raw", dir);
	struct diag d = {{0}, 0};
	int fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || pwrite(fd, "BOOT SECTOR", 11, 0) != 11 || pwrite(fd, "kernel bytes", 12, 512 << 10) != 12 ||
	    ftruncate(fd, 1 << 20) < 0)
		printf("# cannot make the image\n");
	if (fd >= 0)
		close(fd);
	sprintf(ret_packed, "%s/bank.hvimg", dir);
	if (extents_pack(img, ret_packed, &d) < 0)
		printf("# %s\n", d.msg);
	free(img);
}

static char *make_bundle(char **ret_dir)
{
	char *dir = mkdtemp(xstrdup("/tmp/test-bundle.XXXXXX")), *p, *out, packed[256];
	struct bundle_identity id = {"hypervisor", "2.0.0", "abc123", 1700000000};
	struct diag d = {{0}, 0};

	p = xasprintf("%s/root/boot", dir);
	util_mkdir_p(p, 0755);
	free(p);
	p = xasprintf("%s/root/boot.cfg", dir);
	util_write_file_atomic(p, "version=\"2.0.0\"\n", 16, 0644);
	free(p);
	p = xasprintf("%s/root/boot/vmlinuz", dir);
	util_write_file_atomic(p, "kernel bytes", 12, 0644);
	free(p);
	make_image(dir, packed);
	p = xasprintf("%s/root", dir);
	out = xasprintf("%s/b.bundle", dir);
	if (bundle_write(out, packed, p, files, 2, &id, NULL, NULL, &d) < 0)
		printf("# %s\n", d.msg);
	free(p);
	*ret_dir = dir;
	return out;
}

/* Read the whole bank image; its data bytes (owned by the caller) in *ret when asked. */
static int open_read(const char *path, struct hvimg *h, char **ret, struct diag *d)
{
	struct bundle_reader *b = NULL;
	char *data = NULL;
	int r = bundle_open(path, &b, d);

	if (r == 0)
		r = bundle_image_open(b, h, d);
	if (r == 0) {
		data = xmalloc(h->data_bytes + 1);
		r = bundle_image_read(b, data, h->data_bytes, d);
	}
	if (r == 0)
		r = bundle_image_close(b, d);
	bundle_close(b);
	if (r == 0 && ret)
		*ret = data;
	else
		free(data);
	return r;
}

static void test_bundle_round_trips(void)
{
	char *dir, *path = make_bundle(&dir), *data = NULL;
	struct bundle_reader *b = NULL;
	struct hvimg h = {0};
	struct diag d = {{0}, 0};

	ok(bundle_open(path, &b, &d) == 0, "bundle: opens (%s)", d.msg);
	ok(b && strcmp(bundle_get_manifest(b)->product, "hypervisor") == 0 && bundle_get_manifest(b)->nfiles == 2 &&
	   bundle_get_manifest(b)->payload_size == 28, "bundle: the manifest names the product and both files");
	bundle_close(b);
	ok(open_read(path, &h, &data, &d) == 0 && h.disk_size == 1 << 20 && h.n == 2 && h.ext[1].offset == 512 << 10 &&
	   memcmp(data, "BOOT SECTOR", 11) == 0, "bundle: the bank image streams back, checked against the manifest (%s)",
	   d.msg);
	hvimg_free(&h);
	free(data);
	util_rm_rf(dir);
	free(dir), free(path);
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

/* The tar has 512-byte headers: the manifest (1 block of text), then bank.img. */
static void test_bundle_refuses_damage(void)
{
	char *dir, *path = make_bundle(&dir);
	struct hvimg h = {0};
	struct diag d = {{0}, 0};

	damage(path, 512 * 4 + 30, NULL);
	ok(open_read(path, &h, NULL, &d) < 0 && strstr(d.msg, "truncated"), "bundle: a truncated bundle is refused (%s)",
	   d.msg);
	hvimg_free(&h);
	free(path), util_rm_rf(dir), free(dir);

	path = make_bundle(&dir);
	damage(path, 0, "kernel bytes");
	ok(open_read(path, &h, NULL, &d) < 0 && strstr(d.msg, "does not match its sha256"),
	   "bundle: one flipped byte of the bank image is refused (%s)", d.msg);
	hvimg_free(&h);
	free(path), util_rm_rf(dir), free(dir);

	dir = mkdtemp(xstrdup("/tmp/test-bundle.XXXXXX"));
	path = xasprintf("%s/not.bundle", dir);
	util_write_file_atomic(path, "hello\n", 6, 0644);
	ok(open_read(path, &h, NULL, &d) < 0 && strstr(d.msg, "not an update bundle"), "bundle: a text file is refused (%s)",
	   d.msg);
	free(path), util_rm_rf(dir), free(dir);
}

/* A header with extents (offset, length) and the given disk size. */
static size_t header(unsigned char *buf, uint64_t disk, const uint64_t *ext, size_t n)
{
	memcpy(buf, HVIMG_MAGIC, 8);
	hvimg_put64(buf + 8, disk);
	hvimg_put64(buf + 16, n);
	for (size_t i = 0; i < 2 * n; i++)
		hvimg_put64(buf + HVIMG_HEADER + 8 * i, ext[i]);
	return HVIMG_HEADER + 16 * n;
}

/* Open deferred, read the data, and check a hash of data (changed at flip when >= 0). */
static int deferred_check(const char *path, long flip, struct diag *d)
{
	struct bundle_reader *b = NULL;
	struct hasher h;
	struct hvimg img = {0};
	char *data = NULL;
	int r = bundle_open(path, &b, d), started = 0;

	if (r == 0 && (started = 1) && (r = bundle_image_open_deferred(b, &img, &h, d)) == 0) {
		data = xmalloc(img.data_bytes);
		r = bundle_image_read(b, data, img.data_bytes, d);
	}
	if (r == 0)
		r = bundle_image_close(b, d);
	if (r == 0 && flip >= 0)
		data[flip] ^= 1;
	if (r == 0)
		hasher_add(&h, data, img.data_bytes);
	if (r == 0)
		r = bundle_image_check(b, &h, " as read back from bank B", d);
	else if (started)
		hasher_end(&h, (char[HASH_HEX_LEN]){0});
	hvimg_free(&img);
	free(data);
	bundle_close(b);
	return r;
}

static void test_bundle_deferred_hash(void)
{
	char *dir, *path = make_bundle(&dir);
	struct diag d = {{0}, 0};

	ok(deferred_check(path, -1, &d) == 0, "bundle: deferred, the caller's hash of header and data is the manifest's (%s)",
	   d.msg);
	ok(deferred_check(path, 3, &d) < 0 && strstr(d.msg, "bank.img as read back from bank B does not match its sha256") &&
	   strstr(d.msg, "or the disk did not keep what was written"),
	   "bundle: deferred, one flipped byte in the caller's copy is refused, saying where it was found (%s)", d.msg);
	damage(path, 0, "kernel bytes");
	ok(deferred_check(path, -1, &d) < 0 && strstr(d.msg, "does not match its sha256"),
	   "bundle: deferred, a flipped byte in the bundle itself is refused by the caller's check (%s)", d.msg);
	free(path), util_rm_rf(dir), free(dir);
}

static void test_hvimg_rejects_bad_headers(void)
{
	unsigned char buf[256];
	struct hvimg h;
	const char *why = "";
	size_t len;

	len = header(buf, 4096, (uint64_t[]){0, 512, 1024, 512}, 2);
	ok(hvimg_parse(buf, len, &h, &why) == 0 && h.data_bytes == 1024, "hvimg: a good header parses");
	hvimg_free(&h);
	len = header(buf, 4096, (uint64_t[]){0, 1024, 512, 512}, 2);
	ok(hvimg_parse(buf, len, &h, &why) < 0 && strstr(why, "overlap"), "hvimg: overlapping extents (%s)", why);
	len = header(buf, 4096, (uint64_t[]){4000, 512}, 1);
	ok(hvimg_parse(buf, len, &h, &why) < 0 && strstr(why, "outside"), "hvimg: an extent past the end (%s)", why);
	len = header(buf, 4096, (uint64_t[]){UINT64_MAX - 10, 512}, 1);
	ok(hvimg_parse(buf, len, &h, &why) < 0, "hvimg: an extent that wraps around (%s)", why);
	len = header(buf, 4096, (uint64_t[]){0, 512}, 1);
	ok(hvimg_parse(buf, len - 1, &h, &why) < 0 && strstr(why, "cut short"), "hvimg: a short header (%s)", why);
	hvimg_put64(buf + 16, HVIMG_MAX_EXTENTS + 1);
	ok(hvimg_parse(buf, len, &h, &why) < 0 && strstr(why, "too many"), "hvimg: too many extents (%s)", why);
}

static void expect(const char *text, const char *want, const char *what)
{
	struct bundle_manifest m;
	struct diag d = {{0}, 0};
	int r = bundle_manifest_parse("bundle.manifest", text, strlen(text), &m, &d);

	ok(r < 0 && strstr(d.msg, want), "manifest: %s (%s)", what, d.msg);
	if (r == 0)
		bundle_manifest_free(&m);
}

static void test_manifest_rejects_bad_input(void)
{
	const char *head = "format = 1\nproduct = p\nversion = 1\nbuild-id = x\n";
	char *t;

	t = xasprintf("%sfile = %064d 5 a\n", head, 0);
	expect(t, "names no bank image", "no image");
	free(t);
	t = xasprintf("%simage = %064d 5 other.img\n", head, 0);
	expect(t, "must be called bank.img", "an image of another name");
	free(t);
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

/* Cut path short n bytes after the start of bank.img's header. */
static void cut_in_image(const char *path, long n)
{
	char *data = NULL;
	size_t len = 0;
	const char *at = util_read_file(path, &data, &len) == 0 ? memmem(data, len, HVIMG_MAGIC, 7) : NULL;

	damage(path, at ? (long)(at - data) + n : 0, NULL);
	free(data);
}

/* bank.img in place from the mapped file: the header and data that bundle_image_read() gives. */
static void test_bundle_view(void)
{
	char *dir, *path = make_bundle(&dir), *data = NULL, *copy = NULL;
	struct bundle_reader *b = NULL;
	struct hvimg h = {0}, v = {0};
	const unsigned char *bytes = NULL;
	struct diag d = {{0}, 0};
	int r = open_read(path, &h, &data, &d);

	ok(r == 0 && bundle_open(path, &b, &d) == 0 && bundle_mapped(b), "bundle: a bundle file is mapped (%s)", d.msg);
	r = b ? bundle_image_view(b, &v, &bytes, &d) : -1;
	ok(r == 0 && v.n == h.n && v.data_bytes == h.data_bytes && v.header_len == h.header_len &&
	   memcmp(bytes + v.header_len, data, h.data_bytes) == 0,
	   "bundle_image_view: bank.img's header and data in place, the bytes bundle_image_read gives (%s)", d.msg);
	copy = xmalloc(h.data_bytes + 1);
	ok(r == 0 && bundle_view_read(b, bytes + v.header_len, copy, h.data_bytes, &d) == 0 &&
	   memcmp(copy, data, h.data_bytes) == 0,
	   "bundle_view_read: the view's data read out of the file, the same bytes (%s)", d.msg);
	ok(r == 0 && bundle_image_close(b, &d) == 0, "bundle_image_view: then the bundle ends where it should (%s)", d.msg);
	bundle_close(b), hvimg_free(&v);
	b = NULL;
	r = bundle_open(path, &b, &d) == 0 ? bundle_image_view(b, &v, &bytes, &d) : -1;
	cut_in_image(path, 30); /* the pages past the cut are not touched again: they would raise SIGBUS */
	ok(r == 0 && bundle_view_read(b, bytes + v.header_len, copy, h.data_bytes, &d) < 0 && strstr(d.msg, "cut short"),
	   "bundle_view_read: a file cut short after it was mapped is an error, not SIGBUS (%s)", d.msg);
	bundle_close(b), hvimg_free(&v), hvimg_free(&h), free(data), free(copy);
	b = NULL;
	ok(bundle_open(path, &b, &d) == 0 && bundle_image_view(b, &v, &bytes, &d) < 0 && strstr(d.msg, "truncated"),
	   "bundle_image_view: a bundle cut short inside bank.img is refused as truncated (%s)", d.msg);
	bundle_close(b);
	util_rm_rf(dir);
	free(dir), free(path);
}

int main(void)
{
	test_bundle_round_trips();
	test_bundle_refuses_damage();
	test_bundle_deferred_hash();
	test_bundle_view();
	test_hvimg_rejects_bad_headers();
	test_manifest_rejects_bad_input();
	test_version_compare();
	return tap_done();
}
