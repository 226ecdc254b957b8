/* virtio-mmio version 2 transport. The guest may write anything: values are checked on use. */
#include "devices/virtio-mmio.h"

#include <string.h>

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8

enum {
	R_MAGIC = 0x000, R_VERSION = 0x004, R_DEVICE_ID = 0x008, R_VENDOR_ID = 0x00c,
	R_DEV_FEATURES = 0x010, R_DEV_FEATURES_SEL = 0x014, R_DRV_FEATURES = 0x020,
	R_DRV_FEATURES_SEL = 0x024, R_QUEUE_SEL = 0x030, R_QUEUE_NUM_MAX = 0x034, R_QUEUE_NUM = 0x038,
	R_QUEUE_READY = 0x044, R_QUEUE_NOTIFY = 0x050, R_INTERRUPT_STATUS = 0x060, R_INTERRUPT_ACK = 0x064,
	R_STATUS = 0x070, R_QUEUE_DESC_LOW = 0x080, R_QUEUE_DESC_HIGH = 0x084, R_QUEUE_DRIVER_LOW = 0x090,
	R_QUEUE_DRIVER_HIGH = 0x094, R_QUEUE_DEVICE_LOW = 0x0a0, R_QUEUE_DEVICE_HIGH = 0x0a4,
	R_CONFIG_GENERATION = 0x0fc, R_CONFIG = 0x100,
};

void virtio_mmio_init(struct virtio_mmio *v, const struct mem *m, struct irq_line irq, uint32_t device_id,
		      uint64_t features, int nqueues, void *config, uint32_t config_len,
		      const struct virtio_ops *ops, void *dev)
{
	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->lock, NULL);
	v->mem = m;
	v->irq = irq;
	v->device_id = device_id;
	v->features = features;
	v->nqueues = nqueues;
	v->config = config;
	v->config_len = config_len;
	v->ops = ops;
	v->dev = dev;
}

void virtio_mmio_destroy(struct virtio_mmio *v)
{
	pthread_mutex_destroy(&v->lock);
}

static void virtio_mmio_update_irq(struct virtio_mmio *v)
{
	irq_line_set(&v->irq, v->isr != 0);
}

static void virtio_mmio_reset(struct virtio_mmio *v)
{
	for (int i = 0; i < v->nqueues; i++)
		virtq_reset(&v->q[i]);
	v->driver_features = 0;
	v->dev_feat_sel = v->drv_feat_sel = v->queue_sel = 0;
	v->status = v->isr = 0;
	virtio_mmio_update_irq(v);
	if (v->ops->reset)
		v->ops->reset(v);
}

void virtio_mmio_used(struct virtio_mmio *v, int q)
{
	if (!virtq_wants_irq(&v->q[q], v->mem))
		return;
	v->isr |= 1;
	virtio_mmio_update_irq(v);
}

void virtio_mmio_fail(struct virtio_mmio *v)
{
	if (v->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	v->status |= VIRTIO_STATUS_NEEDS_RESET;
	v->isr |= 2;
	virtio_mmio_update_irq(v);
}

bool virtio_mmio_live(const struct virtio_mmio *v)
{
	return (v->status & VIRTIO_STATUS_DRIVER_OK) && !(v->status & VIRTIO_STATUS_NEEDS_RESET);
}

/* The selected queue, or NULL if the driver selected one that does not exist. */
static struct virtq *virtio_mmio_queue(struct virtio_mmio *v)
{
	return v->queue_sel < (uint32_t)v->nqueues ? &v->q[v->queue_sel] : NULL;
}

static uint32_t virtio_mmio_read(struct virtio_mmio *v, uint64_t off)
{
	struct virtq *q = virtio_mmio_queue(v);

	switch (off) {
	case R_MAGIC: return VIRTIO_MMIO_MAGIC;
	case R_VERSION: return 2;
	case R_DEVICE_ID: return v->device_id;
	case R_VENDOR_ID: return 0x554d4551; /* any value; this one reads "QEMU" like most VMMs */
	case R_DEV_FEATURES:
		return v->dev_feat_sel < 2 ? (uint32_t)(v->features >> (32 * v->dev_feat_sel)) : 0;
	case R_QUEUE_NUM_MAX: return q ? VIRTQ_MAX_SIZE : 0;
	case R_QUEUE_READY: return q ? q->ready : 0;
	case R_INTERRUPT_STATUS: return v->isr;
	case R_STATUS: return v->status;
	case R_CONFIG_GENERATION: return v->config_gen;
	default: return 0;
	}
}

static void virtio_mmio_set_addr(uint64_t *a, bool high, uint32_t val)
{
	*a = high ? (*a & 0xffffffffull) | ((uint64_t)val << 32) : (*a & ~0xffffffffull) | val;
}

static void virtio_mmio_write_queue(struct virtio_mmio *v, uint64_t off, uint32_t val)
{
	struct virtq *q = virtio_mmio_queue(v);

	if (!q || (q->ready && off != R_QUEUE_READY))
		return;
	switch (off) {
	case R_QUEUE_NUM:
		q->size = val <= VIRTQ_MAX_SIZE ? (uint16_t)val : 0;
		break;
	case R_QUEUE_READY:
		q->ready = val & 1;
		break;
	case R_QUEUE_DESC_LOW: case R_QUEUE_DESC_HIGH:
		virtio_mmio_set_addr(&q->desc, off == R_QUEUE_DESC_HIGH, val);
		break;
	case R_QUEUE_DRIVER_LOW: case R_QUEUE_DRIVER_HIGH:
		virtio_mmio_set_addr(&q->avail, off == R_QUEUE_DRIVER_HIGH, val);
		break;
	case R_QUEUE_DEVICE_LOW: case R_QUEUE_DEVICE_HIGH:
		virtio_mmio_set_addr(&q->used, off == R_QUEUE_DEVICE_HIGH, val);
		break;
	}
}

static void virtio_mmio_write_status(struct virtio_mmio *v, uint32_t val)
{
	if (val == 0) {
		virtio_mmio_reset(v);
		return;
	}
	/* FEATURES_OK holds only if the driver accepted VERSION_1 and nothing we did not offer. */
	if ((val & VIRTIO_STATUS_FEATURES_OK) &&
	    (!(v->driver_features & VIRTIO_F_VERSION_1) || (v->driver_features & ~v->features)))
		val &= ~VIRTIO_STATUS_FEATURES_OK;
	v->status = val & 0xff;
}

static void virtio_mmio_write(struct virtio_mmio *v, uint64_t off, uint32_t val)
{
	switch (off) {
	case R_DEV_FEATURES_SEL: v->dev_feat_sel = val; break;
	case R_DRV_FEATURES_SEL: v->drv_feat_sel = val; break;
	case R_DRV_FEATURES:
		if (v->drv_feat_sel < 2 && !(v->status & VIRTIO_STATUS_FEATURES_OK))
			virtio_mmio_set_addr(&v->driver_features, v->drv_feat_sel == 1, val);
		break;
	case R_QUEUE_SEL: v->queue_sel = val; break;
	case R_QUEUE_NOTIFY:
		if (val < (uint32_t)v->nqueues && virtio_mmio_live(v) && v->ops->notify)
			v->ops->notify(v, (int)val);
		break;
	case R_INTERRUPT_ACK:
		v->isr &= ~val;
		virtio_mmio_update_irq(v);
		break;
	case R_STATUS: virtio_mmio_write_status(v, val); break;
	default: virtio_mmio_write_queue(v, off, val); break;
	}
}

static void virtio_mmio_config(struct virtio_mmio *v, uint64_t off, uint8_t *data, uint32_t len, bool write)
{
	off -= R_CONFIG;
	if (off >= v->config_len || len > v->config_len - off) {
		if (!write)
			memset(data, 0, len);
		return;
	}
	if (!write) /* the devices here have no writable config fields */
		memcpy(data, v->config + off, len);
}

void virtio_mmio_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool write)
{
	struct virtio_mmio *v = opaque;
	uint32_t val = 0;

	pthread_mutex_lock(&v->lock);
	if (off >= R_CONFIG) {
		virtio_mmio_config(v, off, data, len, write);
	} else if (len != 4 || (off & 3)) {
		if (!write)
			memset(data, 0, len); /* registers are 32-bit only */
	} else if (write) {
		memcpy(&val, data, 4);
		virtio_mmio_write(v, off, val);
	} else {
		val = virtio_mmio_read(v, off);
		memcpy(data, &val, 4);
	}
	pthread_mutex_unlock(&v->lock);
}
