/* The boot disk's FAT file systems through the kernel's vfat, for bootdisk.c on a block device
 * when run as root (the host itself): no mtools process. A partition already mounted (init mounts
 * the banks read-only at /bootbank and /altbootbank) is used where it is, made writable for a
 * write and read-only again at the end; one that is not is mounted under /run/bankctl and
 * unmounted at the end. Image files (bankctl --disk FILE, no root) are read by fat.h and written
 * with mtools instead. */
#ifndef BOOTMOUNT_H
#define BOOTMOUNT_H

#include <stdbool.h>

#include "diag.h"
#include "util.h"

#define BOOTMOUNT_RUN "/run/bankctl"
#define BOOTMOUNT_PARTS 4

struct bootmount;

/* Whether path is a block device and we are root: then the kernel mounts its partitions. */
bool bootmount_wanted(const char *path);
struct bootmount *bootmount_new(void);
/* Undo what bootmount_dir() did (unmount ours, make others read-only again) and free bm. */
void bootmount_free(struct bootmount *bm);
/* The folder where partition i (any number below BOOTMOUNT_PARTS), GPT name name of disk, is
 * mounted, read-write when rw. *ret stays owned by bm. 0 or -errno with d. */
int bootmount_dir(struct bootmount *bm, int i, const char *disk, const char *name, bool rw, const char **ret,
		  struct diag *d);
/* Open dir/path (read-write when rw); the fd stays owned by bm, which holds two at most.
 * -1 with errno when it cannot. */
int bootmount_open(struct bootmount *bm, const char *dir, const char *path, bool rw);
/* Append the file dir/path to out. 0, -ENOENT, or -errno with d. */
int bootmount_read(const char *dir, const char *path, struct buf *out, struct diag *d);
/* Replace or create dir/path (its folders made first): a new file, fsynced, renamed over the old
 * one, the folder fsynced. 0 or -errno with d. */
int bootmount_write(const char *dir, const char *path, const void *data, size_t len, struct diag *d);

#endif
