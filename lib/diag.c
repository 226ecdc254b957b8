#define _GNU_SOURCE
#include "diag.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void diag_vset(struct diag *d, const char *path, int line, const char *fmt, va_list ap)
{
	int n;

	if (line > 0)
		n = snprintf(d->msg, sizeof(d->msg), "%s:%d: ", path, line);
	else
		n = snprintf(d->msg, sizeof(d->msg), "%s: ", path);
	if (n < 0 || (size_t)n >= sizeof(d->msg))
		n = 0;
	vsnprintf(d->msg + n, sizeof(d->msg) - (size_t)n, fmt, ap);
}

int diag_set(struct diag *d, const char *path, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vset(d, path, line, fmt, ap);
	va_end(ap);
	d->err = 0;
	return -EINVAL;
}

int diag_set_errno(struct diag *d, int err, const char *path, int line, const char *fmt, ...)
{
	char rest[sizeof(d->msg)], *hint;
	va_list ap;

	va_start(ap, fmt);
	diag_vset(d, path, line, fmt, ap);
	va_end(ap);
	/* "what is wrong; what to do" becomes "what is wrong: strerror; what to do". */
	hint = strstr(d->msg, "; ");
	snprintf(rest, sizeof(rest), "%s", hint ? hint : "");
	if (hint)
		*hint = '\0';
	snprintf(d->msg + strlen(d->msg), sizeof(d->msg) - strlen(d->msg), ": %s%s", strerror(err), rest);
	d->err = err;
	return err > 0 ? -err : -EIO;
}

void diag_print(const char *prog, const struct diag *d)
{
	bool denied = (d->err == EACCES || d->err == EPERM) && geteuid() != 0;

	fprintf(stderr, "%s: %s%s\n", prog, d->msg, denied ? "; run as root" : "");
}
