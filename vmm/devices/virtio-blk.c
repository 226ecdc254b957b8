/* virtio-blk: reads, writes, flushes (fdatasync) and GET_ID, served in the notifying thread. */
#define _GNU_SOURCE
#include "devices/virtio-blk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_F_SEG_MAX (1ull << 2)
#define VIRTIO_BLK_F_FLUSH (1ull << 9)
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define SECTOR 512

struct virtio_blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

int virtio_blk_open(struct virtio_blk *b, const char *path, char *err, size_t errlen)
{
	struct stat st;
	const char *base = strrchr(path, '/');

	memset(b, 0, sizeof(*b));
	b->fd = open(path, O_RDWR | O_CLOEXEC);
	if (b->fd < 0 || fstat(b->fd, &st)) {
		snprintf(err, errlen, "cannot open disk %s: %s; check the path and permissions", path, strerror(errno));
		if (b->fd >= 0)
			close(b->fd);
		b->fd = -1;
		return -1;
	}
	b->size = S_ISBLK(st.st_mode) ? (uint64_t)lseek(b->fd, 0, SEEK_END) : (uint64_t)st.st_size;
	base = base ? base + 1 : path;
	memcpy(b->id, base, strnlen(base, sizeof(b->id))); /* not NUL-terminated when 20 long */
	uint64_t sectors = b->size / SECTOR;
	uint32_t seg_max = VIRTQ_MAX_SIZE - 2; /* a request's data buffers, header and status aside */
	memcpy(b->config, &sectors, 8);
	memcpy(b->config + 12, &seg_max, 4);
	return 0;
}

/* Serve reads and writes: data lies between the 16-byte header and the status byte. */
static uint8_t virtio_blk_rw(struct virtio_blk *b, const struct virtq_chain *c, const struct virtio_blk_hdr *h,
			     uint32_t *written)
{
	bool in = h->type == VIRTIO_BLK_T_IN;
	size_t len = in ? c->in_len - 1 : c->out_len - sizeof(*h), got;
	struct iovec v[VIRTQ_MAX_SIZE];
	int k = virtq_slice(c, in, in ? 0 : sizeof(*h), len, v, VIRTQ_MAX_SIZE, &got);

	if (len % SECTOR || h->sector > b->size / SECTOR || len > b->size - h->sector * SECTOR)
		return VIRTIO_BLK_S_IOERR;
	for (off_t pos = (off_t)(h->sector * SECTOR); k > 0;) {
		ssize_t n = in ? preadv(b->fd, v, k, pos) : pwritev(b->fd, v, k, pos);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return VIRTIO_BLK_S_IOERR;
		}
		pos += n;
		if (in)
			*written += (uint32_t)n;
		while (k > 0 && (size_t)n >= v[0].iov_len) {
			n -= (ssize_t)v[0].iov_len;
			memmove(v, v + 1, --k * sizeof(v[0]));
		}
		if (k > 0) {
			v[0].iov_base = (uint8_t *)v[0].iov_base + n;
			v[0].iov_len -= (size_t)n;
		}
	}
	in ? b->reads++ : b->writes++;
	return VIRTIO_BLK_S_OK;
}

/* Serve one request; returns the bytes written into the guest's buffers. */
static uint32_t virtio_blk_request(struct virtio_blk *b, const struct virtq_chain *c)
{
	struct virtio_blk_hdr h;
	uint32_t written = 0;
	uint8_t status;

	if (c->in_len < 1)
		return 0; /* nowhere to put the status: drop the request */
	if (virtq_read(c, 0, &h, sizeof(h)) != sizeof(h))
		status = VIRTIO_BLK_S_IOERR;
	else if (h.type == VIRTIO_BLK_T_IN || h.type == VIRTIO_BLK_T_OUT)
		status = virtio_blk_rw(b, c, &h, &written);
	else if (h.type == VIRTIO_BLK_T_FLUSH) {
		status = fdatasync(b->fd) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		b->flushes++;
	} else if (h.type == VIRTIO_BLK_T_GET_ID) {
		size_t n = c->in_len - 1 < sizeof(b->id) ? c->in_len - 1 : sizeof(b->id);
		written += (uint32_t)virtq_write(c, 0, b->id, n);
		status = VIRTIO_BLK_S_OK;
	} else
		status = VIRTIO_BLK_S_UNSUPP;
	virtq_write(c, c->in_len - 1, &status, 1);
	return written + 1;
}

static void virtio_blk_notify(struct virtio_mmio *v, int q)
{
	struct virtio_blk *b = v->dev;
	struct virtq_chain c;
	int r;

	while ((r = virtq_pop(&v->q[q], v->mem, &c)) > 0) {
		virtq_push(&v->q[q], v->mem, c.head, virtio_blk_request(b, &c));
		virtio_mmio_used(v, q);
	}
	if (r < 0)
		virtio_mmio_fail(v);
}

static const struct virtio_ops virtio_blk_ops = {.notify = virtio_blk_notify};

void virtio_blk_attach(struct virtio_blk *b, const struct mem *m, struct irq_line irq)
{
	virtio_mmio_init(&b->mmio, m, irq, VIRTIO_ID_BLOCK, VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_SEG_MAX, 1, b->config,
			 sizeof(b->config), &virtio_blk_ops, b);
}

void virtio_blk_close(struct virtio_blk *b)
{
	if (b->fd >= 0) {
		fdatasync(b->fd);
		close(b->fd);
	}
	b->fd = -1;
	virtio_mmio_destroy(&b->mmio);
}
