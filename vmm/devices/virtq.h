/* Split virtqueues (virtio 1.x): taking request chains from a driver that may be hostile. */
#ifndef VMM_VIRTQ_H
#define VMM_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mem.h"

#define VIRTQ_MAX_SIZE 256

struct virtq {
	uint16_t size;       /* entries, chosen by the driver: a power of two <= VIRTQ_MAX_SIZE */
	bool ready;
	bool broken;         /* the driver broke the ring's rules; nothing more is taken until reset */
	uint64_t desc, avail, used; /* guest addresses of the three parts */
	uint16_t last_avail; /* the next avail ring entry to take */
	uint16_t used_idx;   /* our copy of used->idx */
};

/* One request: the device-readable buffers first (nout of them), then the device-writable ones. */
struct virtq_chain {
	uint16_t head;
	int n, nout;
	size_t out_len, in_len; /* bytes readable, bytes writable */
	struct iovec iov[VIRTQ_MAX_SIZE];
};

/* Forget the queue's state (device reset). */
void virtq_reset(struct virtq *q);
/* Take the next request: 1 if one was taken, 0 if none is pending, -1 if the driver broke the
 * rules (bad index, descriptor loop or chain too long, address outside RAM, misaligned ring,
 * indirect descriptor, readable after writable); the queue is then marked broken. */
int virtq_pop(struct virtq *q, const struct mem *m, struct virtq_chain *c);
/* Put back the request virtq_pop just took (the device could not use it yet). */
void virtq_unpop(struct virtq *q);
/* Return a request to the driver with len bytes written. */
void virtq_push(struct virtq *q, const struct mem *m, uint16_t head, uint32_t len);
/* Whether the driver wants an interrupt for used buffers (it may suppress them). */
bool virtq_wants_irq(const struct virtq *q, const struct mem *m);
/* Copy len bytes from offset off of the chain's readable part into buf; returns bytes copied. */
size_t virtq_read(const struct virtq_chain *c, size_t off, void *buf, size_t len);
/* Copy len bytes from buf to offset off of the chain's writable part; returns bytes copied. */
size_t virtq_write(const struct virtq_chain *c, size_t off, const void *buf, size_t len);
/* Describe bytes [off, off+len) of the readable (writable=false) or writable part as at most max
 * iovecs in out; returns how many, and the bytes they cover in *got. */
int virtq_slice(const struct virtq_chain *c, bool writable, size_t off, size_t len, struct iovec *out,
		int max, size_t *got);

#endif
