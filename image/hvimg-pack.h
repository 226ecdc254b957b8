/* Packing a disk image as HVIMG2 (hvimg.h): the installer's image, whose file extents name files
 * of the boot medium instead of carrying their bytes. Host tools only (SHA-256 with libcrypto). */
#ifndef HVIMG_PACK_H
#define HVIMG_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* A file the disk image holds whole and in one piece, that the boot medium carries too. */
struct hvimg2_placed {
	const char *path;       /* on the boot medium, relative: "boot/vmlinuz" */
	const char *local;      /* the same file here, to hash and compare */
	uint64_t disk_offset;   /* where the disk image holds its first byte */
};

/*
 * Pack image into out as HVIMG2: each placed file becomes one file extent (its size and sha256
 * recorded), every other data extent of image stays literal. A placed file whose bytes the image
 * does not hold at disk_offset, or that overlaps another, is an error. 0 or -errno with d.
 */
int hvimg2_pack(const char *image, const char *out, const struct hvimg2_placed *files, size_t n, struct diag *d);

#endif
