/* The I/O port and MMIO buses: which device model answers which guest address, and IRQ lines. */
#ifndef VMM_BUS_H
#define VMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

#define BUS_MAX_DEVS 24

/* A device's access handler: offset from its base, len bytes of data (read into or written from). */
typedef void bus_fn(void *dev, uint64_t off, uint8_t *data, uint32_t len, bool write);

struct bus_dev {
	uint64_t base, len;
	bus_fn *fn;
	void *dev;
};

/* Devices are added before the vCPUs start and never removed: lookups need no lock. */
struct bus {
	struct bus_dev dev[BUS_MAX_DEVS];
	int n;
};

/* Add a device at [base, base+len); -1 if the bus is full or the range overlaps another. */
int bus_add(struct bus *b, uint64_t base, uint64_t len, bus_fn *fn, void *dev);
/* Dispatch an access; false if no device is there (reads then give all ones). */
bool bus_access(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool write);

/* An interrupt line: set(ctx, irq, level) drives the guest's interrupt controller input. */
struct irq_line {
	void (*set)(void *ctx, int irq, int level);
	void *ctx;
	int irq;
	int level; /* the level last driven, so that only changes reach the controller */
};

/* Drive the line to level (0 or 1) if it is not there already. Callers hold the device's lock. */
void irq_line_set(struct irq_line *l, int level);

#endif
