/* Step 1: the kernel file systems every later step needs, and a console for messages. */
#define _GNU_SOURCE
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

struct mount_spec {
	const char *source, *target, *type;
	unsigned long flags;
	const char *data;
};

/* /dev comes first: until it is mounted there may be no console to report the other mounts on. */
static const struct mount_spec early_mounts[] = {
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
	{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
};

/*
 * The kernel opens /dev/console for init only if the initramfs has that node; without it fds 0-2
 * are closed and every message would be lost, so open it from devtmpfs.
 */
static void console_open(void)
{
	int fd;

	if (fcntl(STDIN_FILENO, F_GETFD) >= 0 && fcntl(STDERR_FILENO, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return; /* nowhere to say so; the BOOT line still goes to /dev/ttyS0 */
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static int mount_one(const struct mount_spec *m)
{
	if (mkdir(m->target, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* EBUSY: already mounted (e.g. by a kernel with DEVTMPFS_MOUNT), which is what we want. */
	if (mount(m->source, m->target, m->type, m->flags, m->data) < 0 && errno != EBUSY)
		return -errno;
	return 0;
}

const char *mounts_setup(struct boot_state *st)
{
	const char *reason = NULL;

	(void)st;
	for (size_t i = 0; i < ARRAY_SIZE(early_mounts); i++) {
		const struct mount_spec *m = &early_mounts[i];
		int err = mount_one(m);

		if (i == 0)
			console_open();
		if (err < 0) {
			log_error("cannot mount %s on %s: %s; build the kernel with %s support",
				  m->type, m->target, strerror(-err), m->type);
			reason = reason ? reason : "mount-failed";
		}
	}
	return reason;
}
