/* Console messages of PID 1. */
#define _GNU_SOURCE
#include "init.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void log_error(const char *fmt, ...)
{
	char line[512] = "init: ";
	size_t len = strlen(line);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	va_end(ap);
	/* One write, so kernel messages cannot land in the middle of the line. */
	len = strlen(line);
	line[len++] = '\n';
	sysfile_write_all(STDERR_FILENO, line, len);
}

