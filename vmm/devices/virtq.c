/* Split virtqueue handling. Every guest value is checked before use: the guest may be hostile. */
#include "virtq.h"

#include <string.h>

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct virtq_used_elem {
	uint32_t id, len;
};

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

/* The rings, or NULL (and the queue broken) if any part is misaligned or outside RAM. */
static bool virtq_rings(struct virtq *q, const struct mem *m, struct virtq_desc **desc, uint16_t **avail,
			uint16_t **used)
{
	if (q->size == 0 || q->size > VIRTQ_MAX_SIZE || (q->size & (q->size - 1)) || (q->desc & 15) ||
	    (q->avail & 1) || (q->used & 3))
		return false;
	*desc = mem_ptr(m, q->desc, 16ull * q->size);
	*avail = mem_ptr(m, q->avail, 6 + 2ull * q->size);
	*used = mem_ptr(m, q->used, 6 + 8ull * q->size);
	return *desc && *avail && *used;
}

static int virtq_fail(struct virtq *q)
{
	q->broken = true;
	return -1;
}

/* Add descriptor d to the chain; false if it breaks a rule. */
static bool virtq_add(const struct mem *m, struct virtq_chain *c, const struct virtq_desc *d)
{
	void *p = mem_ptr(m, d->addr, d->len);
	bool w = d->flags & VIRTQ_DESC_F_WRITE;

	if (!p || (d->flags & VIRTQ_DESC_F_INDIRECT) || c->n == VIRTQ_MAX_SIZE || (!w && c->n > c->nout))
		return false;
	c->iov[c->n++] = (struct iovec){.iov_base = p, .iov_len = d->len};
	if (w)
		c->in_len += d->len;
	else {
		c->nout++;
		c->out_len += d->len;
	}
	return true;
}

int virtq_pop(struct virtq *q, const struct mem *m, struct virtq_chain *c)
{
	struct virtq_desc *desc;
	uint16_t *avail, *used;

	if (!q->ready || q->broken)
		return q->broken ? -1 : 0;
	if (!virtq_rings(q, m, &desc, &avail, &used))
		return virtq_fail(q);
	uint16_t idx = __atomic_load_n(&avail[1], __ATOMIC_ACQUIRE);
	uint16_t pending = (uint16_t)(idx - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return virtq_fail(q);
	uint16_t i = __atomic_load_n(&avail[2 + q->last_avail % q->size], __ATOMIC_RELAXED);
	c->head = i;
	c->n = c->nout = 0;
	c->out_len = c->in_len = 0;
	for (int count = 0;; count++) {
		struct virtq_desc d;

		if (i >= q->size || count >= q->size)
			return virtq_fail(q); /* out of the table, or a loop */
		memcpy(&d, &desc[i], sizeof(d));
		if (!virtq_add(m, c, &d))
			return virtq_fail(q);
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		i = d.next;
	}
	q->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
}

void virtq_push(struct virtq *q, const struct mem *m, uint16_t head, uint32_t len)
{
	struct virtq_desc *desc;
	uint16_t *avail, *used;

	if (!virtq_rings(q, m, &desc, &avail, &used)) {
		q->broken = true;
		return;
	}
	struct virtq_used_elem e = {.id = head, .len = len};
	memcpy((uint8_t *)used + 4 + 8 * (q->used_idx % q->size), &e, sizeof(e));
	q->used_idx++;
	__atomic_store_n(&used[1], q->used_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool virtq_wants_irq(const struct virtq *q, const struct mem *m)
{
	const uint16_t *avail = mem_ptr(m, q->avail, 2);

	return !avail || (q->avail & 1) || !(__atomic_load_n(avail, __ATOMIC_ACQUIRE) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

int virtq_slice(const struct virtq_chain *c, bool writable, size_t off, size_t len, struct iovec *out,
		int max, size_t *got)
{
	int from = writable ? c->nout : 0, to = writable ? c->n : c->nout, k = 0;

	*got = 0;
	for (int i = from; i < to && k < max && *got < len; i++) {
		size_t l = c->iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		size_t take = l - off < len - *got ? l - off : len - *got;
		out[k++] = (struct iovec){.iov_base = (uint8_t *)c->iov[i].iov_base + off, .iov_len = take};
		*got += take;
		off = 0;
	}
	return k;
}

size_t virtq_read(const struct virtq_chain *c, size_t off, void *buf, size_t len)
{
	struct iovec v[VIRTQ_MAX_SIZE];
	size_t got, done = 0;
	int k = virtq_slice(c, false, off, len, v, VIRTQ_MAX_SIZE, &got);

	for (int i = 0; i < k; i++) {
		memcpy((uint8_t *)buf + done, v[i].iov_base, v[i].iov_len);
		done += v[i].iov_len;
	}
	return done;
}

size_t virtq_write(const struct virtq_chain *c, size_t off, const void *buf, size_t len)
{
	struct iovec v[VIRTQ_MAX_SIZE];
	size_t got, done = 0;
	int k = virtq_slice(c, true, off, len, v, VIRTQ_MAX_SIZE, &got);

	for (int i = 0; i < k; i++) {
		memcpy(v[i].iov_base, (const uint8_t *)buf + done, v[i].iov_len);
		done += v[i].iov_len;
	}
	return done;
}
