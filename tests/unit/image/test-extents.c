/* Sparse images (image/extents.c): listing a file's data extents, packing them as HVIMG1, and
 * writing extents to a disk from a source, read back and compared. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extents.h"
#include "util.h"
#include "tap.h"

#define MIB (1 << 20)
#define DISK (4 * MIB)

static char *temp_dir(void)
{
	char *dir = mkdtemp(xstrdup("/tmp/test-extents.XXXXXX"));

	if (!dir)
		printf("# cannot make a temp folder\n");
	return dir;
}

/* A 4 MiB sparse file: "head" data in [0, 8 KiB) and 64 KiB at 2 MiB, holes elsewhere. */
static char *make_sparse(const char *dir)
{
	char *path = xasprintf("%s/disk.raw", dir), *block = xmalloc(64 << 10);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	for (int i = 0; i < 64 << 10; i++)
		block[i] = (char)(i * 7 + 1);
	if (fd < 0 || ftruncate(fd, DISK) < 0 || pwrite(fd, block, 8 << 10, 0) != 8 << 10 ||
	    pwrite(fd, block, 64 << 10, 2 * MIB) != 64 << 10)
		printf("# cannot make %s\n", path);
	if (fd >= 0)
		close(fd);
	free(block);
	return path;
}

static void test_extents_list_finds_the_data_when_the_file_has_holes(void)
{
	char *dir = temp_dir(), *path = make_sparse(dir);
	struct hvimg_extent *e = NULL;
	unsigned long long bytes = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = extents_list(fd, DISK, &e, &bytes);

	ok(n == 2 && e[0].offset == 0 && e[0].length == 8 << 10 && e[1].offset == 2 * MIB && e[1].length == 64 << 10 &&
	   bytes == (8 + 64) << 10, "extents_list: two data extents (0+8K, 2M+64K) when the rest is holes (n=%zd)", n);
	free(e);
	close(fd);

	/* Data up to the end: the last extent ends at the file's size. */
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, "end", 3, DISK - 3) != 3)
		printf("# cannot write\n");
	e = NULL;
	n = extents_list(fd, DISK, &e, &bytes);
	ok(n == 3 && e[2].offset + e[2].length == DISK && e[2].offset >= 2 * MIB + (64 << 10),
	   "extents_list: the last extent ends at the size when the file ends in data (n=%zd)", n);
	free(e);
	close(fd);

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) < 0 || ftruncate(fd, DISK) < 0)
		printf("# cannot empty\n");
	e = NULL;
	n = extents_list(fd, DISK, &e, &bytes);
	ok(n == 0 && bytes == 0, "extents_list: no extent when the file is all hole (n=%zd)", n);
	free(e);
	close(fd);
	util_rm_rf(dir);
	free(dir), free(path);
}

static void test_extents_pack_writes_a_parsable_image_when_the_file_is_sparse(void)
{
	char *dir = temp_dir(), *path = make_sparse(dir), *out = xasprintf("%s/disk.hvimg", dir), *packed = NULL;
	char *raw = NULL;
	size_t len = 0, rawlen = 0;
	struct diag d = {{0}, 0};
	struct hvimg h = {0};
	const char *why = "";
	int r = extents_pack(path, out, &d);

	ok(r == 0, "extents_pack: packs a sparse file (%s)", d.msg);
	util_read_file(out, &packed, &len);
	util_read_file(path, &raw, &rawlen);
	r = packed ? hvimg_parse((unsigned char *)packed, len, &h, &why) : -1;
	ok(r == 0 && h.disk_size == DISK && h.n == 2 && h.ext[1].offset == 2 * MIB && h.data_bytes == (8 + 64) << 10 &&
	   len == h.header_len + h.data_bytes, "extents_pack: the output parses with hvimg_parse, 2 extents, header + "
	   "data bytes long (%s)", why ? why : "");
	ok(r == 0 && raw && rawlen == DISK && memcmp(packed + h.header_len, raw, 8 << 10) == 0 &&
	   memcmp(packed + h.header_len + (8 << 10), raw + 2 * MIB, 64 << 10) == 0,
	   "extents_pack: the extents' bytes follow the header in order");
	hvimg_free(&h);
	free(packed), free(raw);

	ok(extents_pack("/nonexistent/disk.raw", out, &d) < 0 && strstr(d.msg, "cannot read the disk image"),
	   "extents_pack: fails when the image is missing (%s)", d.msg);
	util_rm_rf(dir);
	free(dir), free(path), free(out);
}

/* A source in memory: img holds the whole image; fail_at counts reads before one fails. */
struct mem {
	const unsigned char *img;
	int reads, fail_at, rewinds, rewind_fails, change_on_rewind;
	unsigned char xor_at0;          /* patch: xor the image's byte 0 with this */
	char phase[2][16];
	unsigned long long done[2], total[2];
	int steps;
	unsigned char *kept;            /* keep_back: the bytes read back */
	int views, view_fail_at;        /* mem_view: calls, and the one that finds nothing */
	uint64_t next;
	bool in_order;
};

static int mem_read(void *ctx, void *buf, size_t n, uint64_t off)
{
	struct mem *m = ctx;

	if (++m->reads == m->fail_at)
		return -EIO;
	memcpy(buf, m->img + off, n);
	if (m->change_on_rewind && m->rewinds)
		((unsigned char *)buf)[n - 1] ^= 1;
	return 0;
}

/* The bytes in place, unpatched but for byte 0 (xor_at0 counts here as a patch in a copy). */
static const void *mem_view(void *ctx, size_t n, uint64_t off)
{
	struct mem *m = ctx;
	static unsigned char first[1 << 20];

	if (++m->views == m->view_fail_at)
		return NULL;
	if (off != 0)
		return m->img + off;
	memcpy(first, m->img, n);
	first[0] ^= m->xor_at0;
	return first;
}

static int mem_rewind(void *ctx)
{
	struct mem *m = ctx;

	m->rewinds++;
	return m->rewind_fails ? -ESTALE : 0;
}

static void mem_patch(void *ctx, void *buf, size_t n, uint64_t off)
{
	struct mem *m = ctx;

	if (off == 0 && n > 0)
		((unsigned char *)buf)[0] ^= m->xor_at0;
}

static void mem_step(void *ctx, const char *phase, unsigned long long done, unsigned long long total)
{
	struct mem *m = ctx;
	int i = strcmp(phase, "verifying") == 0;

	snprintf(m->phase[i], sizeof(m->phase[i]), "%s", phase);
	m->done[i] = done;
	m->total[i] = total;
	m->steps++;
}

#define BASE 4096
#define TARGET (BASE + DISK + 4096)

/* The source image (DISK bytes, owned) and a target file of TARGET bytes of 0xEE. */
static unsigned char *make_source(void)
{
	unsigned char *img = xmalloc(DISK);

	for (size_t i = 0; i < DISK; i++)
		img[i] = (unsigned char)(i * 31 + 5);
	return img;
}

static int make_target(const char *dir, char **ret_path)
{
	unsigned char *fill = xmalloc(TARGET);
	int fd;

	*ret_path = xasprintf("%s/target.raw", dir);
	memset(fill, 0xee, TARGET);
	fd = open(*ret_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || pwrite(fd, fill, TARGET, 0) != TARGET)
		printf("# cannot make the target\n");
	free(fill);
	return fd;
}

static const struct hvimg_extent ext[] = {{0, 5000}, {MIB, 1 << 20}, {3 * MIB + 1, 300000}};
#define NEXT (sizeof(ext) / sizeof(ext[0]))

/* Whether the target holds img's extents at BASE + offset and 0xEE everywhere else. */
static bool target_right(const char *path, const unsigned char *img, unsigned char xor_at0)
{
	char *data = NULL;
	size_t len = 0;
	bool right = util_read_file(path, &data, &len) == 0 && len == TARGET;

	for (size_t i = 0; right && i < TARGET; i++) {
		bool in = false;
		unsigned char want = 0xee;
		if (i >= BASE && i < BASE + DISK)
			for (size_t k = 0; k < NEXT; k++)
				in |= i - BASE >= ext[k].offset && i - BASE < ext[k].offset + ext[k].length;
		if (in)
			want = img[i - BASE] ^ (i == BASE ? xor_at0 : 0);
		right = (unsigned char)data[i] == want;
		if (!right)
			printf("# byte %zu: %#x, want %#x\n", i, (unsigned char)data[i], want);
	}
	free(data);
	return right;
}

static void test_extents_write_puts_the_extents_at_base_when_the_source_reads(void)
{
	char *dir = temp_dir(), *path;
	unsigned char *img = make_source();
	struct mem m = {.img = img};
	struct extents_source src = {mem_read, mem_rewind, NULL, &m, NULL, NULL};
	struct progress p = {mem_step, NULL, &m};
	enum extents_step step = 0;
	unsigned long long total = 5000 + (1 << 20) + 300000;
	int fd = make_target(dir, &path), r = extents_write(fd, BASE, ext, NEXT, &src, &p, &step);

	ok(r == 0 && step == 0, "extents_write: succeeds when the source reads (r=%d, step %d)", r, step);
	ok(target_right(path, img, 0), "extents_write: the extents' bytes land at base + offset and the holes keep "
	   "their old bytes");
	ok(m.rewinds == 1, "extents_write: rewinds the source once for the read-back");
	ok(strcmp(m.phase[0], "writing") == 0 && m.done[0] == total && m.total[0] == total &&
	   strcmp(m.phase[1], "verifying") == 0 && m.done[1] == total && m.total[1] == total,
	   "extents_write: progress reports writing and verifying, each reaching the total (%llu)", total);
	close(fd);
	util_rm_rf(dir);
	free(dir), free(path), free(img);
}

static void test_extents_write_applies_the_patch_when_writing_and_comparing(void)
{
	char *dir = temp_dir(), *path;
	unsigned char *img = make_source();
	struct mem m = {.img = img, .xor_at0 = 0x5a};
	struct extents_source src = {mem_read, NULL, mem_patch, &m, NULL, NULL};
	enum extents_step step = 0;
	int fd = make_target(dir, &path), r = extents_write(fd, BASE, ext, NEXT, &src, NULL, &step);

	/* Patched only when writing, the read-back would differ at byte 0: -EILSEQ. */
	ok(r == 0 && target_right(path, img, 0x5a),
	   "extents_write: the patched byte is written and the compare passes when a patch callback is given (r=%d)", r);
	close(fd);
	util_rm_rf(dir);
	free(dir), free(path), free(img);
}

/* A read-back callback that keeps what it is handed (m->kept, DISK bytes), at its offsets. */
static int keep_back(void *ctx, const void *buf, size_t n, uint64_t off)
{
	struct mem *m = ctx;

	m->in_order &= off >= m->next;
	memcpy(m->kept + off, buf, n);
	m->next = off + n;
	return 0;
}

static void test_extents_write_hands_the_disk_bytes_to_readback_when_given(void)
{
	char *dir = temp_dir(), *path;
	unsigned char *img = make_source();
	struct mem m = {.img = img, .xor_at0 = 0x5a, .kept = xcalloc(1, DISK), .in_order = true};
	struct extents_source src = {mem_read, NULL, mem_patch, &m, keep_back, NULL};
	enum extents_step step = 0;
	bool same = true;
	int fd = make_target(dir, &path), r = extents_write(fd, BASE, ext, NEXT, &src, NULL, &step);

	for (size_t i = 0; i < NEXT; i++)
		for (uint64_t o = ext[i].offset; o < ext[i].offset + ext[i].length; o++)
			same &= m.kept[o] == (img[o] ^ (o == 0 ? 0x5a : 0));
	ok(r == 0 && same && m.in_order && m.reads == 3, "extents_write: with a readback callback, the source is read "
	   "once and the disk's bytes (patched) of every extent are handed over in order (r=%d, reads %d)", r, m.reads);
	close(fd);
	util_rm_rf(dir);
	free(dir), free(path), free(img), free(m.kept);
}

static void test_extents_write_writes_from_the_view_when_given(void)
{
	char *dir = temp_dir(), *path;
	unsigned char *img = make_source();
	struct mem m = {.img = img, .xor_at0 = 0x5a, .kept = xcalloc(1, DISK), .in_order = true};
	struct extents_source src = {mem_read, NULL, mem_patch, &m, keep_back, mem_view};
	enum extents_step step = 0;
	int fd = make_target(dir, &path), r = extents_write(fd, BASE, ext, NEXT, &src, NULL, &step);

	ok(r == 0 && m.reads == 0 && m.views == 3 && target_right(path, img, 0x5a),
	   "extents_write: with a view callback, each piece is written from the view, none read (r=%d, reads %d, "
	   "views %d)", r, m.reads, m.views);
	close(fd);
	free(path);
	m = (struct mem){.img = img, .kept = m.kept, .view_fail_at = 2};
	fd = make_target(dir, &path), r = extents_write(fd, BASE, ext, NEXT, &src, NULL, &step);
	ok(r == -EIO && step == EXTENTS_SOURCE, "extents_write: a view that finds nothing is a source error (r=%d, "
	   "step %d)", r, step);
	close(fd);
	util_rm_rf(dir);
	free(dir), free(path), free(img), free(m.kept);
}

/* A read-back callback that refuses the second piece it is handed (m->steps counts the calls). */
static int refuse_second(void *ctx, const void *buf, size_t n, uint64_t off)
{
	struct mem *m = ctx;

	(void)buf, (void)n, (void)off;
	return ++m->steps == 2 ? -EILSEQ : 0;
}

static void test_extents_write_stops_at_the_first_piece_readback_refuses(void)
{
	char *dir = temp_dir(), *path;
	unsigned char *img = make_source();
	struct mem m = {.img = img};
	struct extents_source src = {mem_read, NULL, NULL, &m, refuse_second, NULL};
	enum extents_step step = 0;
	int fd = make_target(dir, &path), r = extents_write(fd, BASE, ext, NEXT, &src, NULL, &step);

	ok(r == -EILSEQ && step == EXTENTS_MISMATCH && m.steps == 2, "extents_write: -EILSEQ, step EXTENTS_MISMATCH "
	   "when the readback callback refuses a piece, and no piece is handed over after it (r=%d, calls %d)", r, m.steps);
	close(fd);
	util_rm_rf(dir);
	free(dir), free(path), free(img);
}

static void test_extents_write_says_which_step_failed_when_something_fails(void)
{
	char *dir = temp_dir(), *path, *before = NULL, *after = NULL;
	unsigned char *img = make_source();
	struct mem m = {.img = img, .fail_at = 1};
	struct extents_source src = {mem_read, mem_rewind, NULL, &m, NULL, NULL};
	enum extents_step step = 0;
	size_t len;
	int fd = make_target(dir, &path), r, ro;

	util_read_file(path, &before, &len);
	r = extents_write(fd, BASE, ext, NEXT, &src, NULL, &step);
	util_read_file(path, &after, &len);
	ok(r == -EIO && step == EXTENTS_SOURCE && before && after && memcmp(before, after, TARGET) == 0,
	   "extents_write: the source's error, step EXTENTS_SOURCE and nothing written when the first read fails");
	free(after);

	m = (struct mem){.img = img, .fail_at = 5};
	r = extents_write(fd, BASE, ext, NEXT, &src, NULL, &step);
	ok(r == -EIO && step == EXTENTS_SOURCE, "extents_write: step EXTENTS_SOURCE when a read of the read-back fails");

	m = (struct mem){.img = img, .rewind_fails = 1};
	r = extents_write(fd, BASE, ext, NEXT, &src, NULL, &step);
	ok(r == -ESTALE && step == EXTENTS_SOURCE, "extents_write: the rewind's error, step EXTENTS_SOURCE when the "
	   "rewind fails");

	m = (struct mem){.img = img, .change_on_rewind = 1};
	r = extents_write(fd, BASE, ext, NEXT, &src, NULL, &step);
	ok(r == -EILSEQ && step == EXTENTS_MISMATCH, "extents_write: -EILSEQ, step EXTENTS_MISMATCH when the bytes read "
	   "back differ from the source's");

	ro = open(path, O_RDONLY | O_CLOEXEC);
	m = (struct mem){.img = img};
	r = extents_write(ro, BASE, ext, NEXT, &src, NULL, &step);
	ok(r == -EBADF && step == EXTENTS_WRITE, "extents_write: -EBADF, step EXTENTS_WRITE when the target is "
	   "read-only (r=%d)", r);
	if (ro >= 0)
		close(ro);
	close(fd);
	util_rm_rf(dir);
	free(before);
	free(dir), free(path), free(img);
}

int main(void)
{
	test_extents_list_finds_the_data_when_the_file_has_holes();
	test_extents_pack_writes_a_parsable_image_when_the_file_is_sparse();
	test_extents_write_puts_the_extents_at_base_when_the_source_reads();
	test_extents_write_applies_the_patch_when_writing_and_comparing();
	test_extents_write_hands_the_disk_bytes_to_readback_when_given();
	test_extents_write_stops_at_the_first_piece_readback_refuses();
	test_extents_write_writes_from_the_view_when_given();
	test_extents_write_says_which_step_failed_when_something_fails();
	return tap_done();
}
