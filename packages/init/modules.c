/* Step 2: load the kernel modules listed by the image builder, in its order, without kmod: the
 * initramfs's /etc/modules.load, and after the payload is mounted the payload's (system_modules_load). */
#define _GNU_SOURCE
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MODULES_LIST "/etc/modules.load"

int module_insert(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0) != 0)
		r = errno == EEXIST ? 1 : -errno;
	close(fd);
	return r;
}

int module_insert_rel(const char *rel)
{
	static const char *const roots[] = {"", SYSTEM_ROOT};
	static struct utsname un; /* the release, asked once */
	char path[PATH_MAX];
	int r = -ENOENT;

	if (!un.release[0])
		uname(&un);
	for (size_t i = 0; i < ARRAY_SIZE(roots) && r == -ENOENT; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/lib/modules/%s/%s", roots[i], un.release, rel) >= sizeof(path))
			return -ENAMETOOLONG;
		r = module_insert(path);
	}
	return r;
}

/* The builder resolves dependencies (modules.dep) and writes them first, so the order is the plan. */
static const char *module_load(const char *list, const char *rel)
{
	int err = module_insert_rel(rel);

	if (err == -ENAMETOOLONG) {
		log_error("module path %s is too long; shorten its line in %s", rel, list);
		return "module-path";
	}
	if (err == -ENOENT) {
		log_error("module %s of %s is in neither the initramfs nor the system payload; rebuild the image",
			  rel, list);
		return "module-missing";
	}
	err = err < 0 ? -err : 0;
	/* No hardware for it here (a profile's list may name modules for hardware a machine lacks;
	 * the driver families, matched by modalias, never load those): not a failed boot. */
	if (err == ENODEV || err == EOPNOTSUPP) {
		log_error("module %s found no hardware for it (%s); skipped", rel, strerror(err));
		return NULL;
	}
	if (err) {
		log_error("cannot load module %s: %s; check the kernel log, the module's kernel version, and "
			  "that the modules it needs come before it in %s", rel, strerror(err), list);
		return "module-load-failed";
	}
	return NULL;
}

/* Each module of a list, in its order; a missing list is an error only when required. */
static const char *list_load(const char *list, bool required)
{
	static char text[32768];
	char *cursor = text, *line;
	ssize_t len = sysfile_read(list, text, sizeof(text));

	if (len == -ENOENT && !required)
		return NULL;
	if (len < 0) {
		log_error("cannot read %s: %s; the image builder must write it (empty when no module is needed)",
			  list, strerror((int)-len));
		return "modules-list";
	}
	while ((line = sysfile_line_next(&cursor))) {
		const char *reason;

		if (line[0] == '\0' || line[0] == '#')
			continue;
		/* Stop at the first failure: the modules after it may depend on the missing one. */
		reason = module_load(list, line);
		if (reason)
			return reason;
	}
	return NULL;
}

const char *modules_load(struct boot_state *st)
{
	(void)st;
	return list_load(MODULES_LIST, true);
}

const char *system_modules_load(void)
{
	return list_load(SYSTEM_ROOT MODULES_LIST, false);
}
