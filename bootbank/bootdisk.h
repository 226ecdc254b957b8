/* The boot disk as bankctl sees it: a device or an image file with the GPT of
 * docs/disk-layout.md. Partitions are found by their GPT names. Their FAT file systems are, on an
 * image file (no mount, no root), read in this process (fat.h) and written with mtools, and on a
 * block device when run as root read and written through the kernel's vfat (bootmount.h: the
 * host itself runs no mtools); the boot state is rewritten in place. */
#ifndef BOOTDISK_H
#define BOOTDISK_H

#include "bank.h"
#include "bootstate.h"
#include "kv.h"
#include "util.h"

struct bootdisk_part {
	unsigned long long offset, size; /* bytes */
	char uuid[37];                   /* GPT partition UUID; the FAT serial derives from it */
	const char *name;                /* GPT partition name: "esp", "bank-a", "bank-b", "persist" */
};

struct bootmount;

struct bootdisk {
	char *path;
	int fd;                          /* open O_RDWR when writable */
	struct bootdisk_part esp, bank[2], persist;
	bool writable;
	struct bootmount *mnt;           /* the kernel's vfat (bootmount.h), or NULL: fat.h, mtools */
};

/* Open path and find esp, bank-a, bank-b, persist in its GPT. -EINVAL with d on error. */
int bootdisk_open(const char *path, int writable, struct bootdisk *ret, struct diag *d);
void bootdisk_close(struct bootdisk *bd);
/* Undo the kernel mounts made so far (bootmount.h; made again when needed) and close the boot
 * state's copies: before someone else mounts one of the partitions. */
void bootdisk_unmount(struct bootdisk *bd);
/* mtools' "-i" argument for a partition: "<path>@@<offset>". Owned by the caller. */
char *bootdisk_mtools_image(const struct bootdisk *bd, const struct bootdisk_part *p);
/* Read a file of a partition's FAT file system into out. 0, -ENOENT, or -EINVAL (a damaged file
 * system) or -EIO with d. */
int bootdisk_read_file(const struct bootdisk *bd, const struct bootdisk_part *p, const char *path, struct buf *out,
		       struct diag *d);
/* Replace or create a file of a partition's FAT file system with data (mcopy, its folder made
 * first), then flush the disk. 0 or -EIO with d. */
int bootdisk_write_file(const struct bootdisk *bd, const struct bootdisk_part *p, const char *path, const void *data,
			size_t len, struct diag *d);
/* The byte offset on the disk of a FAT file's first len bytes, which must lie in consecutive
 * sectors (so that they can be rewritten in place). 0 or -EINVAL/-EIO with d. */
int bootdisk_file_offset(const struct bootdisk *bd, const struct bootdisk_part *p, const char *path, size_t len,
			 unsigned long long *ret, struct diag *d);

/* Where the boot state's two copies lie on the disk (bootstate.h): bd's fd and the offsets of
 * /grub/a/envA and /grub/b/envB in the ESP's FAT (or, on disks made before those folders, of
 * /grub/envA and /grub/envB). A copy not found gets fd -1. -EINVAL with d when
 * neither is found. */
int bootdisk_state_copies(const struct bootdisk *bd, struct bootstate_copies *ret, struct diag *d);

/* bootdisk_state_copies(), then bootstate_load(): the copies' places and the current state.
 * -EINVAL/-EIO with d. */
int bootdisk_state_load(const struct bootdisk *bd, struct bootstate_copies *ret_copies, struct bootstate *ret,
			struct diag *d);
/* bootstate_commit() with its failure said in d (0 or -errno). */
int bootdisk_state_commit(const struct bootdisk *bd, const struct bootstate_copies *c, struct bootstate *st,
			  const struct bank_env *env, struct diag *d);

/* A bank's boot.cfg values (product, version); NULL fields when absent. */
struct bankinfo {
	char *product, *version, *build;
	bool files;           /* boot.cfg, its kernel and every initrd it names are there */
	bool state;           /* it holds a saved configuration, /state.tgz */
};
int bankinfo_read(const struct bootdisk *bd, int bank, struct bankinfo *ret, struct diag *d);
void bankinfo_free(struct bankinfo *bi);
/* The value of key="value" in boot.cfg text; NULL if absent. Owned by the caller. */
char *bootcfg_value(const char *text, const char *key);

#endif
