/* How a library says what it is doing without printing: the program passes callbacks and draws
 * them (a bar on a terminal, plain lines in a log, nothing at all). Header-only and libc only, so
 * that the static target programs use it too. A NULL struct progress, or NULL members, are fine. */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdarg.h>
#include <stdio.h>

struct progress {
	/* done of total units (bytes, jobs) in the phase named ("writing", "verifying"). */
	void (*on_step)(void *ctx, const char *phase, unsigned long long done, unsigned long long total);
	/* A line for the user: "staged 1.2.0 into bank B", "img.iso is up to date". */
	void (*on_note)(void *ctx, const char *msg);
	void *ctx;
};

static inline void progress_step(const struct progress *p, const char *phase, unsigned long long done,
				 unsigned long long total)
{
	if (p && p->on_step)
		p->on_step(p->ctx, phase, done, total);
}

static inline void progress_note(const struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void progress_note(const struct progress *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!p || !p->on_note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->on_note(p->ctx, msg);
}

#endif
