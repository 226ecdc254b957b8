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
 * (image/extents.c): the bank image in an update bundle (image/bundle.h), whose "disk" is one bank.
 *
 * HVIMG2, the installer's image (the ISO's /boot/install.cpio, packages/installer/): HVIMG1 with
 * "file extents", byte ranges of the disk that are exactly a range of a file the boot medium
 * carries (bank A's vmlinuz, initrd.img, system.cpio... are the ISO's /boot files), so that the
 * ISO does not carry them twice. Little-endian:
 *
 *   offset 0    "HVIMG2\n\0"              magic (8 bytes)
 *   offset 8    u64 disk size             bytes the image spans
 *   offset 16   u64 f                     number of files (at most HVIMG2_MAX_FILES)
 *   offset 24   u64 n                     number of extents (at most HVIMG_MAX_EXTENTS)
 *   offset 32   f x file (104 bytes):     path (64 bytes: relative to the medium's root, NUL-padded),
 *                                         u64 size, sha256 (32 bytes) of the whole file
 *   then        n x extent (32 bytes):    u64 offset, u64 length, u64 file (an index into the
 *                                         files, or HVIMG2_LITERAL), u64 offset in that file (0 for
 *                                         a literal extent)
 *   then        the literal extents' bytes, in order
 *
 * The extents are sorted, do not overlap, and lie inside the disk size; a file extent lies inside
 * its file. A path is [A-Za-z0-9._/-], neither starts with '/' nor has a "." or ".." component.
 * The reader checks each file's size and sha256 before it writes anything; the image itself is
 * trusted because GRUB checked its signature (install.cpio.sig).
 *
 * Worked example: a 1 MiB disk whose MBR (512 bytes at 0) is literal and whose bytes
 * [0x20000, 0x20000 + 5000) are the file boot/k (5000 bytes):
 *
 *   0000  48 56 49 4d 47 32 0a 00                   "HVIMG2\n\0"
 *   0008  00 00 10 00 00 00 00 00                   disk size 0x100000
 *   0010  01 00 00 00 00 00 00 00                   1 file
 *   0018  02 00 00 00 00 00 00 00                   2 extents
 *   0020  "boot/k" and 58 NUL bytes                 file 0: path
 *   0060  88 13 00 00 00 00 00 00                   file 0: size 5000
 *   0068  32 bytes                                  file 0: sha256 of boot/k
 *   0088  0:8, 0x200:8, ff..ff:8, 0:8               extent 0: 512 literal bytes at 0
 *   00a8  0x20000:8, 0x1388:8, 0:8, 0:8             extent 1: 5000 bytes at 0x20000 = boot/k from 0
 *   00c8  the MBR's 512 bytes                       extent 0's data; the image ends at 0x2c8
 */
#ifndef HVIMG_H
#define HVIMG_H

#include <stdbool.h>
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

#define HVIMG2_MAGIC "HVIMG2\n"
#define HVIMG2_HEADER 32
#define HVIMG2_MAX_FILES 64
#define HVIMG2_PATH 64
#define HVIMG2_FILE_LEN (HVIMG2_PATH + 8 + 32)
#define HVIMG2_EXTENT_LEN 32
#define HVIMG2_LITERAL UINT64_MAX

/* A file of the boot medium that file extents take bytes from. */
struct hvimg2_file {
	char path[HVIMG2_PATH];     /* NUL-terminated */
	uint64_t size;
	unsigned char sha256[32];
};

/* Where an extent's bytes come from: the image's literal data, or a range of a file. */
struct hvimg2_source {
	uint64_t file;              /* an index into the files, or HVIMG2_LITERAL */
	uint64_t file_offset;
};

/* A parsed HVIMG2 header. img.data_bytes counts the literal extents only; img.header_len is
 * HVIMG2_HEADER + f * HVIMG2_FILE_LEN + n * HVIMG2_EXTENT_LEN. */
struct hvimg2 {
	struct hvimg img;
	size_t nfiles;
	struct hvimg2_file *file;   /* owned, like src; free with hvimg2_free() */
	struct hvimg2_source *src;  /* src[i] is where img.ext[i] comes from */
};

/* How many header bytes buf must hold to parse it (HVIMG2_HEADER first); 0 when the first
 * HVIMG2_HEADER bytes are not an HVIMG2 header or its counts are over the limits. */
size_t hvimg2_header_len(const unsigned char *buf, size_t len);
/* Parse and check an HVIMG2 header (hvimg_parse's checks, the paths, each extent's source).
 * 0, or -1 with *why saying what is wrong. */
int hvimg2_parse(const unsigned char *buf, size_t len, struct hvimg2 *ret, const char **why);
void hvimg2_free(struct hvimg2 *h);
size_t hvimg2_header_size(size_t nfiles, size_t n);
/* Format a header into out (hvimg2_header_size(nfiles, n) bytes); paths are NUL-padded. */
void hvimg2_header_format(unsigned char *out, uint64_t disk_size, const struct hvimg2_file *f, size_t nfiles,
			  const struct hvimg_extent *e, const struct hvimg2_source *src, size_t n);
/* Whether path is one HVIMG2 allows (see above). */
bool hvimg2_path_ok(const char *path);

#endif
