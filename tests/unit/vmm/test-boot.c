/* The boot protocol and MP table, on a synthetic bzImage: header checks, what lands where in
 * guest RAM (zero page, command line, initrd, e820, page tables) and the MP table's checksums. */
#include <stdio.h>

#include "guest.h"
#include "tap.h"
#include "x86/boot.h"
#include "x86/mptable.h"

#define KLEN 8192

static char err[512];

/* A minimal bzImage: 1 setup sector + boot sector, then a payload of 'K's. */
static void make_kernel(uint8_t *k)
{
	uint32_t init_size = 1 << 20, cmax = 2048, iamax = 0x37ffffff;

	memset(k, 0, KLEN);
	memset(k + 1024, 'K', KLEN - 1024);
	k[0x1f1] = 1;
	k[0x1fe] = 0x55;
	k[0x1ff] = 0xaa;
	k[0x200] = 0xeb;
	k[0x201] = 0x66;
	memcpy(k + 0x202, "HdrS", 4);
	k[0x206] = 0x0f;
	k[0x207] = 0x02;
	k[0x236] = 1;
	memcpy(k + 0x22c, &iamax, 4);
	memcpy(k + 0x238, &cmax, 4);
	memcpy(k + 0x260, &init_size, 4);
}

static int check(const uint8_t *k, size_t len)
{
	return boot_check(k, len, "bz", err, sizeof(err));
}

static void test_check(void)
{
	static uint8_t k[KLEN];

	make_kernel(k);
	ok(check(k, KLEN) == 0, "boot: a well-formed bzImage passes");
	ok(check(k, 100) && strstr(err, "kernel bz is not a Linux bzImage"), "boot: a short file is refused");
	k[0x203] = 'x';
	ok(check(k, KLEN) && strstr(err, "no boot header"), "boot: a corrupt magic is refused");
	make_kernel(k);
	k[0x207] = 0x01;
	ok(check(k, KLEN) && strstr(err, "too old"), "boot: boot protocol 2.11 is refused");
	make_kernel(k);
	k[0x236] = 0;
	ok(check(k, KLEN) && strstr(err, "no 64-bit entry"), "boot: a kernel without the 64-bit entry is refused");
	make_kernel(k);
	k[0x1f1] = 200;
	ok(check(k, KLEN) && strstr(err, "truncated"), "boot: setup larger than the file is refused");
	make_kernel(k);
	memset(k + 0x260, 0, 4);
	ok(check(k, KLEN) && strstr(err, "corrupt header"), "boot: init_size smaller than the kernel is refused");
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void test_load(void)
{
	static uint8_t k[KLEN], initrd[5000];
	struct guest g;
	struct boot_info bi;

	guest_init(&g); /* 1 MiB: too small for init_size */
	make_kernel(k);
	ok(boot_load(&g.mem, k, KLEN, NULL, 0, "c", &bi, err, sizeof(err)) && strstr(err, "too small for this kernel"),
	   "boot: RAM smaller than the kernel's init_size is refused");
	guest_free(&g);
	uint8_t *ram = calloc(1, 4 << 20);
	struct mem m;
	mem_wrap(&m, ram, 4 << 20);
	memset(initrd, 'I', sizeof(initrd));
	ok(boot_load(&m, k, KLEN, initrd, sizeof(initrd), "console=ttyS0", &bi, err, sizeof(err)) == 0,
	   "boot: kernel, initrd and command line fit in 4 MiB");
	uint8_t *bp = ram + BOOT_PARAMS;
	ok(bi.entry == 0x100200 && bi.params == BOOT_PARAMS && ram[0x100000] == 'K', "boot: the kernel is at 1 MiB, entry +0x200");
	ok(!strcmp((char *)ram + get32(bp + 0x228), "console=ttyS0"), "boot: cmd_line_ptr points at the command line");
	ok(get32(bp + 0x218) == bi.initrd && get32(bp + 0x21c) == 5000 && ram[bi.initrd] == 'I' &&
	   bi.initrd >= bi.kernel_end && bi.initrd + 5000 <= (4u << 20) && !(bi.initrd & 0xfff),
	   "boot: the initrd is page-aligned at the top of RAM, above the kernel");
	ok(bp[0x1e8] == 4 && get32(bp + 0x2d0 + 3 * 20 + 8) == (4u << 20) - 0x100000, "boot: e820 has 4 entries, RAM from 1 MiB to the end");
	ok(bp[0x210] == 0xff && (bp[0x211] & 0x81) == 0x81, "boot: loader type and loadflags set");
	uint64_t pde;
	memcpy(&pde, ram + BOOT_PML4 + 0x2000 + 8 * 5, 8);
	ok(pde == ((5ull << 21) | 0x83), "boot: the identity map has 2 MiB pages");
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ok(boot_load(&m, k, KLEN, NULL, 0, big, &bi, err, sizeof(err)) && strstr(err, "shorten it"),
	   "boot: a command line longer than the kernel takes is refused");
	static uint8_t huge[3 << 20];
	ok(boot_load(&m, k, KLEN, huge, sizeof(huge), "c", &bi, err, sizeof(err)) && strstr(err, "initrd"),
	   "boot: an initrd that does not fit is refused");
	free(ram);
}

/* Planning needs no memory behind the layout: vmm refuses bad input before opening /dev/kvm. */
static void test_plan(void)
{
	static uint8_t k[KLEN];
	struct mem m;
	struct boot_info bi;

	make_kernel(k);
	mem_plan(&m, 4 << 20);
	ok(m.host == NULL && boot_plan(&m, k, 5000, "c", &bi, err, sizeof(err)) == 0 && bi.initrd_size == 5000 &&
	   bi.initrd >= bi.kernel_end && !(bi.initrd & 0xfff), "plan: kernel and initrd placed in a 4 MiB layout");
	ok(boot_plan(&m, k, 3 << 20, "c", &bi, err, sizeof(err)) && strstr(err, "3072 KiB initrd"),
	   "plan: an initrd that does not fit is refused, naming its size");
	mem_plan(&m, 1 << 20);
	ok(boot_plan(&m, k, 0, "c", &bi, err, sizeof(err)) && strstr(err, "too small for this kernel"),
	   "plan: RAM smaller than the kernel's init_size is refused");
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

static void test_mptable(void)
{
	struct guest g;

	guest_init(&g);
	ok(mptable_write(&g.mem, 2) == 0, "mptable: written for 2 CPUs");
	uint8_t *f = g.ram + BOOT_BIOS;
	uint8_t *t = g.ram + get32(f + 4);
	uint16_t len, count;
	memcpy(&len, t + 4, 2);
	memcpy(&count, t + 34, 2);
	ok(!memcmp(f, "_MP_", 4) && sum(f, 16) == 0, "mptable: floating pointer signature and checksum");
	ok(!memcmp(t, "PCMP", 4) && sum(t, len) == 0, "mptable: table signature and checksum");
	ok(count == 2 + 1 + 1 + 24 + 2, "mptable: 2 CPUs, a bus, an IOAPIC, 24 interrupts, 2 local interrupts");
	ok(t[44] == 0 && t[44 + 3] == 3 && t[64] == 0 && t[64 + 1] == 1 && t[64 + 3] == 1,
	   "mptable: CPU 0 is the enabled BSP, CPU 1 enabled with APIC id 1");
	guest_free(&g);
}

int main(void)
{
	test_check();
	test_load();
	test_plan();
	test_mptable();
	return tap_done();
}
