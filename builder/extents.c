#define _GNU_SOURCE
#include "extents.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

size_t extents_list(int fd, off_t size, struct hvimg_extent **ret, unsigned long long *ret_bytes)
{
	struct hvimg_extent *e = NULL;
	off_t pos = 0, data, hole;
	size_t n = 0;

	*ret_bytes = 0;
	while (pos < size && (data = lseek(fd, pos, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > size)
			hole = size;
		e = xrealloc(e, (n + 1) * sizeof(*e));
		e[n++] = (struct hvimg_extent){(uint64_t)data, (uint64_t)(hole - data)};
		*ret_bytes += (unsigned long long)(hole - data);
		pos = hole;
	}
	*ret = e;
	return n;
}

static int copy_range(int in, int out, off_t off, uint64_t len)
{
	static char buf[1 << 20];

	while (len > 0) {
		size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		if (pread(in, buf, n, off) != (ssize_t)n || write(out, buf, n) != (ssize_t)n)
			return -EIO;
		off += (off_t)n;
		len -= n;
	}
	return 0;
}

static int write_header(int out, off_t size, const struct hvimg_extent *e, size_t n)
{
	size_t len = HVIMG_HEADER + n * 16;
	unsigned char *h = xcalloc(1, len);
	int r;

	memcpy(h, HVIMG_MAGIC, 8);
	hvimg_put64(h + 8, (uint64_t)size);
	hvimg_put64(h + 16, n);
	for (size_t i = 0; i < n; i++) {
		hvimg_put64(h + HVIMG_HEADER + 16 * i, e[i].offset);
		hvimg_put64(h + HVIMG_HEADER + 16 * i + 8, e[i].length);
	}
	r = write(out, h, len) == (ssize_t)len ? 0 : -EIO;
	free(h);
	return r;
}

int extents_pack(const char *image, const char *out, struct diag *d)
{
	int in = open(image, O_RDONLY | O_CLOEXEC), fd = -1, r = 0;
	struct hvimg_extent *e = NULL;
	unsigned long long bytes;
	struct stat st;
	size_t n = 0;

	if (in < 0 || fstat(in, &st) < 0)
		r = diag_set(d, image, 0, "cannot read the disk image: %s", strerror(errno));
	if (r == 0 && (n = extents_list(in, st.st_size, &e, &bytes)) > HVIMG_MAX_EXTENTS)
		r = diag_set(d, image, 0, "the disk image has %zu extents, more than the installer takes", n);
	if (r == 0 && (fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		r = diag_set(d, out, 0, "cannot create: %s", strerror(errno));
	if (r == 0 && write_header(fd, st.st_size, e, n) < 0)
		r = diag_set(d, out, 0, "cannot write the installer image: %s", strerror(errno));
	for (size_t i = 0; i < n && r == 0; i++)
		if (copy_range(in, fd, (off_t)e[i].offset, e[i].length) < 0)
			r = diag_set(d, out, 0, "cannot write the installer image: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	if (in >= 0)
		close(in);
	free(e);
	return r;
}
