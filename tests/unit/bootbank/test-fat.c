/* The read-only FAT reader (bootbank/fat.c) against mtools: FAT12, FAT16 and FAT32 file systems
 * made with mkfs.fat and filled with mcopy in the test's temp folder, alone and at an offset
 * inside a larger file; what fat.c reads must be what was written, its listing what mdir lists,
 * its extents where mshowfat puts the clusters; damaged images must be refused. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk-fixture.h"
#include "fat.h"
#include "tap.h"

#define AT (1024 * 1024 + 4096) /* where the file system lies in the larger file */

/* One file system: its type, size in KiB and mkfs.fat's options. */
struct kind {
	int bits;
	unsigned kib;
	const char *opts;
	unsigned big;           /* the size of the file spanning many clusters */
};

static const struct kind kinds[] = {
	{12, 2048, "-F 12", 300 * 1024},
	{16, 16384, "-F 16", 2 * 1024 * 1024},
	{32, 40960, "-F 32 -s 1", 3 * 1024 * 1024},
};

/* Contents: a pattern that differs from one file and one place to the next. */
static char *pattern(unsigned seed, size_t len)
{
	char *p = xmalloc(len + 1);

	for (size_t i = 0; i < len; i++)
		p[i] = (char)((i * 2654435761u + seed * 40503u) >> 13);
	return p;
}

static void put(const char *dir, const char *name, unsigned seed, size_t len)
{
	char *path = xasprintf("%s/%s", dir, name), *data = pattern(seed, len);

	if (util_write_file_atomic(path, data, len, 0644) < 0)
		printf("# cannot write %s\n", path);
	free(path);
	free(data);
}

/* dir/fs.img (k, filled) and dir/outer.img (fs.img at AT, garbage before and after). */
static int make_fs(const char *dir, const struct kind *k)
{
	char *s;
	int r;

	put(dir, "small", 1, 49);
	put(dir, "big", 2, k->big);
	put(dir, "mid", 3, 5000);
	put(dir, "a", 4, 20000);
	put(dir, "b", 5, 700);
	put(dir, "c", 6, 60000);
	put(dir, "empty", 7, 0);
	s = xasprintf("export MTOOLS_SKIP_CHECK=1; rm -f fs.img outer.img\n"
		      "mkfs.fat %s -C fs.img %u >/dev/null\n"
		      "i='-i fs.img'\n"
		      "mcopy $i small ::/boot.cfg; mcopy $i big ::/vmlinuz-6.1.176-hv; mcopy $i mid ::/state.tgz\n"
		      "mcopy $i small ::/README.TXT; mcopy $i mid '::/with space.txt'; mcopy $i small ::/Mixed.Txt\n"
		      "mcopy $i small ::/abc.TXT; mcopy $i empty ::/empty; mcopy $i small ::/gone.txt; mdel $i ::/gone.txt\n"
		      "mmd $i ::/keys ::/deep ::/deep/er ::/deep/er/est ::/Hidden\n"
		      "mcopy $i small ::/keys/trusted.pem; mcopy $i mid ::/initrd.img.sig; mcopy $i mid ::/deep/er/est/leaf\n"
		      "mcopy $i small ::/hid.txt; mattrib $i +h ::/hid.txt; mattrib $i +h ::/Hidden; mcopy $i small ::/Hidden/in\n"
		      "mcopy $i a ::/frag-a; mcopy $i b ::/frag-b; mdel $i ::/frag-a\n"
		      /* FAT32's FSInfo would have mcopy go on after frag-b: make it search from the start. */
		      "%s"
		      "mcopy $i c ::/frag-c\n"
		      "head -c %d /dev/urandom >outer.img; cat fs.img >>outer.img; head -c 70000 /dev/urandom >>outer.img\n",
		      k->opts, k->kib, k->bits == 32 ? "printf '\\377\\377\\377\\377' | "
		      "dd of=fs.img bs=1 seek=1004 conv=notrunc status=none\n" : "", AT);
	r = fix_sh(dir, s);
	free(s);
	return r;
}

/* Open the file system at off of dir/name (size bytes; 0: to the file's end). */
static int open_fs(const char *dir, const char *name, unsigned long long off, unsigned long long size,
		   int *fd, struct fat **f)
{
	char *path = xasprintf("%s/%s", dir, name);
	int r;

	*f = NULL;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (*fd < 0)
		return -EIO;
	if (!size)
		size = (unsigned long long)lseek(*fd, 0, SEEK_END) - off;
	r = fat_open(*fd, off, size, f);
	if (r < 0) {
		close(*fd);
		*fd = -1;
	}
	return r;
}

static void close_fs(int fd, struct fat *f)
{
	fat_close(f);
	if (fd >= 0)
		close(fd);
}

/* Whether path reads as len bytes of pattern seed. */
static bool reads(struct fat *f, const char *path, unsigned seed, size_t len)
{
	struct buf b = {0};
	char *want = pattern(seed, len);
	bool same = fat_read(f, path, &b) == 0 && b.len == len && (len == 0 || memcmp(b.data, want, len) == 0);

	buf_free(&b);
	free(want);
	return same;
}

/* Whether fat_list's lines are mdir's, as sorted sets. */
static bool lists_as_mdir(const char *dir, struct fat *f, const char *img)
{
	struct buf b = {0};
	char *path = xasprintf("%s/list", dir), *s;
	bool same = fat_list(f, &b) == 0 && util_write_file_atomic(path, b.data ? b.data : "", b.len, 0644) == 0;

	s = xasprintf("export MTOOLS_SKIP_CHECK=1; sort list >list.fat; mdir -/ -b -i '%s' ::/ | sort >list.mdir; "
		      "diff list.mdir list.fat", img);
	same = same && fix_sh(dir, s) == 0;
	free(s);
	free(path);
	buf_free(&b);
	return same;
}

/* mshowfat's clusters of path: the first one and the length of the first run, in clusters. */
static int showfat(const char *dir, const char *img, const char *path, unsigned long *first, unsigned long *run,
		   int *runs)
{
	char *s = xasprintf("MTOOLS_SKIP_CHECK=1 mshowfat -i '%s/%s' '::%s' >%s/showfat", dir, img, path, dir);
	char *out = NULL, *p;
	size_t len = 0;
	unsigned long a = 0, b = 0;
	int r = system(s) == 0 ? 0 : -1;

	free(s);
	s = xasprintf("%s/showfat", dir);
	if (r == 0 && util_read_file(s, &out, &len) == 0 && (p = strchr(out, '<'))) {
		int n = sscanf(p, "<%lu-%lu>", &a, &b);
		*first = a;
		*run = n == 2 ? b - a + 1 : 1;
		*runs = 0;
		for (; p; p = strchr(p + 1, '<'))
			(*runs)++;
	} else {
		r = -1;
	}
	free(out);
	free(s);
	return r;
}

/* Whether fat_extent agrees with mshowfat on path and the disk holds its bytes there. */
static bool extent_as_mshowfat(const char *dir, const char *img, unsigned long long off, int fd, struct fat *f,
			       const char *path, unsigned seed, size_t len, int *runs)
{
	unsigned long long first = 0, contig = 0, size = 0;
	unsigned long cl = 0, run = 0;
	unsigned char bpb[512];
	char *want = pattern(seed, len), *got = xmalloc(len);
	unsigned long long cluster_bytes, n;
	char *spec = xasprintf("%s@@%llu", img, off);
	bool same = fat_extent(f, path, &first, &contig, &size) == 0 && showfat(dir, spec, path, &cl, &run, runs) == 0 &&
		    pread(fd, bpb, sizeof(bpb), (off_t)off) == sizeof(bpb);

	cluster_bytes = (unsigned long long)(bpb[11] | bpb[12] << 8) * bpb[13];
	n = contig < len ? contig : len;
	same = same && size == len && contig == run * cluster_bytes && pread(fd, got, n, (off_t)(off + first)) == (ssize_t)n &&
	       memcmp(got, want, n) == 0;
	if (!same)
		printf("# %s: first %llu contiguous %llu size %llu; mshowfat: cluster %lu run %lu\n", path, first, contig,
		       size, cl, run);
	free(want);
	free(got);
	free(spec);
	return same;
}

static void check_fs(const char *dir, const struct kind *k, const char *name, unsigned long long off)
{
	char *img = xasprintf("%s/%s@@%llu", dir, name, off);
	unsigned long long a = 0, b = 0, c = 0;
	struct fat *f = NULL;
	struct buf buf = {0};
	int fd = -1, runs = 0, r = open_fs(dir, name, off, 0, &fd, &f);

	ok(r == 0, "fat_open: FAT%d at %llu of %s opens (%d)", k->bits, off, name, r);
	if (r < 0) {
		free(img);
		return;
	}
	ok(reads(f, "/boot.cfg", 1, 49) && reads(f, "/BOOT.CFG", 1, 49) && reads(f, "boot.cfg", 1, 49),
	   "fat_read: FAT%d: a lower-case short name, in any case, with or without the leading '/'", k->bits);
	ok(reads(f, "/vmlinuz-6.1.176-hv", 2, k->big) && reads(f, "/VMLINU~1.176", 2, k->big),
	   "fat_read: FAT%d: a long name spanning many clusters, and its short name", k->bits);
	ok(reads(f, "/README.TXT", 1, 49) && reads(f, "/with space.txt", 3, 5000) && reads(f, "/Mixed.Txt", 1, 49) &&
	   reads(f, "/abc.txt", 1, 49) && reads(f, "/state.tgz", 3, 5000),
	   "fat_read: FAT%d: upper-case, mixed-case and spaced names", k->bits);
	ok(reads(f, "/empty", 7, 0) && reads(f, "/keys/trusted.pem", 1, 49) && reads(f, "/deep/er/est/leaf", 3, 5000) &&
	   reads(f, "//deep//ER/est/leaf", 3, 5000), "fat_read: FAT%d: an empty file, files in nested folders", k->bits);
	ok(reads(f, "/frag-c", 6, 60000) && reads(f, "/frag-b", 5, 700),
	   "fat_read: FAT%d: a fragmented file reads whole", k->bits);
	ok(fat_read(f, "/gone.txt", &buf) == -ENOENT && fat_read(f, "/nothing", &buf) == -ENOENT &&
	   fat_read(f, "/keys", &buf) == -ENOENT && fat_read(f, "/boot.cfg/x", &buf) == -ENOENT &&
	   fat_read(f, "/", &buf) == -ENOENT && fat_read(f, "/nope/boot.cfg", &buf) == -ENOENT && buf.len == 0,
	   "fat_read: FAT%d: -ENOENT for a deleted file, a missing one, a folder, a path through a file", k->bits);
	ok(lists_as_mdir(dir, f, img), "fat_list: FAT%d: the lines of mdir -/ -b (sorted)", k->bits);
	ok(extent_as_mshowfat(dir, name, off, fd, f, "/vmlinuz-6.1.176-hv", 2, k->big, &runs) && runs == 1,
	   "fat_extent: FAT%d: a contiguous file where mshowfat puts it, contiguous for all its clusters", k->bits);
	ok(extent_as_mshowfat(dir, name, off, fd, f, "/frag-c", 6, 60000, &runs) && runs > 1,
	   "fat_extent: FAT%d: a fragmented file (%d runs): its first run only, as mshowfat says", k->bits, runs);
	ok(fat_extent(f, "/empty", &a, &b, &c) == 0 && a == 0 && b == 0 && c == 0 &&
	   fat_extent(f, "/nothing", &a, &b, &c) == -ENOENT && fat_extent(f, "/deep", &a, &b, &c) == -ENOENT,
	   "fat_extent: FAT%d: nothing contiguous in an empty file; -ENOENT for a missing file or a folder", k->bits);
	close_fs(fd, f);
	free(img);
}

/* Write len bytes of data at off of dir/name. */
static void patch(const char *dir, const char *name, unsigned long long off, const void *data, size_t len)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || pwrite(fd, data, len, (off_t)off) != (ssize_t)len)
		printf("# cannot patch %s\n", path);
	if (fd >= 0)
		close(fd);
	free(path);
}

/* A copy of dir/fs.img as dir/bad.img, and the byte offset of its FAT and its first data cluster
 * (a FAT16: 2 bytes an entry). */
static int copy_bad(const char *dir, unsigned long long *fat_at)
{
	unsigned char bpb[512] = {0};
	char *path = xasprintf("%s/bad.img", dir);
	int fd, r = fix_sh(dir, "cp fs.img bad.img");

	fd = r == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0 || pread(fd, bpb, sizeof(bpb), 0) != sizeof(bpb))
		r = -1;
	*fat_at = (unsigned long long)(bpb[14] | bpb[15] << 8) * (bpb[11] | bpb[12] << 8);
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

/* Open dir/bad.img and try the calls; their results in r[3]: fat_open or fat_read of the big file,
 * fat_list, fat_extent of the big file. */
static void try_bad(const char *dir, unsigned long long size, int r[3])
{
	struct fat *f = NULL;
	struct buf b = {0};
	unsigned long long x, y, z;
	int fd = -1;

	r[0] = open_fs(dir, "bad.img", 0, size, &fd, &f);
	r[1] = r[2] = r[0];
	if (r[0] == 0) {
		r[0] = fat_read(f, "/vmlinuz-6.1.176-hv", &b);
		r[1] = fat_list(f, &b);
		r[2] = fat_extent(f, "/vmlinuz-6.1.176-hv", &x, &y, &z);
	}
	buf_free(&b);
	close_fs(fd, f);
}

/* The FAT16 entry of the big file's first cluster at fat_at (mshowfat's). */
static unsigned long big_first(const char *dir)
{
	unsigned long first = 0, run = 0;
	int runs = 0;

	showfat(dir, "fs.img", "/vmlinuz-6.1.176-hv", &first, &run, &runs);
	return first;
}

static void test_fat_refuses_damaged_images(const char *dir)
{
	unsigned long long fat_at = 0;
	unsigned long first = big_first(dir);
	unsigned char e[2], garbage[512];
	int r[3];

	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (unsigned char)(i * 37 + 11);
	garbage[510] = 0x55, garbage[511] = 0xaa;
	copy_bad(dir, &fat_at);
	patch(dir, "bad.img", 0, garbage, sizeof(garbage));
	try_bad(dir, 0, r);
	ok(r[0] == -EINVAL, "fat_open: -EINVAL for a garbage boot sector (%d)", r[0]);

	/* The big file's first cluster points back to itself. */
	copy_bad(dir, &fat_at);
	e[0] = (unsigned char)first, e[1] = (unsigned char)(first >> 8);
	patch(dir, "bad.img", fat_at + first * 2, e, 2);
	try_bad(dir, 0, r);
	ok(first >= 2 && r[0] == -EINVAL && r[1] == 0 && r[2] == 0,
	   "fat_read: -EINVAL for a chain that loops; fat_list and fat_extent need not walk it (%d %d %d)", r[0], r[1],
	   r[2]);

	/* The big file's first cluster points past the last one. */
	copy_bad(dir, &fat_at);
	e[0] = 0xf0, e[1] = 0xff;
	patch(dir, "bad.img", fat_at + first * 2, e, 2);
	try_bad(dir, 0, r);
	ok(r[0] == -EINVAL && r[2] == -EINVAL, "fat_read, fat_extent: -EINVAL for a cluster number out of range (%d %d)",
	   r[0], r[2]);

	/* The image cut short: refused whole when the size says so, and where the data is missing
	 * when the partition claims more than the file holds. */
	copy_bad(dir, &fat_at);
	fix_sh(dir, "truncate -s 1M bad.img");
	try_bad(dir, 0, r);
	ok(r[0] == -EINVAL, "fat_open: -EINVAL for a truncated image (%d)", r[0]);
	try_bad(dir, 16384 * 1024, r);
	ok(r[0] == -EINVAL, "fat_read: -EINVAL for a file cut off by the image's end (%d)", r[0]);
}

static void test_fat_refuses_a_looping_root_folder(const char *dir)
{
	unsigned char bpb[512] = {0}, e[4];
	unsigned long long fat_at = 0, root;
	char *path = xasprintf("%s/fs.img", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC), r[3] = {0, 0, 0};

	if (fd < 0 || pread(fd, bpb, sizeof(bpb), 0) != sizeof(bpb))
		printf("# cannot read %s\n", path);
	if (fd >= 0)
		close(fd);
	root = (unsigned long long)bpb[44] | bpb[45] << 8 | bpb[46] << 16;
	copy_bad(dir, &fat_at);
	e[0] = (unsigned char)root, e[1] = (unsigned char)(root >> 8), e[2] = (unsigned char)(root >> 16), e[3] = 0;
	patch(dir, "bad.img", fat_at + root * 4, e, 4);
	try_bad(dir, 0, r);
	ok(r[1] == -EINVAL && r[0] == -EINVAL, "fat_list, fat_read: -EINVAL for a FAT32 root folder that loops (%d %d)",
	   r[1], r[0]);
	free(path);
}

int main(void)
{
	const char *why = NULL;

	if (!fix_have_tools(&why)) {
		ok(1, "fat: every check # SKIP %s is not installed", why);
		return tap_done();
	}
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *dir = mkdtemp(xstrdup("/tmp/test-fat.XXXXXX"));
		if (!dir || make_fs(dir, &kinds[i]) != 0) {
			ok(0, "fat: cannot make a FAT%d with mkfs.fat and mtools", kinds[i].bits);
			free(dir);
			continue;
		}
		check_fs(dir, &kinds[i], "fs.img", 0);
		check_fs(dir, &kinds[i], "outer.img", AT);
		if (kinds[i].bits == 16)
			test_fat_refuses_damaged_images(dir);
		if (kinds[i].bits == 32)
			test_fat_refuses_a_looping_root_folder(dir);
		util_rm_rf(dir);
		free(dir);
	}
	return tap_done();
}
