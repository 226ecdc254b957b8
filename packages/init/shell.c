/* The services' environment (PATH, the hostname), and the terminals of the console sessions: the
 * shells on the console and tty1 are services (/usr/lib/services/console, tty1) with a `tty` key. */
#define _GNU_SOURCE
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void hostname_set(void)
{
	char text[256], *cursor = text, *name;
	/* The saved configuration's (state.tgz), else the image's default. */
	ssize_t len = sysfile_read("/etc/hostname", text, sizeof(text));

	if (len == -ENOENT)
		len = sysfile_read("/system/etc/hostname", text, sizeof(text));
	if (len == -ENOENT)
		return; /* optional: the kernel's default name stays */
	if (len < 0) {
		log_error("cannot read /etc/hostname: %s; fix or remove it", strerror((int)-len));
		return;
	}
	name = sysfile_line_next(&cursor);
	if (name && name[0] != '\0' && sethostname(name, strlen(name)) < 0)
		log_error("cannot set hostname '%s': %s; put at most 64 characters in /etc/hostname", name,
			  strerror(errno));
}

void session_prepare(void)
{
	/* Our programs, then busybox's applets (/bin is the payload's, linked by payload.c). */
	setenv("PATH", "/usr/sbin:/usr/bin:/bin:/sbin", 1);
	hostname_set();
}

/*
 * The terminal behind /dev/console (the last of console= on the command line): /dev/console itself
 * never becomes a controlling terminal, and a shell without one has no job control and no Ctrl-C.
 */
static void console_path(char *path, size_t size)
{
	char active[128], *name;

	if (sysfile_read("/sys/class/tty/console/active", active, sizeof(active)) <= 0) {
		snprintf(path, size, "/dev/console");
		return;
	}
	active[strcspn(active, "\n")] = '\0';
	name = strrchr(active, ' ');
	snprintf(path, size, "/dev/%s", name ? name + 1 : active);
}

void session_tty_path(const char *tty, char *path, size_t size)
{
	if (strcmp(tty, "console") == 0)
		console_path(path, size);
	else
		snprintf(path, size, "%s", tty);
}

int session_tty_attach(const char *tty)
{
	char path[160];
	int fd;

	session_tty_path(tty, path, sizeof(path));
	fd = sysfile_tty_open(path, O_RDWR);
	if (fd < 0) {
		log_error("cannot open the terminal %s: %s; remove the service or give it a terminal this machine has",
			  path, strerror(errno));
		return -1;
	}
	/* After setsid(): the terminal becomes the session's controlling one, for job control and Ctrl-C. */
	ioctl(fd, TIOCSCTTY, 0);
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
	return 0;
}
