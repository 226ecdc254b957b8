/* Device models on the host, no KVM: the 16550 as Linux's 8250 driver drives it, and
 * virtio-blk through its virtio-mmio registers (reads, writes, flush, errors, a hostile ring). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "devices/serial.h"
#include "devices/virtio-blk.h"
#include "guest.h"
#include "tap.h"

static int irq_level, irq_raises;

static void fake_irq(void *ctx, int irq, int level)
{
	(void)ctx;
	(void)irq;
	irq_raises += level && !irq_level;
	irq_level = level;
}

static uint8_t ser_in(struct serial *s, int off)
{
	uint8_t v;
	serial_access(s, (uint64_t)off, &v, 1, false);
	return v;
}

static void ser_out(struct serial *s, int off, uint8_t v)
{
	serial_access(s, (uint64_t)off, &v, 1, true);
}

static void test_serial(void)
{
	struct serial s;
	int p[2];
	char out[8] = "";
	uint32_t wide = 0xffffffff;

	if (pipe(p))
		return;
	serial_init(&s, (struct irq_line){.set = fake_irq}, p[1]);
	ser_out(&s, 0, 'A');
	ok(read(p[0], out, 8) == 1 && out[0] == 'A', "serial: a byte written to THR reaches the output");
	ser_out(&s, 1, 0x0f);
	ok(ser_in(&s, 1) == 0x0f, "serial: IER keeps what the 8250 probe writes");
	ser_out(&s, 2, 0x01);
	ok((ser_in(&s, 2) & 0xc0) == 0xc0, "serial: IIR shows FIFOs enabled (a 16550A)");
	ok(irq_level == 0, "serial: reading IIR clears the THRE interrupt");
	int before = irq_raises;
	ser_out(&s, 0, 'B');
	ok(irq_raises == before + 1 && irq_level == 1, "serial: each transmitted byte gives a fresh interrupt edge");
	ok(serial_receive(&s, (const uint8_t *)"hi", 2) == 2 && (ser_in(&s, 5) & 1), "serial: input sets LSR data ready");
	ok((ser_in(&s, 2) & 0x0f) == 0x04, "serial: IIR reports received data first");
	ok(ser_in(&s, 0) == 'h' && ser_in(&s, 0) == 'i' && !(ser_in(&s, 5) & 1), "serial: RBR returns the input in order");
	ser_out(&s, 4, 0x1a);
	ok((ser_in(&s, 6) & 0xf0) == 0x90, "serial: loopback mode mirrors RTS/OUT2 into MSR (Linux's check)");
	ser_out(&s, 3, 0x80);
	ser_out(&s, 0, 0x01);
	ser_out(&s, 1, 0x00);
	ok(ser_in(&s, 0) == 0x01 && ser_in(&s, 3) == 0x80, "serial: the divisor latch reads back with DLAB set");
	serial_access(&s, 6, (uint8_t *)&wide, 4, false);
	ok(1, "serial: a 4-byte access running past the last register does not crash");
	uint8_t junk[64];
	ok(serial_receive(&s, junk, 64) + serial_receive(&s, junk, 64) == SERIAL_FIFO,
	   "serial: input beyond the FIFO is refused, not overrun");
	serial_destroy(&s);
	close(p[0]);
	close(p[1]);
}

static uint32_t mr(struct virtio_mmio *v, uint64_t off)
{
	uint32_t x;
	virtio_mmio_access(v, off, (uint8_t *)&x, 4, false);
	return x;
}

static void mw(struct virtio_mmio *v, uint64_t off, uint32_t x)
{
	virtio_mmio_access(v, off, (uint8_t *)&x, 4, true);
}

/* What Linux's virtio_mmio driver does to bring a device up with one queue. */
static void blk_setup(struct virtio_mmio *v, uint32_t hi_features)
{
	mw(v, 0x70, 0);
	mw(v, 0x70, 3);
	mw(v, 0x24, 0);
	mw(v, 0x20, mr(v, 0x10));
	mw(v, 0x24, 1);
	mw(v, 0x20, hi_features);
	mw(v, 0x70, 3 | 8);
	mw(v, 0x30, 0);
	mw(v, 0x38, G_QSIZE);
	mw(v, 0x80, G_DESC);
	mw(v, 0x90, G_AVAIL);
	mw(v, 0xa0, G_USED);
	mw(v, 0x44, 1);
	mw(v, 0x70, 3 | 8 | 4);
}

/* Send one request: header at 0x10000, data at 0x11000 (len bytes), status at 0x12000. */
static uint8_t blk_req(struct guest *g, struct virtio_mmio *v, uint32_t type, uint64_t sector, uint32_t len)
{
	uint32_t hdr[4] = {type, 0, (uint32_t)sector, (uint32_t)(sector >> 32)};
	int in = type != 1;

	memcpy(g->ram + 0x10000, hdr, 16);
	g->ram[0x12000] = 0xee;
	guest_desc(g, 0, 0x10000, 16, 1, len ? 1 : 2);
	guest_desc(g, 1, 0x11000, len, (uint16_t)(1 | (in ? 2 : 0)), 2);
	guest_desc(g, 2, 0x12000, 1, 2, 0);
	guest_avail(g, 0);
	mw(v, 0x50, 0);
	return g->ram[0x12000];
}

static void test_blk_io(struct guest *g, struct virtio_blk *b, const char *path)
{
	struct virtio_mmio *v = &b->mmio;
	char back[512];
	int fd = open(path, O_RDONLY);

	memset(g->ram + 0x11000, 'w', 512);
	ok(blk_req(g, v, 1, 3, 512) == 0, "virtio-blk: a 512-byte write succeeds");
	ok(pread(fd, back, 512, 3 * 512) == 512 && back[0] == 'w' && back[511] == 'w',
	   "virtio-blk: the written sector is in the file at sector 3");
	ok(irq_level == 1 && (mr(v, 0x60) & 1), "virtio-blk: a used buffer raises the interrupt");
	mw(v, 0x64, 1);
	ok(irq_level == 0, "virtio-blk: acknowledging lowers the interrupt");
	memset(g->ram + 0x11000, 0, 512);
	ok(blk_req(g, v, 0, 3, 512) == 0 && g->ram[0x11000] == 'w', "virtio-blk: reading the sector back");
	ok(guest_used_len(g, 1) == 513, "virtio-blk: a read reports the data and status bytes written");
	ok(blk_req(g, v, 4, 0, 0) == 0 && b->flushes == 1, "virtio-blk: a flush request is honoured");
	ok(blk_req(g, v, 0, 128, 512) == 1, "virtio-blk: reading past the end fails with IOERR");
	ok(blk_req(g, v, 1, UINT64_MAX / 256, 512) == 1, "virtio-blk: a huge sector number fails with IOERR");
	ok(blk_req(g, v, 1, 0, 100) == 1, "virtio-blk: a write that is not whole sectors fails with IOERR");
	ok(blk_req(g, v, 8, 0, 20) == 0 && !memcmp(g->ram + 0x11000, "disk.img", 8), "virtio-blk: GET_ID gives the file name");
	ok(blk_req(g, v, 77, 0, 0) == 2, "virtio-blk: an unknown request type is UNSUPP");
	close(fd);
}

static void test_blk_hostile(struct guest *g, struct virtio_mmio *v)
{
	guest_desc(g, 0, 0x10000, 16, 1, 0); /* loops onto itself */
	guest_avail(g, 0);
	mw(v, 0x50, 0);
	ok((mr(v, 0x70) & 0x40) && (mr(v, 0x60) & 2), "virtio-blk: a descriptor loop sets DEVICE_NEEDS_RESET, no crash");
	g->avail_idx = 0;
	memset(g->ram + G_USED, 0, 0x100);
	memset(g->ram + G_AVAIL, 0, 0x100);
	blk_setup(v, 1);
	ok(blk_req(g, v, 4, 0, 0) == 0, "virtio-blk: after a reset the device works again");
	uint64_t x = 0;
	virtio_mmio_access(v, 0x1f8, (uint8_t *)&x, 8, false);
	virtio_mmio_access(v, 0x100, (uint8_t *)&x, 2, true);
	mw(v, 0x30, 7);
	mw(v, 0x38, 16);
	mw(v, 0x50, 5);
	ok(mr(v, 0x34) == 0, "virtio-blk: registers of a queue that does not exist read 0, writes are ignored");
}

static void test_blk(void)
{
	char dir[] = "/tmp/test-devices.XXXXXX", path[64], err[256];
	struct guest g;
	static struct virtio_blk b;

	guest_init(&g);
	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	ok(truncate(path, 64 * 1024) == 0 && virtio_blk_open(&b, path, err, sizeof(err)) == 0, "virtio-blk: opens a raw file");
	virtio_blk_attach(&b, &g.mem, (struct irq_line){.set = fake_irq});
	ok(mr(&b.mmio, 0) == 0x74726976 && mr(&b.mmio, 4) == 2 && mr(&b.mmio, 8) == 2, "virtio-mmio: magic, version 2, block device");
	uint64_t cap = 0;
	virtio_mmio_access(&b.mmio, 0x100, (uint8_t *)&cap, 8, false);
	ok(cap == 128, "virtio-blk: capacity is the file size in sectors");
	blk_setup(&b.mmio, 0);
	ok(!(mr(&b.mmio, 0x70) & 8), "virtio-mmio: a driver without VERSION_1 does not get FEATURES_OK");
	blk_setup(&b.mmio, 1);
	ok(mr(&b.mmio, 0x70) == 15, "virtio-mmio: with VERSION_1 the driver gets to DRIVER_OK");
	test_blk_io(&g, &b, path);
	test_blk_hostile(&g, &b.mmio);
	virtio_blk_close(&b);
	unlink(path);
	rmdir(dir);
	char missing[80];
	snprintf(missing, sizeof(missing), "%s/none.img", dir);
	ok(virtio_blk_open(&b, missing, err, sizeof(err)) == -1 && strstr(err, "cannot open disk"),
	   "virtio-blk: a missing file is a clear error");
	guest_free(&g);
}

int main(void)
{
	test_serial();
	test_blk();
	return tap_done();
}
