/* The boot medium seen from the appliance: the block device carrying the ISO 9660 volume the
 * builder names (a CD, or the USB stick the hybrid ISO was written to), and the system payload's
 * place in the payload cpio it carries. libc only, no allocation: init and the installer (static,
 * musl) link it; the builder takes the names from here. */
#ifndef MEDIUM_H
#define MEDIUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ISO 9660 volume identifier of the appliance's ISO. */
#define MEDIUM_VOLUME "HYPERVISOR"
/* The payload cpio on the medium (and in each bank), relative to its root: one newc member,
 * MEDIUM_PAYLOAD_MEMBER, the squashfs. */
#define MEDIUM_PAYLOAD "boot/system.cpio"
#define MEDIUM_PAYLOAD_MEMBER "system.sqfs"
/* The kernel command line word with which the ISO's GRUB says it left the payload on the medium. */
#define MEDIUM_PAYLOAD_ARG "payload=medium"

/* Where init and the installer mount the boot medium, read-only. */
#define MEDIUM_MOUNT "/run/medium"

/* Whether the block device dev carries the volume MEDIUM_VOLUME. */
bool medium_is_boot(const char *dev);
/* Find the boot medium, trying every 0.2 s for 10 s (its driver may still be probing), and mount
 * it read-only as iso9660 at MEDIUM_MOUNT; its /dev path into dev. 0, -ENODEV when none was
 * found, else -errno of making the folder or of mount(2) (dev then names the medium). */
int medium_mount(char *dev, size_t size);

/* The newc cpio header of len bytes at h: where the data of the first member lies, if that member
 * is the regular file named name. 0, or -1 when h is not such a header (too short, bad magic, bad
 * hex, another name, not a regular file). */
int medium_cpio_member(const unsigned char *h, size_t len, const char *name, uint64_t *data_off,
		       uint64_t *data_size);

#endif
