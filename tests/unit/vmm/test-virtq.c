/* virtq: well-formed chains are taken apart right; a hostile driver's rings never crash the
 * VMM: loops, indexes and addresses out of range, misaligned rings all break the queue. */
#include "guest.h"
#include "tap.h"

#define NEXT 1
#define WRITE 2
#define INDIRECT 4

static int pop(struct guest *g, struct virtq *q, struct virtq_chain *c)
{
	return virtq_pop(q, &g->mem, c);
}

static void good_chain(void)
{
	struct guest g;
	struct virtq q;
	static struct virtq_chain c;
	char buf[32] = "";

	guest_init(&g);
	guest_queue(&q);
	strcpy((char *)g.ram + 0x10000, "hello ");
	strcpy((char *)g.ram + 0x10100, "world");
	guest_desc(&g, 0, 0x10000, 6, NEXT, 3);
	guest_desc(&g, 3, 0x10100, 5, NEXT, 5);
	guest_desc(&g, 5, 0x20000, 100, WRITE, 0);
	ok(pop(&g, &q, &c) == 0, "virtq: nothing to take before the driver offers a chain");
	guest_avail(&g, 0);
	ok(pop(&g, &q, &c) == 1 && c.head == 0 && c.n == 3 && c.nout == 2, "virtq: a 3-descriptor chain is taken");
	ok(c.out_len == 11 && c.in_len == 100, "virtq: readable and writable byte counts");
	ok(virtq_read(&c, 0, buf, 11) == 11 && !memcmp(buf, "hello world", 11), "virtq: reads across descriptors");
	ok(virtq_write(&c, 98, "xyz", 3) == 2 && !memcmp(g.ram + 0x20000 + 98, "xy", 2),
	   "virtq: writes stop at the end of the writable part");
	virtq_push(&q, &g.mem, c.head, 42);
	ok(guest_used_idx(&g) == 1 && guest_used_len(&g, 0) == 42, "virtq: the used ring gets the id and length");
	ok(pop(&g, &q, &c) == 0, "virtq: the queue is empty again");
	guest_free(&g);
}

/* Set up one hostile case with fn, and check that the queue refuses it and stays refused. */
static void hostile(const char *what, void (*fn)(struct guest *, struct virtq *))
{
	struct guest g;
	struct virtq q;
	static struct virtq_chain c;

	guest_init(&g);
	guest_queue(&q);
	fn(&g, &q);
	ok(pop(&g, &q, &c) == -1 && q.broken, "virtq: hostile driver: %s is refused", what);
	ok(pop(&g, &q, &c) == -1, "virtq: hostile driver: after %s the queue stays broken", what);
	guest_free(&g);
}

static void loop(struct guest *g, struct virtq *q)
{
	(void)q;
	guest_desc(g, 0, 0x10000, 16, NEXT, 1);
	guest_desc(g, 1, 0x10000, 16, NEXT, 0);
	guest_avail(g, 0);
}

static void self_loop(struct guest *g, struct virtq *q)
{
	(void)q;
	guest_desc(g, 2, 0x10000, 16, NEXT | WRITE, 2);
	guest_avail(g, 2);
}

static void addr_out(struct guest *g, struct virtq *q)
{
	(void)q;
	guest_desc(g, 0, G_RAM - 8, 16, 0, 0);
	guest_avail(g, 0);
}

static void addr_wrap(struct guest *g, struct virtq *q)
{
	(void)q;
	guest_desc(g, 0, UINT64_MAX - 4, 16, 0, 0);
	guest_avail(g, 0);
}

static void hole(struct guest *g, struct virtq *q)
{
	(void)q;
	guest_desc(g, 0, MEM_HOLE_START + 0x1000, 16, 0, 0);
	guest_avail(g, 0);
}

static void next_out(struct guest *g, struct virtq *q)
{
	(void)q;
	guest_desc(g, 0, 0x10000, 16, NEXT, 200);
	guest_avail(g, 0);
}

static void head_out(struct guest *g, struct virtq *q)
{
	(void)q;
	guest_avail(g, 9);
}

static void idx_jump(struct guest *g, struct virtq *q)
{
	uint16_t idx = 1000;
	(void)q;
	memcpy(g->ram + G_AVAIL + 2, &idx, 2);
}

static void indirect(struct guest *g, struct virtq *q)
{
	(void)q;
	guest_desc(g, 0, 0x10000, 32, INDIRECT, 0);
	guest_avail(g, 0);
}

static void read_after_write(struct guest *g, struct virtq *q)
{
	(void)q;
	guest_desc(g, 0, 0x10000, 16, NEXT | WRITE, 1);
	guest_desc(g, 1, 0x10000, 16, 0, 0);
	guest_avail(g, 0);
}

static void rings_outside(struct guest *g, struct virtq *q)
{
	guest_avail(g, 0);
	q->used = G_RAM - 4;
}

static void misaligned(struct guest *g, struct virtq *q)
{
	guest_avail(g, 0);
	q->desc = G_DESC + 3;
}

static void bad_size(struct guest *g, struct virtq *q)
{
	guest_avail(g, 0);
	q->size = 6;
}

int main(void)
{
	good_chain();
	hostile("a descriptor loop", loop);
	hostile("a descriptor pointing at itself", self_loop);
	hostile("a buffer running past the end of RAM", addr_out);
	hostile("a buffer address that wraps around", addr_wrap);
	hostile("a buffer in the MMIO hole", hole);
	hostile("a next index out of the table", next_out);
	hostile("a head index out of the table", head_out);
	hostile("an avail index jumping ahead by 1000", idx_jump);
	hostile("an indirect descriptor (not offered)", indirect);
	hostile("a readable buffer after a writable one", read_after_write);
	hostile("a used ring outside RAM", rings_outside);
	hostile("a misaligned descriptor table", misaligned);
	hostile("a queue size that is not a power of two", bad_size);
	return tap_done();
}
