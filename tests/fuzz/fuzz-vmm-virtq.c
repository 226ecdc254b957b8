/* libFuzzer target: vmm's virtqueue code (vmm/devices/virtq.c) against a hostile driver. The
 * input is the queue's registers (size, ring addresses) and the guest RAM holding the rings. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "devices/virtq.h"

#define RAM (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram[RAM];
	static struct virtq_chain c;
	uint8_t buf[512];
	uint16_t regs[4];
	struct mem m;
	struct virtq q;

	if (size < sizeof(regs))
		return 0;
	memcpy(regs, data, sizeof(regs));
	memset(ram, 0, RAM);
	memcpy(ram, data + sizeof(regs), size - sizeof(regs) < RAM ? size - sizeof(regs) : RAM);
	mem_wrap(&m, ram, RAM);
	virtq_reset(&q);
	q.size = regs[0];
	q.desc = regs[1];
	q.avail = regs[2];
	q.used = (uint64_t)regs[3] * 4;
	q.ready = true;
	for (int i = 0; i < 64 && virtq_pop(&q, &m, &c) > 0; i++) {
		virtq_read(&c, 0, buf, c.out_len < sizeof(buf) ? c.out_len : sizeof(buf));
		virtq_write(&c, c.in_len > 4 ? c.in_len - 4 : 0, "done", 4);
		virtq_push(&q, &m, c.head, (uint32_t)c.in_len);
		virtq_wants_irq(&q, &m);
	}
	return 0;
}
