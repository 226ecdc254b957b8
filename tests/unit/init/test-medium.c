/* The boot medium (lib/medium.h): the payload cpio's header as the builder writes it, and the
 * ISO 9660 volume that marks the medium. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "medium.h"
#include "tap.h"

/* A newc header for name with size bytes of data and the given mode, then the name. */
static size_t newc(unsigned char *out, const char *name, unsigned mode, unsigned size)
{
	int n = sprintf((char *)out, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s", 7, mode, 0,
			0, 1, 0x6a000000, size, 0, 0, 0, 0, (unsigned)strlen(name) + 1, 0, name);

	return (size_t)n + 1;
}

static void cpio_header(void)
{
	unsigned char h[512];
	uint64_t off = 0, size = 0;
	size_t len = newc(h, MEDIUM_PAYLOAD_MEMBER, 0100644, 4513792);

	ok(medium_cpio_member(h, len, MEDIUM_PAYLOAD_MEMBER, &off, &size) == 0 && off == 124 && size == 4513792,
	   "medium: the payload's data starts at 124 (110 + \"system.sqfs\\0\", 4-aligned) and is 4513792 bytes");
	ok(medium_cpio_member(h, 120, MEDIUM_PAYLOAD_MEMBER, &off, &size) < 0, "medium: a header cut in its name is refused");
	ok(medium_cpio_member(h, len, "initrd.img", &off, &size) < 0, "medium: another member's name is refused");
	h[0] = '1';
	ok(medium_cpio_member(h, len, MEDIUM_PAYLOAD_MEMBER, &off, &size) < 0, "medium: a bad magic is refused");
	len = newc(h, MEDIUM_PAYLOAD_MEMBER, 040755, 0);
	ok(medium_cpio_member(h, len, MEDIUM_PAYLOAD_MEMBER, &off, &size) < 0, "medium: a folder is refused");
	len = newc(h, MEDIUM_PAYLOAD_MEMBER, 0100644, 5);
	memcpy(h + 6 + 8 * 6, "0000000g", 8);
	ok(medium_cpio_member(h, len, MEDIUM_PAYLOAD_MEMBER, &off, &size) < 0, "medium: a size that is not hex is refused");
	len = newc(h, "a", 0100644, 1);
	ok(medium_cpio_member(h, len, "a", &off, &size) == 0 && off == 112, "medium: a 2-byte name puts the data at 112");
}

/* A file standing for a block device, its primary volume descriptor naming volid. */
static char *volume(const char *volid)
{
	static char path[64];
	char pvd[2048];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test-medium.%d", (int)getpid());
	memset(pvd, 0, sizeof(pvd));
	memcpy(pvd, "\001CD001\001", 7);
	memset(pvd + 40, ' ', 32);
	memcpy(pvd + 40, volid, strlen(volid));
	f = fopen(path, "w");
	if (!f || fseek(f, 0x8000, SEEK_SET) != 0 || fwrite(pvd, sizeof(pvd), 1, f) != 1)
		abort();
	fclose(f);
	return path;
}

static void boot_volume(void)
{
	char *dev = volume(MEDIUM_VOLUME);

	ok(medium_is_boot(dev), "medium: the ISO 9660 volume " MEDIUM_VOLUME " is the boot medium");
	ok(!medium_is_boot(volume("HYPERVISOR2")), "medium: a volume HYPERVISOR2 is not");
	ok(!medium_is_boot(volume("DEBIAN")), "medium: another volume is not");
	truncate(dev, 4096);
	ok(!medium_is_boot(dev), "medium: a device too small for a volume descriptor is not");
	ok(!medium_is_boot("/nonexistent/dev"), "medium: a device that cannot be opened is not");
	unlink(dev);
}

int main(void)
{
	cpio_header();
	boot_volume();
	return tap_done();
}
