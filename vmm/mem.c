/* Guest RAM and the translation of guest physical addresses, with bounds checks. */
#include "mem.h"

#include <string.h>
#include <sys/mman.h>

static void mem_layout(struct mem *m, uint64_t size)
{
	m->size = size;
	m->lo_size = size < MEM_HOLE_START ? size : MEM_HOLE_START;
	m->hi_size = size - m->lo_size;
}

int mem_alloc(struct mem *m, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	memset(m, 0, sizeof(*m));
	if (p == MAP_FAILED)
		return -1;
	madvise(p, size, MADV_MERGEABLE);
	m->host = p;
	m->mapped = 1;
	mem_layout(m, size);
	return 0;
}

void mem_plan(struct mem *m, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	mem_layout(m, size);
}

void mem_wrap(struct mem *m, void *buf, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->host = buf;
	mem_layout(m, size);
}

void mem_free(struct mem *m)
{
	if (m->mapped && m->host)
		munmap(m->host, m->size);
	memset(m, 0, sizeof(*m));
}

void *mem_ptr(const struct mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa < m->lo_size)
		return len <= m->lo_size - gpa ? m->host + gpa : NULL;
	if (gpa >= MEM_HIGH_START && gpa - MEM_HIGH_START < m->hi_size)
		return len <= m->hi_size - (gpa - MEM_HIGH_START) ? m->host + m->lo_size + (gpa - MEM_HIGH_START)
								   : NULL;
	return NULL;
}
