/* virtio-net on a tap device: transmit in the notifying vCPU thread, receive in a thread. */
#define _GNU_SOURCE
#include "devices/virtio-net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define VIRTIO_ID_NET 1
#define VIRTIO_NET_F_MAC (1ull << 5)
#define VIRTIO_NET_HDR_LEN 12 /* struct virtio_net_hdr_v1, the header of VIRTIO_F_VERSION_1 */
#define RXQ 0
#define TXQ 1

int virtio_net_open(struct virtio_net *n, const char *name, const uint8_t mac[6], char *err, size_t errlen)
{
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
	int hdr = VIRTIO_NET_HDR_LEN;

	memset(n, 0, sizeof(*n));
	n->wake = -1;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	n->tap = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (n->tap < 0 || ioctl(n->tap, TUNSETIFF, &ifr) || ioctl(n->tap, TUNSETVNETHDRSZ, &hdr)) {
		snprintf(err, errlen, "cannot attach tap device %s: %s; create it with 'ip tuntap add %s mode tap' "
			 "or run as root", name, strerror(errno), name);
		if (n->tap >= 0)
			close(n->tap);
		n->tap = -1;
		return -1;
	}
	n->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	memcpy(n->config, mac, 6);
	return n->wake < 0 ? -1 : 0;
}

/* Send every frame the driver queued; lock held. */
static void virtio_net_tx(struct virtio_net *n)
{
	struct virtio_mmio *v = &n->mmio;
	struct virtq_chain c;
	int r;

	while ((r = virtq_pop(&v->q[TXQ], v->mem, &c)) > 0) {
		if (c.out_len > VIRTIO_NET_HDR_LEN && writev(n->tap, c.iov, c.nout) > 0)
			n->tx_frames++;
		virtq_push(&v->q[TXQ], v->mem, c.head, 0);
		virtio_mmio_used(v, TXQ);
	}
	if (r < 0)
		virtio_mmio_fail(v);
}

static void virtio_net_notify(struct virtio_mmio *v, int q)
{
	struct virtio_net *n = v->dev;
	uint64_t one = 1;

	if (q == TXQ) {
		virtio_net_tx(n);
		return;
	}
	/* New receive buffers: wake the thread if it waits for them. A full counter (EAGAIN)
	 * means it is woken already. */
	if (n->rx_waiting && write(n->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("vmm: virtio-net wake");
}

/* Move frames from the tap into the guest while both have some; lock held. Returns 1 if the
 * thread should wait for buffers rather than for frames. */
static int virtio_net_rx(struct virtio_net *n)
{
	struct virtio_mmio *v = &n->mmio;
	struct virtq_chain c;
	uint16_t one = 1;

	while (virtio_mmio_live(v)) {
		int r = virtq_pop(&v->q[RXQ], v->mem, &c);
		if (r <= 0) {
			if (r < 0)
				virtio_mmio_fail(v);
			return 1;
		}
		ssize_t len = readv(n->tap, c.iov + c.nout, c.n - c.nout);
		if (len < VIRTIO_NET_HDR_LEN) {
			virtq_unpop(&v->q[RXQ]);
			return 0;
		}
		virtq_write(&c, 10, &one, sizeof(one)); /* num_buffers: one buffer per frame */
		virtq_push(&v->q[RXQ], v->mem, c.head, (uint32_t)len);
		virtio_mmio_used(v, RXQ);
		n->rx_frames++;
	}
	return 1;
}

static void *virtio_net_rx_thread(void *arg)
{
	struct virtio_net *n = arg;
	struct pollfd p[2] = {{.fd = n->wake, .events = POLLIN}, {.fd = n->tap, .events = POLLIN}};
	uint64_t count;

	for (;;) {
		pthread_mutex_lock(&n->mmio.lock);
		if (n->stop) {
			pthread_mutex_unlock(&n->mmio.lock);
			return NULL;
		}
		n->rx_waiting = virtio_net_rx(n);
		pthread_mutex_unlock(&n->mmio.lock);
		/* Waiting for buffers: watch only the wake fd, or frames would spin the loop. */
		if (poll(p, n->rx_waiting ? 1 : 2, -1) > 0 && (p[0].revents & POLLIN))
			if (read(n->wake, &count, sizeof(count)) < 0)
				continue;
	}
}

static void virtio_net_reset(struct virtio_mmio *v)
{
	struct virtio_net *n = v->dev;

	n->rx_waiting = 1;
}

static const struct virtio_ops virtio_net_ops = {.notify = virtio_net_notify, .reset = virtio_net_reset};

void virtio_net_attach(struct virtio_net *n, const struct mem *m, struct irq_line irq)
{
	virtio_mmio_init(&n->mmio, m, irq, VIRTIO_ID_NET, VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC, 2, n->config,
			 sizeof(n->config), &virtio_net_ops, n);
}

int virtio_net_start(struct virtio_net *n)
{
	n->rx_started = pthread_create(&n->rx, NULL, virtio_net_rx_thread, n) == 0;
	return n->rx_started ? 0 : -1;
}

void virtio_net_close(struct virtio_net *n)
{
	uint64_t one = 1;

	if (n->rx_started) {
		pthread_mutex_lock(&n->mmio.lock);
		n->stop = 1;
		pthread_mutex_unlock(&n->mmio.lock);
		if (write(n->wake, &one, sizeof(one)) < 0)
			perror("vmm: eventfd");
		pthread_join(n->rx, NULL);
		n->rx_started = 0;
	}
	if (n->tap >= 0)
		close(n->tap);
	if (n->wake >= 0)
		close(n->wake);
	n->tap = n->wake = -1;
	virtio_mmio_destroy(&n->mmio);
}
