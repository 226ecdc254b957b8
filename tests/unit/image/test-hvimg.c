/* The installer's image format, HVIMG2 (image/hvimg.h): the worked example parses as documented,
 * every malformed header is refused with a reason, and hvimg2_pack() turns a disk image into
 * literal extents and file extents that rebuild it byte for byte. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "hvimg-pack.h"
#include "hvimg.h"
#include "util.h"
#include "tap.h"

#define KIB 1024
#define EXAMPLE_LEN (0xc8 + 512)

/* The worked example of hvimg.h, byte by byte: a 1 MiB disk, the MBR literal, boot/k by reference. */
static void example(unsigned char *b)
{
	memset(b, 0, EXAMPLE_LEN);
	memcpy(b, "HVIMG2\n\0", 8);
	hvimg_put64(b + 0x08, 0x100000);
	hvimg_put64(b + 0x10, 1);
	hvimg_put64(b + 0x18, 2);
	memcpy(b + 0x20, "boot/k", 6);
	hvimg_put64(b + 0x60, 5000);
	memset(b + 0x68, 0xab, 32);
	hvimg_put64(b + 0x88, 0), hvimg_put64(b + 0x90, 0x200), hvimg_put64(b + 0x98, HVIMG2_LITERAL);
	hvimg_put64(b + 0xa8, 0x20000), hvimg_put64(b + 0xb0, 5000), hvimg_put64(b + 0xb8, 0);
	memset(b + 0xc8, 0x55, 512);
}

static void test_hvimg2_parse_reads_the_worked_example_as_documented(void)
{
	unsigned char b[EXAMPLE_LEN];
	struct hvimg2 h;
	const char *why = NULL;

	example(b);
	int r = hvimg2_parse(b, sizeof(b), &h, &why);
	ok(r == 0, "hvimg2_parse: the worked example of hvimg.h parses (%s)", why ? why : "ok");
	if (r < 0)
		return;
	ok(h.img.disk_size == 0x100000 && h.nfiles == 1 && strcmp(h.file[0].path, "boot/k") == 0 && h.file[0].size == 5000 &&
	   h.file[0].sha256[0] == 0xab, "  ... disk 1 MiB, one file boot/k of 5000 bytes with its sha256");
	ok(h.img.n == 2 && h.img.ext[0].offset == 0 && h.img.ext[0].length == 512 && h.src[0].file == HVIMG2_LITERAL &&
	   h.img.ext[1].offset == 0x20000 && h.img.ext[1].length == 5000 && h.src[1].file == 0 && h.src[1].file_offset == 0,
	   "  ... extent 0: 512 literal bytes at 0; extent 1: 5000 bytes at 0x20000 from boot/k");
	ok(h.img.header_len == 0xc8 && h.img.data_bytes == 512 && hvimg2_header_size(1, 2) == 0xc8,
	   "  ... the header is 0xc8 bytes and 512 literal bytes follow");
	hvimg2_free(&h);
}

static void test_hvimg2_header_format_writes_what_parse_reads(void)
{
	unsigned char b[EXAMPLE_LEN], out[0xc8];
	struct hvimg2 h;
	const char *why;

	example(b);
	if (hvimg2_parse(b, sizeof(b), &h, &why) < 0) {
		ok(0, "hvimg2_header_format: cannot parse the example (%s)", why);
		return;
	}
	hvimg2_header_format(out, h.img.disk_size, h.file, h.nfiles, h.img.ext, h.src, h.img.n);
	ok(memcmp(out, b, sizeof(out)) == 0, "hvimg2_header_format: formats the parsed example back to the same bytes");
	hvimg2_free(&h);
}

/* One change to the example, the reason parse must give. */
struct bad {
	size_t at;
	uint64_t value;   /* put64 at `at`, unless text */
	const char *text; /* bytes written at `at` instead */
	size_t len;       /* 0: the whole example */
	const char *want;
	const char *what;
};

static void test_hvimg2_parse_refuses_a_malformed_header_with_its_reason(void)
{
	static const char sixty_four[65] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const struct bad cases[] = {
		{0, 0, "HVIMG1\n", 0, "no HVIMG2 header", "an HVIMG1 magic"},
		{0x10, HVIMG2_MAX_FILES + 1, NULL, 0, "too many files", "more files than the format takes"},
		{0x18, HVIMG_MAX_EXTENTS + 1, NULL, 0, "too many files or extents", "more extents than the format takes"},
		{0, 0, NULL, 0xc7, "cut short", "a header one byte short"},
		{0, 0, NULL, 20, "no HVIMG2 header", "fewer bytes than the fixed header"},
		{0x20, 0, "../k", 0, "path", "a path with a .. component"},
		{0x20, 0, "/boot/k", 0, "absolute", "an absolute path"},
		{0x20, 0, "boot//k", 0, "path", "a path with an empty component"},
		{0x20, 0, "boot/k?", 0, "character", "a path with a '?'"},
		{0x20, 0, "\0\0\0\0\0\0", 0, "empty", "an empty path"},
		{0x27, 0, "x", 0, "NUL-padded", "a path with a byte after its NUL"},
		{0x20, 0, sixty_four, 0, "no NUL", "a path of 64 bytes"},
		{0xb8, 1, NULL, 0, "does not list", "an extent naming file 1 of 1"},
		{0xc0, 1, NULL, 0, "past the end of its file", "a file extent one byte past its file"},
		{0xc0, UINT64_MAX - 10, NULL, 0, "past the end of its file", "a file offset that wraps around"},
		{0xa0, 7, NULL, 0, "literal extent has a file offset", "a literal extent with a file offset"},
		{0xa8, 0x100, NULL, 0, "overlap", "overlapping extents"},
		{0xa8, 0xffc00, NULL, 0, "outside", "an extent past the disk's end"},
		{0xb0, 0, NULL, 0, "overlap", "an empty extent"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned char b[EXAMPLE_LEN];
		struct hvimg2 h;
		const char *why = NULL;
		example(b);
		if (cases[i].text)
			memcpy(b + cases[i].at, cases[i].text, strlen(cases[i].text) ? strlen(cases[i].text) : 6);
		else if (cases[i].at)
			hvimg_put64(b + cases[i].at, cases[i].value);
		int r = hvimg2_parse(b, cases[i].len ? cases[i].len : sizeof(b), &h, &why);
		ok(r < 0 && why && strstr(why, cases[i].want), "hvimg2_parse refuses %s: \"%s\"", cases[i].what,
		   why ? why : "(accepted)");
		if (r == 0)
			hvimg2_free(&h);
	}
}

static char *temp_dir(void)
{
	char *dir = mkdtemp(xstrdup("/tmp/test-hvimg.XXXXXX"));

	if (!dir)
		printf("# cannot make a temp folder\n");
	return dir;
}

static void fill(char *p, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(i * 13 + (size_t)seed);
}

/*
 * A 2 MiB sparse disk: 8 KiB at 0, 4 KiB at 60 KiB right before the file, the file's 40 KiB at
 * 64 KiB with a hole where its bytes [16 KiB, 24 KiB) are zero, and 4 KiB at 1 MiB.
 */
static void make_disk(const char *dir, char *file)
{
	char *disk = xasprintf("%s/disk.img", dir), *local = xasprintf("%s/k", dir), lit[8 * KIB];
	int fd = open(disk, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	fill(file, 40 * KIB, 1);
	memset(file + 16 * KIB, 0, 8 * KIB);
	fill(lit, sizeof(lit), 2);
	if (fd < 0 || ftruncate(fd, 2 << 20) < 0 || pwrite(fd, lit, 8 * KIB, 0) != 8 * KIB ||
	    pwrite(fd, lit, 4 * KIB, 60 * KIB) != 4 * KIB || pwrite(fd, file, 16 * KIB, 64 * KIB) != 16 * KIB ||
	    pwrite(fd, file + 24 * KIB, 16 * KIB, 88 * KIB) != 16 * KIB || pwrite(fd, lit, 4 * KIB, 1 << 20) != 4 * KIB ||
	    util_write_file_atomic(local, file, 40 * KIB, 0644) < 0)
		printf("# cannot make %s\n", disk);
	if (fd >= 0)
		close(fd);
	free(disk), free(local);
}

/* Rebuild the disk from the packed image and the file, as the installer does. */
static int rebuild_matches(const unsigned char *img, const struct hvimg2 *h, const char *file, const char *disk)
{
	char *want = NULL, *got = xcalloc(1, (size_t)h->img.disk_size);
	size_t len = 0, pos = h->img.header_len;
	int same;

	for (size_t i = 0; i < h->img.n; i++) {
		const struct hvimg_extent *e = &h->img.ext[i];
		if (h->src[i].file == HVIMG2_LITERAL)
			memcpy(got + e->offset, img + pos, e->length), pos += e->length;
		else
			memcpy(got + e->offset, file + h->src[i].file_offset, e->length);
	}
	same = util_read_file(disk, &want, &len) == 0 && len == h->img.disk_size && memcmp(want, got, len) == 0;
	free(want), free(got);
	return same;
}

static void test_hvimg2_pack_names_the_file_and_keeps_the_rest_literal(void)
{
	char *dir = temp_dir(), *disk = xasprintf("%s/disk.img", dir), *out = xasprintf("%s/install.img", dir);
	char *local = xasprintf("%s/k", dir), *file = xmalloc(40 * KIB), hex[HASH_HEX_LEN], *img = NULL;
	struct hvimg2_placed placed = {"boot/k", local, 64 * KIB};
	struct diag d = {0};
	struct hvimg2 h = {0};
	const char *why = "";
	size_t len = 0;

	make_disk(dir, file);
	int r = hvimg2_pack(disk, out, &placed, 1, &d);
	ok(r == 0, "hvimg2_pack: packs a disk holding a placed file (%s)", r ? d.msg : "ok");
	r = r == 0 && util_read_file(out, &img, &len) == 0 ? hvimg2_parse((unsigned char *)img, len, &h, &why) : -1;
	ok(r == 0, "  ... and its output parses (%s)", why ? why : "ok");
	if (r == 0) {
		struct hvimg_extent *e = h.img.ext;
		ok(h.img.n == 4 && e[0].offset == 0 && e[0].length == 8 * KIB && e[1].offset == 60 * KIB &&
		   e[1].length == 4 * KIB && e[2].offset == 64 * KIB && e[2].length == 40 * KIB && h.src[2].file == 0 &&
		   e[3].offset == 1 << 20 && h.src[0].file == HVIMG2_LITERAL && h.src[1].file == HVIMG2_LITERAL &&
		   h.src[3].file == HVIMG2_LITERAL, "  ... literal 0+8K and 60K+4K, the file's 40K at 64K (its hole "
		   "included), literal 1M+4K (%zu extents)", h.img.n);
		hash_buf(file, 40 * KIB, hex);
		char want[65];
		for (int i = 0; i < 32; i++)
			snprintf(want + 2 * i, 3, "%02x", h.file[0].sha256[i]);
		ok(h.nfiles == 1 && strcmp(h.file[0].path, "boot/k") == 0 && h.file[0].size == 40 * KIB &&
		   strcmp(want, hex) == 0 && h.img.data_bytes == 16 * KIB && len == h.img.header_len + 16 * KIB,
		   "  ... the file's path, size and sha256 recorded; only the 16K of literal bytes carried");
		ok(rebuild_matches((unsigned char *)img, &h, file, disk), "  ... literal bytes and the file rebuild the "
		   "disk byte for byte");
		hvimg2_free(&h);
	}
	free(img), free(file), free(local), free(disk), free(out);
	util_rm_rf(dir);
	free(dir);
}

static void test_hvimg2_pack_refuses_a_file_the_disk_does_not_hold(void)
{
	char *dir = temp_dir(), *disk = xasprintf("%s/disk.img", dir), *out = xasprintf("%s/install.img", dir);
	char *local = xasprintf("%s/k", dir), *file = xmalloc(40 * KIB);
	struct hvimg2_placed placed[2] = {{"boot/k", local, 64 * KIB}, {"boot/k2", local, 96 * KIB}};
	struct diag d = {0};

	make_disk(dir, file);
	placed[0].disk_offset = 60 * KIB;
	int r = hvimg2_pack(disk, out, placed, 1, &d);
	ok(r < 0 && strstr(d.msg, "/k: the disk image does not hold this file at byte 61440"),
	   "hvimg2_pack: a file not at its offset is refused: \"%s\"", d.msg);
	char *local2 = xasprintf("%s/k2", dir);
	util_write_file_atomic(local2, file + 4 * KIB, 4 * KIB, 0644); /* the disk holds it at 68K, inside k */
	placed[0].disk_offset = 64 * KIB;
	placed[1] = (struct hvimg2_placed){"boot/k2", local2, 68 * KIB};
	r = hvimg2_pack(disk, out, placed, 2, &d);
	ok(r < 0 && strstr(d.msg, "/k2: its range on the disk overlaps that of ") != NULL,
	   "  ... and two files whose ranges overlap: \"%s\"", d.msg);
	free(local2);
	placed[1] = (struct hvimg2_placed){"../k", local, 64 * KIB};
	r = hvimg2_pack(disk, out, &placed[1], 1, &d);
	ok(r < 0 && strstr(d.msg, "../k, is not one HVIMG2 allows"), "  ... and a path HVIMG2 refuses: \"%s\"", d.msg);
	free(file), free(local), free(disk), free(out);
	util_rm_rf(dir);
	free(dir);
}

int main(void)
{
	test_hvimg2_parse_reads_the_worked_example_as_documented();
	test_hvimg2_header_format_writes_what_parse_reads();
	test_hvimg2_parse_refuses_a_malformed_header_with_its_reason();
	test_hvimg2_pack_names_the_file_and_keeps_the_rest_literal();
	test_hvimg2_pack_refuses_a_file_the_disk_does_not_hold();
	return tap_done();
}
