/* The initramfs: a cpio "newc" archive made with libarchive and compressed with zstd. */
#ifndef INITRAMFS_H
#define INITRAMFS_H

#include "kv.h"

/* Write the tree at root as out, every entry owned by root and dated epoch, in sorted order,
 * so that the same tree always gives the same bytes. 0, or -EIO with d filled. */
int initramfs_write(const char *root, const char *out, long long epoch, struct diag *d);

/* The same, uncompressed: for a payload that is compressed already (the squashfs). */
int initramfs_write_plain(const char *root, const char *out, long long epoch, struct diag *d);

#endif
