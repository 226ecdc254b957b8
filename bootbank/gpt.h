/* GPT helpers, libc only (host tools and the static target programs): the fix-up after a disk
 * image is written onto a larger disk (the image's backup header and entries sit where the image
 * ended; the UEFI spec wants them in the disk's last sectors, and firmware and partitioning tools
 * complain otherwise), and finding a partition of the running system by its GPT name. */
#ifndef GPT_H
#define GPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Move the backup GPT of the disk open on fd (disk_bytes long, 512-byte sectors) to its end, and
 * widen the last usable LBA and the protective MBR to match. Writes the backup first and the
 * primary header last, so that a cut leaves the old, consistent table. 0 (also when nothing was
 * to do), or -1 with *why set. */
int gpt_relocate(int fd, uint64_t disk_bytes, const char **why);
/* Add a partition named name (ASCII, at most 36 characters; type Linux filesystem data, unique
 * GUID guid) from the first 1 MiB boundary at or after LBA from and after every partition (the
 * installer passes the image's end: what the image writes stays out of it) to the last usable LBA of the
 * disk open on fd, whose backup GPT is already at its end (gpt_relocate). Writes the primary
 * entries, then the backup, then the primary header. 0 with *first its first LBA; 1 when less than
 * min_bytes are free (nothing written); -1 with *why set. */
int gpt_add_rest(int fd, uint64_t disk_bytes, uint64_t from, const char *name, const unsigned char guid[16],
		 uint64_t min_bytes, uint64_t *first, const char **why);
/* CRC-32 as GPT uses it (IEEE 802.3, reflected, as zlib's crc32). */
uint32_t gpt_crc32(const void *data, uint64_t len);

/* The /dev path of the partition whose GPT name is partname ("bank-a", "esp"), on the disk named
 * disk ("vda"; NULL: any disk), from the kernel's /sys/class/block; false when none has it. */
bool gpt_part_dev(const char *disk, const char *partname, char *dev, size_t size);
/* gpt_part_dev(), asked every 100 ms for up to wait_ms: partitions appear a moment after their
 * disk's driver loads, or after the kernel re-reads a table just written. */
bool gpt_part_wait(const char *disk, const char *partname, char *dev, size_t size, int wait_ms);

#endif
