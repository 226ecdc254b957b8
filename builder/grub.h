/* GRUB comes from the package of the recipe the profile names as `bootloader` (recipes/grub):
 * its grub-mkimage, module folders and boot images, never the build host's. Paths relative to
 * that package's unpacked root (struct job's dest). */
#ifndef GRUB_H
#define GRUB_H

#define GRUB_MKIMAGE "usr/bin/grub-mkimage"
#define GRUB_PC_DIR "usr/lib/grub/i386-pc"       /* BIOS modules, boot.img, boot_hybrid.img */
#define GRUB_EFI_DIR "usr/lib/grub/x86_64-efi"   /* UEFI modules */

#endif
