/* Step 4: the version this initramfs was built for, and what the bootloader says on the command line. */
#define _GNU_SOURCE
#include "init.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* os-release allows [a-zA-Z0-9._-]; anything else could also break the space-separated BOOT-OK line. */
static bool version_valid(const char *v)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+~-";

	return v[0] != '\0' && v[strspn(v, allowed)] == '\0';
}

static const char *version_read(struct boot_state *st)
{
	char text[4096];
	ssize_t len = sysfile_read("/etc/os-release", text, sizeof(text));

	if (len < 0) {
		log_error("cannot read /etc/os-release: %s; the image builder must write it with VERSION_ID=",
			  strerror((int)-len));
		return "no-os-release";
	}
	if (!sysfile_osrelease_value(text, "VERSION_ID", st->version, sizeof(st->version)) ||
	    !version_valid(st->version)) {
		log_error("/etc/os-release has no usable VERSION_ID; the image builder must set it to at most "
			  "%zu of [A-Za-z0-9._+~-]", sizeof(st->version) - 1);
		return "no-version";
	}
	return NULL;
}

static const char *bank_read(struct boot_state *st)
{
	char text[4096];
	ssize_t len = sysfile_read("/proc/cmdline", text, sizeof(text));

	if (len < 0) {
		log_error("cannot read /proc/cmdline: %s; build the kernel with proc support", strerror((int)-len));
		return "no-cmdline";
	}
	st->poweroff = sysfile_cmdline_flag(text, "init.poweroff");
	st->installer = sysfile_cmdline_flag(text, "installer");
	/* No bootbank= means a boot outside the A/B scheme, e.g. from the installer medium. */
	if (!sysfile_cmdline_value(text, "bootbank", st->bank, sizeof(st->bank)))
		snprintf(st->bank, sizeof(st->bank), "live");
	if (strcmp(st->bank, "A") != 0 && strcmp(st->bank, "B") != 0 && strcmp(st->bank, "live") != 0) {
		log_error("bootbank=%s on the kernel command line is not A, B or live; fix the bootloader's "
			  "menu entry", st->bank);
		return "bad-bootbank";
	}
	return NULL;
}

const char *config_read(struct boot_state *st)
{
	const char *reason = version_read(st);

	return reason ? reason : bank_read(st);
}
