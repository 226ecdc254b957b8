/* Loading a Linux bzImage, initrd and command line, per the x86 64-bit boot protocol. */
#ifndef VMM_X86_BOOT_H
#define VMM_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

#define BOOT_GDT 0x500
#define BOOT_PARAMS 0x7000
#define BOOT_PML4 0x9000
#define BOOT_CMDLINE 0x20000
#define BOOT_CMDLINE_MAX 0x10000
#define BOOT_KERNEL 0x100000
#define BOOT_EBDA 0x9fc00
#define BOOT_BIOS 0xf0000

struct boot_info {
	uint64_t entry;    /* 64-bit entry point */
	uint64_t params;   /* guest address of boot_params, passed in RSI */
	uint64_t kernel_end;
	uint64_t initrd, initrd_size;
};

/* Check a bzImage's header; 0 if it can boot through the 64-bit protocol, else -1 with a reason
 * in err ("what; what to do"). */
int boot_check(const uint8_t *img, size_t len, const char *path, char *err, size_t errlen);
/* Where a checked bzImage, an initrd of ilen bytes (0: none) and cmdline go in RAM of m's layout
 * (m->host is not touched); -1 with "what; what to do" in err if they do not fit. */
int boot_plan(const struct mem *m, const uint8_t *kernel, size_t ilen, const char *cmdline, struct boot_info *bi,
	      char *err, size_t errlen);
/* Load kernel (a checked bzImage), the initrd (may be NULL) and the command line into RAM, with
 * the e820 map, page tables and GDT; -1 with a reason in err if they do not fit. */
int boot_load(const struct mem *m, const uint8_t *kernel, size_t klen, const uint8_t *initrd, size_t ilen,
	      const char *cmdline, struct boot_info *bi, char *err, size_t errlen);

#endif
