/* libFuzzer target: the read-only FAT reader (bootbank/fat.c) on any bytes as a partition. The
 * input is read three ways: as a partition's start (a truncated image); the same padded with
 * zeros to PAD bytes; and laid out in PAD bytes where its own boot sector puts the FAT and the
 * root folder (lay_out), so that inputs of a few KiB hold FAT16 and FAT32 layouts too, whose FAT
 * and folders lie far from the boot sector. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fat.h"

#define PAD (40ULL << 20)
#define FAT_PIECE 1024

static void walk(int fd, unsigned long long size)
{
	static const char *const paths[] = {"/boot.cfg", "/grub/envA", "/Long File Name.txt", "/grub", "/GRUB/ENVA/x",
					    "/LONGFI~1.TXT", "/nothing"};
	struct fat *f = NULL;
	struct buf b = {0};

	if (fat_open(fd, 0, size, &f) < 0)
		return;
	fat_list(f, &b);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		unsigned long long first, contig, len;
		int read_r, extent_r;
		buf_free(&b);
		read_r = fat_read(f, paths[i], &b);
		extent_r = fat_extent(f, paths[i], &first, &contig, &len);
		/* A file read whole is found again, with the size its entry says, inside the partition. */
		if (read_r == 0 && (extent_r == -ENOENT || (extent_r == 0 && (len != b.len || first > size))))
			__builtin_trap();
	}
	buf_free(&b);
	fat_close(f);
}

static unsigned long long le(const uint8_t *p, int n)
{
	unsigned long long v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put(int fd, const uint8_t *p, size_t n, unsigned long long at)
{
	if (n && at < PAD && pwrite(fd, p, n < PAD - at ? n : PAD - at, (off_t)at) < 0)
		__builtin_trap();
}

/* The boot sector (512 bytes) at 0, the next FAT_PIECE bytes at the FAT, the rest at the root
 * folder (FAT12/16) or the first cluster (FAT32), where the boot sector's fields put them. */
static void lay_out(int fd, const uint8_t *data, size_t size)
{
	unsigned long long bps = le(data + 11, 2), fat_at = le(data + 14, 2) * bps;
	unsigned long long fatsz = le(data + 22, 2) ? le(data + 22, 2) : le(data + 36, 4);
	size_t fat_n = size - 512 < FAT_PIECE ? size - 512 : FAT_PIECE;

	put(fd, data, 512, 0);
	put(fd, data + 512, fat_n, fat_at);
	put(fd, data + 512 + fat_n, size - 512 - fat_n, fat_at + data[16] * fatsz * bps);
}

static void run(const uint8_t *data, size_t size, bool laid_out)
{
	int fd = memfd_create("fuzz-fat", MFD_CLOEXEC);

	if (fd < 0)
		return;
	if (laid_out && ftruncate(fd, (off_t)PAD) == 0) {
		lay_out(fd, data, size);
		walk(fd, PAD);
	} else if (!laid_out && write(fd, data, size) == (ssize_t)size) {
		walk(fd, size);
		if (ftruncate(fd, (off_t)PAD) == 0)
			walk(fd, PAD);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size, false);
	if (size > 512)
		run(data, size, true);
	return 0;
}
