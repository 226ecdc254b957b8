/* The error record every library fills and every program prints:
 * "<file>[:<line>]: <what is wrong>; <what to do>", and the errno behind it when there is one. */
#ifndef DIAG_H
#define DIAG_H

struct diag {
	char msg[1024];
	int err;        /* the errno that caused it (EACCES, ENOSPC, ...), 0 when none did */
};

/* Fill d with "path:line: fmt..." (line 0 omits the line); d->err = 0. Returns -EINVAL for chaining. */
int diag_set(struct diag *d, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * As diag_set(), with the error err kept in d->err and its text put after what is wrong, before
 * what to do:  diag_set_errno(d, EACCES, "/dev/sdb", 0, "cannot open for writing; is it in use?")
 * gives "/dev/sdb: cannot open for writing: Permission denied; is it in use?". Returns -err.
 */
int diag_set_errno(struct diag *d, int err, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Print "<prog>: <message>" on stderr, adding "; run as root" when d->err says permission was
 * denied to a user who is not root. */
void diag_print(const char *prog, const struct diag *d);

#endif
