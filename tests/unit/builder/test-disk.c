/* Where the disk image holds a bank's file (builder/disk.c, disk_file_offset): the installer's
 * image names a file of the ISO by that offset, so it must be exact, and a file mtools wrote in
 * pieces must not be named at all. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "util.h"
#include "tap.h"

#define A_START_BYTES ((DISK_BIOS_START + DISK_BIOS_SIZE + DISK_ESP_SIZE) * 512ULL)

/* bank-a.img: an 8 MiB FAT holding one (10 KiB), two (10 KiB) and frag (6 KiB), which fills the
 * cluster a deleted file left between one and two and goes on after two; and an empty file. */
static int make_bank(const char *dir)
{
	char *sh = xasprintf("cd '%s' && mkfs.fat -C bank-a.img 8192 >/dev/null && head -c 10240 /dev/urandom >one && "
			     "head -c 2048 /dev/urandom >gap && head -c 10240 /dev/urandom >two && "
			     "head -c 6144 /dev/urandom >frag && : >empty && export MTOOLS_SKIP_CHECK=1 && "
			     "mcopy -i bank-a.img one gap two ::/ && mdel -i bank-a.img ::/gap && "
			     "mcopy -i bank-a.img frag empty ::/ && mmd -i bank-a.img ::/boot && "
			     "mcopy -i bank-a.img one ::/boot/one", dir);
	int r = system(sh);

	free(sh);
	return r;
}

/* Whether bank-a.img holds file `name` at the disk offset off. */
static int holds(const char *dir, const char *name, unsigned long long off)
{
	char *img = xasprintf("%s/bank-a.img", dir), *path = xasprintf("%s/%s", dir, name), *want = NULL, *got = NULL;
	size_t len = 0;
	int fd = open(img, O_RDONLY | O_CLOEXEC), same = 0;

	if (fd >= 0 && off >= A_START_BYTES && util_read_file(path, &want, &len) == 0) {
		got = xmalloc(len);
		same = pread(fd, got, len, (off_t)(off - A_START_BYTES)) == (ssize_t)len && memcmp(got, want, len) == 0;
	}
	if (fd >= 0)
		close(fd);
	free(img), free(path), free(want), free(got);
	return same;
}

static void test_disk_file_offset_finds_a_file_in_one_piece_and_refuses_the_rest(void)
{
	char *dir = mkdtemp(xstrdup("/tmp/test-disk.XXXXXX"));
	unsigned long long off = 0;

	if (!dir || make_bank(dir) != 0) {
		ok(0, "disk_file_offset: cannot make a FAT image with mkfs.fat and mtools");
		free(dir);
		return;
	}
	ok(disk_file_offset(dir, "bank-a", "one", &off) == 0 && holds(dir, "one", off),
	   "disk_file_offset: a file in one piece: the disk holds its bytes at the offset given (%llu)", off);
	ok(disk_file_offset(dir, "bank-a", "two", &off) == 0 && holds(dir, "two", off), "  ... and the next one");
	ok(disk_file_offset(dir, "bank-a", "boot/one", &off) == 0 && holds(dir, "one", off), "  ... and one in a folder");
	ok(disk_file_offset(dir, "bank-a", "frag", &off) == -ENOENT, "  ... a fragmented file: -ENOENT (kept literal)");
	ok(disk_file_offset(dir, "bank-a", "empty", &off) == -ENOENT, "  ... an empty file: -ENOENT");
	ok(disk_file_offset(dir, "bank-a", "nope", &off) == -ENOENT, "  ... a missing file: -ENOENT");
	ok(disk_file_offset(dir, "bank-c", "one", &off) == -ENOENT, "  ... a partition the layout does not have: -ENOENT");
	util_rm_rf(dir);
	free(dir);
}

int main(void)
{
	test_disk_file_offset_finds_a_file_in_one_piece_and_refuses_the_rest();
	return tap_done();
}
