/* virtio-blk backed by a raw image file, with a write cache the driver flushes. */
#ifndef VMM_VIRTIO_BLK_H
#define VMM_VIRTIO_BLK_H

#include "devices/virtio-mmio.h"

struct virtio_blk {
	struct virtio_mmio mmio;
	int fd;
	uint64_t size; /* bytes; the guest sees size / 512 sectors */
	char id[20];   /* the serial number the driver reads with GET_ID */
	uint8_t config[16]; /* capacity (sectors), size_max (unused), seg_max */
	unsigned long reads, writes, flushes; /* requests served, for tests */
};

/* Open path read-write as a disk; -1 with a message in err ("what; what to do"). */
int virtio_blk_open(struct virtio_blk *b, const char *path, char *err, size_t errlen);
/* Attach the disk to guest memory and an interrupt line (after virtio_blk_open). */
void virtio_blk_attach(struct virtio_blk *b, const struct mem *m, struct irq_line irq);
/* Flush and close the file. */
void virtio_blk_close(struct virtio_blk *b);

#endif
