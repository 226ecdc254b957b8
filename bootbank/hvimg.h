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
 * Written by imgbuild (builder/image.c), read by the installer (packages/init/install.c).
 */
#ifndef HVIMG_H
#define HVIMG_H

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

#endif
