#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpt.h"
#include "util.h"
#include "tap.h"

/* A 4 MiB file with a two-partition GPT made by sfdisk, then grown to 8 MiB as when an image
 * lands on a larger disk. */
static char *make_disk(char **ret_dir)
{
	char *dir = mkdtemp(xstrdup("/tmp/test-gpt.XXXXXX")), *img = xasprintf("%s/disk.img", dir);
	char *cmd = xasprintf("truncate -s 4M %s && printf 'label: gpt\\nsize=1M, name=esp\\nsize=1M, name=bank-a\\n' | "
			      "sfdisk --quiet %s >/dev/null 2>&1 && truncate -s 8M %s", img, img, img);

	if (system(cmd) != 0)
		printf("# cannot make the disk with sfdisk\n");
	free(cmd);
	*ret_dir = dir;
	return img;
}

/* What `sfdisk --verify` says about the disk, and whether it still lists bank-a. */
static int verify(const char *img, char *out, size_t size)
{
	char *cmd = xasprintf("sfdisk --verify %s 2>&1; sfdisk -d %s 2>&1 | grep -c 'name=\"bank-a\"'", img, img);
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, size - 1, p) : 0;

	out[n] = '\0';
	free(cmd);
	return p ? pclose(p) : -1;
}

static void test_gpt_moves_backup_to_the_end(void)
{
	char *dir, *img = make_disk(&dir), text[4096];
	const char *why = "";
	int fd = open(img, O_RDWR);

	verify(img, text, sizeof(text));
	ok(strstr(text, "not on the end of the device") != NULL, "gpt: sfdisk sees the misplaced backup before");
	ok(fd >= 0 && gpt_relocate(fd, 8 << 20, &why) == 0, "gpt: relocates (%s)", why);
	verify(img, text, sizeof(text));
	ok(!strstr(text, "not on the end") && strstr(text, "No errors detected") && strstr(text, "\n1\n"),
	   "gpt: sfdisk --verify is clean after, bank-a still there");
	ok(gpt_relocate(fd, 8 << 20, &why) == 0, "gpt: a second run has nothing to do");
	if (fd >= 0)
		close(fd);
	util_rm_rf(dir);
	free(dir), free(img);
}

static void test_gpt_refuses_damage(void)
{
	char *dir, *img = make_disk(&dir);
	const char *why = "";
	int fd = open(img, O_RDWR);

	if (fd < 0 || pwrite(fd, "X", 1, 512 + 40) != 1)
		printf("# cannot damage the header\n");
	ok(gpt_relocate(fd, 8 << 20, &why) < 0 && strstr(why, "CRC"), "gpt: a damaged header is left alone (%s)", why);
	if (fd >= 0)
		close(fd);
	util_rm_rf(dir);
	free(dir), free(img);
}

/* The rest of the disk becomes datastore1, seen by sfdisk; a second time finds no room. */
static void test_gpt_adds_the_rest(void)
{
	static const unsigned char guid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	char *dir, *img = make_disk(&dir), text[4096], *cmd;
	const char *why = "";
	uint64_t first = 0;
	int fd = open(img, O_RDWR);
	FILE *p;

	ok(fd >= 0 && gpt_relocate(fd, 8 << 20, &why) == 0, "gpt: relocated before adding (%s)", why);
	ok(gpt_add_rest(fd, 8 << 20, 0, "datastore1", guid, 6 << 20, &first, &why) == 1, "gpt: no room for 6 MiB: 1");
	ok(gpt_add_rest(fd, 8 << 20, 10000, "datastore1", guid, 4 << 20, &first, &why) == 1,
	   "gpt: from LBA 10000 (aligned: 10240) 4 MiB do not fit: 1");
	ok(gpt_add_rest(fd, 8 << 20, 10000, "datastore1", guid, 1 << 20, &first, &why) == 0, "gpt: adds the rest (%s)", why);
	ok(first == 10240, "gpt: it starts at the 1 MiB boundary at or after LBA 10000 (%llu)", (unsigned long long)first);
	cmd = xasprintf("sfdisk --verify %s 2>&1; sfdisk -d %s 2>&1", img, img);
	p = popen(cmd, "r");
	size_t n = p ? fread(text, 1, sizeof(text) - 1, p) : 0;
	text[n] = 0;
	if (p)
		pclose(p);
	ok(strstr(text, "No errors detected") && strstr(text, "start=       10240") && strstr(text, "name=\"datastore1\"") &&
	       strstr(text, "0FC63DAF-8483-4772-8E79-3D69D8477DE4"),
	   "gpt: sfdisk --verify is clean and lists datastore1 from 10240");
	if (!strstr(text, "datastore1"))
		printf("# %s\n", text);
	ok(gpt_add_rest(fd, 8 << 20, 0, "datastore1", guid, 1, &first, &why) == 1, "gpt: a second run finds no room");
	if (fd >= 0)
		close(fd);
	free(cmd);
	util_rm_rf(dir);
	free(dir), free(img);
}

static void test_crc32(void)
{
	ok(gpt_crc32("123456789", 9) == 0xcbf43926u, "gpt: crc32 of the standard check string");
}

int main(void)
{
	test_crc32();
	test_gpt_adds_the_rest();
	test_gpt_moves_backup_to_the_end();
	test_gpt_refuses_damage();
	return tap_done();
}
