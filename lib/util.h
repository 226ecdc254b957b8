/* Small helpers shared by the host tools and the target agents. */
#ifndef UTIL_H
#define UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>

#include "progress.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The program name used as the prefix of every message. */
extern const char *util_progname;

/* Print "<prog>: <message>" to stderr; a format ending in ':' appends strerror(errno). */
void util_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* util_warn(), then exit(1). Only for short-lived host tools. */
void util_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Allocators that exit on out-of-memory (host tools only). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char *data;
	size_t len, cap;
};
void buf_add(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

/* A NULL-terminated, growable vector of owned strings. */
struct strv {
	char **v;
	size_t n, cap;
};
void strv_push(struct strv *s, const char *str);
void strv_push_take(struct strv *s, char *str);
int strv_contains(const struct strv *s, const char *str);
void strv_free(struct strv *s);

/* Read a whole file; returns 0 or -errno; *ret_data is NUL-terminated and owned by the caller. */
int util_read_file(const char *path, char **ret_data, size_t *ret_len);
/* Write a file atomically: a temporary beside it, fsync, then rename. Returns 0 or -errno. */
int util_write_file_atomic(const char *path, const void *data, size_t len, int mode);
/* mkdir -p. Returns 0 or -errno. */
int util_mkdir_p(const char *path, int mode);
/* rm -rf. Returns 0 or -errno. */
int util_rm_rf(const char *path);
/* Levenshtein distance, for "did you mean" hints. */
size_t util_edit_distance(const char *a, const char *b);
/* Redraw "\r<what> [####    ]  45% 4.1/9.0 MiB" on stderr; ends the line when done >= total. */
void util_progress_bar(const char *what, unsigned long long done, unsigned long long total);
/* A program's way of drawing a library's progress (progress.h): notes as "<prog>: <msg>" lines on
 * notes (stdout or stderr), steps as a bar on stderr when bar (a terminal). r must outlive the
 * returned struct. */
struct util_reporter {
	const char *prog;
	FILE *notes;
	bool bar;
	int last_pct;
	const char *last_phase;
};
struct progress util_reporter_init(struct util_reporter *r, const char *prog, FILE *notes, bool bar);

/* Seconds since an arbitrary start, monotonic. */
double util_now(void);

#endif
