/* Console messages of PID 1, and the boot log (/run/boot.log). */
#define _GNU_SOURCE
#include "init.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* A console session runs (after BOOT-OK, until the shutdown): what init did, and the services'
 * output, go to syslog only, so that they do not land in the middle of the operator's screen.
 * Problems (log_error) still reach the console too. */
static bool quiet;

void log_console_quiet(bool on)
{
	quiet = on;
}

bool log_console_is_quiet(void)
{
	return quiet;
}

bool log_syslog(int pri, const char *tag, const char *msg, size_t len)
{
	static int fd = -1;
	struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
	char line[512];
	int n;

	if (fd < 0)
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	n = snprintf(line, sizeof(line), "<%d>%s: %.*s", pri, tag, (int)len, msg);
	if (fd < 0 || n < 0)
		return false;
	return sendto(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, MSG_DONTWAIT,
		      (struct sockaddr *)&addr, sizeof(addr)) >= 0;
}

/* "init: <message>" on the console as one write (so kernel messages cannot land in the middle of
 * the line); a routine one in a console session to syslog instead, while syslog takes it. */
static void log_line(bool routine, const char *fmt, va_list ap)
{
	static const char prefix[] = "init: ";
	char line[512];
	size_t len = sizeof(prefix) - 1;

	memcpy(line, prefix, len);
	vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	len = strlen(line);
	if (quiet && log_syslog(LOG_DAEMON | (routine ? LOG_INFO : LOG_ERR), "init", line + sizeof(prefix) - 1,
				len - (sizeof(prefix) - 1)) && routine)
		return;
	line[len++] = '\n';
	sysfile_write_all(STDERR_FILENO, line, len);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(false, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(true, fmt, ap);
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
