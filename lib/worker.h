/* One call at a time in a second thread, while the caller goes on: the read-back that reads the
 * next piece of a bank while the last one is hashed, and the fsync that runs meanwhile
 * (image/extents.c). A pass of N pieces costs about max(read, hash) instead of read + hash.
 *
 * worker_start() first waits for the call before (and returns its result, if that failed), then
 * hands fn(ctx, p, n, off) to the worker's thread and returns; the caller leaves p untouched until
 * the next worker_start() or worker_wait() returns, so two buffers, used in turn, are enough. The
 * thread is made by the first worker_start() and serves every call until worker_wait(), which
 * ends it (a thread per call cost ~0.1 ms each, between the pieces of a pass). When no thread can
 * be made, the call runs at once in the caller's thread. The struct worker stays where it is
 * while its thread lives: every path that started one calls worker_wait() before it returns. */
#ifndef WORKER_H
#define WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int (*worker_fn)(void *ctx, const void *p, size_t n, uint64_t off);

struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running; /* the thread lives */
	bool busy;    /* a call is handed over, or running */
	bool quit;    /* worker_wait(): end the thread */
	worker_fn fn;
	void *ctx;
	const void *p;
	size_t n;
	uint64_t off;
	int r;        /* the first failed call's result; 0 while every call succeeded */
};

/* 0, or the first failed call's result (the calls after a failure are not made). */
int worker_start(struct worker *w, worker_fn fn, void *ctx, const void *p, size_t n, uint64_t off);
/* Wait for the running call and end the thread; 0, or the first failed call's result. */
int worker_wait(struct worker *w);

#endif
