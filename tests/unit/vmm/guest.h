/* A fake guest for the device-model unit tests: RAM in a buffer and a driver-side virtqueue. */
#ifndef TEST_GUEST_H
#define TEST_GUEST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtq.h"
#include "mem.h"

#define G_RAM (1u << 20)
#define G_DESC 0x1000
#define G_AVAIL 0x2000
#define G_USED 0x3000
#define G_QSIZE 8

struct guest {
	struct mem mem;
	uint8_t *ram;
	uint16_t avail_idx;
};

static inline void guest_init(struct guest *g)
{
	g->ram = calloc(1, G_RAM);
	mem_wrap(&g->mem, g->ram, G_RAM);
	g->avail_idx = 0;
}

static inline void guest_free(struct guest *g)
{
	free(g->ram);
}

/* Point q at the guest's rings, as a driver would through the transport. */
static inline void guest_queue(struct virtq *q)
{
	virtq_reset(q);
	q->size = G_QSIZE;
	q->desc = G_DESC;
	q->avail = G_AVAIL;
	q->used = G_USED;
	q->ready = true;
}

static inline void guest_desc(struct guest *g, int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = g->ram + G_DESC + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Offer the chain starting at head. */
static inline void guest_avail(struct guest *g, uint16_t head)
{
	memcpy(g->ram + G_AVAIL + 4 + 2 * (g->avail_idx % G_QSIZE), &head, 2);
	g->avail_idx++;
	memcpy(g->ram + G_AVAIL + 2, &g->avail_idx, 2);
}

static inline uint16_t guest_used_idx(const struct guest *g)
{
	uint16_t v;
	memcpy(&v, g->ram + G_USED + 2, 2);
	return v;
}

static inline uint32_t guest_used_len(const struct guest *g, int i)
{
	uint32_t v;
	memcpy(&v, g->ram + G_USED + 4 + 8 * i + 4, 4);
	return v;
}

#endif
