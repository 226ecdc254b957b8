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
		return diag_set(d, o->target, 0, "cannot inspect: %s", strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			return diag_set(d, o->target, 0, "cannot read its size: %s", strerror(errno));
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
		return diag_set(d, o->target, 0, "cannot size the file: %s", strerror(errno));
	return 0;
}

/* Copy (verify == false) or compare every extent. */
static int pass(int in, int out, const struct hvimg_extent *e, size_t n, bool verify, unsigned long long total,
		bool progress)
{
	static char a[1 << 20], b[1 << 20];
	unsigned long long done = 0;

	for (size_t i = 0; i < n; i++)
		for (uint64_t off = e[i].offset; off < e[i].offset + e[i].length;) {
			size_t len = e[i].offset + e[i].length - off < sizeof(a) ? (size_t)(e[i].offset + e[i].length - off) : sizeof(a);
			if (pread(in, a, len, (off_t)off) != (ssize_t)len)
				return -EIO;
			if (!verify && pwrite(out, a, len, (off_t)off) != (ssize_t)len)
				return -EIO;
			if (verify && (pread(out, b, len, (off_t)off) != (ssize_t)len || memcmp(a, b, len) != 0))
				return -EILSEQ;
			off += len;
			done += len;
			if (progress && (done % (8 << 20) < len || done == total)) {
				char what[64];
				snprintf(what, sizeof(what), "%s: %s", util_progname, verify ? "verifying" : "writing  ");
				util_progress_bar(what, done, total);
			}
		}
	return 0;
}

int write_image(const struct write_opts *o, struct diag *d)
{
	int in = open(o->image, O_RDONLY | O_CLOEXEC), out = -1, r = 0;
	struct hvimg_extent *e = NULL;
	unsigned long long total = 0;
	struct stat st;
	size_t n = 0;

	if (in < 0 || fstat(in, &st) < 0)
		r = diag_set(d, o->image, 0, "cannot read the image: %s", strerror(errno));
	if (r == 0)
		r = check_device(o, d);
	if (r == 0 && (out = open(o->target, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		r = diag_set(d, o->target, 0, "cannot open for writing: %s", strerror(errno));
	if (r == 0)
		r = check_target(o, out, st.st_size, d);
	if (r == 0)
		n = extents_list(in, st.st_size, &e, &total);
	if (r == 0 && pass(in, out, e, n, false, total, o->progress) < 0)
		r = diag_set(d, o->target, 0, "writing failed: %s; the device may be failing or full", strerror(errno));
	if (r == 0 && fsync(out) < 0)
		r = diag_set(d, o->target, 0, "flushing failed: %s", strerror(errno));
	if (r == 0) {
		/* Read back from the device, not from the page cache. */
		posix_fadvise(out, 0, 0, POSIX_FADV_DONTNEED);
		ioctl(out, BLKFLSBUF, 0);
	}
	if (r == 0 && pass(in, out, e, n, true, total, o->progress) < 0)
		r = diag_set(d, o->target, 0, "the written data did not read back the same; the device may be failing");
	if (r == 0)
		fprintf(stderr, "%s: wrote %s to %s: %.1f MiB of data in %zu extents (of %.1f MiB), flushed and "
			"verified\n", util_progname, o->image, o->target, total / 1048576.0, n, st.st_size / 1048576.0);
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	free(e);
	return r;
}
