/* Guest RAM: one host mapping, seen by the guest below the 32-bit hole and above 4 GiB. */
#ifndef VMM_MEM_H
#define VMM_MEM_H

#include <stddef.h>
#include <stdint.h>

#define MEM_HOLE_START 0xc0000000ull /* MMIO devices, IOAPIC, LAPIC live above this */
#define MEM_HIGH_START 0x100000000ull

struct mem {
	uint8_t *host;     /* the whole of RAM: low part first, then the high part */
	uint64_t size;     /* total bytes */
	uint64_t lo_size;  /* bytes at guest address 0 */
	uint64_t hi_size;  /* bytes at guest address 4 GiB */
	int mapped;        /* host came from mmap (mem_free unmaps it) */
};

/* Map size bytes of anonymous memory as guest RAM; 0 on success, -1 with errno. */
int mem_alloc(struct mem *m, uint64_t size);
/* The layout of size bytes of RAM, with no memory behind it (host is NULL): for planning. */
void mem_plan(struct mem *m, uint64_t size);
/* Use a caller-owned buffer as guest RAM (unit tests); the layout is as mem_alloc's. */
void mem_wrap(struct mem *m, void *buf, uint64_t size);
/* Unmap RAM allocated by mem_alloc. */
void mem_free(struct mem *m);
/* Host pointer for guest range [gpa, gpa+len), or NULL unless it lies wholly in RAM. */
void *mem_ptr(const struct mem *m, uint64_t gpa, uint64_t len);

#endif
