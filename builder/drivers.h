/* Driver families (docs/recipes.md, "Driver families"): the kernel modules and firmware a
 * profile's `drivers` recipes name, put into the initramfs (`system-drivers`: the system payload)
 * with the tables init matches the hardware against: /etc/modules.alias (modules.alias lines of the family modules) and
 * /etc/modules.dep (modules.dep lines of those modules and everything they need). */
#ifndef DRIVERS_H
#define DRIVERS_H

#include "recipe.h"
#include "util.h"

struct driver_family {
	const struct recipe *r; /* its `modules` and `firmware` */
	const char *pkg;        /* its unpacked package: the firmware is looked up in lib/firmware */
	/* Filled by drivers_add: */
	long long bytes;        /* what it added to the image (modules no earlier part brought, firmware) */
	size_t nmodules;        /* module files it added */
	struct strv missing;    /* firmware files its package lacks (the image goes without them) */
};

/*
 * Put the families' modules (with their modules.dep closure, from <kdir>, the kernel package's
 * lib/modules/<kver>) under <root>/lib/modules/<kver>/, their firmware under <root>/lib/firmware,
 * and write <root>/etc/modules.alias and <root>/etc/modules.dep. A module or firmware file already
 * in <root>, or in <base> (NULL for none: the initramfs when <root> is the system payload, which
 * init looks in too), counts for whoever brought it first. 0, or -errno with d filled (an unknown
 * module names its recipe line).
 */
int drivers_add(const char *kdir, const char *kver, const char *root, const char *base, struct driver_family *f,
		size_t n, struct diag *d);
/* Copy the modules at paths (relative to <kdir>) to <root>/lib/modules/<kver>/, each unless it is
 * there already or in <base> (NULL for none); add the bytes and files copied. 0, or -errno with d
 * filled. The profile's `modules` lists go through it too. */
int drivers_copy_modules(const char *kdir, const char *kver, const char *root, const char *base,
			 const struct strv *paths, long long *bytes, size_t *files, struct diag *d);
/* Free what drivers_add filled. */
void drivers_free(struct driver_family *f, size_t n);

#endif
