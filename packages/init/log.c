/* Console messages of PID 1. */
#define _GNU_SOURCE
#include "init.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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
