/* Running host tools. */
#ifndef RUN_H
#define RUN_H

#include "util.h"

/*
 * Run argv (argv[0] looked up in PATH) in cwd (NULL: the current one). Output goes to log_path
 * (appended) when set, into *out when out is set, else to /dev/null. env adds "NAME=value"
 * entries (NULL for none). Returns the exit status, 128+signal, or -errno if it could not start.
 */
int run_argv(char *const argv[], const char *cwd, char *const env[], const char *log_path, struct buf *out);
struct diag;
/* run_argv() with output appended to log; a non-zero exit becomes "log: WHAT failed (TOOL exit N);
 * see this log" in d. 0 or -EINVAL. */
int run_tool(char *const argv[], const char *log, const char *what, struct diag *d);
/* Whether a program is found in PATH. */
int run_have(const char *prog);

#endif
