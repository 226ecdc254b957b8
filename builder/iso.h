/* The hybrid ISO: GRUB core images for BIOS (El Torito) and UEFI made with grub-mkimage, an EFI
 * FAT image made with mtools, and xorriso to put the tree, both boot images, the hybrid MBR and
 * the appended EFI partition together. The same file boots as a CD and written raw to a disk. */
#ifndef ISO_H
#define ISO_H

#include "kv.h"

/* The ISO 9660 UUID GRUB sees for an image dated epoch: "2026-11-22-04-08-31-00". */
void iso_uuid(long long epoch, char out[32]);
/* Make work/eltorito.img (BIOS) and work/efi.img (a FAT image with the UEFI GRUB, signed for Secure
 * Boot), both enforcing signatures with k's public key, with the grub-mkimage and modules of the
 * unpacked GRUB package at grub (builder/grub.h). 0 or -EIO with d. */
struct sign_keys;
int iso_boot_images(const char *work, const char *grub, long long epoch, struct sign_keys *k, struct diag *d);
/* Make iso from the staged tree (which has boot/grub/grub.cfg), the boot images in work and the
 * hybrid MBR of the GRUB package at grub. 0 or -EIO. */
int iso_assemble(const char *tree, const char *work, const char *grub, const char *iso, const char *volid,
		 long long epoch, struct diag *d);

/* Date every file and folder under dir at epoch (touch -h); log collects the tool's output. */
int iso_set_dates(const char *dir, long long epoch, const char *log, struct diag *d);

#endif
