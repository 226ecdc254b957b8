/* Step 2: load the kernel modules listed by the image builder, in its order, without kmod. */
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

/* The builder resolves dependencies (modules.dep) and writes them first, so the order is the plan. */
static const char *module_load(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	int err;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) >= sizeof(path)) {
		log_error("module path %s is too long; shorten its line in " MODULES_LIST, rel);
		return "module-path";
	}
	err = module_insert(path);
	if (err == -ENOENT) {
		log_error("module %s is missing from %s; add it to the initramfs or drop it from "
			  MODULES_LIST, rel, dir);
		return "module-missing";
	}
	err = err < 0 ? -err : 0;
	/* No hardware for it here (kvm_intel on AMD, either on a CPU without virtualization): the
	 * image carries both vendors' modules, so this is not a failed boot. */
	if (err == ENODEV || err == EOPNOTSUPP) {
		log_error("module %s found no hardware for it (%s); skipped", rel, strerror(err));
		return NULL;
	}
	if (err) {
		log_error("cannot load module %s: %s; check the kernel log, the module's kernel version, and "
			  "that the modules it needs come before it in " MODULES_LIST, rel, strerror(err));
		return "module-load-failed";
	}
	return NULL;
}

const char *modules_load(struct boot_state *st)
{
	static char list[32768];
	char dir[PATH_MAX], *cursor = list, *line;
	struct utsname un;
	ssize_t len = sysfile_read(MODULES_LIST, list, sizeof(list));

	(void)st;
	if (len < 0) {
		log_error("cannot read " MODULES_LIST ": %s; the image builder must write it "
			  "(empty when no module is needed)", strerror((int)-len));
		return "modules-list";
	}
	uname(&un);
	snprintf(dir, sizeof(dir), "/lib/modules/%s", un.release);
	while ((line = sysfile_line_next(&cursor))) {
		const char *reason;

		if (line[0] == '\0' || line[0] == '#')
			continue;
		/* Stop at the first failure: the modules after it may depend on the missing one. */
		reason = module_load(dir, line);
		if (reason)
			return reason;
	}
	return NULL;
}
