/*
 * The installer's disk image format: a disk image's data extents, so that the ISO carries
 * only the blocks that hold data (about 20 MiB of a 512 MiB image). Little-endian:
 *
 *   offset 0    "HVIMG1\n\0"              magic (8 bytes)
 *   offset 8    u64 disk size             bytes the image spans
 *   offset 16   u64 n                     number of extents
 *   offset 24   n x (u64 offset, u64 length)
 *   then        the extents' bytes, in order
 *
 * The extents are sorted, do not overlap, and lie inside the disk size. Packed by imgbuild
 * (image/extents.c): the installer's copy of the disk image (packages/installer/), and the
 * bank image in an update bundle (image/bundle.h), whose "disk" is one bank.
 */
#ifndef HVIMG_H
#define HVIMG_H

#include <stddef.h>
#include <stdint.h>

#define HVIMG_MAGIC "HVIMG1\n"
#define HVIMG_HEADER 24
#define HVIMG_MAX_EXTENTS 4096

struct hvimg_extent {
	uint64_t offset, length;
};

static inline uint64_t hvimg_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void hvimg_put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A parsed header. */
struct hvimg {
	uint64_t disk_size;
	size_t n;
	struct hvimg_extent *ext;   /* owned; free with hvimg_free() */
	uint64_t data_bytes;        /* the sum of the extents' lengths */
	size_t header_len;          /* HVIMG_HEADER + n * 16 */
};

/* How many header bytes buf must hold to parse it: HVIMG_HEADER first, then what that says.
 * 0 when the first HVIMG_HEADER bytes are not an HVIMG header. */
size_t hvimg_header_len(const unsigned char *buf, size_t len);
/* Parse and check a header (magic, extent count, extents sorted, non-overlapping and inside
 * the disk). 0, or -1 with *why saying what is wrong. */
int hvimg_parse(const unsigned char *buf, size_t len, struct hvimg *ret, const char **why);
void hvimg_free(struct hvimg *h);
/* The header's size for n extents: HVIMG_HEADER + n * 16. */
size_t hvimg_header_size(size_t n);
/* Format the header of an image of disk_size bytes with extents e[0..n) into out
 * (hvimg_header_size(n) bytes). */
void hvimg_header_format(unsigned char *out, uint64_t disk_size, const struct hvimg_extent *e, size_t n);

#endif
