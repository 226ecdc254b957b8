#define _GNU_SOURCE
#include "write.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "extents.h"
#include "util.h"

/* Whether a mount's source is the target or one of its partitions (/dev/sdb, /dev/sdb1). */
static bool target_mounted(const char *target)
{
	char *text = NULL, *save = NULL;
	bool busy = false;
	size_t n = strlen(target);

	if (util_read_file("/proc/self/mounts", &text, NULL) < 0)
		return false;
	for (char *l = strtok_r(text, "\n", &save); l && !busy; l = strtok_r(NULL, "\n", &save))
		busy = strncmp(l, target, n) == 0 && (l[n] == ' ' || (l[n] >= '0' && l[n] <= '9') || l[n] == 'p');
	free(text);
	return busy;
}

/* Whether the block device holds the root file system (its disk, or one of its partitions). */
static bool holds_root(const struct stat *target)
{
	struct stat root;
	char path[128], real[4096], *text = NULL;
	bool same;

	if (stat("/", &root) < 0)
		return false;
	if (root.st_dev == target->st_rdev)
		return true;
	/* The partition's parent disk, from sysfs: /sys/dev/block/M:m/.. */
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../dev", major(root.st_dev), minor(root.st_dev));
	if (!realpath(path, real) || util_read_file(real, &text, NULL) < 0)
		return false;
	same = (unsigned)atoi(text) == major(target->st_rdev) && (unsigned)atoi(strchr(text, ':') ? strchr(text, ':') + 1 : "x") == minor(target->st_rdev);
	free(text);
	return same;
}

/* Before opening for writing: a mounted device or the system disk is refused. */
static int check_device(const struct write_opts *o, struct diag *d)
{
	struct stat st;

	if (stat(o->target, &st) < 0 || !S_ISBLK(st.st_mode) || o->force)
		return 0;
	if (target_mounted(o->target))
		return diag_set(d, o->target, 0, "it (or a partition of it) is mounted; unmount it first, or pass --force");
	if (holds_root(&st))
		return diag_set(d, o->target, 0, "it holds this system's root file system; refusing (pass --force if you "
				"really mean it)");
	return 0;
}

static int check_target(const struct write_opts *o, int fd, off_t need, struct diag *d)
{
	struct stat st;
	unsigned long long size = 0;

	if (fstat(fd, &st) < 0)
		return diag_set_errno(d, errno, o->target, 0, "cannot inspect it");
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			return diag_set_errno(d, errno, o->target, 0, "cannot read its size");
		if (size < (unsigned long long)need)
			return diag_set(d, o->target, 0, "it holds %.1f MiB, the image needs %.1f MiB; use a larger device",
					size / 1048576.0, need / 1048576.0);
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return diag_set(d, o->target, 0, "not a block device or a file");
	/* A file target starts empty, so that the image's holes read as zeros; a larger file keeps
	 * its size, as a larger disk would. */
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, st.st_size > need ? st.st_size : need) < 0)
		return diag_set_errno(d, errno, o->target, 0, "cannot size the file");
	return 0;
}

/* The image file, read at each extent's offset. */
static int file_read_at(void *ctx, void *buf, size_t n, uint64_t off)
{
	ssize_t got = pread(*(int *)ctx, buf, n, (off_t)off);

	return got == (ssize_t)n ? 0 : got < 0 ? -errno : -EIO;
}

static int copy_extents(const struct write_opts *o, int in, int out, const struct hvimg_extent *e, size_t n,
			struct diag *d)
{
	struct extents_source src = {.read = file_read_at, .ctx = &in};
	enum extents_step step = 0;
	int r = extents_write(out, /* base= */ 0, e, n, &src, o->progress, &step);

	if (r == 0)
		return 0;
	if (step == EXTENTS_SOURCE)
		return diag_set_errno(d, -r, o->image, 0, "cannot read the image");
	if (step == EXTENTS_MISMATCH)
		return diag_set(d, o->target, 0, "the written data did not read back the same; the device may be failing");
	if (step == EXTENTS_FLUSH)
		return diag_set_errno(d, -r, o->target, 0, "flushing failed");
	return diag_set_errno(d, -r, o->target, 0, "%s failed; the device may be failing or full",
			      step == EXTENTS_WRITE ? "writing" : "reading back");
}

int write_image(const struct write_opts *o, struct write_result *ret, struct diag *d)
{
	int in = open(o->image, O_RDONLY | O_CLOEXEC), out = -1, r = 0;
	struct hvimg_extent *e = NULL;
	unsigned long long total = 0;
	struct stat st;
	ssize_t n = 0;

	if (in < 0 || fstat(in, &st) < 0)
		r = diag_set_errno(d, errno, o->image, 0, "cannot read the image");
	if (r == 0)
		r = check_device(o, d);
	if (r == 0 && (out = open(o->target, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		r = diag_set_errno(d, errno, o->target, 0, "cannot open for writing");
	if (r == 0)
		r = check_target(o, out, st.st_size, d);
	if (r == 0 && (n = extents_list(in, st.st_size, &e, &total)) < 0)
		r = diag_set_errno(d, ENOMEM, o->image, 0, "cannot list its extents");
	if (r == 0)
		r = copy_extents(o, in, out, e, (size_t)n, d);
	if (r == 0)
		*ret = (struct write_result){.data_bytes = total, .image_bytes = (unsigned long long)st.st_size,
					     .extents = (size_t)n};
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	free(e);
	return r;
}
