/* Sparse images: the extents of a file that hold data, packed in the HVIMG1 format (hvimg.h), and
 * the one way such an image is written to a disk or a partition: stream the extents, flush, read
 * them back and compare (`imgbuild write`, `bankctl install`, staging, the installer).
 * libc only: linked by the host tools and the static installer. */
#ifndef EXTENTS_H
#define EXTENTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "hvimg.h"
#include "progress.h"

/* The data extents of fd (size bytes), from SEEK_DATA/SEEK_HOLE, into *ret (owned by the caller,
 * free()) and their total length into *ret_bytes. The count, or -ENOMEM. */
ssize_t extents_list(int fd, off_t size, struct hvimg_extent **ret, unsigned long long *ret_bytes);
/* Pack image into out in the HVIMG1 format. 0 or -errno with d. */
int extents_pack(const char *image, const char *out, struct diag *d);

/* Where an image's data comes from, extent after extent. */
struct extents_source {
	/* The next n bytes of data: the bytes of the image at off (relative to the target's base),
	 * which always follow the previous read's in extent order. 0 or -errno. */
	int (*read)(void *ctx, void *buf, size_t n, uint64_t off);
	/* Start again at the first extent, for the read-back (NULL: reads are by offset anyway). */
	int (*rewind)(void *ctx);
	/* Change the bytes at off before they are written and compared (NULL: none); e.g. the
	 * FAT serial of the bank being staged. */
	void (*patch)(void *ctx, void *buf, size_t n, uint64_t off);
	void *ctx;
	/* A source read only once (a bundle on a pipe): rewind NULL, and the read-back hands the
	 * disk's bytes here, extent after extent, instead of comparing them with the source read
	 * again (e.g. a hash of them, compared with one of the bytes written). Called in a second
	 * thread, one call at a time, in extent order, while the next piece is read. 0, or -EILSEQ. */
	int (*readback)(void *ctx, const void *buf, size_t n, uint64_t off);
	/* Optional, instead of read and patch when writing: the next n bytes where they already are
	 * (e.g. a bundle mapped in memory), patched if need be, valid until the next call; the
	 * write pass writes from there, with no copy. NULL when they cannot be had (-EIO); -EFAULT,
	 * with EXTENTS_SOURCE, when the kernel could not read them (a mapped file cut short). */
	const void *(*view)(void *ctx, size_t n, uint64_t off);
};

/* Which step of extents_write() failed. */
enum extents_step { EXTENTS_SOURCE = 1, EXTENTS_WRITE, EXTENTS_FLUSH, EXTENTS_READBACK, EXTENTS_MISMATCH };

/*
 * Write the n extents e[] from src to fd at base + offset, flush, drop the cached pages (and a
 * block device's buffers) so that the disk answers, read every extent back and compare it with
 * the source's bytes read again. With src->readback, the disk's bytes are handed there instead,
 * and the flush (fsync) runs in a second thread while the extents, once written back, are read
 * back. Progress is reported as "writing" and "verifying" in bytes.
 * Returns 0, or -errno with *ret_step saying what failed (-EILSEQ for EXTENTS_MISMATCH).
 */
int extents_write(int fd, uint64_t base, const struct hvimg_extent *e, size_t n, const struct extents_source *src,
		  const struct progress *p, enum extents_step *ret_step);

#endif
