/* Address dispatch for I/O ports and MMIO, and IRQ line bookkeeping. */
#include "bus.h"

#include <string.h>

int bus_add(struct bus *b, uint64_t base, uint64_t len, bus_fn *fn, void *dev)
{
	if (b->n == BUS_MAX_DEVS || len == 0)
		return -1;
	for (int i = 0; i < b->n; i++)
		if (base < b->dev[i].base + b->dev[i].len && b->dev[i].base < base + len)
			return -1;
	b->dev[b->n++] = (struct bus_dev){.base = base, .len = len, .fn = fn, .dev = dev};
	return 0;
}

bool bus_access(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool write)
{
	for (int i = 0; i < b->n; i++) {
		const struct bus_dev *d = &b->dev[i];

		if (addr >= d->base && addr - d->base < d->len && len <= d->len - (addr - d->base)) {
			d->fn(d->dev, addr - d->base, data, len, write);
			return true;
		}
	}
	if (!write)
		memset(data, 0xff, len);
	return false;
}

void irq_line_set(struct irq_line *l, int level)
{
	if (l->level == level)
		return;
	l->level = level;
	if (l->set)
		l->set(l->ctx, l->irq, level);
}
