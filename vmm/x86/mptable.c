/* MP table v1.4: processors, one ISA bus, one IOAPIC, ISA IRQ n wired to IOAPIC pin n (edge). */
#include "x86/mptable.h"

#include <string.h>

#include "x86/boot.h"

#define MP_PROCESSOR 0
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_INTSRC 3
#define MP_LINTSRC 4

struct mpf { /* the floating pointer */
	char sig[4];
	uint32_t table;
	uint8_t length, rev, checksum, feature[5];
} __attribute__((packed));

struct mpc { /* the table header */
	char sig[4];
	uint16_t length;
	uint8_t rev, checksum;
	char oem[8], product[12];
	uint32_t oemptr;
	uint16_t oemsize, count;
	uint32_t lapic;
	uint16_t ext_len;
	uint8_t ext_checksum, reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apicid, apicver, flags;
	uint32_t signature, features, reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, id;
	char name[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, id, ver, flags;
	uint32_t addr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type, irqtype;
	uint16_t flags;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

static uint8_t mptable_sum(const void *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += ((const uint8_t *)p)[i];
	return (uint8_t)-s;
}

/* Append an entry at *pos and count it. */
static void mptable_add(uint8_t *base, size_t *pos, struct mpc *h, const void *e, size_t len)
{
	memcpy(base + *pos, e, len);
	*pos += len;
	h->count++;
}

static void mptable_irqs(uint8_t *base, size_t *pos, struct mpc *h, uint8_t ioapic)
{
	for (int irq = 0; irq < MPTABLE_IRQS; irq++) {
		struct mpc_intsrc e = {.type = MP_INTSRC, .srcbus = 0, .srcbusirq = (uint8_t)irq, .dstapic = ioapic,
				       .dstirq = (uint8_t)irq};
		mptable_add(base, pos, h, &e, sizeof(e));
	}
	struct mpc_intsrc l0 = {.type = MP_LINTSRC, .irqtype = 3 /* ExtINT */, .dstapic = 0xff, .dstirq = 0};
	struct mpc_intsrc l1 = {.type = MP_LINTSRC, .irqtype = 1 /* NMI */, .dstapic = 0xff, .dstirq = 1};
	mptable_add(base, pos, h, &l0, sizeof(l0));
	mptable_add(base, pos, h, &l1, sizeof(l1));
}

int mptable_write(const struct mem *m, int ncpus)
{
	size_t size = sizeof(struct mpf) + sizeof(struct mpc) + ncpus * sizeof(struct mpc_cpu) +
		      sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) + (MPTABLE_IRQS + 2) * sizeof(struct mpc_intsrc);
	uint8_t *base = mem_ptr(m, BOOT_BIOS, size), ioapic = (uint8_t)ncpus;
	struct mpc h = {.sig = "PCMP", .rev = 4, .oem = "VMM     ", .product = "VMM         ",
			.lapic = 0xfee00000u};
	size_t pos = sizeof(struct mpf) + sizeof(h);

	if (!base || size > 0x10000)
		return -1;
	memset(base, 0, size);
	for (int i = 0; i < ncpus; i++) {
		struct mpc_cpu c = {.type = MP_PROCESSOR, .apicid = (uint8_t)i, .apicver = 0x14,
				    .flags = (uint8_t)(1 | (i == 0 ? 2 : 0)), /* enabled, BSP */
				    .signature = 0x600, .features = 0x201 /* FPU, APIC */};
		mptable_add(base, &pos, &h, &c, sizeof(c));
	}
	struct mpc_bus bus = {.type = MP_BUS, .id = 0, .name = "ISA   "};
	struct mpc_ioapic io = {.type = MP_IOAPIC, .id = ioapic, .ver = 0x11, .flags = 1, .addr = MPTABLE_IOAPIC_ADDR};
	mptable_add(base, &pos, &h, &bus, sizeof(bus));
	mptable_add(base, &pos, &h, &io, sizeof(io));
	mptable_irqs(base, &pos, &h, ioapic);
	h.length = (uint16_t)(pos - sizeof(struct mpf));
	memcpy(base + sizeof(struct mpf), &h, sizeof(h));
	base[sizeof(struct mpf) + offsetof(struct mpc, checksum)] = mptable_sum(base + sizeof(struct mpf), h.length);
	struct mpf f = {.sig = "_MP_", .table = BOOT_BIOS + sizeof(struct mpf), .length = 1, .rev = 4};
	f.checksum = mptable_sum(&f, sizeof(f));
	memcpy(base, &f, sizeof(f));
	return 0;
}
