/* The installed-disk image: GPT with a BIOS boot partition, an EFI system partition (GRUB and
 * the boot state), bank-a, bank-b and persist (docs/disk-layout.md). No root, no loop device:
 * sfdisk on the file, mkfs.fat and mtools on partition images, then written in at their offsets. */
#ifndef DISK_H
#define DISK_H

#include "kv.h"

struct sign_keys;

/* The files of one boot bank, as the disk image's bank A holds them and `bankctl stage` writes them:
 * GRUB reads each of the first four only with its detached signature (docs/signing.md). */
#define BANK_FILES "boot.cfg", "boot/vmlinuz", "boot/initrd.img", "boot/system.cpio", "boot.cfg.sig", \
	"boot/vmlinuz.sig", "boot/initrd.img.sig", "boot/system.cpio.sig", "MANIFEST", "MANIFEST.sig", \
	"keys/trusted.pem", "keys/revoked"

struct disk_opts {
	const char *tree;       /* the image's files: boot.cfg, boot/..., MANIFEST (bank A's content) */
	const char *work;       /* scratch folder */
	const char *out;        /* the .img to write (via a temporary) */
	const char *grub_cfg;   /* the A/B template, bootbank/grub.cfg */
	const char *grub;       /* the unpacked GRUB package: grub-mkimage, modules, boot.img (builder/grub.h) */
	const char *seed;       /* partition UUIDs and FAT serials derive from it */
	long long epoch;
	struct sign_keys *keys; /* the cores enforce signatures; grub.cfg and BOOTX64.EFI are signed */
};

/* Sizes in 512-byte sectors, 1 MiB aligned. */
#define DISK_BIOS_START 2048
#define DISK_BIOS_SIZE 2048       /* 1 MiB: GRUB's core.img */
#define DISK_ESP_SIZE 65536       /* 32 MiB */
#define DISK_BANK_SIZE 204800     /* 100 MiB each: two images of today's ~11 MiB and their growth */
#define DISK_PERSIST_SIZE 131072  /* 64 MiB */
#define DISK_SIZE_MIB 512

/* Where disk_make() put the file path ("boot/vmlinuz") of partition part ("bank-a") in the disk
 * image: *ret_offset is its first byte's offset in the disk when the file is in one piece
 * (consecutive clusters, read from its FAT by bootbank/fat.c). 0, or -ENOENT when the file is
 * missing, empty or fragmented (the caller then keeps its bytes as they are). */
int disk_file_offset(const char *work, const char *part, const char *path, unsigned long long *ret_offset);
/* The GPT partition UUID disk_make() gives partition `name` for seed (upper-case, RFC 4122 form).
 * 0, or -ENOMEM / -EIO with d set (and out "") when SHA-256 cannot be set up. */
int disk_part_uuid(const char *seed, const char *name, char out[37], struct diag *d);
/* The FAT serial of a partition: the first 8 hex digits of its partition UUID ("1A2B3C4D"). */
void disk_fat_serial(const char *part_uuid, char out[9]);
/* The FAT volume id as GRUB's probe --fs-uuid prints it ("1A2B-3C4D"). */
void disk_fs_uuid(const char *part_uuid, char out[10]);
/* Build the disk image. 0, or -EIO with d filled (no image left). */
int disk_make(const struct disk_opts *o, struct diag *d);
/* Point GRUB's boot.img (440 bytes used) and core.img at core_lba; both are patched in place.
 * -EINVAL when core.img is not an i386-pc core image. */
int disk_patch_bios(unsigned char boot[512], unsigned char *core, size_t core_len, unsigned long long core_lba);

#endif
