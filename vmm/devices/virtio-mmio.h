/* The virtio-mmio transport (version 2): registers, feature negotiation, queues, interrupts. */
#ifndef VMM_VIRTIO_MMIO_H
#define VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "devices/virtq.h"

#define VIRTIO_MMIO_SIZE 0x200
#define VIRTIO_MAX_QUEUES 2
#define VIRTIO_F_VERSION_1 (1ull << 32)
#define VIRTIO_STATUS_NEEDS_RESET 0x40

struct virtio_mmio;

struct virtio_ops {
	/* The driver notified queue q; called with the transport's lock held. */
	void (*notify)(struct virtio_mmio *v, int q);
	/* The driver reset the device; called with the lock held. */
	void (*reset)(struct virtio_mmio *v);
};

struct virtio_mmio {
	pthread_mutex_t lock; /* guards everything below and the device model's queue work */
	const struct mem *mem;
	struct irq_line irq;
	uint32_t device_id;
	uint64_t features, driver_features;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint32_t status, isr, config_gen;
	int nqueues;
	struct virtq q[VIRTIO_MAX_QUEUES];
	uint8_t *config; /* device-specific config space, owned by the device model */
	uint32_t config_len;
	const struct virtio_ops *ops;
	void *dev; /* the device model */
};

/* Set up a transport for a device model; features must include VIRTIO_F_VERSION_1. */
void virtio_mmio_init(struct virtio_mmio *v, const struct mem *m, struct irq_line irq, uint32_t device_id,
		      uint64_t features, int nqueues, void *config, uint32_t config_len,
		      const struct virtio_ops *ops, void *dev);
/* Release the transport's lock. */
void virtio_mmio_destroy(struct virtio_mmio *v);
/* The bus handler for the register window (VIRTIO_MMIO_SIZE bytes). */
void virtio_mmio_access(void *v, uint64_t off, uint8_t *data, uint32_t len, bool write);
/* Tell the driver queue q has used buffers (interrupt unless it suppressed them); lock held. */
void virtio_mmio_used(struct virtio_mmio *v, int q);
/* A queue broke its rules: flag DEVICE_NEEDS_RESET and tell the driver; lock held. */
void virtio_mmio_fail(struct virtio_mmio *v);
/* Whether the driver finished setting the device up (DRIVER_OK and no reset needed). */
bool virtio_mmio_live(const struct virtio_mmio *v);

#endif
