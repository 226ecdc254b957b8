/* Step 5: decide whether this boot is healthy enough to report BOOT-OK. */
#define _GNU_SOURCE
#include "init.h"

#include <errno.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/vfs.h>

typedef const char *(*health_fn)(const struct boot_state *st);

/* Check the mount itself, not what step 3 returned: the table must not trust earlier bookkeeping. */
static const char *health_payload_mounted(const struct boot_state *st)
{
	struct statfs sf;

	(void)st;
	if (statfs("/system", &sf) == 0 && sf.f_type == SQUASHFS_MAGIC)
		return NULL;
	log_error("/system is not a mounted squashfs; see the payload messages above");
	return "payload-not-mounted";
}

/* A bank whose system.sqfs comes from another build than its initramfs must not be marked good. */
static const char *health_payload_version(const struct boot_state *st)
{
	char text[4096], version[sizeof(st->version)] = "";
	ssize_t len = sysfile_read("/system/etc/os-release", text, sizeof(text));

	if (len < 0) {
		log_error("cannot read /system/etc/os-release: %s; the payload must carry the image's "
			  "os-release", strerror((int)-len));
		return "payload-no-os-release";
	}
	if (!sysfile_osrelease_value(text, "VERSION_ID", version, sizeof(version)) ||
	    strcmp(version, st->version) != 0) {
		log_error("payload VERSION_ID %s differs from the initramfs's %s; install the kernel, "
			  "initramfs and system.sqfs of one build into the bank", version[0] ? version : "(none)",
			  st->version);
		return "version-mismatch";
	}
	return NULL;
}

/*
 * Run in order, stopping at the first failure, since later checks may rely on earlier ones (the
 * version check reads the payload). Add entries here; the services' readiness is a step of its own
 * (services_start, supervise.c), after this table.
 */
static const health_fn health_checks[] = {
	health_payload_mounted,
	health_payload_version,
};

const char *health_check(struct boot_state *st)
{
	for (size_t i = 0; i < ARRAY_SIZE(health_checks); i++) {
		const char *reason = health_checks[i](st);

		if (reason)
			return reason;
	}
	return NULL;
}
