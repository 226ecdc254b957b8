/* The Intel MultiProcessor table: how a guest without ACPI finds its CPUs, IOAPIC and IRQs. */
#ifndef VMM_X86_MPTABLE_H
#define VMM_X86_MPTABLE_H

#include "mem.h"

#define MPTABLE_IOAPIC_ADDR 0xfec00000u
#define MPTABLE_IRQS 24

/* Write the floating pointer and table for ncpus CPUs at BOOT_BIOS (0xf0000); -1 if no room. */
int mptable_write(const struct mem *m, int ncpus);

#endif
