#define _GNU_SOURCE
#include "extents.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker.h"

ssize_t extents_list(int fd, off_t size, struct hvimg_extent **ret, unsigned long long *ret_bytes)
{
	struct hvimg_extent *e = NULL, *grown;
	unsigned long long bytes = 0;
	off_t pos = 0, data, hole;
	size_t n = 0;

	while (pos < size && (data = lseek(fd, pos, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > size)
			hole = size;
		if (!(grown = realloc(e, (n + 1) * sizeof(*e)))) {
			free(e);
			return -ENOMEM;
		}
		e = grown;
		e[n++] = (struct hvimg_extent){(uint64_t)data, (uint64_t)(hole - data)};
		bytes += (unsigned long long)(hole - data);
		pos = hole;
	}
	*ret = e;
	*ret_bytes = bytes;
	return (ssize_t)n;
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
	size_t len = hvimg_header_size(n);
	unsigned char *h = malloc(len);
	int r;

	if (!h)
		return -ENOMEM;
	hvimg_header_format(h, (uint64_t)size, e, n);
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
	ssize_t n = 0;

	if (in < 0 || fstat(in, &st) < 0)
		r = diag_set_errno(d, errno, image, 0, "cannot read the disk image");
	if (r == 0 && (n = extents_list(in, st.st_size, &e, &bytes)) < 0)
		r = diag_set_errno(d, ENOMEM, image, 0, "cannot list its extents");
	if (r == 0 && n > HVIMG_MAX_EXTENTS)
		r = diag_set(d, image, 0, "the disk image has %zd extents, more than the format takes (%d)", n,
			     HVIMG_MAX_EXTENTS);
	if (r == 0 && (fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		r = diag_set_errno(d, errno, out, 0, "cannot create");
	if (r == 0 && write_header(fd, st.st_size, e, (size_t)n) < 0)
		r = diag_set_errno(d, errno ? errno : EIO, out, 0, "cannot write the packed image");
	for (ssize_t i = 0; i < n && r == 0; i++)
		if (copy_range(in, fd, (off_t)e[i].offset, e[i].length) < 0)
			r = diag_set_errno(d, errno ? errno : EIO, out, 0, "cannot write the packed image");
	if (fd >= 0)
		close(fd);
	if (in >= 0)
		close(in);
	free(e);
	return r;
}

static unsigned long long extents_total(const struct hvimg_extent *e, size_t n)
{
	unsigned long long total = 0;

	for (size_t i = 0; i < n; i++)
		total += e[i].length;
	return total;
}

static size_t piece_len(const struct hvimg_extent *e, uint64_t off, size_t max)
{
	return e->offset + e->length - off < max ? (size_t)(e->offset + e->length - off) : max;
}

#define PIECE (1 << 20)

/* The two 1 MiB buffers the passes read into, in turn: one 2 MiB huge page where the kernel has
 * them (filled the first time, 4 KiB pages cost 512 page faults: 2 ms on a VM here), else these. */
static char fallback[2][PIECE];
static char *buf_a, *buf_b;

static void buffers_init(void)
{
	const uintptr_t huge = 2 * PIECE;
	char *p, *at;

	if (buf_a)
		return;
	p = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		buf_a = fallback[0], buf_b = fallback[1];
		return;
	}
	at = (char *)(((uintptr_t)p + huge - 1) & ~(huge - 1));
	if (at > p)
		munmap(p, (size_t)(at - p));
	munmap(at + huge, (size_t)(p + 2 * huge - (at + huge)));
	madvise(at, huge, MADV_HUGEPAGE);
	buf_a = at, buf_b = at + PIECE;
}

/* All n bytes, a short write going on where it stopped. 0, or -errno (-EFAULT: the kernel could
 * not read p, e.g. a mapped file cut short). */
static int pwrite_all(int fd, const void *p, size_t n, off_t at)
{
	for (ssize_t w; n > 0; p = (const char *)p + w, n -= (size_t)w, at += w)
		if ((w = pwrite(fd, p, n, at)) <= 0)
			return w < 0 ? -errno : -EIO;
	return 0;
}

/* One pass over every extent: write it (verify == false), or read it back and compare it with
 * the source read again. */
static int extents_pass(int fd, uint64_t base, const struct hvimg_extent *e, size_t n,
			const struct extents_source *src, bool verify, const struct progress *p, enum extents_step *step)
{
	unsigned long long done = 0, total = extents_total(e, n);
	const char *phase = verify ? "verifying" : "writing";
	int r;

	for (size_t i = 0; i < n; i++)
		for (uint64_t off = e[i].offset; off < e[i].offset + e[i].length;) {
			size_t len = piece_len(&e[i], off, PIECE);
			off_t at = (off_t)(base + off);
			const void *data = buf_a;
			if (!verify && src->view && !(data = src->view(src->ctx, len, off)))
				return *step = EXTENTS_SOURCE, -EIO;
			if (data == buf_a && (r = src->read(src->ctx, buf_a, len, off)) < 0)
				return *step = EXTENTS_SOURCE, r;
			if (data == buf_a && src->patch)
				src->patch(src->ctx, buf_a, len, off);
			if (!verify && (r = pwrite_all(fd, data, len, at)) < 0)
				return *step = r == -EFAULT && data != buf_a ? EXTENTS_SOURCE : EXTENTS_WRITE, r;
			/* Start this piece's writeback now, without waiting for it: the disk writes
			 * while the next pieces are read, and the fsync after the pass waits for less. */
			if (!verify)
				sync_file_range(fd, at, (off_t)len, SYNC_FILE_RANGE_WRITE);
			if (verify && pread(fd, buf_b, len, at) != (ssize_t)len)
				return *step = EXTENTS_READBACK, errno ? -errno : -EIO;
			if (verify && memcmp(buf_a, buf_b, len) != 0)
				return *step = EXTENTS_MISMATCH, -EILSEQ;
			off += len;
			done += len;
			progress_step(p, phase, done, total);
		}
	return 0;
}

/* The read-back of a source read only once: every extent read from the disk and handed to
 * src->readback in a second thread (lib/worker.h), one piece behind the reads, the two buffers
 * in turn: the hashing and the disk's reads overlap. */
static int extents_readback(int fd, uint64_t base, const struct hvimg_extent *e, size_t n,
			    const struct extents_source *src, const struct progress *p, enum extents_step *step)
{
	unsigned long long done = 0, total = extents_total(e, n);
	struct worker w = {0};
	char *buf = buf_a;
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++)
		for (uint64_t off = e[i].offset; off < e[i].offset + e[i].length;) {
			size_t len = piece_len(&e[i], off, PIECE);
			if (pread(fd, buf, len, (off_t)(base + off)) != (ssize_t)len) {
				r = errno ? -errno : -EIO;
				worker_wait(&w);
				return *step = EXTENTS_READBACK, r;
			}
			if ((r = worker_start(&w, src->readback, src->ctx, buf, len, off)) < 0)
				break;
			buf = buf == buf_a ? buf_b : buf_a;
			off += len;
			done += len;
			progress_step(p, "verifying", done, total);
		}
	if ((r = worker_wait(&w)) < 0)
		return *step = EXTENTS_MISMATCH, -EILSEQ;
	return 0;
}

static int flush_fd(void *ctx, const void *p, size_t n, uint64_t off)
{
	(void)p, (void)n, (void)off;
	return fsync(*(int *)ctx) < 0 ? -errno : 0;
}

/* Drop the cached pages of the extents' span (clean once written back), and a block device's
 * buffers, so that the read-back gets the disk's bytes. */
static void drop_cached(int fd, uint64_t base, uint64_t span)
{
	struct stat st;

	posix_fadvise(fd, (off_t)base, (off_t)span, POSIX_FADV_DONTNEED);
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode))
		ioctl(fd, BLKFLSBUF, 0);
}

/* A source read only once: the fsync runs in a second thread while the extents, written back by
 * then (sync_file_range waits for that), are read back from the disk: the read-back overlaps
 * the file system's commit and the disk's cache flush. It reads what the disk acknowledged,
 * as it would after the fsync; the pass succeeds only when the fsync did too. */
static int flush_and_read_back(int fd, uint64_t base, uint64_t span, const struct hvimg_extent *e, size_t n,
			       const struct extents_source *src, const struct progress *p, enum extents_step *step)
{
	struct worker flush = {0};
	int r = worker_start(&flush, flush_fd, &fd, NULL, 0, 0);

	if (r == 0 && sync_file_range(fd, (off_t)base, (off_t)span, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
				      SYNC_FILE_RANGE_WAIT_AFTER) < 0)
		r = -errno;
	if (r == 0)
		drop_cached(fd, base, span);
	if (r == 0 && (r = extents_readback(fd, base, e, n, src, p, step)) < 0) {
		worker_wait(&flush);
		return r;
	}
	if (worker_wait(&flush) < 0 || r < 0)
		return *step = EXTENTS_FLUSH, flush.r < 0 ? flush.r : r;
	return 0;
}

int extents_write(int fd, uint64_t base, const struct hvimg_extent *e, size_t n, const struct extents_source *src,
		  const struct progress *p, enum extents_step *ret_step)
{
	uint64_t span = n ? e[n - 1].offset + e[n - 1].length : 0;
	int r;

	buffers_init();
	errno = 0;
	if ((r = extents_pass(fd, base, e, n, src, false, p, ret_step)) < 0)
		return r;
	if (src->readback)
		return flush_and_read_back(fd, base, span, e, n, src, p, ret_step);
	if (fsync(fd) < 0)
		return *ret_step = EXTENTS_FLUSH, -errno;
	/* Read back from the disk, not from the page cache: the written pages, clean after the
	 * fsync, are dropped. The kernel's own readahead then reads ahead while the read-back
	 * hashes: asking for every extent at once (POSIX_FADV_WILLNEED) made the read-back of a
	 * 12 MB bank slower here (30-40 ms against 21-26 ms), and O_DIRECT reads, one piece after
	 * the other, slower still. */
	drop_cached(fd, base, span);
	if (src->rewind && (r = src->rewind(src->ctx)) < 0)
		return *ret_step = EXTENTS_SOURCE, r;
	return extents_pass(fd, base, e, n, src, true, p, ret_step);
}
