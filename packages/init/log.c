/* Console messages of PID 1, and the boot log (/run/boot.log). */
#define _GNU_SOURCE
#include "init.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void log_line(const char *fmt, va_list ap)
{
	char line[512] = "init: ";
	size_t len = strlen(line);

	vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	/* One write, so kernel messages cannot land in the middle of the line. */
	len = strlen(line);
	line[len++] = '\n';
	sysfile_write_all(STDERR_FILENO, line, len);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

/* Seconds since the kernel started (CLOCK_BOOTTIME counts the kernel's own boot too). */
double log_uptime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void log_step(const char *fmt, ...)
{
	char msg[400], line[440];
	va_list ap;
	int len, fd;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = snprintf(line, sizeof(line), "[%6.2f] %s\n", log_uptime(), msg);
	if (len < 0 || (size_t)len >= sizeof(line))
		len = (int)strlen(line);
	log_info("%.*s", len - 1, line);
	/* Opened each time: /run is a tmpfs mounted by the first step, and the file is small. */
	fd = open(BOOT_LOG, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		sysfile_write_all(fd, line, (size_t)len);
		close(fd);
	}
}
