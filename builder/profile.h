/* Image profiles: recipes/images/<name>.image lists what goes into an image (docs/recipes.md). */
#ifndef PROFILE_H
#define PROFILE_H

#include "kv.h"
#include "util.h"

/* Names with the line each was given on. */
struct namelist {
	struct strv names;
	int *lines;
};

struct profile {
	char *path, *text;
	size_t text_len;
	char *name, *description, *cmdline;
	char *kernel;           /* the recipe whose package holds /boot/vmlinuz and /lib/modules */
	int kernel_line;
	char *bootloader;       /* the recipe whose package holds GRUB (grub-mkimage and its modules) */
	int bootloader_line;
	struct namelist initramfs; /* packages unpacked into the initramfs */
	struct namelist system;    /* packages in the squashfs system payload */
	/* In the initramfs: what init needs before the system payload is mounted (the boot medium's). */
	struct namelist modules;   /* kernel modules (names, without .ko), dependencies added */
	struct namelist drivers;   /* driver family recipes: init loads their modules for the hardware present */
	/* The same in the system payload: init loads them once the payload is mounted. */
	struct namelist system_modules;
	struct namelist system_drivers;
	unsigned long long size_max; /* bytes; 0 means no budget */
	int size_max_line;
};

/* Parse a profile from text; *ret owned by the caller (profile_free()), or -EINVAL and d filled. */
int profile_parse(const char *path, const char *text, size_t len, struct profile **ret, struct diag *d);
/* What `imgbuild build` needs beyond a valid profile: a bootloader. 0, or -EINVAL and d filled. */
int profile_check_bootable(const struct profile *p, struct diag *d);
/* Read and parse a profile file. */
int profile_load(const char *path, struct profile **ret, struct diag *d);
/* Free a profile; accepts NULL. */
void profile_free(struct profile *p);
/* Parse "32M", "512K", "1G" or plain bytes; -EINVAL on anything else. */
int profile_parse_size(const char *s, unsigned long long *ret);

#endif
