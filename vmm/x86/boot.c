/* The x86 64-bit boot protocol (Documentation/x86/boot.rst): zero page, e820, identity map. */
#include "x86/boot.h"

#include <stdio.h>
#include <string.h>

/* Offsets in the bzImage / boot_params (struct setup_header starts at 0x1f1). */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_VID_MODE 0x1fa
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_INIT_SIZE 0x260
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define XLF_KERNEL_64 1
#define E820_RAM 1
#define E820_RESERVED 2

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static size_t boot_setup_size(const uint8_t *img)
{
	return ((size_t)(img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4) + 1) * 512;
}

int boot_check(const uint8_t *img, size_t len, const char *path, char *err, size_t errlen)
{
	const char *why = NULL;

	if (len < 0x270 || get32(img + HDR_MAGIC) != 0x53726448 /* "HdrS" */ || img[HDR_BOOT_FLAG] != 0x55 ||
	    img[HDR_BOOT_FLAG + 1] != 0xaa)
		why = "is not a Linux bzImage (no boot header)";
	else if ((img[HDR_VERSION] | img[HDR_VERSION + 1] << 8) < 0x020c)
		why = "is too old (boot protocol before 2.12)";
	else if (!(img[HDR_XLOADFLAGS] & XLF_KERNEL_64))
		why = "has no 64-bit entry point";
	else if (boot_setup_size(img) >= len)
		why = "is truncated (no kernel after the setup code)";
	else if (get32(img + HDR_INIT_SIZE) < len - boot_setup_size(img))
		why = "has a corrupt header (init_size smaller than the kernel)";
	if (!why)
		return 0;
	snprintf(err, errlen, "kernel %s %s; give an x86-64 bzImage (arch/x86/boot/bzImage)", path, why);
	return -1;
}

static void boot_e820_add(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t *e = bp + BP_E820_TABLE + 20 * bp[BP_E820_ENTRIES]++;

	put64(e, addr);
	put64(e + 8, size);
	put32(e + 16, type);
}

static void boot_e820(const struct mem *m, uint8_t *bp)
{
	boot_e820_add(bp, 0, BOOT_EBDA, E820_RAM);
	boot_e820_add(bp, BOOT_EBDA, 0xa0000 - BOOT_EBDA, E820_RESERVED);
	boot_e820_add(bp, BOOT_BIOS, 0x100000 - BOOT_BIOS, E820_RESERVED);
	boot_e820_add(bp, 0x100000, m->lo_size - 0x100000, E820_RAM);
	if (m->hi_size)
		boot_e820_add(bp, MEM_HIGH_START, m->hi_size, E820_RAM);
}

/* Identity-map the first 4 GiB with 2 MiB pages, and a GDT with 64-bit code and data. */
static void boot_tables(const struct mem *m)
{
	uint64_t *pml4 = mem_ptr(m, BOOT_PML4, 0x1000), *pdpt = mem_ptr(m, BOOT_PML4 + 0x1000, 0x1000);
	uint64_t *pd = mem_ptr(m, BOOT_PML4 + 0x2000, 0x4000);
	uint64_t gdt[4] = {0, 0, 0x00af9b000000ffffull, 0x00cf93000000ffffull};

	pml4[0] = (BOOT_PML4 + 0x1000) | 3;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PML4 + 0x2000 + 0x1000 * i) | 3;
	for (int i = 0; i < 2048; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83; /* present, writable, 2 MiB */
	memcpy(mem_ptr(m, BOOT_GDT, sizeof(gdt)), gdt, sizeof(gdt));
}

/* Place the initrd as high as the kernel allows, above the kernel's decompression area. */
static int boot_place_initrd(const struct mem *m, const uint8_t *kernel, size_t ilen, struct boot_info *bi,
			     char *err, size_t errlen)
{
	uint64_t top = (uint64_t)get32(kernel + HDR_INITRD_ADDR_MAX) + 1;

	if (top > m->lo_size)
		top = m->lo_size;
	if (ilen > top || ((top - ilen) & ~0xfffull) < bi->kernel_end) {
		snprintf(err, errlen, "memory %llu MiB is too small for the kernel and a %zu KiB initrd; give more "
			 "memory", (unsigned long long)(m->size >> 20), ilen >> 10);
		return -1;
	}
	bi->initrd = (top - ilen) & ~0xfffull;
	bi->initrd_size = ilen;
	return 0;
}

int boot_plan(const struct mem *m, const uint8_t *kernel, size_t ilen, const char *cmdline, struct boot_info *bi,
	      char *err, size_t errlen)
{
	size_t clen = strlen(cmdline);
	uint32_t cmax = get32(kernel + HDR_CMDLINE_SIZE);

	memset(bi, 0, sizeof(*bi));
	bi->kernel_end = BOOT_KERNEL + get32(kernel + HDR_INIT_SIZE);
	if (bi->kernel_end > m->lo_size) {
		snprintf(err, errlen, "memory %llu MiB is too small for this kernel (it needs %llu MiB); give more memory",
			 (unsigned long long)(m->size >> 20), (unsigned long long)(bi->kernel_end >> 20) + 1);
		return -1;
	}
	if (clen >= BOOT_CMDLINE_MAX || (cmax && clen > cmax)) {
		snprintf(err, errlen, "the command line has %zu bytes, the kernel takes %u; shorten it", clen, cmax);
		return -1;
	}
	if (ilen && boot_place_initrd(m, kernel, ilen, bi, err, errlen))
		return -1;
	bi->entry = BOOT_KERNEL + 0x200;
	bi->params = BOOT_PARAMS;
	return 0;
}

int boot_load(const struct mem *m, const uint8_t *kernel, size_t klen, const uint8_t *initrd, size_t ilen,
	      const char *cmdline, struct boot_info *bi, char *err, size_t errlen)
{
	uint8_t *bp = mem_ptr(m, BOOT_PARAMS, 0x1000);
	size_t setup = boot_setup_size(kernel), clen = strlen(cmdline);

	if (boot_plan(m, kernel, initrd ? ilen : 0, cmdline, bi, err, errlen))
		return -1;
	memset(bp, 0, 0x1000);
	memcpy(bp + HDR_SETUP_SECTS, kernel + HDR_SETUP_SECTS, HDR_JUMP + 2 + kernel[HDR_JUMP + 1] - HDR_SETUP_SECTS);
	memcpy(mem_ptr(m, BOOT_KERNEL, klen - setup), kernel + setup, klen - setup);
	memcpy(mem_ptr(m, BOOT_CMDLINE, clen + 1), cmdline, clen + 1);
	bp[HDR_VID_MODE] = bp[HDR_VID_MODE + 1] = 0xff;
	bp[HDR_TYPE_OF_LOADER] = 0xff;
	bp[HDR_LOADFLAGS] |= 0x81; /* LOADED_HIGH, CAN_USE_HEAP */
	bp[HDR_HEAP_END] = 0x00;
	bp[HDR_HEAP_END + 1] = 0xfe;
	put32(bp + HDR_CMD_LINE_PTR, BOOT_CMDLINE);
	if (bi->initrd_size) {
		memcpy(mem_ptr(m, bi->initrd, ilen), initrd, ilen);
		put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)bi->initrd);
		put32(bp + HDR_RAMDISK_SIZE, (uint32_t)ilen);
	}
	boot_e820(m, bp);
	boot_tables(m);
	return 0;
}
