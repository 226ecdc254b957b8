/* A minimal TAP producer for the unit tests: one "ok N - text" line per check. */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

/* Record one check; text says what the user would see hold, e.g. "graph: orders deps first". */
#define ok(cond, ...)                                                                      \
	do {                                                                               \
		int ok_ = !!(cond);                                                       \
		tap_n++;                                                                   \
		if (!ok_)                                                                  \
			tap_failed++;                                                      \
		printf("%sok %d - ", ok_ ? "" : "not ", tap_n);                            \
		printf(__VA_ARGS__);                                                       \
		printf("\n");                                                              \
		if (!ok_)                                                                  \
			printf("#   failed at %s:%d\n", __FILE__, __LINE__);                   \
	} while (0)

/* Print the plan and return the exit status for main(). */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
