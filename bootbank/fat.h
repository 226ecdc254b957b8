/* A read-only FAT12/16/32 reader for the boot disk's partitions in an image file (bootdisk.c,
 * bankctl --disk FILE): files read whole, a file's place on the disk, the tree listed as
 * `mdir -/ -b` lists it. Written here because no well-kept C library reads FAT (mtools and
 * dosfstools are programs only; libguestfs boots a VM) and what is needed is small: it replaces
 * ~10 mtools processes a `bankctl stage`. Writes still go through mcopy.
 *
 * Everything read is checked: the boot sector's fields against the partition's size, every
 * cluster number against the cluster count, every chain's length (loops), every read inside the
 * partition. libc only; errors are returned, never printed:
 *   -EINVAL  not a FAT, or a damaged one (also a chain shorter than its file, a truncated image)
 *   -ENOENT  no such file (a path component missing, or a folder where a file was asked for)
 *   -EIO     the disk could not be read
 *   -ENOMEM  out of memory */
#ifndef FAT_H
#define FAT_H

#include "util.h"

struct fat;

/* Parse the boot sector at offset of fd (a partition of size bytes) and read its first FAT. *ret
 * is owned by the caller (fat_close); fd stays the caller's and must outlive it. */
int fat_open(int fd, unsigned long long offset, unsigned long long size, struct fat **ret);
void fat_close(struct fat *f);
/* Append the whole file at path ("/grub/a/envA"; '/'-separated, case-insensitive) to out. */
int fat_read(struct fat *f, const char *path, struct buf *out);
/* Where path's data starts (*first_byte, from the partition's start), how many bytes from there
 * lie in consecutive clusters of its chain (*contiguous_bytes; 0 for an empty file without a
 * cluster), and its size: to rewrite it in place. */
int fat_extent(struct fat *f, const char *path, unsigned long long *first_byte, unsigned long long *contiguous_bytes,
	       unsigned long long *file_size);
/* Append the tree to out as `mdir -/ -b ::/` prints it: "::/dir/\n" for each folder,
 * "::/dir/name\n" for each file (long names, else short names in the case mtools wrote them),
 * hidden and system ones left out; a folder's line before what it holds. */
int fat_list(struct fat *f, struct buf *out);

#endif
