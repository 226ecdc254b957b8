/* The boot medium and the payload cpio's header (medium.h). libc only. */
#define _GNU_SOURCE
#include "medium.h"
#include "sysfile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#define ISO_PVD_OFFSET 0x8000 /* sector 16 of 2048 bytes: the primary volume descriptor */
#define ISO_PVD_VOLUME 40     /* its volume identifier, 32 bytes padded with spaces */
#define MEDIUM_TRIES 50       /* 10 s */

bool medium_is_boot(const char *dev)
{
	char pvd[ISO_PVD_VOLUME + 32];
	size_t n = strlen(MEDIUM_VOLUME);

	return sysfile_read_at(dev, ISO_PVD_OFFSET, pvd, sizeof(pvd)) && pvd[0] == 1 && memcmp(pvd + 1, "CD001", 5) == 0 &&
	       memcmp(pvd + ISO_PVD_VOLUME, MEDIUM_VOLUME, n) == 0 && pvd[ISO_PVD_VOLUME + n] == ' ';
}

static bool medium_find(char *dev, size_t size, int tries)
{
	struct timespec tick = {0, 200 * 1000 * 1000};

	for (int i = 0; i < tries; i++) {
		DIR *dp = opendir("/sys/class/block");
		struct dirent *e;
		bool found = false;

		if (i > 0)
			nanosleep(&tick, NULL);
		while (dp && !found && (e = readdir(dp))) {
			snprintf(dev, size, "/dev/%.200s", e->d_name);
			found = e->d_name[0] != '.' && medium_is_boot(dev);
		}
		if (dp)
			closedir(dp);
		if (found)
			return true;
	}
	return false;
}

int medium_mount(char *dev, size_t size)
{
	if (!medium_find(dev, size, MEDIUM_TRIES))
		return -ENODEV;
	if (mkdir(MEDIUM_MOUNT, 0700) < 0 && errno != EEXIST)
		return -errno;
	return mount(dev, MEDIUM_MOUNT, "iso9660", MS_RDONLY, "") < 0 ? -errno : 0;
}

/* newc: "070701", then 13 fields of 8 hex digits; the name (NUL included) follows at 110 and the
 * data at the next multiple of 4. */
#define NEWC_HEADER 110
#define NEWC_FIELD(i) (6 + 8 * (i))
enum { NEWC_MODE = 1, NEWC_FILESIZE = 6, NEWC_NAMESIZE = 11 };

static int hex8(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		int c = p[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
				 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

int medium_cpio_member(const unsigned char *h, size_t len, const char *name, uint64_t *data_off,
		       uint64_t *data_size)
{
	size_t want = strlen(name) + 1;
	uint32_t mode, size, namesize;

	if (len < NEWC_HEADER || memcmp(h, "070701", 6) != 0 || hex8(h + NEWC_FIELD(NEWC_MODE), &mode) < 0 ||
	    hex8(h + NEWC_FIELD(NEWC_FILESIZE), &size) < 0 || hex8(h + NEWC_FIELD(NEWC_NAMESIZE), &namesize) < 0)
		return -1;
	if (!S_ISREG(mode) || namesize != want || len < NEWC_HEADER + want || memcmp(h + NEWC_HEADER, name, want) != 0)
		return -1;
	*data_off = (NEWC_HEADER + want + 3) & ~(uint64_t)3;
	*data_size = size;
	return 0;
}
