#define _GNU_SOURCE
#include "verify.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "disk.h"
#include "hvimg.h"
#include "run.h"
#include "tree.h"
#include "util.h"

/* Where disk_make() puts the ESP and bank A (builder/disk.h), in bytes. */
#define ESP_OFFSET ((DISK_BIOS_START + DISK_BIOS_SIZE) * 512ULL)
#define BANK_A_OFFSET (ESP_OFFSET + DISK_ESP_SIZE * 512ULL)

static const char *const exts[] = {"iso", "img", "bundle"};

int verify_kind(const char *path, enum verify_kind *ret)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < ARRAY_SIZE(exts); i++)
		if (strcmp(dot + 1, exts[i]) == 0) {
			*ret = (enum verify_kind)i;
			return 0;
		}
	return -EINVAL;
}

const char *verify_ext(enum verify_kind kind)
{
	return exts[kind];
}

/* The files of the FAT file system at offset in img, into dir (mtools). */
static int fat_extract(const char *img, unsigned long long offset, const char *dir, const char *log, struct diag *d)
{
	char *in = xasprintf("%s@@%llu", img, offset);
	char *argv[] = {"mcopy", "-s", "-n", "-m", "-i", in, "::*", (char *)dir, NULL};
	int r;

	util_mkdir_p(dir, 0755);
	r = run_tool(argv, log, "reading a FAT file system (mcopy)", d);
	free(in);
	return r;
}

static unsigned long long le(const unsigned char *p, int n)
{
	unsigned long long v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The byte offset of the EFI system partition xorriso appended to an ISO (its GPT). */
static int iso_efi_offset(const char *iso, unsigned long long *ret)
{
	static const unsigned char esp[16] = {0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
					      0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b};
	unsigned char h[512], e[128];
	int fd = open(iso, O_RDONLY | O_CLOEXEC), r = -ENOENT;

	if (fd >= 0 && pread(fd, h, sizeof(h), 512) == sizeof(h) && memcmp(h, "EFI PART", 8) == 0) {
		unsigned long long lba = le(h + 72, 8), n = le(h + 80, 4), size = le(h + 84, 4);
		for (unsigned long long i = 0; i < n && i < 128 && size >= sizeof(e) && r < 0; i++)
			if (pread(fd, e, sizeof(e), (off_t)(lba * 512 + i * size)) == sizeof(e) && !memcmp(e, esp, 16)) {
				*ret = le(e + 32, 8) * 512;
				r = 0;
			}
	}
	if (fd >= 0)
		close(fd);
	return r;
}

/* Every entry of an archive (tar, cpio) into dir, by its name's last component. */
static int archive_extract(const char *path, const char *dir, struct diag *d)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char chunk[1 << 16];
	int r = 0, st;

	archive_read_support_format_all(a);
	archive_read_support_filter_all(a);
	util_mkdir_p(dir, 0755);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK)
		r = diag_set(d, path, 0, "cannot read the archive: %s", archive_error_string(a));
	while (r == 0 && (st = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = strrchr(archive_entry_pathname(e), '/');
		char *out = xasprintf("%s/%s", dir, name ? name + 1 : archive_entry_pathname(e));
		int fd = archive_entry_filetype(e) == AE_IFREG ? open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -2;
		ssize_t n;
		while (fd >= 0 && (n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
			if (write(fd, chunk, (size_t)n) != n)
				r = diag_set(d, out, 0, "cannot write: %s", strerror(errno));
		if (fd == -1)
			r = diag_set(d, out, 0, "cannot create: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		free(out);
	}
	if (r == 0 && st != ARCHIVE_EOF)
		r = diag_set(d, path, 0, "cannot read the archive: %s", archive_error_string(a));
	archive_read_free(a);
	return r;
}

/* The literal extents of an HVIMG1 or HVIMG2 image, written into out at their offsets (a sparse
 * file of the disk's size; an HVIMG2's file extents stay holes: they are the ISO's files). */
static int hvimg_literal(const char *path, const char *out, struct diag *d)
{
	char *data = NULL;
	size_t len = 0, at;
	const char *why = "not an HVIMG image";
	struct hvimg2 h2 = {0};
	int two = 0, fd = -1, r = util_read_file(path, &data, &len);
	const unsigned char *u = (const unsigned char *)data;

	if (r == 0 && len >= 8 && memcmp(data, HVIMG2_MAGIC, 8) == 0)
		two = 1, r = hvimg2_parse(u, len, &h2, &why);
	else if (r == 0)
		r = hvimg_parse(u, len, &h2.img, &why);
	if (r == 0 && (fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		why = strerror(errno), r = -1;
	if (r == 0 && ftruncate(fd, (off_t)h2.img.disk_size) < 0)
		why = strerror(errno), r = -1;
	at = h2.img.header_len;
	for (size_t i = 0; r == 0 && i < h2.img.n; i++) {
		const struct hvimg_extent *e = &h2.img.ext[i];
		if (two && h2.src[i].file != HVIMG2_LITERAL)
			continue;
		if (at + e->length > len || pwrite(fd, data + at, e->length, (off_t)e->offset) != (ssize_t)e->length)
			why = "its extents run past its end", r = -1;
		at += e->length;
	}
	if (fd >= 0)
		close(fd);
	if (two)
		hvimg2_free(&h2);
	else
		hvimg_free(&h2.img);
	free(data);
	return r == 0 ? 0 : diag_set(d, path, 0, "cannot unpack the image: %s", why);
}

static int extract_iso(const char *path, const char *view, const char *log, struct diag *d)
{
	char *files = xasprintf("%s/files", view), *efi = xasprintf("%s/efi", view);
	char *inst = xasprintf("%s/install", view), *img = xasprintf("%s/install/install.img", view);
	char *disk = xasprintf("%s/install/disk.img", view), *cpio = xasprintf("%s/boot/install.cpio", files);
	char *esp = xasprintf("%s/esp", view), *mode[] = {"chmod", "-R", "u+w", files, NULL};
	char *argv[] = {"xorriso", "-osirrox", "on", "-indev", (char *)path, "-extract", "/", files, NULL};
	unsigned long long off = 0;
	int r = run_tool(argv, log, "reading the ISO (xorriso)", d);

	if (r == 0)
		r = run_tool(mode, log, "making the ISO's files writable", d);
	if (r == 0 && iso_efi_offset(path, &off) < 0)
		r = diag_set(d, path, 0, "has no EFI system partition in its GPT; it is not an ISO imgbuild made");
	if (r == 0)
		r = fat_extract(path, off, efi, log, d);
	/* The installer's image holds the disk's ESP: the disk's GRUB and its signatures. */
	if (r == 0 && access(cpio, F_OK) == 0) {
		r = archive_extract(cpio, inst, d);
		if (r == 0)
			r = hvimg_literal(img, disk, d);
		if (r == 0)
			r = fat_extract(disk, ESP_OFFSET, esp, log, d);
	}
	free(files), free(efi), free(inst), free(img), free(disk), free(cpio), free(esp);
	return r;
}

static int extract_img(const char *path, const char *view, const char *log, struct diag *d)
{
	char *esp = xasprintf("%s/esp", view), *bank = xasprintf("%s/bank-a", view);
	int r = fat_extract(path, ESP_OFFSET, esp, log, d);

	if (r == 0)
		r = fat_extract(path, BANK_A_OFFSET, bank, log, d);
	free(esp), free(bank);
	return r;
}

static int extract_bundle(const char *path, const char *view, const char *log, struct diag *d)
{
	char *entries = xasprintf("%s/entries", view), *img = xasprintf("%s/entries/" BUNDLE_IMAGE, view);
	char *fat = xasprintf("%s/bank.fat", view), *bank = xasprintf("%s/bank", view);
	int r = archive_extract(path, entries, d);

	if (r == 0)
		r = hvimg_literal(img, fat, d);
	if (r == 0)
		r = fat_extract(fat, 0, bank, log, d);
	unlink(fat);
	free(entries), free(img), free(fat), free(bank);
	return r;
}

int verify_extract(const char *path, enum verify_kind kind, const char *view, struct diag *d)
{
	char *log = xasprintf("%s.log", view);
	int r;

	util_rm_rf(view);
	util_mkdir_p(view, 0755);
	unlink(log);
	if (access(path, R_OK) < 0)
		r = diag_set(d, path, 0, "cannot read the release: %s", strerror(errno));
	else if (kind == VERIFY_ISO)
		r = extract_iso(path, view, log, d);
	else if (kind == VERIFY_IMG)
		r = extract_img(path, view, log, d);
	else
		r = extract_bundle(path, view, log, d);
	free(log);
	return r;
}

/* cp -rn view/from/. release/to/: what release/to holds already stays. */
static int gather(const char *view, const char *from, const char *release, const char *to, struct diag *d)
{
	char *src = xasprintf("%s/%s/.", view, from), *dst = xasprintf("%s/%s", release, to);
	char *argv[] = {"cp", "-rn", src, dst, NULL};
	int r = 0;

	util_mkdir_p(dst, 0755);
	if (access(src, F_OK) == 0)
		r = run_tool(argv, "/dev/null", "gathering the release's signatures", d);
	free(src), free(dst);
	return r;
}

int verify_gather(const char *view, enum verify_kind kind, const char *release, struct diag *d)
{
	if (kind == VERIFY_ISO) {
		int r = gather(view, "files", release, "tree", d);
		if (r == 0)
			r = gather(view, "efi", release, "efi", d);
		return r ? r : gather(view, "esp", release, "esp", d);
	}
	if (kind == VERIFY_IMG) {
		int r = gather(view, "bank-a", release, "tree", d);
		return r ? r : gather(view, "esp", release, "esp", d);
	}
	int r = gather(view, "bank", release, "tree", d);
	return r ? r : gather(view, "entries", release, "bundle", d);
}

void verify_diff_free(struct verify_diff *v)
{
	free(v->part), free(v->how);
	v->part = v->how = NULL;
}

/* The first byte at which a and b differ (-1: the same); their sizes into *la, *lb. */
static long long first_difference(const char *a, const char *b, long long *la, long long *lb)
{
	static char x[1 << 16], y[1 << 16];
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
	long long at = -1, pos = 0;
	ssize_t na = 1, nb = 1;
	struct stat sa = {0}, sb = {0};

	while (fa >= 0 && fb >= 0 && at < 0 && (na > 0 || nb > 0)) {
		na = read(fa, x, sizeof(x));
		nb = read(fb, y, sizeof(y));
		for (ssize_t i = 0; at < 0 && i < (na > nb ? na : nb); i++)
			if (i >= na || i >= nb || x[i] != y[i])
				at = pos + i;
		pos += na > 0 ? na : 0;
	}
	if (fa < 0 || fb < 0)
		at = 0;
	if (fa >= 0)
		fstat(fa, &sa), close(fa);
	if (fb >= 0)
		fstat(fb, &sb), close(fb);
	*la = sa.st_size, *lb = sb.st_size;
	return at;
}

/* The order parts are reported in: files, then their signatures, then the manifests that list
 * them, then the images and archives that hold them (which differ whenever one of those does). */
static int rank(const char *part)
{
	const char *base = strrchr(part, '/') ? strrchr(part, '/') + 1 : part;
	size_t n = strlen(base);

	if (strcmp(base, "install.cpio") == 0 || strcmp(base, BUNDLE_IMAGE) == 0 || strcmp(base, "eltorito.img") == 0)
		return 4;
	if (strcmp(base, "MANIFEST") == 0 || strcmp(base, BUNDLE_MANIFEST) == 0)
		return 2;
	if (strcmp(base, "MANIFEST.sig") == 0 || strcmp(base, BUNDLE_SIGNATURE) == 0 || strcmp(base, "install.cpio.sig") == 0)
		return 3;
	return n > 4 && strcmp(base + n - 4, ".sig") == 0 ? 1 : 0;
}

/* The regular files under dir, relative to it. */
static void files_under(const char *dir, struct strv *out)
{
	struct strv all = {0};

	tree_list(dir, &all);
	for (size_t i = 0; i < all.n; i++) {
		char *p = xasprintf("%s/%s", dir, all.v[i]);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
			strv_push(out, all.v[i]);
		free(p);
	}
	strv_free(&all);
}

/* How one part differs, or NULL when it does not. */
static char *part_how(const char *a, const char *b)
{
	long long la, lb, at;
	int ina = access(a, F_OK) == 0, inb = access(b, F_OK) == 0;

	if (!ina || !inb)
		return xstrdup(ina ? "is in the release, not in the rebuild (extra)" : "is missing: the rebuild has it");
	at = first_difference(a, b, &la, &lb);
	if (at < 0)
		return NULL;
	if (la != lb)
		return xasprintf("differs: %lld bytes, the rebuild's %lld, first different byte at offset %lld", la, lb, at);
	return xasprintf("differs at byte offset %lld (both %lld bytes)", at, la);
}

/* The sub-folders of a view compared, and how their parts are named ("" for the ISO's files). */
struct area {
	const char *dir, *label;
};

static void compare_area(const char *rview, const char *bview, const struct area *a, struct verify_diff *ret,
			 int *best)
{
	char *ra = xasprintf("%s/%s", rview, a->dir), *ba = xasprintf("%s/%s", bview, a->dir);
	struct strv names = {0}, rebuilt = {0};

	files_under(ra, &names);
	files_under(ba, &rebuilt);
	for (size_t i = 0; i < rebuilt.n; i++)
		if (!strv_contains(&names, rebuilt.v[i]))
			strv_push(&names, rebuilt.v[i]);
	for (size_t i = 0; i < names.n; i++) {
		char *x = xasprintf("%s/%s", ra, names.v[i]), *y = xasprintf("%s/%s", ba, names.v[i]);
		char *how = part_how(x, y);
		if (how && rank(names.v[i]) < *best) {
			ret->more += ret->part != NULL;
			verify_diff_free(ret);
			ret->part = xasprintf("%s/%s", a->label, names.v[i]);
			ret->how = how, how = NULL;
			*best = rank(names.v[i]);
		} else if (how) {
			ret->more++;
		}
		free(how), free(x), free(y);
	}
	strv_free(&names), strv_free(&rebuilt);
	free(ra), free(ba);
}

static const struct area areas[][3] = {
	[VERIFY_ISO] = {{"files", ""}, {"efi", "efi.img:"}, {NULL, NULL}},
	[VERIFY_IMG] = {{"esp", "ESP:"}, {"bank-a", "bank A:"}, {NULL, NULL}},
	[VERIFY_BUNDLE] = {{"entries", ""}, {"bank", BUNDLE_IMAGE ":"}, {NULL, NULL}},
};

int verify_compare(const char *release, const char *rview, const char *rebuilt, const char *bview,
		   enum verify_kind kind, struct verify_diff *ret, struct diag *d)
{
	long long la, lb, at = first_difference(release, rebuilt, &la, &lb);
	int best = 99, r;

	memset(ret, 0, sizeof(*ret));
	if (access(rebuilt, R_OK) < 0)
		return diag_set(d, rebuilt, 0, "the rebuild made no such file: %s", strerror(errno));
	if (at < 0)
		return 0;
	if ((r = verify_extract(rebuilt, kind, bview, d)) < 0)
		return r;
	for (const struct area *a = areas[kind]; a->dir; a++)
		compare_area(rview, bview, a, ret, &best);
	if (!ret->part) {
		/* Every file is the same: what differs is the container's own structure. */
		ret->part = xstrdup("(the image itself, outside its files)");
		ret->how = la == lb ? xasprintf("differs at byte offset %lld (both %lld bytes)", at, la)
			: xasprintf("differs: %lld bytes, the rebuild's %lld, first different byte at offset %lld", la, lb, at);
	}
	return 1;
}
