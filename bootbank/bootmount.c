/* The boot disk's FAT file systems through the kernel's vfat (bootmount.h). */
#define _GNU_SOURCE
#include "bootmount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "gpt.h"

#define MOUNT_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

struct bootmount_part {
	char *dir;     /* where the partition is mounted; owned */
	bool ours;     /* mounted by us: unmounted at the end */
	bool made_rw;  /* someone else's read-only mount made read-write by us: read-only again at the end */
};

struct bootmount {
	struct bootmount_part part[BOOTMOUNT_PARTS];
	int fds[2];    /* files opened by bootmount_open(), closed before the unmount */
};

bool bootmount_wanted(const char *path)
{
	struct stat st;

	return geteuid() == 0 && stat(path, &st) == 0 && S_ISBLK(st.st_mode);
}

struct bootmount *bootmount_new(void)
{
	struct bootmount *bm = xcalloc(1, sizeof(*bm));

	bm->fds[0] = bm->fds[1] = -1;
	return bm;
}

int bootmount_open(struct bootmount *bm, const char *dir, const char *path, bool rw)
{
	char *full = xasprintf("%s%s", dir, path);
	int slot = bm->fds[0] < 0 ? 0 : bm->fds[1] < 0 ? 1 : -1;
	int fd = slot < 0 ? -1 : open(full, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	free(full);
	if (fd >= 0)
		bm->fds[slot] = fd;
	return fd;
}

/* Undo octal escapes (\040 for a blank) of a mountinfo path, in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o = *s;
		}
	}
	*o = '\0';
}

/* The first mount of device dev in /proc/self/mountinfo: its folder (owned) and whether it is
 * read-only. NULL when it is not mounted. */
static char *mounted_at(dev_t dev, bool *ro)
{
	char *text = NULL, *line, *save = NULL, *found = NULL;

	if (util_read_file("/proc/self/mountinfo", &text, NULL) < 0)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		unsigned maj, min;
		char dir[4096], opts[256];
		if (sscanf(line, "%*s %*s %u:%u %*s %4095s %255s", &maj, &min, dir, opts) != 4 ||
		    makedev(maj, min) != dev)
			continue;
		unescape(dir);
		*ro = strncmp(opts, "ro", 2) == 0 && (opts[2] == ',' || opts[2] == '\0');
		found = xstrdup(dir);
	}
	free(text);
	return found;
}

/* Mount the partition dev at a folder of our own under /run/bankctl. */
static int mount_ours(struct bootmount_part *m, const char *name, const char *dev, bool rw, struct diag *d)
{
	char *dir = xasprintf(BOOTMOUNT_RUN "/%s", name);

	if (util_mkdir_p(dir, 0700) < 0 || mount(dev, dir, "vfat", (rw ? 0 : MS_RDONLY) | MOUNT_FLAGS, "") < 0) {
		int r = diag_set_errno(d, errno, dev, 0, "cannot mount the %s partition on %s; check the disk", name, dir);
		rmdir(dir);
		free(dir);
		return r;
	}
	m->dir = dir;
	m->ours = true;
	return 0;
}

/* Make m's mount at dir (found in mountinfo) writable; remember to undo that if it is not ours. */
static int make_writable(struct bootmount_part *m, const char *name, struct diag *d)
{
	if (mount(NULL, m->dir, NULL, MS_REMOUNT | MOUNT_FLAGS, "") < 0)
		return diag_set_errno(d, errno, m->dir, 0, "cannot make the %s partition writable", name);
	m->made_rw = !m->ours;
	return 0;
}

int bootmount_dir(struct bootmount *bm, int i, const char *disk, const char *name, bool rw, const char **ret,
		  struct diag *d)
{
	struct bootmount_part *m = &bm->part[i];
	char dev[64], *real = realpath(disk, NULL);
	const char *base = real && strrchr(real, '/') ? strrchr(real, '/') + 1 : disk;
	struct stat st;
	bool ro = false;
	char *at;
	int r = 0;
	bool found = gpt_part_dev(base, name, dev, sizeof(dev));

	free(real);
	if (!found || stat(dev, &st) < 0)
		return diag_set(d, disk, 0, "no device for the GPT partition '%s'; is the disk's partition table read "
				"by the kernel (partprobe)?", name);
	/* Looked up each time: someone (bankctl's /altbootbank handling) may have unmounted it. */
	at = mounted_at(st.st_rdev, &ro);
	if (at && m->dir && strcmp(at, m->dir) == 0) {
		free(at);
	} else {
		free(m->dir);
		*m = (struct bootmount_part){.dir = at};
	}
	if (!at)
		r = mount_ours(m, name, dev, rw, d);
	else if (rw && ro)
		r = make_writable(m, name, d);
	if (r == 0)
		*ret = m->dir;
	return r;
}

void bootmount_free(struct bootmount *bm)
{
	if (!bm)
		return;
	for (int i = 0; i < 2; i++)
		if (bm->fds[i] >= 0)
			close(bm->fds[i]);
	for (int i = 0; i < BOOTMOUNT_PARTS; i++) {
		struct bootmount_part *m = &bm->part[i];
		if (m->ours && umount(m->dir) == 0)
			rmdir(m->dir);
		else if (m->made_rw && mount(NULL, m->dir, NULL, MS_REMOUNT | MS_RDONLY | MOUNT_FLAGS, "") < 0)
			fprintf(stderr, "bankctl: cannot make %s read-only again: %s\n", m->dir, strerror(errno));
		free(m->dir);
	}
	free(bm);
}

int bootmount_read(const char *dir, const char *path, struct buf *out, struct diag *d)
{
	char *full = xasprintf("%s%s", dir, path), *data = NULL;
	size_t len = 0;
	int r = util_read_file(full, &data, &len);

	if (r == 0) {
		buf_add(out, data, len);
	} else if (r != -ENOENT) {
		r = diag_set_errno(d, -r, full, 0, "cannot read the file; check the disk");
	}
	free(data);
	free(full);
	return r;
}

/* fsync a file's folder, so that its rename is on the disk. */
static int sync_folder(const char *file)
{
	char *dir = xstrdup(file), *slash = strrchr(dir, '/');
	int fd, r = 0;

	if (slash)
		*slash = '\0';
	fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return r;
}

int bootmount_write(const char *dir, const char *path, const void *data, size_t len, struct diag *d)
{
	char *full = xasprintf("%s%s", dir, path), *parent = xstrdup(full), *slash = strrchr(parent, '/');
	int r = 0;

	if (slash && slash != parent) {
		*slash = '\0';
		r = util_mkdir_p(parent, 0755);
	}
	/* A new file, flushed, renamed over the old one, and the folder flushed. */
	if (r == 0)
		r = util_write_file_atomic(full, data, len, 0644);
	if (r == 0)
		r = sync_folder(full);
	if (r < 0)
		r = diag_set_errno(d, -r, full, 0, "cannot write the file; check the disk");
	free(parent);
	free(full);
	return r;
}
