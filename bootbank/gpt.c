#define _GNU_SOURCE
#include "gpt.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sysfile.h"

#define SECTOR 512

uint32_t gpt_crc32(const void *data, uint64_t len)
{
	const unsigned char *p = data;
	uint32_t crc = 0xffffffffu;

	for (uint64_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)get64((const unsigned char[8]){p[0], p[1], p[2], p[3], 0, 0, 0, 0});
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Header fields (UEFI spec 5.3.2): size at 12, crc at 16, my LBA 24, alternate LBA 32, last
 * usable 48, entries LBA 72, entry count 80, entry size 84. */
static void seal(unsigned char *h)
{
	put32(h + 16, 0);
	put32(h + 16, gpt_crc32(h, get32(h + 12)));
}

static const char *check_header(unsigned char *h)
{
	uint32_t size = get32(h + 12), crc = get32(h + 16);

	if (memcmp(h, "EFI PART", 8) != 0 || size < 92 || size > SECTOR)
		return "no GPT header in sector 1";
	put32(h + 16, 0);
	if (gpt_crc32(h, size) != crc)
		return "the GPT header's CRC does not match";
	put32(h + 16, crc);
	if (get32(h + 84) != 128 || get32(h + 80) == 0 || get32(h + 80) > 1024)
		return "the GPT's entry table has an unexpected shape";
	return NULL;
}

static int fail(const char **why, const char *what)
{
	*why = what;
	return -1;
}

static int write_tables(int fd, unsigned char *mbr, unsigned char *h, unsigned char *ent, uint64_t ent_bytes,
			uint64_t last)
{
	unsigned char b[SECTOR];
	uint64_t ent_sectors = ent_bytes / SECTOR;

	put64(h + 32, last);
	put64(h + 48, last - ent_sectors - 1);
	seal(h);
	memcpy(b, h, SECTOR);
	put64(b + 24, last);
	put64(b + 32, 1);
	put64(b + 72, last - ent_sectors);
	seal(b);
	/* The protective MBR's partition covers the whole disk, as far as 32 bits reach. */
	put32(mbr + 446 + 12, last > 0xffffffffu ? 0xffffffffu : (uint32_t)last);
	if (pwrite(fd, ent, ent_bytes, (off_t)((last - ent_sectors) * SECTOR)) != (ssize_t)ent_bytes ||
	    pwrite(fd, b, SECTOR, (off_t)(last * SECTOR)) != SECTOR || fsync(fd) < 0)
		return -1;
	if (pwrite(fd, h, SECTOR, SECTOR) != SECTOR || pwrite(fd, mbr, SECTOR, 0) != SECTOR || fsync(fd) < 0)
		return -1;
	return 0;
}

int gpt_relocate(int fd, uint64_t disk_bytes, const char **why)
{
	unsigned char mbr[SECTOR], h[SECTOR], *ent;
	uint64_t last = disk_bytes / SECTOR - 1, ent_bytes;
	int r;

	if (pread(fd, mbr, SECTOR, 0) != SECTOR || pread(fd, h, SECTOR, SECTOR) != SECTOR)
		return fail(why, "cannot read the first sectors");
	const char *bad = check_header(h);
	if (bad)
		return fail(why, bad);
	if (get64(h + 32) == last)
		return 0;
	if (get64(h + 32) > last || get64(h + 72) != 2)
		return fail(why, "the GPT does not fit this disk");
	ent_bytes = ((uint64_t)get32(h + 80) * 128 + SECTOR - 1) / SECTOR * SECTOR;
	if (!(ent = calloc(1, ent_bytes)))
		return fail(why, "out of memory");
	r = pread(fd, ent, ent_bytes, 2 * SECTOR) == (ssize_t)ent_bytes ? 0 : -1;
	if (r == 0 && gpt_crc32(ent, (uint64_t)get32(h + 80) * 128) != get32(h + 88))
		r = fail(why, "the GPT's entry table CRC does not match");
	else if (r == 0 && (r = write_tables(fd, mbr, h, ent, ent_bytes, last)) < 0)
		*why = "cannot write the moved GPT";
	else if (r < 0)
		*why = "cannot read the GPT's entries";
	free(ent);
	return r;
}

/* Linux filesystem data, 0FC63DAF-8483-4772-8E79-3D69D8477DE4, as GPT stores it. */
static const unsigned char linux_data[16] = {0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
					     0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4};
static const unsigned char zero16[16];

/* The free slot and the first LBA at or after from and after every partition (aligned to 1 MiB);
 * -1 when no slot. */
static int free_slot(const unsigned char *ent, uint32_t n, uint64_t from, uint64_t *after)
{
	int slot = -1;

	*after = from;
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *e = ent + (size_t)i * 128;
		if (memcmp(e, zero16, 16) == 0) {
			if (slot < 0)
				slot = (int)i;
		} else if (get64(e + 40) + 1 > *after)
			*after = get64(e + 40) + 1;
	}
	*after = (*after + 2047) / 2048 * 2048;
	return slot;
}

static void entry_fill(unsigned char *e, uint64_t first, uint64_t last, const char *name, const unsigned char guid[16])
{
	memset(e, 0, 128);
	memcpy(e, linux_data, 16);
	memcpy(e + 16, guid, 16);
	put64(e + 32, first);
	put64(e + 40, last);
	for (size_t i = 0; name[i] && i < 36; i++)
		e[56 + 2 * i] = (unsigned char)name[i];
}

int gpt_add_rest(int fd, uint64_t disk_bytes, uint64_t from, const char *name, const unsigned char guid[16],
		 uint64_t min_bytes, uint64_t *first, const char **why)
{
	unsigned char mbr[SECTOR], h[SECTOR], *ent;
	uint64_t last = disk_bytes / SECTOR - 1, ent_bytes, end, start;
	uint32_t n;
	int r = 0, slot;

	if (pread(fd, mbr, SECTOR, 0) != SECTOR || pread(fd, h, SECTOR, SECTOR) != SECTOR)
		return fail(why, "cannot read the first sectors");
	const char *bad = check_header(h);
	if (bad)
		return fail(why, bad);
	if (get64(h + 32) != last || get64(h + 72) != 2)
		return fail(why, "the backup GPT is not at the disk's end");
	n = get32(h + 80);
	ent_bytes = ((uint64_t)n * 128 + SECTOR - 1) / SECTOR * SECTOR;
	if (!(ent = calloc(1, ent_bytes)))
		return fail(why, "out of memory");
	if (pread(fd, ent, ent_bytes, 2 * SECTOR) != (ssize_t)ent_bytes || gpt_crc32(ent, (uint64_t)n * 128) != get32(h + 88))
		r = fail(why, "cannot read the GPT's entries, or their CRC does not match");
	else if ((slot = free_slot(ent, n, from, &start)) < 0)
		r = fail(why, "the GPT has no free entry");
	else if ((end = get64(h + 48)) < start || (end - start + 1) * SECTOR < min_bytes)
		r = 1;
	else {
		*first = start;
		entry_fill(ent + (size_t)slot * 128, start, end, name, guid);
		put32(h + 88, gpt_crc32(ent, (uint64_t)n * 128));
		if (pwrite(fd, ent, ent_bytes, 2 * SECTOR) != (ssize_t)ent_bytes ||
		    write_tables(fd, mbr, h, ent, ent_bytes, last) < 0)
			r = fail(why, "cannot write the GPT");
	}
	free(ent);
	return r;
}

/* The kernel names a partition's GPT name in its uevent ("PARTNAME=bank-a"). */
static bool part_named(const char *blk, const char *want)
{
	char path[320], text[1024];

	snprintf(path, sizeof(path), "/sys/class/block/%.200s/uevent", blk);
	return sysfile_read(path, text, sizeof(text)) > 0 && strstr(text, want) != NULL;
}

bool gpt_part_dev(const char *disk, const char *partname, char *dev, size_t size)
{
	DIR *dp = opendir("/sys/class/block");
	struct dirent *e;
	char want[80];
	bool found = false;

	snprintf(want, sizeof(want), "PARTNAME=%s\n", partname);
	while (dp && !found && (e = readdir(dp))) {
		/* Block device names are short (sda1, nvme0n1p2); a longer one is not ours. */
		if (e->d_name[0] == '.' || strlen(e->d_name) >= 32 || (disk && strncmp(e->d_name, disk, strlen(disk)) != 0))
			continue;
		if (part_named(e->d_name, want)) {
			snprintf(dev, size, "/dev/%.31s", e->d_name);
			found = true;
		}
	}
	if (dp)
		closedir(dp);
	return found;
}

bool gpt_part_wait(const char *disk, const char *partname, char *dev, size_t size, int wait_ms)
{
	struct timespec tick = {0, 100 * 1000 * 1000};

	for (int waited = 0; waited < wait_ms; waited += 100) {
		if (gpt_part_dev(disk, partname, dev, size))
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}
