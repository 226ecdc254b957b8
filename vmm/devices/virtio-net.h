/* virtio-net backed by a tap device; a thread per NIC moves received frames to the guest. */
#ifndef VMM_VIRTIO_NET_H
#define VMM_VIRTIO_NET_H

#include <pthread.h>

#include "devices/virtio-mmio.h"

struct virtio_net {
	struct virtio_mmio mmio;
	int tap;          /* the tap device, frames prefixed with a 12-byte virtio-net header */
	int wake;         /* eventfd: the driver posted receive buffers, or the VM stops */
	pthread_t rx;
	int rx_started;
	int stop;         /* set (under the lock) to end the receive thread */
	int rx_waiting;   /* the receive thread waits for buffers (under the lock) */
	uint8_t config[6]; /* the MAC address */
	unsigned long rx_frames, tx_frames;
};

/* Attach to tap device name (created if missing, when permitted); -1 with a message in err. */
int virtio_net_open(struct virtio_net *n, const char *name, const uint8_t mac[6], char *err, size_t errlen);
/* Attach the NIC to guest memory and an interrupt line (after virtio_net_open). */
void virtio_net_attach(struct virtio_net *n, const struct mem *m, struct irq_line irq);
/* Start the receive thread; -1 on failure. */
int virtio_net_start(struct virtio_net *n);
/* Stop the receive thread and close the tap device. */
void virtio_net_close(struct virtio_net *n);

#endif
