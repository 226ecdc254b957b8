/* GPT fix-up after the installer writes a disk image onto a larger disk: the image's backup
 * header and entries sit where the image ended; the UEFI spec wants them in the disk's last
 * sectors (and firmware and partitioning tools complain otherwise). */
#ifndef GPT_H
#define GPT_H

#include <stdint.h>

/* Move the backup GPT of the disk open on fd (disk_bytes long, 512-byte sectors) to its end, and
 * widen the last usable LBA and the protective MBR to match. Writes the backup first and the
 * primary header last, so that a cut leaves the old, consistent table. 0 (also when nothing was
 * to do), or -1 with *why set. */
int gpt_relocate(int fd, uint64_t disk_bytes, const char **why);
/* CRC-32 as GPT uses it (IEEE 802.3, reflected, as zlib's crc32). */
uint32_t gpt_crc32(const void *data, uint64_t len);

#endif
